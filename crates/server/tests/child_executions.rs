//! `states:startExecution` in its three forms: the child is an execution of
//! the same server, with its own history; `.sync` and `.sync:2` wait for it
//! and answer with its DescribeExecution; a failed child fails the task; a
//! stopped parent stops its child.

#[path = "support/no_tasks.rs"]
mod no_tasks;

use std::sync::Arc;
use std::time::Duration;

use no_tasks::NoTasks;
use orderflow_asl::{Clock, RealClock};
use orderflow_server::{Config, Service};
use serde_json::{Value, json};

fn service() -> Arc<Service> {
    let clock: Arc<dyn Clock> = Arc::new(RealClock);
    Arc::new(Service::new(Config::default(), Arc::new(NoTasks), clock).expect("an in-memory store"))
}

async fn call(service: &Arc<Service>, operation: &str, body: Value) -> Value {
    service.call(operation, body.to_string().as_bytes()).await.unwrap_or_else(|e| panic!("{operation}: {e}"))
}

async fn machine(service: &Arc<Service>, name: &str, definition: Value) -> String {
    let created = call(
        service,
        "CreateStateMachine",
        json!({"name": name, "definition": definition.to_string(), "roleArn": "arn:aws:iam::123456789012:role/r"}),
    )
    .await;
    created["stateMachineArn"].as_str().unwrap().to_owned()
}

async fn run(service: &Arc<Service>, machine: &str, input: Value) -> Value {
    let started =
        call(service, "StartExecution", json!({"stateMachineArn": machine, "input": input.to_string()})).await;
    let arn = started["executionArn"].as_str().unwrap().to_owned();
    until_done(service, &arn).await
}

