//! `orderflow serve`'s API driven by real clients: the AWS CLI, boto3 and the
//! Rust SDK, against a server started here on a free loopback port with the
//! order workflow and its mock test cases. Tasks run the real handlers
//! in-process on in-memory ports. The API's other behaviour (callbacks,
//! redrive, JSONata, TestState of Map and Parallel) is tested in crates/server.

use std::process::Command;
use std::sync::Arc;

#[path = "../../server/tests/support/aws_cli.rs"]
mod aws_cli;

use aws_cli::{ROLE, aws, machine, ok, until_done, venv};
use orderflow::serve::{FileMocks, read_mock_config};
use orderflow::{InProcess, load};
use orderflow_asl::{Clock, RealClock};
use orderflow_definition::workspace_root;
use orderflow_domain::fakes::{FixedClock, InMemoryOrderStore, RecordingNotifier};
use orderflow_server::{Config, Service};
use serde_json::{Value, json};

struct Server {
    endpoint: String,
    order_machine: String,
    _task: tokio::task::JoinHandle<()>,
}

async fn server() -> Server {
    let invoker =
        Arc::new(InProcess::new(InMemoryOrderStore::default(), RecordingNotifier::default(), FixedClock::default()));
    let clock: Arc<dyn Clock> = Arc::new(RealClock);
    let root = workspace_root();
    let mocks = read_mock_config(&root.join("statemachine/order.mock.json")).unwrap();
    let service = Arc::new(
        Service::new(Config::default(), invoker, clock)
            .expect("an in-memory store")
            .with_mocks(Arc::new(FileMocks(Arc::new(mocks)))),
    );
    let loaded = load(&root.join("infra/template.yaml"), None).unwrap();
    let definition = orderflow_definition::substitute(&loaded.source, &loaded.substitutions).unwrap();
    let request =
        json!({"name": "OrderWorkflow", "definition": definition, "roleArn": "arn:aws:iam::123456789012:role/local"});
    let created = service.call("CreateStateMachine", request.to_string().as_bytes()).await.unwrap();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(orderflow_server::serve(listener, service));
    Server { endpoint, order_machine: created["stateMachineArn"].as_str().unwrap().to_owned(), _task: task }
}

