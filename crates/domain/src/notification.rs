//! The messages a customer is sent: an order confirmation, or a rejection that
//! says why. Built here, published by whatever implements `Notifier`.

use orderflow_value::Value;
use serde::Serialize;
use time::OffsetDateTime;

use crate::error::{ERROR_TYPES, MAX_REPORTED_VIOLATIONS, ValidationFailure};
use crate::order::{Email, OrderId, ShippingAddress, ValidatedOrder, decimal_as_string, sha256_hex};
use crate::pricing::PricedLine;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NotificationKind {
    OrderConfirmed,
    OrderRejected,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::OrderConfirmed => "OrderConfirmed",
            NotificationKind::OrderRejected => "OrderRejected",
        }
    }
}

/// What gets published: `message` is the JSON body, `kind` and `order_id`
/// become message attributes so subscribers can filter without parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub kind: NotificationKind,
    pub order_id: Option<OrderId>,
    pub subject: String,
    pub message: String,
    /// The same for every attempt at the same notice, so a FIFO topic
    /// delivers a re-sent one once (SNS's MessageDeduplicationId).
    pub dedup_id: String,
    /// Notices about one order stay in order (SNS's MessageGroupId).
    pub group: String,
}

#[derive(Serialize)]
struct Recipient<'a> {
    customer_id: Option<&'a str>,
    email: Option<&'a Email>,
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct ConfirmationBody<'a> {
    event_type: NotificationKind,
    order_id: &'a OrderId,
    recipient: Recipient<'a>,
    items: &'a [PricedLine],
    #[serde(serialize_with = "decimal_as_string")]
    total: rust_decimal::Decimal,
    currency: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    shipping_address: Option<&'a ShippingAddress>,
    #[serde(with = "time::serde::rfc3339")]
    sent_at: OffsetDateTime,
}

/// A rejection notice is for the company's own channel, never addressed to
/// anyone the rejected input names: an invalid order's email address is
/// nobody's to write to.
#[derive(Serialize)]
struct RejectionBody<'a> {
    event_type: NotificationKind,
    order_id: Option<&'a OrderId>,
    error: &'a str,
    reasons: &'a [String],
    #[serde(with = "time::serde::rfc3339")]
    sent_at: OffsetDateTime,
}

impl Notification {
    /// `content_hash` is `order.content_hash()`, which the caller has already
    /// computed (it serializes and hashes the whole order).
    pub fn confirmation(order: &ValidatedOrder, content_hash: &str, sent_at: OffsetDateTime) -> Notification {
        let customer = order.customer();
        let body = ConfirmationBody {
            event_type: NotificationKind::OrderConfirmed,
            order_id: order.order_id(),
            recipient: Recipient {
                customer_id: Some(customer.id()),
                email: Some(customer.email()),
                name: Some(customer.name()),
            },
            items: order.pricing().lines(),
            total: order.pricing().total(),
            currency: order.currency().code(),
            shipping_address: order.shipping_address(),
            sent_at,
        };
        let id = order.order_id().as_str();
        Notification {
            kind: NotificationKind::OrderConfirmed,
            order_id: Some(order.order_id().clone()),
            subject: format!("Order {id} confirmed"),
            message: to_json(&body),
            dedup_id: sha256_hex(&[b"OrderConfirmed", id.as_bytes(), content_hash.as_bytes()]),
            group: id.to_owned(),
        }
    }

    pub fn rejection(rejection: &Rejection, sent_at: OffsetDateTime) -> Notification {
        let body = RejectionBody {
            event_type: NotificationKind::OrderRejected,
            order_id: rejection.order_id.as_ref(),
            error: &rejection.error,
            reasons: &rejection.reasons,
            sent_at,
        };
        let subject = match &rejection.order_id {
            Some(id) => format!("Order {id} rejected"),
            None => "Order rejected".to_owned(),
        };
        // One notice per order id; without one, per content (the time aside).
        let what = match &rejection.order_id {
            Some(id) => id.as_str().as_bytes().to_vec(),
            None => serde_json::to_vec(&(body.error, body.reasons)).unwrap_or_default(),
        };
        Notification {
            kind: NotificationKind::OrderRejected,
            order_id: rejection.order_id.clone(),
            subject,
            message: to_json(&body),
            dedup_id: sha256_hex(&[b"OrderRejected", &what]),
            group: rejection.order_id.as_ref().map_or("rejections", OrderId::as_str).to_owned(),
        }
    }
}

