//! The AWS SDK integrations (`aws-sdk:<service>:<action>`): the result is the
//! operation's output alone (no SDK metadata), and an error is named and
//! worded as AWS's SDK integrations (the AWS SDK for Java v2) report it:
//! `<Prefix>.<ErrorShape>` with `Exception` appended when the shape lacks
//! it, `<Prefix>.<Prefix>Exception` for an error the model does not define;
//! the cause is the service's message with the service, status and request id.

use orderflow_asl::TaskFailure;

use crate::catalog::Service;
use crate::error::ServiceError;
use crate::model::Model;
use crate::protocol::Invalid;

/// An SDK integration's failure, as AWS names it.
pub fn failure(service: &Service, model: &Model, error: &ServiceError) -> TaskFailure {
    let prefix = service.error_prefix;
    let modelled = model.error_shape(&error.code);
    let name = match modelled {
        Some(shape) if shape.ends_with("Exception") => shape.to_owned(),
        Some(shape) => format!("{shape}Exception"),
        None => format!("{prefix}Exception"),
    };
    TaskFailure {
        error: format!("{prefix}.{name}"),
        cause: format!(
            "{} (Service: {prefix}, Status Code: {}, Request ID: {}{}) (SDK Attempt Count: 1)",
            error.message,
            error.status,
            error.request_id,
            error.extended_request_id.as_deref().map(|x| format!(", Extended Request ID: {x}")).unwrap_or_default()
        ),
    }
}

/// Parameters that do not fit the operation: refused before anything is
/// sent, as the service refuses a request that fails its validation.
pub fn invalid(service: &Service, operation: &str, invalid: &Invalid) -> TaskFailure {
    let prefix = service.error_prefix;
    TaskFailure {
        error: format!("{prefix}.{prefix}Exception"),
        cause: format!(
            "The parameters of {operation} do not fit its API: {invalid} (Service: {prefix}, Status Code: 400)"
        ),
    }
}
