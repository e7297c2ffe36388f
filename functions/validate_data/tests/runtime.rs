//! The real validate_data binary, driven through a local Lambda Runtime API:
//! what goes over the wire, not what the handler returns in-process.

use orderflow_domain::fakes::read_json_file;
use orderflow_emulator::{FunctionProcess, Outcome, RuntimeApi};
use serde_json::{Value, json};

#[tokio::test]
async fn answers_over_the_runtime_api_with_stable_error_types_and_json_logs() {
    let api = RuntimeApi::start().await.unwrap();
    let function =
        FunctionProcess::spawn(env!("CARGO_BIN_EXE_validate_data"), api.environment("validate_data")).unwrap();

    let valid = api.invoke(&read_json_file("events/order-valid.json")).await;
    assert_eq!(valid, Outcome::Response(read_json_file("events/process_order-input.json")));

    // Inputs a typed deserializer would have turned into a Rust type name.
    for payload in [read_json_file("events/order-invalid-many.json"), json!("ORD-1"), json!(null), json!([1, 2])] {
        match api.invoke(&payload).await {
            Outcome::Error { error_type, error_message } => {
                assert_eq!(error_type, "OrderValidationFailed", "{payload}");
                let body: Value = serde_json::from_str(&error_message).unwrap();
                assert!(!body["violations"].as_array().unwrap().is_empty());
            }
            other => panic!("{payload}: {other:?}"),
        }
    }

    // Two lines per failed invocation (ours and the runtime's), one for the valid one.
    let logs = function.stdout_when(|text| text.lines().count() >= 9, std::time::Duration::from_secs(10));
    let lines: Vec<Value> = logs.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert_eq!(lines.len(), 9, "{logs}");
    // Every line, the runtime's own error lines included, names its request;
    // those of the valid order also name the order.
    for line in &lines {
        let request = line["span"]["requestId"].as_str().unwrap_or_else(|| panic!("no requestId: {line}"));
        if request == "req-00000001" {
            assert_eq!(line["span"]["order_id"], "ORD-1001", "{line}");
        }
        assert!(!line.to_string().contains("FunctionError"), "{line}");
    }
    let failed = lines
        .iter()
        .find(|l| l["level"] == "ERROR")
        .unwrap_or_else(|| panic!("the runtime logs a failed invocation:\n{logs}"));
    assert!(failed["fields"]["message"].as_str().unwrap().starts_with("OrderValidationFailed: "), "{failed}");
    assert!(!logs.contains("ada@example.com") && !logs.contains("Ada Lovelace"), "{logs}");
    assert!(!logs.contains("not-an-email") && !logs.contains("Grace Hopper"), "{logs}");
}

/// Payloads that are valid JSON text but that serde_json's own parse refuses,
/// or that exceed the size the workflow can carry: each gets our errorType
/// from the real binary, never the runtime's, and the process stays small.
#[tokio::test]
async fn hostile_payloads_get_our_error_type_in_bounded_memory() {
    let api = RuntimeApi::start().await.unwrap();
    let function =
        FunctionProcess::spawn(env!("CARGO_BIN_EXE_validate_data"), api.environment("validate_data")).unwrap();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let surrogate =
        r#"{"order_id":"ORD-1","customer":{"id":"C","email":"a@example.com","name":"Ada \ud800"}}"#.to_owned();
    let duplicate = r#"{"order_id":"ORD-1","order_id":"ORD-2"}"#.to_owned();
    // 6 MB of small numbers: Lambda's own payload limit, 24 times the workflow's.
    let huge = format!("[{}0]", "0,".repeat(3 * 1024 * 1024 - 2));
    for (payload, code) in [
        // Not JSON at all: the runtime hands these over unparsed too.
        ("NaN".to_owned(), "invalid_format"),
        (r#"{"order_id": "ORD-1", "customer": {"#.to_owned(), "invalid_format"),
        ("".to_owned(), "invalid_format"),
        (deep, "invalid_format"),
        (surrogate, "invalid_format"),
        (duplicate, "duplicate_field"),
        (huge, "input_too_large"),
    ] {
        match api.invoke_text(payload).await {
            Outcome::Error { error_type, error_message } => {
                assert_eq!(error_type, "OrderValidationFailed", "{code}");
                let body: Value = serde_json::from_str(&error_message).unwrap();
                assert_eq!(body["violations"][0]["code"], code, "{body}");
            }
            other => panic!("{code}: {other:?}"),
        }
    }
    let rss = function.peak_rss_bytes().expect("the function's peak RSS");
    eprintln!("validate_data peak RSS after the hostile payloads: {} KB", rss / 1024);
    assert!(rss < 48 * 1024 * 1024, "peak RSS {} MB", rss / (1024 * 1024));
}
