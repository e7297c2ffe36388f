//! Classifying SDK failures: retryable (`DependencyUnavailable`) or not
//! (`DependencyFailed`). The state machine retries only the former.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::RequestId;
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
    DependencyError { kind, service, operation, detail: short_detail(err) }
}

/// What went wrong in a line: the AWS error code, its message and the request
/// id for a service error; the kind of failure otherwise. Never the SDK's
/// `Debug` dump, which would land in the execution history.
fn short_detail<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(service_err) => {
            let e = service_err.err();
            let message: String = e.message().unwrap_or_default().chars().take(200).collect();
            let request_id = err.request_id().unwrap_or("none");
            format!(
                "{}: {message} (HTTP {}, request id {request_id})",
                e.code().unwrap_or("UnknownError"),
                service_err.raw().status().as_u16()
            )
        }
        SdkError::TimeoutError(_) => "timed out".to_owned(),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => "timed out while connecting".to_owned(),
        SdkError::DispatchFailure(failure) if failure.is_io() => "the connection failed".to_owned(),
        SdkError::DispatchFailure(_) => "the request could not be sent".to_owned(),
        SdkError::ResponseError(_) => "the answer was lost or could not be read".to_owned(),
        SdkError::ConstructionFailure(_) => "the request could not be built".to_owned(),
        _ => format!("failed: {}", DisplayErrorContext(err).to_string().chars().take(200).collect::<String>()),
    }
}

/// A stored item that does not have the shape this code writes.
pub(crate) fn malformed(service: &'static str, operation: &'static str, detail: String) -> DependencyError {
    DependencyError { kind: DependencyErrorKind::Rejected, service, operation, detail }
}
