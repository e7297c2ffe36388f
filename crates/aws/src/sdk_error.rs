//! Classifying SDK failures: retryable (`DependencyUnavailable`) or not
//! (`DependencyFailed`). The state machine retries only the former.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use orderflow_domain::{DependencyError, DependencyErrorKind};

/// Error codes that mean "try again later", across DynamoDB, SNS and KMS.
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "Throttled",
    "ThrottledException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "TransactionInProgressException",
    "InternalServerError",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
    "KMSThrottling",
    "KMSThrottlingException",
];

pub(crate) fn classify<E>(
    service: &'static str,
    operation: &'static str,
    err: &SdkError<E, HttpResponse>,
) -> DependencyError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let kind = match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            DependencyErrorKind::Unavailable
        }
        SdkError::ServiceError(service_err) => {
            let status = service_err.raw().status().as_u16();
            let code = service_err.err().code().unwrap_or_default();
            if status >= 500 || status == 429 || RETRYABLE_CODES.contains(&code) {
                DependencyErrorKind::Unavailable
            } else {
                DependencyErrorKind::Rejected
            }
        }
        _ => DependencyErrorKind::Rejected,
    };
    DependencyError { kind, service, operation, detail: DisplayErrorContext(err).to_string() }
}

/// A stored item that does not have the shape this code writes.
pub(crate) fn malformed(service: &'static str, operation: &'static str, detail: String) -> DependencyError {
    DependencyError { kind: DependencyErrorKind::Rejected, service, operation, detail }
}