async fn until_done(service: &Arc<Service>, arn: &str) -> Value {
    for _ in 0..400 {
        let described = call(service, "DescribeExecution", json!({"executionArn": arn})).await;
        if described["status"] != "RUNNING" {
            return described;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{arn} still running");
}

fn parent(resource: &str, child: &str) -> Value {
    json!({"StartAt": "Child", "States": {"Child": {
        "Type": "Task", "Resource": resource,
        "Parameters": {"StateMachineArn": child, "Input": {"n.$": "$.n"}}, "End": true
    }}})
}

async fn events(service: &Arc<Service>, arn: &str) -> Vec<Value> {
    call(service, "GetExecutionHistory", json!({"executionArn": arn})).await["events"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_and_sync2_wait_for_the_child_and_answer_with_its_description() {
    let service = service();
    let child = machine(
        &service,
        "Child",
        json!({"StartAt": "Double", "States": {"Double": {
        "Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": true}}}),
    )
    .await;

    let json_parent =
        machine(&service, "ParentJson", parent("arn:aws:states:::states:startExecution.sync:2", &child)).await;
    let done = run(&service, &json_parent, json!({"n": 21})).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["Output"], json!({"doubled": 42}), "{output}");
    assert_eq!(output["Input"], json!({"n": 21}), "{output}");
    assert_eq!(output["Status"], "SUCCEEDED");
    assert!(output["StartDate"].is_i64() && output["StopDate"].is_i64(), "dates in epoch milliseconds: {output}");
    let keys: Vec<&String> = output.as_object().unwrap().keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "members in name order");
    // The child is an execution of this server, with its own history.
    let child_arn = output["ExecutionArn"].as_str().unwrap();
    assert!(child_arn.contains(":execution:Child:"), "{child_arn}");
    assert_eq!(call(&service, "DescribeExecution", json!({"executionArn": child_arn})).await["status"], "SUCCEEDED");
    let history = events(&service, done["executionArn"].as_str().unwrap()).await;
    let submitted = history.iter().find(|e| e["type"] == "TaskSubmitted").expect("TaskSubmitted");
    assert_eq!(submitted["taskSubmittedEventDetails"]["resourceType"], "states");
    assert_eq!(submitted["taskSubmittedEventDetails"]["resource"], "startExecution.sync:2");
    let start: Value =
        serde_json::from_str(submitted["taskSubmittedEventDetails"]["output"].as_str().unwrap()).unwrap();
    assert_eq!(start["ExecutionArn"], json!(child_arn));
    assert_eq!(start["SdkHttpMetadata"]["HttpStatusCode"], json!(200));

    // `.sync` gives the child's input and output as text.
    let text_parent =
        machine(&service, "ParentText", parent("arn:aws:states:::states:startExecution.sync", &child)).await;
    let done = run(&service, &text_parent, json!({"n": 1})).await;
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["Output"], json!("{\"doubled\":2}"), "{output}");

    // Request-response: the start's answer, at once.
    let starter = machine(&service, "Starter", parent("arn:aws:states:::states:startExecution", &child)).await;
    let done = run(&service, &starter, json!({"n": 2})).await;
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    let keys: Vec<&str> = output.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["ExecutionArn", "SdkHttpMetadata", "SdkResponseMetadata", "StartDate"], "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_child_fails_the_task_and_a_missing_machine_is_named() {
    let service = service();
    let failing = machine(
        &service,
        "Failing",
        json!({"StartAt": "F", "States": {"F": {
        "Type": "Fail", "Error": "Child.Broke", "Cause": "on purpose"}}}),
    )
    .await;
    let caught = machine(
        &service,
        "Catching",
        json!({"StartAt": "Child", "States": {
            "Child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                      "Parameters": {"StateMachineArn": failing}, "End": true,
                      "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}]},
            "Caught": {"Type": "Pass", "End": true}}}),
    )
    .await;
    let done = run(&service, &caught, json!({})).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["Error"], "States.TaskFailed");
    let cause: Value = serde_json::from_str(output["Cause"].as_str().unwrap()).unwrap();
    assert_eq!(
        (cause["Status"].as_str(), cause["Error"].as_str(), cause["Cause"].as_str()),
        (Some("FAILED"), Some("Child.Broke"), Some("on purpose"))
    );
    assert!(cause.get("Output").is_none(), "{cause}");

    let nowhere = "arn:aws:states:us-east-1:123456789012:stateMachine:Nowhere";
    let lost = machine(&service, "Lost", parent("arn:aws:states:::states:startExecution.sync", nowhere)).await;
    let done = run(&service, &lost, json!({"n": 1})).await;
    assert_eq!(done["status"], "FAILED");
    assert_eq!(done["error"], "StepFunctions.StateMachineDoesNotExistException", "{done}");
    let cause = done["cause"].as_str().unwrap();
    assert!(
        cause.contains("(Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist;"),
        "{cause}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_parent_stops_its_child() {
    let service = service();
    let slow = machine(
        &service,
        "Slow",
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}),
    )
    .await;
    let waiting = machine(&service, "Waiting", parent("arn:aws:states:::states:startExecution.sync", &slow)).await;
    let started = call(&service, "StartExecution", json!({"stateMachineArn": waiting, "input": "{\"n\": 1}"})).await;
    let parent_arn = started["executionArn"].as_str().unwrap().to_owned();
    let mut child = None;
    for _ in 0..200 {
        let listed = call(&service, "ListExecutions", json!({"stateMachineArn": slow})).await;
        if let Some(arn) = listed["executions"][0]["executionArn"].as_str() {
            child = Some(arn.to_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let child = child.expect("the child started");
    call(&service, "StopExecution", json!({"executionArn": parent_arn})).await;
    let stopped = until_done(&service, &child).await;
    assert_eq!(stopped["status"], "ABORTED", "{stopped}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_sfn_calls_this_server_s_own_api() {
    let service = service();
    let child =
        machine(&service, "Listed", json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}})).await;
    let lister = machine(
        &service,
        "Lister",
        json!({"StartAt": "Start", "States": {
            "Start": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:startExecution",
                      "Parameters": {"StateMachineArn": child, "Name": "from-sdk", "Input": {"a": 1}},
                      "ResultPath": "$.started", "Next": "Describe"},
            "Describe": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:describeStateMachine",
                         "Parameters": {"StateMachineArn": child}, "ResultSelector": {"name.$": "$.Name"},
                         "ResultPath": "$.described", "Next": "Missing"},
            "Missing": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:describeExecution",
                        "Parameters": {"ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:Listed:nope"},
                        "Catch": [{"ErrorEquals": ["Sfn.ExecutionDoesNotExistException"], "ResultPath": "$.missing", "Next": "Done"}],
                        "End": true},
            "Done": {"Type": "Succeed"}}}),
    )
    .await;
    let done = run(&service, &lister, json!({})).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(
        output["started"]["ExecutionArn"],
        json!("arn:aws:states:us-east-1:123456789012:execution:Listed:from-sdk"),
        "{output}"
    );
    assert!(output["started"]["StartDate"].is_string(), "SDK results give dates as ISO 8601: {output}");
    assert_eq!(output["described"]["name"], "Listed");
    assert_eq!(output["missing"]["Error"], "Sfn.ExecutionDoesNotExistException", "{output}");
    let started = until_done(&service, "arn:aws:states:us-east-1:123456789012:execution:Listed:from-sdk").await;
    assert_eq!(started["status"], "SUCCEEDED");
}
