//! Environment read once at cold start. A missing or malformed value is a
//! `ConfigurationError` before the first invocation, not a failure on every one.

use orderflow_domain::OrderError;

pub const ORDERS_TABLE: &str = "ORDERS_TABLE";
pub const NOTIFICATION_TOPIC_ARN: &str = "NOTIFICATION_TOPIC_ARN";

/// The DynamoDB table name: 3 to 255 of `[A-Za-z0-9_.-]`.
pub fn orders_table() -> Result<String, OrderError> {
    read(ORDERS_TABLE, "a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)", |v| {
        (3..=255).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    })
}

/// The SNS topic ARN: `arn:<partition>:sns:<region>:<account>:<name>`.
pub fn notification_topic_arn() -> Result<String, OrderError> {
    read(NOTIFICATION_TOPIC_ARN, "an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", |v| {
        let parts: Vec<&str> = v.split(':').collect();
        parts.len() == 6 && parts[0] == "arn" && parts[2] == "sns" && parts.iter().all(|p| !p.is_empty())
    })
}

fn read(name: &str, expected: &str, valid: impl Fn(&str) -> bool) -> Result<String, OrderError> {
    check(name, std::env::var(name).ok(), expected, valid)
}

fn check(
    name: &str,
    value: Option<String>,
    expected: &str,
    valid: impl Fn(&str) -> bool,
) -> Result<String, OrderError> {
    match value {
        Some(value) if valid(value.trim()) => Ok(value.trim().to_owned()),
        Some(_) => Err(OrderError::Configuration(format!("{name} must be {expected}"))),
        None => Err(OrderError::Configuration(format!("{name} is not set; it must be {expected}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_shape_trims_and_names_the_variable() {
        let table =
            |v: Option<&str>| check("T", v.map(str::to_owned), "x", |s| s.len() >= 3).map_err(|e| e.error_message());
        assert_eq!(table(Some(" orders ")), Ok("orders".to_owned()));
        assert_eq!(table(Some("ab")), Err("configuration error: T must be x".to_owned()));
        assert_eq!(table(None), Err("configuration error: T is not set; it must be x".to_owned()));
        let err = read("ORDERFLOW_SURELY_UNSET_VARIABLE", "x", |_| true).unwrap_err();
        assert_eq!(err.error_type(), "ConfigurationError");
    }
}
