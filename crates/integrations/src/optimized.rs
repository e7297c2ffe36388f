//! The optimized integrations of DynamoDB, SQS, SNS and EventBridge, as AWS
//! runs them (AWS's recorded executions): their Parameters are the API's
//! request, a message body or an event detail given as JSON sent as its
//! text; the result of DynamoDB, SQS and SNS is the API's answer with the
//! `SdkHttpMetadata` and `SdkResponseMetadata` that AWS's Java SDK v1 adds,
//! EventBridge's is the answer alone (and a failed entry fails the task);
//! errors are named `<Service>.<Exception>` and worded as that SDK words them.

use orderflow_asl::model::ServiceTask;
use orderflow_asl::{Caller, TaskFailure};
use orderflow_value::{Map, Value};

use crate::error::ServiceError;
use crate::http::Answer;
use crate::model::Model;

/// The API request for `parameters`: EventBridge's entries also name the
/// state machine and the execution in their `Resources`, after the caller's own.
pub fn request(task: &ServiceTask, parameters: &Value, caller: Caller<'_>) -> Value {
    let mut request = parameters.clone();
    // A string is sent as it is, null as null (the service refuses it); anything else as its JSON text.
    let as_text = |v: &mut Value| {
        if !v.is_string() && !v.is_null() {
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
                    if let Value::Object(fields) = entry {
                        let mut resources = match fields.get("Resources") {
                            Some(Value::Array(listed)) => listed.to_vec(),
                            _ => Vec::new(),
                        };
                        resources.push(Value::from(caller.state_machine_arn));
                        resources.push(Value::from(caller.execution_arn));
                        fields.insert("Resources", Value::array(resources));
                    }
                }
            }
        }
        _ => {}
    }
    request
}

/// The task's result from the API's output, or EventBridge's failed entries.
pub fn result(task: &ServiceTask, output: Value, answer: &Answer) -> Result<Value, TaskFailure> {
    let Value::Object(mut map) = output else { return Ok(output) };
    if &*task.service == "events" {
        let failed = map.get("FailedEntryCount").and_then(Value::as_u64).unwrap_or(0);
        if failed > 0 {
            return Err(TaskFailure { error: "EventBridge.FailedEntry".into(), cause: Value::Object(map).to_string() });
        }
        return Ok(Value::Object(map));
    }
    if &*task.service == "dynamodb" {
        // An item's attributes are listed in name order, as AWS lists them.
        for key in ["Item", "Attributes"] {
            if let Some(Value::Object(item)) = map.get(key) {
                let mut sorted: Vec<_> = item.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                map.insert(key, Value::Object(sorted.into_iter().collect()));
            }
        }
    }
    let request_id = answer.request_id().unwrap_or_default().to_owned();
    map.insert("SdkHttpMetadata", http_metadata(task, answer));
    map.insert("SdkResponseMetadata", Value::Object([("RequestId", Value::from(request_id))].into_iter().collect()));
    let mut members: Vec<_> = map.into_iter().collect();
    members.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Value::Object(members.into_iter().collect()))
}

/// `SdkHttpMetadata`: every header as a list of its values, the headers
/// again with one value each in name order (ignoring case), the status.
fn http_metadata(task: &ServiceTask, answer: &Answer) -> Value {
    let mut all = Map::new();
    let mut one: Vec<(String, Value)> = Vec::new();
    for name in answer.headers.keys() {
        let shown = header_name(&task.service, name.as_str());
        let values: Vec<Value> =
            answer.headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(Value::from).collect();
        if let Some(first) = values.first() {
            one.push((shown.clone(), first.clone()));
        }
        all.insert(shown, Value::array(values));
    }
    one.sort_by_key(|(name, _)| name.to_ascii_lowercase());
    let mut metadata = Map::new();
    metadata.insert("AllHttpHeaders", Value::Object(all));
    metadata.insert("HttpHeaders", Value::Object(one.into_iter().collect()));
    metadata.insert("HttpStatusCode", Value::from(u64::from(answer.status)));
    Value::Object(metadata)
}

/// A header's name as AWS's endpoints spell it (HTTP/1.1 names arrive here in lower case).
fn header_name(service: &str, lower: &str) -> String {
    let known = match lower {
        "content-length" => "Content-Length",
        "content-type" => "Content-Type",
        "date" => "Date",
        "server" => "Server",
        "x-amzn-requestid" => "x-amzn-RequestId",
        "x-amz-crc32" => "x-amz-crc32",
        // DynamoDB's endpoints say `Connection`, SQS's and SNS's `connection`.
        "connection" if service == "dynamodb" => "Connection",
        other => other,
    };
    known.to_owned()
}

/// The SDK's name of the service, in causes.
fn sdk_service(task: &ServiceTask) -> &'static str {
    match &*task.service {
        "dynamodb" => "AmazonDynamoDBv2",
        "sqs" => "AmazonSQS",
        "sns" => "AmazonSNS",
        _ => "AmazonEventBridge",
    }
}

/// The service's name in error names.
fn service_name(task: &ServiceTask) -> &str {
    match &*task.service {
        "dynamodb" => "DynamoDB",
        "sqs" => "SQS",
        "sns" => "SNS",
        "events" => "EventBridge",
        other => other,
    }
}

/// The SDK's exception for an error the model does not define (`AmazonDynamoDBException`).
fn base_exception(task: &ServiceTask) -> String {
    let sdk = sdk_service(task);
    format!("{}Exception", sdk.trim_end_matches("v2"))
}

/// The task's failure from the API's error: the model's exception for its
/// code (`Exception` appended when its name lacks it), else the SDK's base
/// exception; the cause as the Java SDK v1 words it.
pub fn failure(task: &ServiceTask, model: &Model, error: &ServiceError) -> TaskFailure {
    let service = service_name(task);
    let exception = match model.error_shape(&error.code) {
        Some(shape) if shape.ends_with("Exception") => shape.to_owned(),
        Some(shape) => format!("{shape}Exception"),
        None => base_exception(task),
    };
    TaskFailure {
        error: format!("{service}.{exception}"),
        cause: format!(
            "{} (Service: {}; Status Code: {}; Error Code: {}; Request ID: {}; Proxy: null)",
            error.message,
            sdk_service(task),
            error.status,
            error.code,
            error.request_id
        ),
    }
}

/// Parameters that do not fit the operation: refused before anything is
/// sent, as the service refuses a request that fails its validation.
pub fn invalid(task: &ServiceTask, operation: &str, invalid: &crate::protocol::Invalid) -> TaskFailure {
    TaskFailure {
        error: format!("{}.{}", service_name(task), base_exception(task)),
        cause: format!(
            "The parameters of {operation} do not fit its API: {invalid} (Service: {}; Status Code: 400; Error Code: ValidationException; Proxy: null)",
            sdk_service(task)
        ),
    }
}
