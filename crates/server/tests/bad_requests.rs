//! Bad requests get the service model's error, with a message that says
//! what is wrong, and change nothing.

use std::sync::Arc;

use orderflow_asl::{BoxFuture, Invoker, TaskFailure, VirtualClock};
use orderflow_server::{ApiError, Config, Service};
use serde_json::{Value, json};

struct NoTasks;

impl Invoker for NoTasks {
    fn invoke<'a>(
        &'a self,
        function: &'a str,
        _: &'a orderflow_value::Value,
    ) -> BoxFuture<'a, Result<orderflow_value::Value, TaskFailure>> {
        Box::pin(std::future::ready(Err(TaskFailure { error: "NoTasks".into(), cause: function.into() })))
    }
}

fn service() -> Arc<Service> {
    Arc::new(
        Service::new(Config::default(), Arc::new(NoTasks), Arc::new(VirtualClock::default()))
            .expect("an in-memory store"),
    )
}

async fn call(service: &Arc<Service>, operation: &str, body: &str) -> Result<Value, ApiError> {
    service.call(operation, body.as_bytes()).await
}

const PASS: &str = r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#;
const ROLE: &str = "arn:aws:iam::123456789012:role/local";

#[tokio::test]
async fn each_bad_request_gets_the_models_error_and_changes_nothing() {
    let service = service();
    let create = |name: &str| json!({"name": name, "definition": PASS, "roleArn": ROLE}).to_string();
    let machine = call(&service, "CreateStateMachine", &create("m")).await.unwrap();
    let arn = machine["stateMachineArn"].as_str().unwrap().to_owned();

    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("StartExecution", "{not json".into(), "SerializationException", "the request is not JSON"),
        ("StartExecution", "[1]".into(), "SerializationException", "must be a JSON object"),
        (
            "StartExecution",
            json!({"stateMachineArn": arn, "colour": "red"}).to_string(),
            "ValidationException",
            "unknown field `colour`",
        ),
        ("StartExecution", json!({"name": "x"}).to_string(), "ValidationException", "missing field `stateMachineArn`"),
        (
            "StartExecution",
            json!({"stateMachineArn": arn, "input": format!("\"{}\"", "x".repeat(256 * 1024))}).to_string(),
            "InvalidExecutionInput",
            "the quota is 262144",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": arn, "input": "{nope"}).to_string(),
            "InvalidExecutionInput",
            "Invalid State Machine Execution Input",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": arn, "name": "n".repeat(81)}).to_string(),
            "InvalidName",
            "Invalid Name",
        ),
        ("StartExecution", json!({"stateMachineArn": "orders"}).to_string(), "InvalidArn", "Invalid Arn: 'orders'"),
        (
            "CreateStateMachine",
            json!({"name": "m2", "definition": "{", "roleArn": ROLE}).to_string(),
            "InvalidDefinition",
            "INVALID_JSON_DESCRIPTION",
        ),
        (
            "CreateStateMachine",
            json!({"name": "m", "definition": r#"{"StartAt": "Q", "States": {"Q": {"Type": "Succeed"}}}"#, "roleArn": ROLE})
                .to_string(),
            "StateMachineAlreadyExists",
            "State Machine Already Exists",
        ),
        (
            "ListExecutions",
            json!({"stateMachineArn": arn, "maxResults": 1001}).to_string(),
            "ValidationException",
            "less than or equal to 1000",
        ),
        ("ListExecutions", json!({"stateMachineArn": arn, "nextToken": "x"}).to_string(), "InvalidToken", "Invalid Token"),
        ("DescribeActivity", "{}".into(), "ValidationException", "activityArn"),
        (
            "DescribeActivity",
            json!({"activityArn": "arn:aws:states:us-east-1:123456789012:stateMachine:x"}).to_string(),
            "InvalidArn",
            "Invalid ARN prefix",
        ),
        ("PublishStateMachineVersion", "{}".into(), "UnknownOperationException", "PublishStateMachineVersion"),
    ];
    for (operation, body, code, message) in cases {
        let err = call(&service, operation, &body).await.unwrap_err();
        assert_eq!(err.code.name(), code, "{operation} {}: {err}", &body[..body.len().min(80)]);
        assert!(err.message.contains(message), "{operation}: {:?} lacks {message:?}", err.message);
    }
    // Nothing was started, nothing else was created.
    let listed = call(&service, "ListExecutions", &json!({"stateMachineArn": arn}).to_string()).await.unwrap();
    assert_eq!(listed["executions"], json!([]));
    let machines = call(&service, "ListStateMachines", "{}").await.unwrap();
    assert_eq!(machines["stateMachines"].as_array().unwrap().len(), 1);
}
