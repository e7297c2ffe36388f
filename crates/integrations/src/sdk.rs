//! The AWS SDK integrations (`aws-sdk:<service>:<action>`): the result is the
//! operation's output as the model names its members; an error is named
//! `<Service>.<Code>` and its cause is the message with the service, status
//! and request id, as AWS's SDK integrations report them.

use orderflow_asl::TaskFailure;

use crate::catalog::Service;
use crate::error::ServiceError;
use crate::model::Model;

/// An SDK integration's failure, as AWS names it.
pub fn failure(service: &Service, model: &Model, error: &ServiceError) -> TaskFailure {
    let code = if error.code.ends_with("Exception") { error.code.clone() } else { format!("{}Exception", error.code) };
    TaskFailure {
        error: format!("{}.{code}", service.error_prefix),
        cause: format!(
            "{} (Service: {}, Status Code: {}, Request ID: {})",
            error.message,
            model.service_id().replace(' ', ""),
            error.status,
            error.request_id
        ),
    }
}
