//! Step Functions' envelope around a Lambda function's answer to lambda:invoke:
//! what it adds to `{"Payload": ...}`, and how long that is as JSON.

use orderflow_value::{Map, Value, json};

/// Makes `{"Payload": ...}` the whole lambda:invoke result, Step Functions'
/// envelope around the function's answer, its members in AWS's order
/// (ExecutedVersion, LogResult with `LogType: Tail`, Payload, ...).
pub(crate) fn complete_envelope(envelope: &mut Map, request_id: String, log: Option<&str>) {
    // Built by hand: json! would copy the answer through its Serialize.
    let payload = envelope.remove("Payload").unwrap_or(Value::Null);
    let mut whole = Map::with_capacity(6);
    whole.insert("ExecutedVersion", Value::String("$LATEST".into()));
    if let Some(log) = log {
        whole.insert("LogResult", Value::String(log.into()));
    }
    whole.insert("Payload", payload);
    whole.insert("SdkHttpMetadata", json!({"HttpStatusCode": 200}));
    whole.insert("SdkResponseMetadata", json!({"RequestId": request_id}));
    whole.insert("StatusCode", json!(200));
    *envelope = whole;
}

/// What `complete_envelope` adds to the JSON length of `{"Payload": ...}`.
pub(crate) fn envelope_len(request_id: &str) -> usize {
    const REST: usize = r#","ExecutedVersion":"$LATEST","SdkHttpMetadata":{"HttpStatusCode":200},"SdkResponseMetadata":{"RequestId":""},"StatusCode":200"#.len();
    REST + request_id.len()
}
