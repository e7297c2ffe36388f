//! The user's SAM application of tests/fixtures/user-app (not this
//! project's): its template, an input, the worker of its activity and what
//! its state machine must give; shared by the `serve` and `run` tests.
#![allow(dead_code)]

use serde_json::{Value, json};

pub fn template() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/user-app/template.yaml")
}

/// The user's application of tests/fixtures/user-app: its state machine's input.
pub const ORDER: &str = r#"{"id": "o-7", "items": [{"price": 12}, {"price": 30}]}"#;

/// A worker of the activity `review-test` at `endpoint`, through the AWS CLI:
/// takes one task (retrying while the API is not up yet) and approves it.
pub fn review_worker(endpoint: String) -> std::thread::JoinHandle<Value> {
    std::thread::spawn(move || {
        let activity = "arn:aws:states:us-east-1:123456789012:activity:review-test";
        for _ in 0..100 {
            let (code, task, _) = super::aws_cli::aws(
                &endpoint,
                &["get-activity-task", "--activity-arn", activity, "--worker-name", "reviewer"],
            );
            let Some(token) = task.get("taskToken").and_then(Value::as_str).filter(|_| code == 0) else {
                std::thread::sleep(std::time::Duration::from_millis(200));
                continue;
            };
            let input: Value = serde_json::from_str(task["input"].as_str().unwrap()).unwrap();
            super::aws_cli::ok(
                &endpoint,
                &["send-task-success", "--task-token", token, "--task-output", r#"{"approved": true}"#],
            );
            return input;
        }
        panic!("no activity task at {endpoint}");
    })
}

/// What the user's state machine gives for ORDER, the parts that do not change between runs.
pub fn check_fulfilled(output: &Value) {
    assert_eq!(output["duplicate"]["Error"], "DynamoDB.ConditionalCheckFailedException", "{output}");
    assert_eq!(output["stored"], json!({"status": "NEW"}));
    assert_eq!(output["secret"], json!({"name": "api-key-test", "length": 3}));
    assert_eq!(output["priced"], json!({"total": 42}));
    assert_eq!(output["review"], json!({"approved": true}));
    assert!(output["shipped"]["messageId"].is_string(), "{output}");
    assert!(output["told"]["messageId"].is_string(), "{output}");
    assert_eq!(output["announced"], json!({"failed": 0}));
}