fn to_json(body: &impl Serialize) -> String {
    // Room for a typical body, so the text is not copied as it grows.
    let mut out = Vec::with_capacity(1024);
    // Plain structs of strings and decimals: serialization cannot fail, and
    // serde_json writes only UTF-8.
    match serde_json::to_writer(&mut out, body) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Why an order was turned away, read from whatever the state machine's Catch
/// passed on. The original input may be anything, valid or not, so every part
/// is recovered on its own and may be missing; nothing of its text is passed
/// on but a well-formed order id, and the cause is reduced to our own codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub order_id: Option<OrderId>,
    /// The caught error's name when it is one of ours or Step Functions' or
    /// Lambda's; `Unknown` otherwise.
    pub error: String,
    /// `<path>: <violation code>` for a validation failure (at most
    /// `MAX_REPORTED_VIOLATIONS`, then `… and N more`); otherwise one fixed code.
    pub reasons: Vec<String>,
}

/// For a Lambda function's error, Step Functions' Cause is the error as
/// Lambda reported it, `{"errorType": ..., "errorMessage": ..., ...}`, as a
/// JSON string; the message is what the function said. Any other Cause (a
/// timeout, a Fail state's) is taken as it is.
fn lambda_error_message(cause: &str) -> std::borrow::Cow<'_, str> {
    #[derive(serde::Deserialize)]
    struct LambdaError {
        #[serde(rename = "errorMessage")]
        error_message: String,
    }
    match serde_json::from_str::<LambdaError>(cause) {
        Ok(lambda) => std::borrow::Cow::Owned(lambda.error_message),
        Err(_) => std::borrow::Cow::Borrowed(cause),
    }
}

/// A JSONPath as our validation writes them (`$.items[2].unit_price`), or `$`.
fn known_path(path: &str) -> &str {
    let rest = path.strip_prefix('$').unwrap_or("!");
    let well_formed =
        path.len() <= 64 && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.[]".contains(&b));
    if well_formed { path } else { "$" }
}

/// The caught error's name, if it is a name we know the shape of.
fn known_error(error: &str) -> &str {
    let ours = ERROR_TYPES.contains(&error);
    let service = ["States.", "Lambda.", "Sandbox."].iter().any(|p| error.starts_with(p))
        && error.len() <= 64
        && error.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.');
    if ours || service { error } else { "Unknown" }
}

impl Rejection {
    /// `original` is the execution input, `error` and `cause` the `Error` and
    /// `Cause` of the caught failure.
    pub fn from_catch(original: &Value, error: &str, cause: &str) -> Rejection {
        let order_id = original.get("order_id").and_then(Value::as_str).and_then(OrderId::parse);
        let error = known_error(error);
        let cause = lambda_error_message(cause);
        let reasons = match serde_json::from_str::<ValidationFailure>(&cause) {
            Ok(failure) if error == ERROR_TYPES[0] && !failure.violations.is_empty() => {
                let listed = failure.violations.len().min(MAX_REPORTED_VIOLATIONS);
                let mut reasons: Vec<String> = failure.violations[..listed]
                    .iter()
                    .map(|v| format!("{}: {}", known_path(&v.path), v.code.as_str()))
                    .collect();
                let total = failure.total.max(failure.violations.len());
                if total > listed {
                    reasons.push(format!("… and {} more", total - listed));
                }
                reasons
            }
            _ if error == "States.Timeout" || error == "Sandbox.Timedout" => vec!["timeout".to_owned()],
            _ if error == ERROR_TYPES[0] => vec!["invalid_order".to_owned()],
            _ => vec!["processing_failed".to_owned()],
        };
        Rejection { order_id, error: error.to_owned(), reasons }
    }
}
