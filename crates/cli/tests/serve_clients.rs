//! `orderflow serve`'s API driven by real clients: the AWS CLI and boto3 from
//! the project's virtualenv, against a server started here on a free loopback
//! port. Tasks run the real handlers in-process on in-memory ports.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

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
    let invoker = InProcess::new(InMemoryOrderStore::default(), RecordingNotifier::default(), FixedClock::default());
    server_with(Arc::new(invoker)).await
}

/// A function that answers with its payload: for callback tasks, whose
/// function only passes the token on.
struct Echo;

impl orderflow_asl::Invoker for Echo {
    fn invoke<'a>(
        &'a self,
        _function: &'a str,
        payload: &'a orderflow_value::Value,
    ) -> orderflow_asl::BoxFuture<'a, Result<orderflow_value::Value, orderflow_asl::TaskFailure>> {
        Box::pin(std::future::ready(Ok(payload.clone())))
    }
}

async fn server_with(invoker: Arc<dyn orderflow_asl::Invoker>) -> Server {
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

fn venv(tool: &str) -> PathBuf {
    let path = workspace_root().join(".venv/bin").join(tool);
    assert!(path.exists(), "{} is missing: run `make venv` first", path.display());
    path
}

/// `aws stepfunctions <args>` against the server: (exit code, stdout as JSON or text, stderr).
fn aws(server: &Server, args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(venv("aws"))
        .arg("stepfunctions")
        .args(["--endpoint-url", &server.endpoint, "--output", "json"])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let value = serde_json::from_str(&stdout).unwrap_or(Value::String(stdout));
    (out.status.code().unwrap_or(-1), value, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn ok(server: &Server, args: &[&str]) -> Value {
    let (code, out, err) = aws(server, args);
    assert_eq!(code, 0, "aws {args:?}: {err}");
    out
}

const ROLE: &str = "arn:aws:iam::123456789012:role/local";

/// A STANDARD state machine made with the AWS CLI: its ARN.
fn machine(server: &Server, name: &str, definition: &str) -> String {
    let created = ok(server, &["create-state-machine", "--name", name, "--definition", definition, "--role-arn", ROLE]);
    created["stateMachineArn"].as_str().unwrap().to_owned()
}

/// An execution started with the AWS CLI: its ARN.
fn started(server: &Server, machine: &str, input: &str) -> String {
    let started = ok(server, &["start-execution", "--state-machine-arn", machine, "--input", input]);
    started["executionArn"].as_str().unwrap().to_owned()
}

async fn until_done(server: &Server, execution: &str) -> Value {
    for _ in 0..200 {
        let described = ok(server, &["describe-execution", "--execution-arn", execution]);
        if described["status"] != "RUNNING" {
            return described;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{execution} still running");
}

const WAITING: &str = r#"{"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "Next": "Done"}, "Done": {"Type": "Succeed"}}}"#;
const ADDING: &str = r#"{"StartAt": "Add", "States": {"Add": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "End": true}}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_runs_the_order_workflow_and_reads_its_history() {
    let server = server().await;
    let input = format!("file://{}", workspace_root().join("events/order-valid.json").display());
    let started = ok(
        &server,
        &["start-execution", "--state-machine-arn", &server.order_machine, "--name", "order-1", "--input", &input],
    );
    let execution = started["executionArn"].as_str().unwrap().to_owned();
    assert_eq!(execution, "arn:aws:states:us-east-1:123456789012:execution:OrderWorkflow:order-1");
    let described = until_done(&server, &execution).await;
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    let output: Value = serde_json::from_str(described["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["status"], "NOTIFIED");

    let history = ok(&server, &["get-execution-history", "--execution-arn", &execution]);
    let events = history["events"].as_array().unwrap();
    assert_eq!(events.first().unwrap()["type"], "ExecutionStarted");
    assert_eq!(events.last().unwrap()["type"], "ExecutionSucceeded");
    assert!(events.iter().any(|e| e["type"] == "TaskSucceeded"));
    assert_eq!(
        events[0]["executionStartedEventDetails"]["roleArn"], "arn:aws:iam::123456789012:role/local",
        "the state machine's role"
    );
    // Reverse order and paging, through the CLI's own paginator.
    let reversed =
        ok(&server, &["get-execution-history", "--execution-arn", &execution, "--reverse-order", "--max-items", "2"]);
    assert_eq!(reversed["events"][0]["type"], "ExecutionSucceeded");
    assert!(reversed.get("NextToken").is_some());
    let without_data =
        ok(&server, &["get-execution-history", "--execution-arn", &execution, "--no-include-execution-data"]);
    assert!(without_data["events"][0]["executionStartedEventDetails"].get("input").is_none());

    // The same name and input while it runs is the same execution; once it ended, a conflict.
    let (code, _, err) = aws(
        &server,
        &["start-execution", "--state-machine-arn", &server.order_machine, "--name", "order-1", "--input", &input],
    );
    assert_ne!(code, 0);
    assert!(err.contains("ExecutionAlreadyExists"), "{err}");

    let listed =
        ok(&server, &["list-executions", "--state-machine-arn", &server.order_machine, "--status-filter", "SUCCEEDED"]);
    assert_eq!(listed["executions"][0]["executionArn"], execution.as_str());
    let machine = ok(&server, &["describe-state-machine-for-execution", "--execution-arn", &execution]);
    assert_eq!(machine["name"], "OrderWorkflow");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_creates_stops_runs_synchronously_and_validates() {
    let server = server().await;
    let waiting = machine(&server, "waiting", WAITING);
    let started = ok(&server, &["start-execution", "--state-machine-arn", &waiting]);
    let execution = started["executionArn"].as_str().unwrap().to_owned();
    assert_eq!(ok(&server, &["describe-execution", "--execution-arn", &execution])["status"], "RUNNING");
    ok(
        &server,
        &["stop-execution", "--execution-arn", &execution, "--error", "Operator", "--cause", "changed my mind"],
    );
    let stopped = ok(&server, &["describe-execution", "--execution-arn", &execution]);
    assert_eq!(stopped["status"], "ABORTED");
    let history = ok(&server, &["get-execution-history", "--execution-arn", &execution, "--reverse-order"]);
    assert_eq!(history["events"][0]["type"], "ExecutionAborted");
    assert_eq!(history["events"][0]["executionAbortedEventDetails"]["cause"], "changed my mind");

    let adding = ok(
        &server,
        &["create-state-machine", "--name", "adding", "--definition", ADDING, "--role-arn", ROLE, "--type", "EXPRESS"],
    );
    let adding = adding["stateMachineArn"].as_str().unwrap().to_owned();
    let sync =
        ok(&server, &["start-sync-execution", "--state-machine-arn", &adding, "--input", r#"{"a": 1.5, "b": 2}"#]);
    assert_eq!(sync["status"], "SUCCEEDED", "{sync}");
    assert_eq!(sync["output"], r#"{"sum":4}"#);
    assert!(sync["executionArn"].as_str().unwrap().contains(":express:adding:"));
    let (code, _, err) = aws(&server, &["start-sync-execution", "--state-machine-arn", &waiting]);
    assert_ne!(code, 0);
    assert!(err.contains("StateMachineTypeNotSupported"), "{err}");

    let valid = ok(&server, &["validate-state-machine-definition", "--definition", ADDING]);
    assert_eq!(valid["result"], "OK");
    let broken = r#"{"StartAt": "Nowhere", "States": {"A": {"Type": "Pass", "End": true}}}"#;
    let invalid = ok(&server, &["validate-state-machine-definition", "--definition", broken]);
    assert_eq!(invalid["result"], "FAIL");
    assert_eq!(invalid["diagnostics"][0]["code"], "SCHEMA_VALIDATION_FAILED");
    let (code, _, err) =
        aws(&server, &["create-state-machine", "--name", "broken", "--definition", broken, "--role-arn", ROLE]);
    assert_ne!(code, 0);
    assert!(err.contains("InvalidDefinition"), "{err}");
    let (code, _, err) =
        aws(&server, &["create-state-machine", "--name", "bad name", "--definition", ADDING, "--role-arn", ROLE]);
    assert_ne!(code, 0);
    assert!(err.contains("InvalidName"), "{err}");
    let (_, _, err) = aws(
        &server,
        &["describe-state-machine", "--state-machine-arn", "arn:aws:states:us-east-1:123456789012:stateMachine:nope"],
    );
    assert!(err.contains("StateMachineDoesNotExist"), "{err}");
    let (_, _, err) = aws(&server, &["describe-execution", "--execution-arn", "not-an-arn"]);
    assert!(err.contains("InvalidArn"), "{err}");
    let (_, _, err) = aws(&server, &["start-execution", "--state-machine-arn", &adding, "--input", "{not json"]);
    assert!(err.contains("InvalidExecutionInput"), "{err}");
    let (_, _, err) = aws(&server, &["list-state-machine-versions", "--state-machine-arn", &adding]);
    assert!(err.contains("UnknownOperationException") && err.contains("ListStateMachineVersions"), "{err}");
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
        &server,
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
        &server,
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
    let caught =
        ok(&server, &["test-state", "--definition", &task, "--input", input, "--mock", &failing("OrderConflict")]);
    assert_eq!(caught["status"], "CAUGHT_ERROR");
    assert_eq!(caught["nextState"], "Conflict");
    let output: Value = serde_json::from_str(caught["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["error"], json!({"Error": "OrderConflict", "Cause": "mocked"}));
    let failed = ok(&server, &["test-state", "--definition", &task, "--input", input, "--mock", &failing("Boom")]);
    assert_eq!((failed["status"].as_str(), failed["error"].as_str()), (Some("FAILED"), Some("Boom")));

    let choice = r#"{"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}], "Default": "Small"}"#;
    let big = ok(&server, &["test-state", "--definition", choice, "--input", r#"{"n": 11}"#]);
    assert_eq!((big["status"].as_str(), big["nextState"].as_str()), (Some("SUCCEEDED"), Some("Big")));
    let (_, _, err) = aws(&server, &["test-state", "--definition", choice, "--mock", &mock]);
    assert!(err.contains("ValidationException"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_tests_map_and_parallel_states_and_a_given_context() {
    let server = server().await;
    let map = json!({
        "Type": "Map",
        "ItemsPath": "$.lines",
        "ItemSelector": {"sku.$": "$$.Map.Item.Value.sku", "position.$": "$$.Map.Item.Index", "order.$": "$.order_id"},
        "MaxConcurrency": 4,
        "ItemProcessor": {"StartAt": "Price", "States": {"Price": {"Type": "Pass", "End": true}}},
        "ResultSelector": {"priced.$": "$"},
        "ResultPath": "$.result",
        "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2, "IntervalSeconds": 3}],
        "Next": "Done"
    })
    .to_string();
    let input = r#"{"order_id": "ORD-7", "lines": [{"sku": "A"}, {"sku": "B"}]}"#;
    let mock = json!({"result": r#"[{"sku": "A", "cents": 100}, {"sku": "B", "cents": 250}]"#}).to_string();
    let tested = ok(
        &server,
        &["test-state", "--definition", &map, "--input", input, "--mock", &mock, "--inspection-level", "DEBUG"],
    );
    assert_eq!(
        (tested["status"].as_str(), tested["nextState"].as_str()),
        (Some("SUCCEEDED"), Some("Done")),
        "{tested}"
    );
    let data = &tested["inspectionData"];
    assert_eq!(data["afterItemsPath"], r#"[{"sku":"A"},{"sku":"B"}]"#);
    let selected: Value = serde_json::from_str(data["afterItemSelector"].as_str().unwrap()).unwrap();
    assert_eq!(
        selected,
        json!([{"sku": "A", "position": 0, "order": "ORD-7"}, {"sku": "B", "position": 1, "order": "ORD-7"}])
    );
    assert_eq!(data["maxConcurrency"], 4);
    let output: Value = serde_json::from_str(tested["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["result"]["priced"][1], json!({"sku": "B", "cents": 250}));
    // A failing iteration, mocked as the Map's error: retried.
    let failing = json!({"errorOutput": {"error": "States.TaskFailed", "cause": "line B"}}).to_string();
    let retriable = ok(&server, &["test-state", "--definition", &map, "--input", input, "--mock", &failing]);
    assert_eq!(retriable["status"], "RETRIABLE", "{retriable}");
    // What this TestState does not take is refused by name.
    for (configuration, named) in [
        (r#"{"mapIterationFailureCount": 1}"#, "mapIterationFailureCount"),
        (r#"{"errorCausedByState": "Nowhere"}"#, "errorCausedByState 'Nowhere' is not a state inside"),
    ] {
        let (code, _, err) = aws(
            &server,
            &[
                "test-state",
                "--definition",
                &map,
                "--input",
                input,
                "--mock",
                &failing,
                "--state-configuration",
                configuration,
            ],
        );
        assert!(code != 0 && err.contains("ValidationException") && err.contains(named), "{err}");
    }
    // Without a mock, as in Step Functions, a Map state is not tested.
    let (code, _, err) = aws(&server, &["test-state", "--definition", &map, "--input", input]);
    assert!(code != 0 && err.contains("ValidationException") && err.contains("mock"), "{err}");

    let parallel = json!({
        "Type": "Parallel",
        "Parameters": {"id.$": "$.order_id", "started.$": "$$.Execution.StartTime"},
        "Branches": [{"StartAt": "One", "States": {"One": {"Type": "Pass", "End": true}}}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Recover"}],
        "End": true
    })
    .to_string();
    let context = r#"{"Execution": {"StartTime": "2026-01-02T03:04:05Z", "Name": "given"}}"#;
    let caught = ok(
        &server,
        &[
            "test-state",
            "--definition",
            &parallel,
            "--input",
            input,
            "--mock",
            &json!({"errorOutput": {"error": "Branch.Failed", "cause": "one"}}).to_string(),
            "--context",
            context,
            "--inspection-level",
            "DEBUG",
        ],
    );
    assert_eq!((caught["status"].as_str(), caught["nextState"].as_str()), (Some("CAUGHT_ERROR"), Some("Recover")));
    // The given context's StartTime, read by the Parameters.
    assert_eq!(caught["inspectionData"]["afterParameters"], r#"{"id":"ORD-7","started":"2026-01-02T03:04:05Z"}"#);
    // A context needs a mock; variables must be an object.
    let pass = r#"{"Type": "Pass", "End": true}"#;
    let (_, _, err) = aws(&server, &["test-state", "--definition", pass, "--context", context]);
    assert!(err.contains("ValidationException") && err.contains("mock"), "{err}");
    let (_, _, err) = aws(&server, &["test-state", "--definition", pass, "--variables", "[1]"]);
    assert!(err.contains("ValidationException") && err.contains("variables must be a JSON object"), "{err}");
    // Variables in scope, read and set by the state under test.
    let assigning =
        r#"{"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($a, $b)"}, "Assign": {"a.$": "$b"}, "End": true}"#;
    let tested = ok(
        &server,
        &["test-state", "--definition", assigning, "--variables", r#"{"a": 1, "b": 2}"#, "--inspection-level", "DEBUG"],
    );
    assert_eq!(tested["output"], r#"{"sum":3}"#, "{tested}");
    assert_eq!(tested["inspectionData"]["variables"], r#"{"a":2,"b":2}"#);
}

/// The task token of `execution`'s callback task, once it was submitted: read
/// from the TaskScheduled parameters, as the function would have passed it on.
async fn submitted_token(server: &Server, execution: &str) -> String {
    for _ in 0..100 {
        let history = ok(server, &["get-execution-history", "--execution-arn", execution]);
        let events = history["events"].as_array().unwrap();
        if events.iter().any(|e| e["type"] == "TaskSubmitted") {
            let scheduled = events.iter().find(|e| e["type"] == "TaskScheduled").unwrap();
            let details = &scheduled["taskScheduledEventDetails"];
            let parameters: Value = serde_json::from_str(details["parameters"].as_str().unwrap()).unwrap();
            return parameters["Payload"]["token"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{execution}: no task was submitted with a token");
}

/// The callback pattern: a `.waitForTaskToken` task waits until a client
/// answers its token (read here from the history, as a function would pass
/// it on); heartbeats keep it alive, silence past HeartbeatSeconds ends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_answers_callback_tasks_by_token() {
    let server = server_with(Arc::new(Echo)).await;
    let definition = json!({
        "StartAt": "Approve",
        "States": {"Approve": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "ask-a-human", "Payload": {"order.$": "$.order", "token.$": "$$.Task.Token"}},
            "HeartbeatSeconds": 6,
            "End": true
        }}
    })
    .to_string();
    let machine = machine(&server, "approve", &definition);

    let start = |name: &str| {
        ok(
            &server,
            &["start-execution", "--state-machine-arn", &machine, "--name", name, "--input", r#"{"order": "ORD-9"}"#],
        )["executionArn"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut approved = start("approved");
    let token = submitted_token(&server, &approved).await;
    ok(&server, &["send-task-heartbeat", "--task-token", &token]);
    assert_eq!(ok(&server, &["describe-execution", "--execution-arn", &approved])["status"], "RUNNING");
    ok(&server, &["send-task-success", "--task-token", &token, "--task-output", r#"{"approved": true}"#]);
    let done = until_done(&server, &approved).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["output"], r#"{"approved":true}"#);
    let (_, _, err) = aws(&server, &["send-task-success", "--task-token", &token, "--task-output", "{}"]);
    assert!(err.contains("TaskDoesNotExist"), "an answered token is closed: {err}");
    let history = ok(&server, &["get-execution-history", "--execution-arn", &approved]);
    let kinds: Vec<&str> = history["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );

    approved = start("refused");
    let token = submitted_token(&server, &approved).await;
    ok(&server, &["send-task-failure", "--task-token", &token, "--error", "Refused", "--cause", "out of stock"]);
    let done = until_done(&server, &approved).await;
    assert_eq!((done["status"].as_str(), done["error"].as_str()), (Some("FAILED"), Some("Refused")));

    // Stopped while it waits: its token is closed with it.
    let stopped = start("stopped");
    let token = submitted_token(&server, &stopped).await;
    ok(&server, &["stop-execution", "--execution-arn", &stopped]);
    let (_, _, err) = aws(&server, &["send-task-success", "--task-token", &token, "--task-output", "{}"]);
    assert!(err.contains("TaskDoesNotExist"), "a stopped execution's token is closed: {err}");

    // Nobody answers: HeartbeatSeconds (6, room for slow CLI calls on a busy machine) ends it.
    let silent = start("silent");
    let done = until_done(&server, &silent).await;
    assert_eq!((done["status"].as_str(), done["error"].as_str()), (Some("FAILED"), Some("States.HeartbeatTimeout")));
    let (_, _, err) = aws(&server, &["send-task-heartbeat", "--task-token", "no-such-token"]);
    assert!(err.contains("TaskDoesNotExist"), "{err}");
}

/// A function that fails its first call and echoes its payload after.
struct FailsOnce(std::sync::atomic::AtomicBool);

impl orderflow_asl::Invoker for FailsOnce {
    fn invoke<'a>(
        &'a self,
        _function: &'a str,
        payload: &'a orderflow_value::Value,
    ) -> orderflow_asl::BoxFuture<'a, Result<orderflow_value::Value, orderflow_asl::TaskFailure>> {
        let first = !self.0.swap(true, std::sync::atomic::Ordering::SeqCst);
        Box::pin(std::future::ready(if first {
            Err(orderflow_asl::TaskFailure { error: "Boom".into(), cause: "the first call fails".into() })
        } else {
            Ok(payload.clone())
        }))
    }
}

/// RedriveExecution: a FAILED execution runs again from the state that
/// failed, an ABORTED one from the state it was in; the history goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_redrives_failed_and_aborted_executions() {
    let server = server_with(Arc::new(FailsOnce(Default::default()))).await;
    let definition = json!({
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Result": {"step": "prepared"}, "ResultPath": "$.prepared", "Next": "Call"},
            "Call": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky", "Next": "Hold"},
            // Long enough for two AWS CLI calls (see it entered, stop it) on a slow machine.
            "Hold": {"Type": "Wait", "Seconds": 10, "End": true}
        }
    })
    .to_string();
    let machine = machine(&server, "flaky", &definition);
    let execution = started(&server, &machine, r#"{"n": 1}"#);
    let failed = until_done(&server, &execution).await;
    assert_eq!((failed["status"].as_str(), failed["error"].as_str()), (Some("FAILED"), Some("Boom")));
    assert_eq!(failed["redriveStatus"], "REDRIVABLE");

    ok(&server, &["redrive-execution", "--execution-arn", &execution]);
    // It waits in Hold now: stop it there, then redrive it from Hold.
    let mut entered_hold = false;
    for _ in 0..100 {
        let history = ok(&server, &["get-execution-history", "--execution-arn", &execution]);
        entered_hold = history["events"].as_array().unwrap().iter().any(|e| e["type"] == "WaitStateEntered");
        if entered_hold {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(entered_hold);
    ok(&server, &["stop-execution", "--execution-arn", &execution]);
    assert_eq!(ok(&server, &["describe-execution", "--execution-arn", &execution])["status"], "ABORTED");
    ok(&server, &["redrive-execution", "--execution-arn", &execution]);
    let done = until_done(&server, &execution).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["redriveCount"], 2);
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(output, json!({"n": 1, "prepared": {"step": "prepared"}}), "the failed state's own input, kept");

    let history = ok(&server, &["get-execution-history", "--execution-arn", &execution]);
    let events = history["events"].as_array().unwrap();
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "one history, numbered on");
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "ExecutionRedriven").count(), 2);
    assert_eq!(kinds.iter().filter(|k| **k == "PassStateEntered").count(), 1, "Prepare ran once");
    assert_eq!(*kinds.last().unwrap(), "ExecutionSucceeded");

    let (_, _, err) = aws(&server, &["redrive-execution", "--execution-arn", &execution]);
    assert!(err.contains("ExecutionNotRedrivable"), "{err}");
}

/// Answers with its payload and counts the calls per `item`; the first call
/// for an item named `bad` fails.
#[derive(Default)]
struct Ledger(std::sync::Mutex<std::collections::BTreeMap<String, u32>>);

impl orderflow_asl::Invoker for Ledger {
    fn invoke<'a>(
        &'a self,
        _function: &'a str,
        payload: &'a orderflow_value::Value,
    ) -> orderflow_asl::BoxFuture<'a, Result<orderflow_value::Value, orderflow_asl::TaskFailure>> {
        let item = payload["item"].as_str().unwrap_or_default().to_owned();
        let calls = {
            let mut ledger = self.0.lock().unwrap();
            let calls = ledger.entry(item.clone()).or_default();
            *calls += 1;
            *calls
        };
        Box::pin(std::future::ready(if item.starts_with("bad") && calls == 1 {
            Err(orderflow_asl::TaskFailure { error: "Boom".into(), cause: format!("{item} fails once") })
        } else {
            Ok(payload.clone())
        }))
    }
}

/// A redrive of a failed Map or Parallel state runs only the iterations and
/// branches that did not succeed, as Step Functions' does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redrive_reruns_only_the_failed_iterations_and_branches() {
    let ledger = Arc::new(Ledger::default());
    let server = server_with(ledger.clone()).await;
    let call = json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo",
                      "Parameters": {"item.$": "$"}, "OutputPath": "$.item", "End": true});
    let definition = json!({
        "StartAt": "Each",
        "States": {
            "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
                     "ItemProcessor": {"StartAt": "Call", "States": {"Call": call}},
                     "ResultPath": "$.each", "Next": "Both"},
            "Both": {"Type": "Parallel", "ResultPath": "$.both", "End": true, "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "Result": "left", "Next": "LeftCall"},
                                               "LeftCall": call}},
                {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "Result": "bad-right", "Next": "RightCall"},
                                                "RightCall": call}}
            ]}
        }
    })
    .to_string();
    let machine = machine(&server, "partial", &definition);
    let input = r#"{"items": ["a", "b", "bad-c", "d"]}"#;
    let execution = started(&server, &machine, input);
    assert_eq!(until_done(&server, &execution).await["status"], "FAILED");
    ok(&server, &["redrive-execution", "--execution-arn", &execution]);
    // The Map goes on without calling a and b again; then the Parallel fails.
    let failed_in_parallel = until_done(&server, &execution).await;
    assert_eq!(failed_in_parallel["status"], "FAILED", "{failed_in_parallel}");
    assert!(failed_in_parallel["cause"].as_str().unwrap().contains("bad-right"), "{failed_in_parallel}");
    ok(&server, &["redrive-execution", "--execution-arn", &execution]);
    let done = until_done(&server, &execution).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["each"], json!(["a", "b", "bad-c", "d"]));
    assert_eq!(output["both"], json!(["left", "bad-right"]));
    let calls = ledger.0.lock().unwrap().clone();
    let expected: std::collections::BTreeMap<String, u32> =
        [("a", 1), ("b", 1), ("bad-c", 2), ("d", 1), ("left", 1), ("bad-right", 2)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
    assert_eq!(calls, expected, "only what failed ran again");
    let history = ok(&server, &["get-execution-history", "--execution-arn", &execution]);
    let kinds: Vec<&str> = history["events"].as_array().unwrap().iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "MapIterationStarted").count(), 3 + 2, "a, b, bad-c; then bad-c, d");
}

/// A redriven execution has the variables its states had set before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redriven_execution_keeps_its_variables() {
    let server = server_with(Arc::new(FailsOnce(Default::default()))).await;
    let definition = json!({
        "StartAt": "Keep",
        "States": {
            "Keep": {"Type": "Pass", "Assign": {"kept.$": "$.n", "label": "first"}, "Next": "Call"},
            "Call": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky",
                     "Parameters": {"kept.$": "$kept", "label.$": "$label"}, "End": true}
        }
    })
    .to_string();
    let machine = machine(&server, "vars", &definition);
    let execution = started(&server, &machine, r#"{"n": 7}"#);
    assert_eq!(until_done(&server, &execution).await["status"], "FAILED");
    let history = ok(&server, &["get-execution-history", "--execution-arn", &execution]);
    let exited = history["events"].as_array().unwrap().iter().find(|e| e["type"] == "PassStateExited").unwrap();
    assert_eq!(exited["stateExitedEventDetails"]["assignedVariables"], json!({"kept": "7", "label": "\"first\""}));
    ok(&server, &["redrive-execution", "--execution-arn", &execution]);
    let done = until_done(&server, &execution).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(output, json!({"kept": 7, "label": "first"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_runs_a_jsonata_machine_and_reads_its_evaluation_failure() {
    let server = server().await;
    let definition = json!({
        "QueryLanguage": "JSONata",
        "StartAt": "Price",
        "States": {
            "Price": {"Type": "Pass", "Assign": {"rate": "{% $states.input.rate %}"},
                      "Output": {"net": "{% $states.input.gross / (1 + $states.input.rate) %}"}, "Next": "Check"},
            "Check": {"Type": "Choice",
                      "Choices": [{"Condition": "{% $states.input.net > 100 %}", "Next": "Big",
                                   "Output": {"net": "{% $states.input.net %}", "rate": "{% $rate %}"}}],
                      "Default": "Small"},
            "Big": {"Type": "Succeed"},
            "Small": {"Type": "Fail", "Error": "Small", "Cause": "{% 'net ' & $string($states.input.net) %}"}
        }
    })
    .to_string();
    let machine = machine(&server, "jsonata", &definition);
    let execution = started(&server, &machine, r#"{"gross": 240, "rate": 0.2}"#);
    let done = until_done(&server, &execution).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(output, json!({"net": 200, "rate": 0.2}));

    let small = started(&server, &machine, r#"{"gross": 60, "rate": 0.2}"#);
    let done = until_done(&server, &small).await;
    assert_eq!((done["error"].as_str(), done["cause"].as_str()), (Some("Small"), Some("net 50")), "{done}");

    // An input without `rate`: the Assign's expression gives nothing.
    let failing = started(&server, &machine, r#"{"gross": 60}"#);
    let done = until_done(&server, &failing).await;
    assert_eq!(done["error"], "States.QueryEvaluationError", "{done}");
    let history = ok(&server, &["get-execution-history", "--execution-arn", &failing]);
    let failed = history["events"].as_array().unwrap().iter().find(|e| e["type"] == "EvaluationFailed").unwrap();
    let details = &failed["evaluationFailedEventDetails"];
    assert_eq!(
        (details["location"].as_str(), details["state"].as_str()),
        (Some("Assign/rate"), Some("Price")),
        "{failed}"
    );
    assert!(details["cause"].as_str().unwrap().ends_with("returned nothing (undefined)."), "{failed}");
}
