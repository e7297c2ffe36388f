//! The optimized integrations of DynamoDB, SQS, SNS and EventBridge: their
//! Parameters are the API's request with Step Functions' conveniences (a
//! message body or an event detail given as JSON is sent as its text); their
//! result is the API's answer with the SDK metadata AWS adds; their errors
//! are named and worded as AWS's Java SDK v1 reports them.

use orderflow_asl::TaskFailure;
use orderflow_asl::model::ServiceTask;
use orderflow_value::{Map, Value};

use crate::error::ServiceError;
use crate::http::Answer;

/// The API request for `parameters`.
pub fn request(task: &ServiceTask, parameters: &Value) -> Value {
    let mut request = parameters.clone();
    let as_text = |v: &mut Value| {
        if !v.is_string() {
            *v = Value::from(v.to_string());
        }
    };
    match (&*task.service, &*task.action) {
        ("sqs", "sendMessage") => {
            if let Some(body) = request.get_mut("MessageBody") {
                as_text(body);
            }
        }
        ("sns", "publish") => {
            if let Some(message) = request.get_mut("Message") {
                as_text(message);
            }
        }
        ("events", "putEvents") => {
            if let Some(Value::Array(entries)) = request.get_mut("Entries") {
                for entry in std::sync::Arc::make_mut(entries) {
                    if let Some(detail) = entry.get_mut("Detail") {
                        as_text(detail);
                    }
                }
            }
        }
        _ => {}
    }
    request
}

/// The task's result from the API's output.
pub fn result(task: &ServiceTask, output: Value, answer: &Answer) -> Value {
    let _ = (task, answer);
    let Value::Object(map) = output else { return output };
    Value::Object(map.into_iter().collect::<Map>())
}

/// The service's name in the optimized integrations' error names.
fn service_name(task: &ServiceTask) -> &str {
    match &*task.service {
        "dynamodb" => "DynamoDB",
        "sqs" => "SQS",
        "sns" => "SNS",
        "events" => "EventBridge",
        other => other,
    }
}

/// The task's failure from the API's error.
pub fn failure(task: &ServiceTask, error: &ServiceError) -> TaskFailure {
    let service = service_name(task);
    TaskFailure {
        error: format!("{service}.{}", error.code),
        cause: format!(
            "{} (Service: {service}, Status Code: {}; Error Code: {}; Request ID: {}; Proxy: null)",
            error.message, error.status, error.code, error.request_id
        ),
    }
}

/// Parameters that do not fit the operation: refused before anything is sent.
pub fn invalid(task: &ServiceTask, operation: &str, invalid: &crate::protocol::Invalid) -> TaskFailure {
    let service = service_name(task);
    TaskFailure {
        error: format!("{service}.{service}Exception"),
        cause: format!(
            "The parameters of {operation} do not fit its API: {invalid} (Service: {service}; Status Code: 400)"
        ),
    }
}
