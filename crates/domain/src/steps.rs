//! Reading the inputs that the state machine hands to the second and third
//! steps. Each step parses the order again with the same rules, so a step
//! invoked by hand with a doctored payload gets the same errors as the first.

use orderflow_value::{Map, Value};

use crate::error::{OrderError, Violation, ViolationCode};
use crate::notification::Rejection;
use crate::order::ValidatedOrder;
use crate::validation::{validate_value, within_limit};

/// The validated order under the `order` key of a step's input.
pub fn order_from_step_input(input: &Value) -> Result<ValidatedOrder, OrderError> {
    order_in(step_object(input)?)
}

/// The order of a step input already held to the size limit.
fn order_in(input: &Map) -> Result<ValidatedOrder, OrderError> {
    let order = input.get("order").ok_or_else(|| {
        invalid(
            "$.order",
            ViolationCode::Required,
            "is required: this step takes the previous step's output, {\"order\": {...}, ...}",
        )
    })?;
    validate_value(order).map_err(|err| match err {
        OrderError::ValidationFailed(violations) => OrderError::ValidationFailed(
            violations.into_iter().map(|v| Violation { path: format!("$.order{}", &v.path[1..]), ..v }).collect(),
        ),
        other => other,
    })
}

/// What send_notification was asked to do.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per invocation, matched at once: boxing would only add an allocation"
)]
pub enum NotificationRequest {
    /// process_order's output: confirm the order.
    Confirm(ValidatedOrder),
    /// A Catch output, `{"order": <original input>, "error": {"Error", "Cause"}}`:
    /// tell the customer why the order was turned away.
    Reject(Rejection),
}

impl NotificationRequest {
    pub fn parse(input: &Value) -> Result<NotificationRequest, OrderError> {
        let obj = step_object(input)?;
        let Some(error) = obj.get("error") else {
            return order_in(obj).map(NotificationRequest::Confirm);
        };
        let mut violations = Vec::new();
        let error_name = error.get("Error").and_then(Value::as_str);
        if error_name.is_none() {
            violations.push(Violation::new(
                "$.error.Error",
                ViolationCode::Required,
                "a rejection needs the caught error's name, as a string",
            ));
        }
        let cause = match error.get("Cause") {
            None | Some(Value::Null) => Some(""),
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => {
                violations.push(Violation::new("$.error.Cause", ViolationCode::InvalidType, "must be a string"));
                None
            }
        };
        let original = obj.get("order").unwrap_or(&Value::Null);
        match (error_name, cause) {
            (Some(name), Some(cause)) => Ok(NotificationRequest::Reject(Rejection::from_catch(original, name, cause))),
            _ => Err(OrderError::ValidationFailed(violations)),
        }
    }
}

fn step_object(input: &Value) -> Result<&Map, OrderError> {
    within_limit(input, "input")?;
    input.as_object().ok_or_else(|| invalid("$", ViolationCode::InvalidType, "step input must be a JSON object"))
}

fn invalid(path: &str, code: ViolationCode, message: impl Into<String>) -> OrderError {
    OrderError::ValidationFailed(vec![Violation::new(path, code, message)])
}
