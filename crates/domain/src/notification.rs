//! The messages a customer is sent: an order confirmation, or a rejection that
//! says why. Built here, published by whatever implements `Notifier`.

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::{ERROR_TYPES, ValidationFailure};
use crate::order::{Email, OrderId, ShippingAddress, ValidatedOrder, decimal_as_string, sha256_hex};
use crate::pricing::PricedLine;
use crate::validation::parse_email;

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

#[derive(Serialize)]
struct RejectionBody<'a> {
    event_type: NotificationKind,
    order_id: Option<&'a OrderId>,
    recipient: Recipient<'a>,
    error: &'a str,
    reasons: &'a [String],
    #[serde(with = "time::serde::rfc3339")]
    sent_at: OffsetDateTime,
}

impl Notification {
    pub fn confirmation(order: &ValidatedOrder, sent_at: OffsetDateTime) -> Notification {
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
            dedup_id: sha256_hex(&[b"OrderConfirmed", id.as_bytes(), order.content_hash().as_bytes()]),
            group: id.to_owned(),
        }
    }

    pub fn rejection(rejection: &Rejection, sent_at: OffsetDateTime) -> Notification {
        let body = RejectionBody {
            event_type: NotificationKind::OrderRejected,
            order_id: rejection.order_id.as_ref(),
            recipient: Recipient {
                customer_id: rejection.customer_id.as_deref(),
                email: rejection.recipient.as_ref(),
                name: rejection.customer_name.as_deref(),
            },
            error: &rejection.error,
            reasons: &rejection.reasons,
            sent_at,
        };
        let subject = match &rejection.order_id {
            Some(id) => format!("Order {id} rejected"),
            None => "Order rejected".to_owned(),
        };
        // Everything but the time: the same rejection told twice is one notice.
        let what = serde_json::to_vec(&(&body.order_id, &body.recipient, body.error, body.reasons)).unwrap_or_default();
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
    // Plain structs of strings and decimals: serialization cannot fail.
    serde_json::to_string(body).unwrap_or_default()
}

/// Why an order was turned away, read from whatever the state machine's Catch
/// passed on. The original input may be anything, valid or not, so every part
/// is recovered on its own and may be missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub order_id: Option<OrderId>,
    #[serde(skip)]
    pub customer_id: Option<String>,
    /// Personal data: never log it.
    #[serde(skip)]
    pub recipient: Option<Email>,
    /// Personal data: never log it.
    #[serde(skip)]
    pub customer_name: Option<String>,
    pub error: String,
    pub reasons: Vec<String>,
}

/// For a Lambda function's error, Step Functions' Cause is the error as
/// Lambda reported it, `{"errorMessage": ..., "errorType": ..., ...}`, as a
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

/// A Cause longer than this is cut: it is for a customer to read.
const MAX_REASON_CHARS: usize = 1_000;

impl Rejection {
    /// `original` is the execution input, `error` and `cause` the `Error` and
    /// `Cause` of the caught failure.
    pub fn from_catch(original: &Value, error: &str, cause: &str) -> Rejection {
        let field = |path: &[&str]| path.iter().try_fold(original, |v, key| v.get(key)).and_then(Value::as_str);
        let cause = lambda_error_message(cause);
        let reasons = match serde_json::from_str::<ValidationFailure>(&cause) {
            Ok(failure) if error == ERROR_TYPES[0] && !failure.violations.is_empty() => {
                failure.violations.iter().map(|v| format!("{}: {}", v.path, v.message)).collect()
            }
            _ if !cause.trim().is_empty() => vec![cause.chars().take(MAX_REASON_CHARS).collect()],
            _ => vec![format!("the order failed with {error}")],
        };
        let short_text = |s: &str| {
            let s = s.trim();
            (!s.is_empty() && s.chars().count() <= 200 && !s.chars().any(char::is_control)).then(|| s.to_owned())
        };
        Rejection {
            order_id: field(&["order_id"]).and_then(OrderId::parse),
            customer_id: field(&["customer", "id"]).and_then(short_text),
            recipient: field(&["customer", "email"]).and_then(parse_email),
            customer_name: field(&["customer", "name"]).and_then(short_text),
            error: error.chars().take(200).collect(),
            reasons,
        }
    }
}