const WAITING: &str = r#"{"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "Next": "Done"}, "Done": {"Type": "Succeed"}}}"#;
const ADDING: &str = r#"{"StartAt": "Add", "States": {"Add": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "End": true}}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_runs_the_order_workflow_and_reads_its_history() {
    let server = server().await;
    let input = format!("file://{}", workspace_root().join("events/order-valid.json").display());
    let started = ok(
        &server.endpoint,
        &["start-execution", "--state-machine-arn", &server.order_machine, "--name", "order-1", "--input", &input],
    );
    let execution = started["executionArn"].as_str().unwrap().to_owned();
    assert_eq!(execution, "arn:aws:states:us-east-1:123456789012:execution:OrderWorkflow:order-1");
    let described = until_done(&server.endpoint, &execution).await;
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    let output: Value = serde_json::from_str(described["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["status"], "NOTIFIED");

    let history = ok(&server.endpoint, &["get-execution-history", "--execution-arn", &execution]);
    let events = history["events"].as_array().unwrap();
    assert_eq!(events.first().unwrap()["type"], "ExecutionStarted");
    assert_eq!(events.last().unwrap()["type"], "ExecutionSucceeded");
    assert!(events.iter().any(|e| e["type"] == "TaskSucceeded"));
    assert_eq!(
        events[0]["executionStartedEventDetails"]["roleArn"], "arn:aws:iam::123456789012:role/local",
        "the state machine's role"
    );
    // Reverse order and paging, through the CLI's own paginator.
    let reversed = ok(
        &server.endpoint,
        &["get-execution-history", "--execution-arn", &execution, "--reverse-order", "--max-items", "2"],
    );
    assert_eq!(reversed["events"][0]["type"], "ExecutionSucceeded");
    assert!(reversed.get("NextToken").is_some());
    let without_data =
        ok(&server.endpoint, &["get-execution-history", "--execution-arn", &execution, "--no-include-execution-data"]);
    assert!(without_data["events"][0]["executionStartedEventDetails"].get("input").is_none());

    // The same name and input while it runs is the same execution; once it ended, a conflict.
    let (code, _, err) = aws(
        &server.endpoint,
        &["start-execution", "--state-machine-arn", &server.order_machine, "--name", "order-1", "--input", &input],
    );
    assert_ne!(code, 0);
    assert!(err.contains("ExecutionAlreadyExists"), "{err}");

    let listed = ok(
        &server.endpoint,
        &["list-executions", "--state-machine-arn", &server.order_machine, "--status-filter", "SUCCEEDED"],
    );
    assert_eq!(listed["executions"][0]["executionArn"], execution.as_str());
    let machine = ok(&server.endpoint, &["describe-state-machine-for-execution", "--execution-arn", &execution]);
    assert_eq!(machine["name"], "OrderWorkflow");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_creates_stops_runs_synchronously_and_validates() {
    let server = server().await;
    let waiting = machine(&server.endpoint, "waiting", WAITING);
    let started = ok(&server.endpoint, &["start-execution", "--state-machine-arn", &waiting]);
    let execution = started["executionArn"].as_str().unwrap().to_owned();
    assert_eq!(ok(&server.endpoint, &["describe-execution", "--execution-arn", &execution])["status"], "RUNNING");
    ok(
        &server.endpoint,
        &["stop-execution", "--execution-arn", &execution, "--error", "Operator", "--cause", "changed my mind"],
    );
    let stopped = ok(&server.endpoint, &["describe-execution", "--execution-arn", &execution]);
    assert_eq!(stopped["status"], "ABORTED");
    let history = ok(&server.endpoint, &["get-execution-history", "--execution-arn", &execution, "--reverse-order"]);
    assert_eq!(history["events"][0]["type"], "ExecutionAborted");
    assert_eq!(history["events"][0]["executionAbortedEventDetails"]["cause"], "changed my mind");

    let adding = ok(
        &server.endpoint,
        &["create-state-machine", "--name", "adding", "--definition", ADDING, "--role-arn", ROLE, "--type", "EXPRESS"],
    );
    let adding = adding["stateMachineArn"].as_str().unwrap().to_owned();
    let sync = ok(
        &server.endpoint,
        &["start-sync-execution", "--state-machine-arn", &adding, "--input", r#"{"a": 1.5, "b": 2}"#],
    );
    assert_eq!(sync["status"], "SUCCEEDED", "{sync}");
    assert_eq!(sync["output"], r#"{"sum":4}"#);
    assert!(sync["executionArn"].as_str().unwrap().contains(":express:adding:"));
    // Every member of StartSyncExecutionOutput the run has, as the AWS CLI reads them.
    assert_eq!(sync["stateMachineArn"], adding.as_str());
    assert_eq!(sync["input"], r#"{"a": 1.5, "b": 2}"#);
    assert_eq!(sync["inputDetails"]["included"], true);
    assert_eq!(sync["outputDetails"]["included"], true);
    assert_eq!(sync["billingDetails"]["billedMemoryUsedInMB"], 64);
    assert!(sync["billingDetails"]["billedDurationInMilliseconds"].as_u64().is_some_and(|ms| ms >= 100), "{sync}");
    let (started, stopped) = (sync["startDate"].as_f64(), sync["stopDate"].as_f64());
    assert!(started.is_some() && started <= stopped, "{sync}");
    assert!(sync.get("error").is_none() && sync.get("cause").is_none(), "{sync}");
    let (code, _, err) = aws(&server.endpoint, &["start-sync-execution", "--state-machine-arn", &waiting]);
    assert_ne!(code, 0);
    assert!(err.contains("StateMachineTypeNotSupported"), "{err}");

    let valid = ok(&server.endpoint, &["validate-state-machine-definition", "--definition", ADDING]);
    assert_eq!(valid["result"], "OK");
    let broken = r#"{"StartAt": "Nowhere", "States": {"A": {"Type": "Pass", "End": true}}}"#;
    let invalid = ok(&server.endpoint, &["validate-state-machine-definition", "--definition", broken]);
    assert_eq!(invalid["result"], "FAIL");
    assert_eq!(invalid["diagnostics"][0]["code"], "SCHEMA_VALIDATION_FAILED");
    let (code, _, err) = aws(
        &server.endpoint,
        &["create-state-machine", "--name", "broken", "--definition", broken, "--role-arn", ROLE],
    );
    assert_ne!(code, 0);
    assert!(err.contains("InvalidDefinition"), "{err}");
    let (code, _, err) = aws(
        &server.endpoint,
        &["create-state-machine", "--name", "bad name", "--definition", ADDING, "--role-arn", ROLE],
    );
    assert_ne!(code, 0);
    assert!(err.contains("InvalidName"), "{err}");
    let (_, _, err) = aws(
        &server.endpoint,
        &["describe-state-machine", "--state-machine-arn", "arn:aws:states:us-east-1:123456789012:stateMachine:nope"],
    );
    assert!(err.contains("StateMachineDoesNotExist"), "{err}");
    let (_, _, err) = aws(&server.endpoint, &["describe-execution", "--execution-arn", "not-an-arn"]);
    assert!(err.contains("InvalidArn"), "{err}");
    let (_, _, err) =
        aws(&server.endpoint, &["start-execution", "--state-machine-arn", &adding, "--input", "{not json"]);
    assert!(err.contains("InvalidExecutionInput"), "{err}");
    let (_, _, err) = aws(&server.endpoint, &["list-tags-for-resource", "--resource-arn", &adding]);
    assert!(err.contains("UnknownOperationException") && err.contains("ListTagsForResource"), "{err}");
}

/// boto3, as a Python test suite would use it: typed exceptions, paginators,
/// and a `#TestCase` run from the project's MockConfigFile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_drives_the_api_with_typed_errors_and_mock_test_cases() {
    let server = server().await;
    let script = r##"
import json, sys, time, boto3
endpoint, machine, order = sys.argv[1], sys.argv[2], sys.argv[3]
sfn = boto3.client("stepfunctions", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="testing", aws_secret_access_key="testing")
def wait(arn):
    for _ in range(200):
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
        time.sleep(0.05)
    raise SystemExit("still running")
out = {}
run = sfn.start_execution(stateMachineArn=machine, input=open(order).read())
out["plain"] = wait(run["executionArn"])["status"]
mocked = sfn.start_execution(stateMachineArn=machine + "#InvalidOrderIsRejected", input=open(order).read())
d = wait(mocked["executionArn"])
out["mocked"] = [d["status"], d.get("error")]
try:
    sfn.describe_execution(executionArn=machine.replace(":stateMachine:", ":execution:") + ":nope")
except sfn.exceptions.ExecutionDoesNotExist as e:
    out["missing"] = e.response["Error"]["Code"]
try:
    sfn.start_execution(stateMachineArn=machine + "#NoSuchCase")
except sfn.exceptions.StateMachineDoesNotExist as e:
    out["no_case"] = e.response["Error"]["Code"]
pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=machine, PaginationConfig={"PageSize": 1})
out["listed"] = sum(len(p["executions"]) for p in pages)
events = [e for p in sfn.get_paginator("get_execution_history").paginate(executionArn=run["executionArn"], PaginationConfig={"PageSize": 4}) for e in p["events"]]
out["event_ids"] = [e["id"] for e in events]
print(json.dumps(out))
"##;
    let order = workspace_root().join("events/order-valid.json");
    let endpoint = server.endpoint.clone();
    let machine = server.order_machine.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(venv("python"))
            .args(["-c", script, &endpoint, &machine, order.to_str().unwrap()])
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["plain"], "SUCCEEDED");
    assert_eq!(got["mocked"], json!(["FAILED", "OrderRejected"]), "the mock file's InvalidOrderIsRejected case");
    assert_eq!(got["missing"], "ExecutionDoesNotExist");
    assert_eq!(got["no_case"], "StateMachineDoesNotExist");
    assert_eq!(got["listed"], 2);
    let ids: Vec<u64> = got["event_ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "every event once, in order, across pages");
    assert!(ids.len() > 8);
}

/// The Rust SDK puts `sync-` before the host for StartSyncExecution and
/// TestState, as the service model says, even with an endpoint URL set, and
/// has no switch to stop it: this interceptor takes it off again (README).
#[derive(Debug)]
struct NoHostPrefix;

impl aws_sdk_sfn::config::Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "NoHostPrefix"
    }

    fn modify_before_transmit(
        &self,
        context: &mut aws_sdk_sfn::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _: &aws_sdk_sfn::config::RuntimeComponents,
        _: &mut aws_sdk_sfn::config::ConfigBag,
    ) -> Result<(), aws_sdk_sfn::error::BoxError> {
        let uri = context.request().uri().to_owned();
        if let Some(rest) = uri.strip_prefix("http://sync-") {
            context.request_mut().set_uri(format!("http://{rest}"))?;
        }
        Ok(())
    }
}

/// The Rust SDK (`aws-sdk-sfn`) as a client: typed builders, typed errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_sdk_creates_starts_and_reads_executions() {
    use aws_sdk_sfn::types::{ExecutionStatus, StateMachineType, SyncExecutionStatus};
    let server = server().await;
    let shared = orderflow_emulator::endpoint_loader(&server.endpoint).load().await;
    let config = aws_sdk_sfn::config::Builder::from(&shared).interceptor(NoHostPrefix).build();
    let sfn = aws_sdk_sfn::Client::from_conf(config);
    let created = sfn
        .create_state_machine()
        .name("adding")
        .definition(ADDING)
        .role_arn("arn:aws:iam::123456789012:role/local")
        .r#type(StateMachineType::Express)
        .send()
        .await
        .unwrap();
    let sync = sfn
        .start_sync_execution()
        .state_machine_arn(created.state_machine_arn())
        .input(r#"{"a": 2, "b": 3}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(sync.status(), &SyncExecutionStatus::Succeeded);
    assert_eq!(sync.output(), Some(r#"{"sum":5}"#));

    let started = sfn.start_execution().state_machine_arn(&server.order_machine).input("{}").send().await.unwrap();
    let mut described = None;
    for _ in 0..100 {
        let d = sfn.describe_execution().execution_arn(started.execution_arn()).send().await.unwrap();
        if d.status() != &ExecutionStatus::Running {
            described = Some(d);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let described = described.expect("the execution ends");
    assert_eq!(described.status(), &ExecutionStatus::Failed, "{{}} is no order");
    assert_eq!(described.error(), Some("OrderRejected"));
    let history = sfn.get_execution_history().execution_arn(started.execution_arn()).send().await.unwrap();
    assert_eq!(history.events().last().map(|e| e.r#type().as_str()), Some("ExecutionFailed"));

    let missing = sfn
        .describe_state_machine()
        .state_machine_arn("arn:aws:states:us-east-1:123456789012:stateMachine:nope")
        .send()
        .await
        .unwrap_err();
    assert!(missing.into_service_error().is_state_machine_does_not_exist());
}

/// TestState through the AWS CLI: one state, a mocked task, each step's value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_tests_a_state_with_a_mock() {
    let server = server().await;
    let task = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "InputPath": "$.order",
        "Parameters": {"FunctionName": "process_order", "Payload.$": "$"},
        "ResultSelector": {"receipt.$": "$.Payload.receipt"},
        "ResultPath": "$.stored",
        "Retry": [{"ErrorEquals": ["DependencyUnavailable"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}],
        "Catch": [{"ErrorEquals": ["OrderConflict"], "ResultPath": "$.error", "Next": "Conflict"}],
        "Next": "Notify"
    })
    .to_string();
    let input = r#"{"order": {"order_id": "ORD-1"}}"#;
    let mock =
        json!({"result": json!({"Payload": {"receipt": {"status": "PROCESSED"}}, "StatusCode": 200}).to_string()})
            .to_string();
    let debug = ok(
        &server.endpoint,
        &["test-state", "--definition", &task, "--input", input, "--mock", &mock, "--inspection-level", "DEBUG"],
    );
    assert_eq!(debug["status"], "SUCCEEDED", "{debug}");
    assert_eq!(debug["nextState"], "Notify");
    let output: Value = serde_json::from_str(debug["output"].as_str().unwrap()).unwrap();
    assert_eq!(output, json!({"order": {"order_id": "ORD-1"}, "stored": {"receipt": {"status": "PROCESSED"}}}));
    let data = &debug["inspectionData"];
    assert_eq!(data["afterInputPath"], r#"{"order_id":"ORD-1"}"#);
    assert_eq!(data["afterParameters"], r#"{"FunctionName":"process_order","Payload":{"order_id":"ORD-1"}}"#);
    assert_eq!(data["afterResultSelector"], r#"{"receipt":{"status":"PROCESSED"}}"#);

    let failing = |error: &str| json!({"errorOutput": {"error": error, "cause": "mocked"}}).to_string();
    let retriable = ok(
        &server.endpoint,
        &[
            "test-state",
            "--definition",
            &task,
            "--input",
            input,
            "--mock",
            &failing("DependencyUnavailable"),
            "--state-configuration",
            r#"{"retrierRetryCount": 1}"#,
            "--inspection-level",
            "DEBUG",
        ],
    );
    assert_eq!(retriable["status"], "RETRIABLE", "{retriable}");
    assert_eq!(retriable["inspectionData"]["errorDetails"], json!({"retryIndex": 0, "retryBackoffIntervalSeconds": 4}));
    let caught = ok(
        &server.endpoint,
        &["test-state", "--definition", &task, "--input", input, "--mock", &failing("OrderConflict")],
    );
    assert_eq!(caught["status"], "CAUGHT_ERROR");
    assert_eq!(caught["nextState"], "Conflict");
    let output: Value = serde_json::from_str(caught["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["error"], json!({"Error": "OrderConflict", "Cause": "mocked"}));
    let failed =
        ok(&server.endpoint, &["test-state", "--definition", &task, "--input", input, "--mock", &failing("Boom")]);
    assert_eq!((failed["status"].as_str(), failed["error"].as_str()), (Some("FAILED"), Some("Boom")));

    let choice = r#"{"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}], "Default": "Small"}"#;
    let big = ok(&server.endpoint, &["test-state", "--definition", choice, "--input", r#"{"n": 11}"#]);
    assert_eq!((big["status"].as_str(), big["nextState"].as_str()), (Some("SUCCEEDED"), Some("Big")));
    let (_, _, err) = aws(&server.endpoint, &["test-state", "--definition", choice, "--mock", &mock]);
    assert!(err.contains("ValidationException"), "{err}");
}
