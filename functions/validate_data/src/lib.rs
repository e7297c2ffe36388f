//! validate_data: the first step. Parses the execution input, the raw order,
//! into a normalized, priced order, or fails with `OrderValidationFailed`
//! listing every violation.
#![forbid(unsafe_code)]

use std::borrow::Borrow;

use lambda_runtime::LambdaEvent;
use lambda_runtime::tracing;
use orderflow_domain::{OrderError, OrderId, Pricing, RawOrder, ValidatedOrder};
use orderflow_value::Value;
use serde::Serialize;

/// `{"order": <the normalized order>, "validation": {"status", <its pricing>}}`.
#[derive(Debug, Clone)]
pub struct ValidateOutput {
    /// The normalized order: the input that process_order takes.
    pub order: ValidatedOrder,
    pub validation: ValidationSummary,
}

#[derive(Debug, Clone)]
pub struct ValidationSummary {
    /// Always `VALID`; an invalid order is an error, not an output.
    pub status: &'static str,
}

/// The output as written: the summary shows the order's own pricing, so it
/// is not copied to sit beside the order.
impl Serialize for ValidateOutput {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Output<'a> {
            order: &'a ValidatedOrder,
            validation: Summary<'a>,
        }
        #[derive(Serialize)]
        struct Summary<'a> {
            status: &'static str,
            #[serde(flatten)]
            pricing: &'a Pricing,
        }
        let validation = Summary { status: self.validation.status, pricing: self.order.pricing() };
        Output { order: &self.order, validation }.serialize(s)
    }
}

/// Takes the payload owned (from the Lambda runtime) or borrowed (from an
/// executor in the same process, which keeps it for its history).
pub async fn handler(event: LambdaEvent<impl Borrow<Value>>) -> Result<ValidateOutput, OrderError> {
    let payload = event.payload.borrow();
    // The id is logged even for an invalid order, when it is itself valid.
    if let Some(id) = payload.get("order_id").and_then(Value::as_str).and_then(OrderId::parse) {
        orderflow_lambda::record_order_id(id.as_str());
    }
    validate(payload)
}

fn validate(raw: &Value) -> Result<ValidateOutput, OrderError> {
    match RawOrder::validate_value(raw) {
        Ok(order) => {
            let pricing = order.pricing();
            tracing::info!(
                items = pricing.item_count(),
                total = %pricing.total(),
                currency = pricing.currency().code(),
                "order is valid"
            );
            Ok(ValidateOutput { order, validation: ValidationSummary { status: "VALID" } })
        }
        Err(err) => {
            if let OrderError::ValidationFailed(violations) = &err {
                // Paths and codes only: the values may be personal data.
                let summary: Vec<String> = violations.iter().map(|v| format!("{} {:?}", v.path, v.code)).collect();
                tracing::warn!(violations = violations.len(), details = ?summary, "order rejected");
            }
            Err(err)
        }
    }
}
