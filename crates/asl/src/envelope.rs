//! Step Functions' envelope around a Lambda function's answer to lambda:invoke:
//! what it adds to `{"Payload": ...}`, and how long that is as JSON.

use orderflow_value::{Map, Value, json};

/// Adds to `{"Payload": ...}` the rest of a lambda:invoke result, Step
/// Functions' envelope around the function's answer.
pub(crate) fn complete_envelope(envelope: &mut Map, request_id: String) {
    // Built by hand: json! would copy the answer through its Serialize.
    envelope.insert("ExecutedVersion", Value::String("$LATEST".into()));
    envelope.insert("SdkHttpMetadata", json!({"HttpStatusCode": 200}));
    envelope.insert("SdkResponseMetadata", json!({"RequestId": request_id}));
    envelope.insert("StatusCode", json!(200));
}

/// What `complete_envelope` adds to the JSON length of `{"Payload": ...}`.
pub(crate) fn envelope_len(request_id: &str) -> usize {
    const REST: usize = r#","ExecutedVersion":"$LATEST","SdkHttpMetadata":{"HttpStatusCode":200},"SdkResponseMetadata":{"RequestId":""},"StatusCode":200"#.len();
    REST + request_id.len()
}
