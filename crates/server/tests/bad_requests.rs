//! Bad requests get the service model's error, with a message that says
//! what is wrong, and change nothing.

use std::sync::Arc;

#[path = "support/no_tasks.rs"]
mod no_tasks;

use no_tasks::NoTasks;
use orderflow_asl::VirtualClock;
use orderflow_server::{ApiError, Config, Service};
use serde_json::{Value, json};

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
const MAP_RUN: &str = "arn:aws:states:us-east-1:123456789012:mapRun:m/L:0";

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
        // The service model's constraints, in AWS's words (ValidationException before anything else).
        (
            "StartExecution",
            json!({"name": "x"}).to_string(),
            "ValidationException",
            "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null",
        ),
        (
            "StartExecution",
            json!({"stateMachineArn": arn, "input": format!("\"{}\"", "x".repeat(256 * 1024))}).to_string(),
            "ValidationException",
            "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have size less than or equal to 262144 bytes in UTF-8 encoding",
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
            "ValidationException",
            "at 'name' failed to satisfy constraint: Member must have length less than or equal to 80",
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
        ("TagResource", "{}".into(), "UnknownOperationException", "TagResource"),
        ("PublishStateMachineVersion", "{}".into(), "ValidationException", "Value null at 'stateMachineArn'"),
        (
            "DeleteStateMachineVersion",
            json!({"stateMachineVersionArn": "arn:aws:states:us-east-1:123456789012:stateMachine:x:live"}).to_string(),
            "InvalidArn",
            "Invalid Arn",
        ),
        (
            "DescribeMapRun",
            json!({"mapRunArn": MAP_RUN}).to_string(),
            "ResourceNotFound",
            "Map Run does not exist: 'arn:aws:states:us-east-1:123456789012:mapRun:m/L:0'",
        ),
        (
            "DescribeMapRun",
            "{}".into(),
            "ValidationException",
            "Value null at 'mapRunArn' failed to satisfy constraint: Member must not be null",
        ),
        (
            "ListMapRuns",
            json!({"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:none"}).to_string(),
            "ExecutionDoesNotExist",
            "Execution Does Not Exist: 'arn:aws:states:us-east-1:123456789012:execution:m:none'",
        ),
        (
            "UpdateMapRun",
            json!({"mapRunArn": MAP_RUN}).to_string(),
            "ValidationException",
            "at least one of maxConcurrency, toleratedFailurePercentage and toleratedFailureCount must be given",
        ),
        (
            "UpdateMapRun",
            json!({"mapRunArn": MAP_RUN, "maxConcurrency": 10001}).to_string(),
            "ValidationException",
            "Value '10001' at 'maxConcurrency' failed to satisfy constraint: Member must have value between 0 and 10000",
        ),
        (
            "UpdateMapRun",
            json!({"mapRunArn": MAP_RUN, "toleratedFailurePercentage": 100.5}).to_string(),
            "ValidationException",
            "Value '100.5' at 'toleratedFailurePercentage' failed to satisfy constraint: Member must have value less than or equal to 100",
        ),
        (
            "UpdateMapRun",
            json!({"mapRunArn": MAP_RUN, "toleratedFailureCount": -1}).to_string(),
            "ValidationException",
            "Value '-1' at 'toleratedFailureCount' failed to satisfy constraint: Member must have value greater than or equal to 0",
        ),
        (
            "UpdateMapRun",
            json!({"mapRunArn": MAP_RUN, "maxConcurrency": 5}).to_string(),
            "ResourceNotFound",
            "Map Run does not exist",
        ),
        (
            "ListExecutions",
            json!({"stateMachineArn": arn, "mapRunArn": MAP_RUN}).to_string(),
            "ValidationException",
            "Only one of stateMachineArn and mapRunArn can be given",
        ),
        ("ListExecutions", "{}".into(), "ValidationException", "Must provide a StateMachine ARN or MapRun ARN"),
        (
            "ListExecutions",
            json!({"mapRunArn": MAP_RUN}).to_string(),
            "ResourceNotFound",
            "Map Run does not exist",
        ),
        (
            "TestState",
            json!({"definition": r#"{"Type": "Pass", "End": true}"#, "stateConfiguration": {"mapIterationFailureCount": 1}})
                .to_string(),
            "ValidationException",
            "mapItemReaderData and mapIterationFailureCount configure a Map state, not a Pass state",
        ),
        (
            "TestState",
            json!({
                "definition": r#"{"Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}"#,
                "mock": {"result": "[]"},
                "stateConfiguration": {"mapItemReaderData": "[1]"}
            })
            .to_string(),
            "ValidationException",
            "mapItemReaderData is the data of a Distributed Map's ItemReader; this Map has none",
        ),
        (
            "TestState",
            json!({
                "definition": r#"{"Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}"#,
                "stateConfiguration": {"mapItemReaderData": "x".repeat(262_145)}
            })
            .to_string(),
            "ValidationException",
            "at 'stateConfiguration.mapItemReaderData' failed to satisfy constraint: Member must have length less than or equal to 262144",
        ),
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

/// An EXPRESS state machine may not wait for a job, a token or an activity's
/// worker: refused at CreateStateMachine with AWS's texts (recorded in
/// LocalStack's AWS-validated test_sfn_api_express snapshots).
#[tokio::test]
async fn express_machines_refuse_sync_callbacks_and_activities() {
    let service = service();
    let task = |resource: &str| json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:c", "QueueUrl": "q", "MessageBody": "m"}, "End": true}}});
    let cases = [
        (
            task("arn:aws:states:::sqs:sendMessage.waitForTaskToken"),
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support '.waitForTaskToken' service integration  at /States/T/Resource'",
        ),
        (
            task("arn:aws:states:::states:startExecution.sync"),
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration at /States/T/Resource'",
        ),
        (
            json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:a", "End": true}}}),
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state machine does not support Activity ARN at /States/T/Resource'",
        ),
    ];
    for (i, (definition, message)) in cases.iter().enumerate() {
        let request =
            json!({"name": format!("x{i}"), "definition": definition.to_string(), "roleArn": ROLE, "type": "EXPRESS"});
        let err = call(&service, "CreateStateMachine", &request.to_string()).await.unwrap_err();
        assert_eq!((err.code.name(), err.message.as_str()), ("InvalidDefinition", *message));
        // STANDARD takes it.
        let request = json!({"name": format!("s{i}"), "definition": definition.to_string(), "roleArn": ROLE});
        call(&service, "CreateStateMachine", &request.to_string()).await.expect("a STANDARD machine");
    }
}
