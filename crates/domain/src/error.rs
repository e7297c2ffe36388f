//! The one error enum of orderflow. Each variant has a stable `errorType` name
//! that the state machine's Retry and Catch rules match on, so these names are
//! part of the public contract: never rename one, never derive one from a Rust
//! type name.

use serde::{Deserialize, Serialize};

/// One reason an order is invalid: where, what kind, and a sentence for humans.
/// Messages never repeat the offending value, so an email address or a name
/// cannot leak into logs or the execution history through them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// JSONPath of the offending field, e.g. `$.items[2].quantity`.
    pub path: String,
    pub code: ViolationCode,
    pub message: String,
}

impl Violation {
    pub fn new(path: impl Into<String>, code: ViolationCode, message: impl Into<String>) -> Self {
        Self { path: path.into(), code, message: message.into() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationCode {
    Required,
    InvalidType,
    InvalidFormat,
    OutOfRange,
    TooManyDecimals,
    UnknownCurrency,
    DuplicateSku,
    UnknownField,
    InputTooLarge,
    TotalExceedsLimit,
    DuplicateField,
}

impl ViolationCode {
    /// The code as it is written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ViolationCode::Required => "required",
            ViolationCode::InvalidType => "invalid_type",
            ViolationCode::InvalidFormat => "invalid_format",
            ViolationCode::OutOfRange => "out_of_range",
            ViolationCode::TooManyDecimals => "too_many_decimals",
            ViolationCode::UnknownCurrency => "unknown_currency",
            ViolationCode::DuplicateSku => "duplicate_sku",
            ViolationCode::UnknownField => "unknown_field",
            ViolationCode::InputTooLarge => "input_too_large",
            ViolationCode::TotalExceedsLimit => "total_exceeds_limit",
            ViolationCode::DuplicateField => "duplicate_field",
        }
    }
}

/// Whether a failed call to a dependency is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependencyErrorKind {
    /// Throttling, timeouts, connection failures, 5xx: retry with backoff.
    Unavailable,
    /// The dependency answered and refused (access denied, missing table,
    /// bad request): retrying the same call will not help.
    Rejected,
}

/// A failed call to an outside service, already classified by the adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{service} {operation} failed: {detail}")]
pub struct DependencyError {
    pub kind: DependencyErrorKind,
    pub service: &'static str,
    pub operation: &'static str,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("order failed validation with {} violation(s)", .0.len())]
    ValidationFailed(Vec<Violation>),
    #[error("order {order_id} was already processed with different content")]
    Conflict { order_id: String },
    #[error("order {order_id} is not in the order store; it must be processed before it is notified")]
    NotFound { order_id: String },
    #[error("{0}")]
    DependencyUnavailable(DependencyError),
    #[error("{0}")]
    DependencyFailed(DependencyError),
    #[error("configuration error: {0}")]
    Configuration(String),
}

/// The stable `errorType` names, in one place so tests and docs can list them.
pub const ERROR_TYPES: [&str; 6] = [
    "OrderValidationFailed",
    "OrderConflict",
    "OrderNotFound",
    "DependencyUnavailable",
    "DependencyFailed",
    "ConfigurationError",
];

impl OrderError {
    /// The Lambda `errorType`, matched by the state machine's Retry and Catch.
    pub fn error_type(&self) -> &'static str {
        match self {
            OrderError::ValidationFailed(_) => ERROR_TYPES[0],
            OrderError::Conflict { .. } => ERROR_TYPES[1],
            OrderError::NotFound { .. } => ERROR_TYPES[2],
            OrderError::DependencyUnavailable(_) => ERROR_TYPES[3],
            OrderError::DependencyFailed(_) => ERROR_TYPES[4],
            OrderError::Configuration(_) => ERROR_TYPES[5],
        }
    }

    /// The Lambda `errorMessage`. For a validation failure it is a JSON
    /// document listing the first `MAX_REPORTED_VIOLATIONS` violations and
    /// their total, so the state machine's Catch output (`Cause`) can be
    /// parsed back by the rejection notice and always fits well inside Step
    /// Functions' limits (a Cause is cut at 32,768 characters).
    pub fn error_message(&self) -> String {
        match self {
            OrderError::ValidationFailed(violations) => {
                let body = ValidationFailure {
                    message: self.to_string(),
                    total: violations.len(),
                    violations: violations.iter().take(MAX_REPORTED_VIOLATIONS).cloned().collect(),
                };
                serde_json::to_string(&body).unwrap_or_else(|_| self.to_string())
            }
            other => other.to_string(),
        }
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self, OrderError::DependencyUnavailable(_))
    }
}

impl From<DependencyError> for OrderError {
    fn from(err: DependencyError) -> Self {
        match err.kind {
            DependencyErrorKind::Unavailable => OrderError::DependencyUnavailable(err),
            DependencyErrorKind::Rejected => OrderError::DependencyFailed(err),
        }
    }
}

/// How many violations an error message lists; `total` counts them all.
pub const MAX_REPORTED_VIOLATIONS: usize = 20;

/// The JSON body of an `OrderValidationFailed` error message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationFailure {
    pub message: String,
    /// Every violation found; `violations` lists the first of them.
    #[serde(default)]
    pub total: usize,
    pub violations: Vec<Violation>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_message_is_json_listing_every_violation() {
        let err = OrderError::ValidationFailed(vec![
            Violation::new("$.order_id", ViolationCode::Required, "is required"),
            Violation::new("$.items", ViolationCode::OutOfRange, "must hold 1 to 100 items"),
        ]);
        assert_eq!(err.error_type(), "OrderValidationFailed");
        let parsed: ValidationFailure = serde_json::from_str(&err.error_message()).unwrap();
        assert_eq!(parsed.violations.len(), 2);
        assert_eq!(parsed.violations[0].code, ViolationCode::Required);
        assert_eq!(parsed.message, "order failed validation with 2 violation(s)");
    }

    #[test]
    fn dependency_errors_split_by_retryability() {
        let unavailable = DependencyError {
            kind: DependencyErrorKind::Unavailable,
            service: "DynamoDB",
            operation: "PutItem",
            detail: "ThrottlingException".into(),
        };
        let rejected = DependencyError { kind: DependencyErrorKind::Rejected, ..unavailable.clone() };
        let a = OrderError::from(unavailable);
        let b = OrderError::from(rejected);
        assert_eq!(a.error_type(), "DependencyUnavailable");
        assert!(a.is_retryable());
        assert_eq!(b.error_type(), "DependencyFailed");
        assert!(!b.is_retryable());
        assert_eq!(a.error_message(), "DynamoDB PutItem failed: ThrottlingException");
    }

    #[test]
    fn every_variant_has_a_listed_error_type() {
        let dep = DependencyError {
            kind: DependencyErrorKind::Unavailable,
            service: "SNS",
            operation: "Publish",
            detail: String::new(),
        };
        let all = [
            OrderError::ValidationFailed(vec![]),
            OrderError::Conflict { order_id: "a".into() },
            OrderError::NotFound { order_id: "a".into() },
            OrderError::DependencyUnavailable(dep.clone()),
            OrderError::DependencyFailed(dep),
            OrderError::Configuration("x".into()),
        ];
        let names: Vec<_> = all.iter().map(OrderError::error_type).collect();
        assert_eq!(names, ERROR_TYPES);
    }
}
