//! The server's API driven by the AWS CLI from the project's virtualenv,
//! against a server started here on a free loopback port: callback tasks,
//! redrives, JSONata machines, TestState of Map and Parallel states. Tasks
//! answer from small invokers defined here (the order workflow's own run
//! through `orderflow serve` in crates/cli).

#[path = "support/aws_cli.rs"]
mod aws_cli;

use std::sync::Arc;

use aws_cli::{aws, machine, ok, started, until_done};
use orderflow_asl::{Clock, RealClock};
use orderflow_server::{Config, Service};
use serde_json::{Value, json};

struct Server {
    endpoint: String,
    _task: tokio::task::JoinHandle<()>,
}

async fn server() -> Server {
    server_with(Arc::new(Echo)).await
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
    let service = Arc::new(Service::new(Config::default(), invoker, clock).expect("an in-memory store"));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(orderflow_server::serve(listener, service));
    Server { endpoint, _task: task }
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
        &server.endpoint,
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
    let retriable = ok(&server.endpoint, &["test-state", "--definition", &map, "--input", input, "--mock", &failing]);
    assert_eq!(retriable["status"], "RETRIABLE", "{retriable}");
    // What does not fit the state is refused by name.
    for (configuration, named) in [
        (r#"{"mapItemReaderData": "[1, 2]"}"#, "this Map has none"),
        (r#"{"errorCausedByState": "Nowhere"}"#, "errorCausedByState 'Nowhere' is not a state inside"),
    ] {
        let (code, _, err) = aws(
            &server.endpoint,
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
    // Without a mock, as in Step Functions, a Map state is not tested (AWS's words).
    let (code, _, err) = aws(&server.endpoint, &["test-state", "--definition", &map, "--input", input]);
    assert!(
        code != 0
            && err.contains("(InvalidDefinition)")
            && err.contains("TestState API does not support Map or Parallel states"),
        "{err}"
    );
    // Failed iterations against the threshold. A Map that declares none: the mocked result
    // stands (AWS's TestState). One that tolerates none: one fails the Map, and
    // States.TaskFailed in its Retry matches States.ExceedToleratedFailureThreshold.
    let one_failed = |map: &str| {
        ok(
            &server.endpoint,
            &[
                "test-state",
                "--definition",
                map,
                "--input",
                input,
                "--mock",
                &mock,
                "--state-configuration",
                r#"{"mapIterationFailureCount": 1}"#,
            ],
        )
    };
    let undeclared = one_failed(&map);
    assert_eq!(undeclared["status"], "SUCCEEDED", "{undeclared}");
    let mut strict: Value = serde_json::from_str(&map).unwrap();
    strict["ToleratedFailureCount"] = json!(0);
    let failed = one_failed(&strict.to_string());
    assert_eq!(
        (failed["status"].as_str(), failed["error"].as_str()),
        (Some("RETRIABLE"), Some("States.ExceedToleratedFailureThreshold")),
        "{failed}"
    );

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
        &server.endpoint,
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
    let (_, _, err) = aws(&server.endpoint, &["test-state", "--definition", pass, "--context", context]);
    assert!(err.contains("ValidationException") && err.contains("mock"), "{err}");
    let (_, _, err) = aws(&server.endpoint, &["test-state", "--definition", pass, "--variables", "[1]"]);
    assert!(err.contains("ValidationException") && err.contains("variables must be a JSON object"), "{err}");
    // Variables in scope, read and set by the state under test.
    let assigning =
        r#"{"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($a, $b)"}, "Assign": {"a.$": "$b"}, "End": true}"#;
    let tested = ok(
        &server.endpoint,
        &["test-state", "--definition", assigning, "--variables", r#"{"a": 1, "b": 2}"#, "--inspection-level", "DEBUG"],
    );
    assert_eq!(tested["output"], r#"{"sum":3}"#, "{tested}");
    assert_eq!(tested["inspectionData"]["variables"], r#"{"a":2,"b":2}"#);
}

/// The task token of `execution`'s callback task, once it was submitted: read
/// from the TaskScheduled parameters, as the function would have passed it on.
async fn submitted_token(endpoint: &str, execution: &str) -> String {
    for _ in 0..100 {
        let history = ok(endpoint, &["get-execution-history", "--execution-arn", execution]);
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
    let machine = machine(&server.endpoint, "approve", &definition);

    let start = |name: &str| {
        ok(
            &server.endpoint,
            &["start-execution", "--state-machine-arn", &machine, "--name", name, "--input", r#"{"order": "ORD-9"}"#],
        )["executionArn"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut approved = start("approved");
    let token = submitted_token(&server.endpoint, &approved).await;
    ok(&server.endpoint, &["send-task-heartbeat", "--task-token", &token]);
    assert_eq!(ok(&server.endpoint, &["describe-execution", "--execution-arn", &approved])["status"], "RUNNING");
    ok(&server.endpoint, &["send-task-success", "--task-token", &token, "--task-output", r#"{"approved": true}"#]);
    let done = until_done(&server.endpoint, &approved).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["output"], r#"{"approved":true}"#);
    let (_, _, err) = aws(&server.endpoint, &["send-task-success", "--task-token", &token, "--task-output", "{}"]);
    assert!(
        err.contains("(TaskTimedOut)") && err.contains("Task Timed Out: 'Provided task does not exist anymore'"),
        "an answered token is over, as AWS says: {err}"
    );
    let history = ok(&server.endpoint, &["get-execution-history", "--execution-arn", &approved]);
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
    let token = submitted_token(&server.endpoint, &approved).await;
    ok(
        &server.endpoint,
        &["send-task-failure", "--task-token", &token, "--error", "Refused", "--cause", "out of stock"],
    );
    let done = until_done(&server.endpoint, &approved).await;
    assert_eq!((done["status"].as_str(), done["error"].as_str()), (Some("FAILED"), Some("Refused")));

    // Stopped while it waits: its token is closed with it.
    let stopped = start("stopped");
    let token = submitted_token(&server.endpoint, &stopped).await;
    ok(&server.endpoint, &["stop-execution", "--execution-arn", &stopped]);
    let (_, _, err) = aws(&server.endpoint, &["send-task-success", "--task-token", &token, "--task-output", "{}"]);
    assert!(err.contains("(TaskTimedOut)"), "a stopped execution's token is over: {err}");

    // Nobody answers: HeartbeatSeconds (6, room for slow CLI calls on a busy machine) ends it.
    let silent = start("silent");
    let done = until_done(&server.endpoint, &silent).await;
    // AWS records a heartbeat's expiry as States.Timeout, with no cause.
    assert_eq!((done["status"].as_str(), done["error"].as_str()), (Some("FAILED"), Some("States.Timeout")));
    let (_, _, err) = aws(&server.endpoint, &["send-task-heartbeat", "--task-token", "no-such-token"]);
    assert!(err.contains("(InvalidToken)") && err.contains("Invalid Token: 'Invalid token'"), "{err}");
    let (_, _, err) = aws(&server.endpoint, &["send-task-heartbeat", "--task-token", &"t".repeat(2049)]);
    assert!(
        err.contains("(ValidationException)") && err.contains("Member must have length less than or equal to 2048"),
        "{err}"
    );
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
    let machine = machine(&server.endpoint, "flaky", &definition);
    let execution = started(&server.endpoint, &machine, r#"{"n": 1}"#);
    let failed = until_done(&server.endpoint, &execution).await;
    assert_eq!((failed["status"].as_str(), failed["error"].as_str()), (Some("FAILED"), Some("Boom")));
    assert_eq!(failed["redriveStatus"], "REDRIVABLE");

    ok(&server.endpoint, &["redrive-execution", "--execution-arn", &execution]);
    // It waits in Hold now: stop it there, then redrive it from Hold.
    let mut entered_hold = false;
    for _ in 0..100 {
        let history = ok(&server.endpoint, &["get-execution-history", "--execution-arn", &execution]);
        entered_hold = history["events"].as_array().unwrap().iter().any(|e| e["type"] == "WaitStateEntered");
        if entered_hold {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(entered_hold);
    ok(&server.endpoint, &["stop-execution", "--execution-arn", &execution]);
    assert_eq!(ok(&server.endpoint, &["describe-execution", "--execution-arn", &execution])["status"], "ABORTED");
    ok(&server.endpoint, &["redrive-execution", "--execution-arn", &execution]);
    let done = until_done(&server.endpoint, &execution).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["redriveCount"], 2);
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(output, json!({"n": 1, "prepared": {"step": "prepared"}}), "the failed state's own input, kept");

    let history = ok(&server.endpoint, &["get-execution-history", "--execution-arn", &execution]);
    let events = history["events"].as_array().unwrap();
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "one history, numbered on");
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "ExecutionRedriven").count(), 2);
    assert_eq!(kinds.iter().filter(|k| **k == "PassStateEntered").count(), 1, "Prepare ran once");
    assert_eq!(*kinds.last().unwrap(), "ExecutionSucceeded");

    let (_, _, err) = aws(&server.endpoint, &["redrive-execution", "--execution-arn", &execution]);
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
        } else if item.starts_with("worse") && calls <= 2 {
            Err(orderflow_asl::TaskFailure { error: "Boom".into(), cause: format!("{item} fails twice") })
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
    let machine = machine(&server.endpoint, "partial", &definition);
    let input = r#"{"items": ["a", "b", "bad-c", "d"]}"#;
    let execution = started(&server.endpoint, &machine, input);
    assert_eq!(until_done(&server.endpoint, &execution).await["status"], "FAILED");
    ok(&server.endpoint, &["redrive-execution", "--execution-arn", &execution]);
    // The Map goes on without calling a and b again; then the Parallel fails.
    let failed_in_parallel = until_done(&server.endpoint, &execution).await;
    assert_eq!(failed_in_parallel["status"], "FAILED", "{failed_in_parallel}");
    assert!(failed_in_parallel["cause"].as_str().unwrap().contains("bad-right"), "{failed_in_parallel}");
    ok(&server.endpoint, &["redrive-execution", "--execution-arn", &execution]);
    let done = until_done(&server.endpoint, &execution).await;
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
    let history = ok(&server.endpoint, &["get-execution-history", "--execution-arn", &execution]);
    let kinds: Vec<&str> = history["events"].as_array().unwrap().iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "MapIterationStarted").count(), 3 + 2, "a, b, bad-c; then bad-c, d");
}

/// A redriven Distributed Map goes on with its Map Run: the same ARN, a
/// MapRunRedriven event, DescribeMapRun's redriveCount, and only the children
/// that did not succeed run again; a failed STANDARD child is redriven in
/// place (its ARN, its redriveCount, its history going on after
/// ExecutionRedriven without its succeeded states), as AWS redrives it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redriven_distributed_map_goes_on_with_its_map_run() {
    let ledger = Arc::new(Ledger::default());
    let server = server_with(ledger.clone()).await;
    let definition = json!({
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "Label": "Lines",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Prep",
                    "States": {
                        "Prep": {"Type": "Pass", "Next": "Call"},
                        "Call": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo",
                                 "Parameters": {"item.$": "$"}, "OutputPath": "$.item", "End": true}
                    }
                },
                "End": true
            }
        }
    })
    .to_string();
    let machine = machine(&server.endpoint, "dmap-redrive", &definition);
    let execution = started(&server.endpoint, &machine, r#"{"items": ["a", "bad-b", "c"]}"#);
    let failed = until_done(&server.endpoint, &execution).await;
    assert_eq!((failed["status"].as_str(), failed["error"].as_str()), (Some("FAILED"), Some("Boom")), "{failed}");
    let runs = ok(&server.endpoint, &["list-map-runs", "--execution-arn", &execution]);
    let map_run = runs["mapRuns"][0]["mapRunArn"].as_str().unwrap().to_owned();
    let before = ok(&server.endpoint, &["describe-map-run", "--map-run-arn", &map_run]);
    assert_eq!(before["status"], "FAILED", "{before}");
    assert_eq!(before["redriveCount"], 0);
    let children = ok(&server.endpoint, &["list-executions", "--map-run-arn", &map_run]);
    let failed_child = children["executions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["status"] == "FAILED")
        .expect("the failed child is listed")["executionArn"]
        .as_str()
        .unwrap()
        .to_owned();

    ok(&server.endpoint, &["redrive-execution", "--execution-arn", &execution]);
    let done = until_done(&server.endpoint, &execution).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["output"], r#"["a","bad-b","c"]"#);
    // a ran once; bad-b failed and ran again; c never ran before the failure (MaxConcurrency 1).
    let calls = ledger.0.lock().unwrap().clone();
    assert_eq!(calls.get("a"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("bad-b"), Some(&2), "{calls:?}");
    assert_eq!(calls.get("c"), Some(&1), "{calls:?}");

    let runs = ok(&server.endpoint, &["list-map-runs", "--execution-arn", &execution]);
    assert_eq!(runs["mapRuns"].as_array().unwrap().len(), 1, "one Map Run, redriven: {runs}");
    let after = ok(&server.endpoint, &["describe-map-run", "--map-run-arn", &map_run]);
    assert_eq!(after["status"], "SUCCEEDED", "{after}");
    assert_eq!(after["redriveCount"], 1);
    assert!(after["redriveDate"].is_number(), "{after}");
    assert_eq!(after["itemCounts"]["succeeded"], 3, "{after}");
    assert_eq!(after["itemCounts"]["total"], 3, "{after}");
    let history = ok(&server.endpoint, &["get-execution-history", "--execution-arn", &execution]);
    let redriven: Vec<&Value> =
        history["events"].as_array().unwrap().iter().filter(|e| e["type"] == "MapRunRedriven").collect();
    assert_eq!(redriven.len(), 1, "{history}");
    assert_eq!(redriven[0]["mapRunRedrivenEventDetails"], json!({"mapRunArn": map_run, "redriveCount": 1}));

    // The failed child was redriven, not replaced: three children, the same ARN, now SUCCEEDED.
    let children = ok(&server.endpoint, &["list-executions", "--map-run-arn", &map_run]);
    let children = children["executions"].as_array().unwrap();
    assert_eq!(children.len(), 3, "{children:?}");
    assert!(children.iter().all(|c| c["status"] == "SUCCEEDED"), "{children:?}");
    let child = ok(&server.endpoint, &["describe-execution", "--execution-arn", &failed_child]);
    assert_eq!(child["status"], "SUCCEEDED", "{child}");
    assert_eq!(child["redriveCount"], 1, "{child}");
    assert!(child["redriveDate"].is_number(), "{child}");
    assert_eq!(child["input"], "\"bad-b\"", "{child}");
    let history = ok(&server.endpoint, &["get-execution-history", "--execution-arn", &failed_child]);
    let kinds: Vec<&str> = history["events"].as_array().unwrap().iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionFailed",
            "ExecutionFailed",
            "ExecutionRedriven",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ],
        "{history}"
    );
}

/// Redriven twice: what succeeded in the first attempt stays done in the
/// third, and the child that failed twice is redriven twice in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_redrive_keeps_what_succeeded_before_the_first() {
    let ledger = Arc::new(Ledger::default());
    let server = server_with(ledger.clone()).await;
    let definition = json!({
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Call",
                    "States": {"Call": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo",
                                        "Parameters": {"item.$": "$"}, "OutputPath": "$.item", "End": true}}
                },
                "End": true
            }
        }
    })
    .to_string();
    let machine = machine(&server.endpoint, "dmap-redrive-twice", &definition);
    let execution = started(&server.endpoint, &machine, r#"{"items": ["a", "worse-b"]}"#);
    assert_eq!(until_done(&server.endpoint, &execution).await["status"], "FAILED");
    ok(&server.endpoint, &["redrive-execution", "--execution-arn", &execution]);
    assert_eq!(until_done(&server.endpoint, &execution).await["status"], "FAILED");
    ok(&server.endpoint, &["redrive-execution", "--execution-arn", &execution]);
    let done = until_done(&server.endpoint, &execution).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["output"], r#"["a","worse-b"]"#);
    let calls = ledger.0.lock().unwrap().clone();
    assert_eq!(calls.get("a"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("worse-b"), Some(&3), "{calls:?}");
    let runs = ok(&server.endpoint, &["list-map-runs", "--execution-arn", &execution]);
    let map_run = runs["mapRuns"][0]["mapRunArn"].as_str().unwrap().to_owned();
    let children = ok(&server.endpoint, &["list-executions", "--map-run-arn", &map_run]);
    let children = children["executions"].as_array().unwrap();
    assert_eq!(children.len(), 2, "{children:?}");
    let counts: Vec<u64> = children
        .iter()
        .map(|c| {
            let arn = c["executionArn"].as_str().unwrap();
            ok(&server.endpoint, &["describe-execution", "--execution-arn", arn])["redriveCount"].as_u64().unwrap()
        })
        .collect();
    assert!(counts.contains(&0) && counts.contains(&2), "{counts:?}");
}

/// A Map Run's children are listed, described and their histories read while they run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_map_runs_children_are_seen_while_they_run() {
    let server = server().await;
    let definition = json!({
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map", "ItemsPath": "$.items", "Label": "Slow",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Hold",
                    "States": {"Hold": {"Type": "Wait", "Seconds": 5, "End": true}}
                },
                "End": true
            }
        }
    })
    .to_string();
    let machine = machine(&server.endpoint, "slow-children", &definition);
    let execution = started(&server.endpoint, &machine, r#"{"items": [1, 2]}"#);
    let mut map_run = String::new();
    for _ in 0..100 {
        let runs = ok(&server.endpoint, &["list-map-runs", "--execution-arn", &execution]);
        if let Some(arn) = runs["mapRuns"][0]["mapRunArn"].as_str() {
            map_run = arn.to_owned();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut listed = Vec::new();
    for _ in 0..100 {
        let page = ok(&server.endpoint, &["list-executions", "--map-run-arn", &map_run, "--status-filter", "RUNNING"]);
        listed = page["executions"].as_array().cloned().unwrap_or_default();
        if listed.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|e| e["status"] == "RUNNING" && e["mapRunArn"] == map_run && e["itemCount"] == 1));
    let child = listed[0]["executionArn"].as_str().unwrap();
    let described = ok(&server.endpoint, &["describe-execution", "--execution-arn", child]);
    assert_eq!(described["status"], "RUNNING", "{described}");
    assert_eq!(described["mapRunArn"], map_run);
    assert_eq!(described["stateMachineArn"], format!("{machine}/Slow"));
    let history = ok(&server.endpoint, &["get-execution-history", "--execution-arn", child]);
    let kinds: Vec<&str> = history["events"].as_array().unwrap().iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds[..2], ["ExecutionStarted", "WaitStateEntered"], "{history}");
    assert_eq!(until_done(&server.endpoint, &execution).await["status"], "SUCCEEDED");
    let ended = ok(&server.endpoint, &["describe-execution", "--execution-arn", child]);
    assert_eq!(ended["status"], "SUCCEEDED", "{ended}");
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
    let machine = machine(&server.endpoint, "vars", &definition);
    let execution = started(&server.endpoint, &machine, r#"{"n": 7}"#);
    assert_eq!(until_done(&server.endpoint, &execution).await["status"], "FAILED");
    let history = ok(&server.endpoint, &["get-execution-history", "--execution-arn", &execution]);
    let exited = history["events"].as_array().unwrap().iter().find(|e| e["type"] == "PassStateExited").unwrap();
    assert_eq!(exited["stateExitedEventDetails"]["assignedVariables"], json!({"kept": "7", "label": "\"first\""}));
    ok(&server.endpoint, &["redrive-execution", "--execution-arn", &execution]);
    let done = until_done(&server.endpoint, &execution).await;
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
    let machine = machine(&server.endpoint, "jsonata", &definition);
    let execution = started(&server.endpoint, &machine, r#"{"gross": 240, "rate": 0.2}"#);
    let done = until_done(&server.endpoint, &execution).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(output, json!({"net": 200, "rate": 0.2}));

    let small = started(&server.endpoint, &machine, r#"{"gross": 60, "rate": 0.2}"#);
    let done = until_done(&server.endpoint, &small).await;
    assert_eq!((done["error"].as_str(), done["cause"].as_str()), (Some("Small"), Some("net 50")), "{done}");

    // An input without `rate`: the Assign's expression gives nothing.
    let failing = started(&server.endpoint, &machine, r#"{"gross": 60}"#);
    let done = until_done(&server.endpoint, &failing).await;
    assert_eq!(done["error"], "States.QueryEvaluationError", "{done}");
    let history = ok(&server.endpoint, &["get-execution-history", "--execution-arn", &failing]);
    let failed = history["events"].as_array().unwrap().iter().find(|e| e["type"] == "EvaluationFailed").unwrap();
    let details = &failed["evaluationFailedEventDetails"];
    assert_eq!(
        (details["location"].as_str(), details["state"].as_str()),
        (Some("Assign/rate"), Some("Price")),
        "{failed}"
    );
    assert!(details["cause"].as_str().unwrap().ends_with("returned nothing (undefined)."), "{failed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_tests_a_distributed_map_on_the_data_its_reader_would_read() {
    let server = server().await;
    let map = json!({
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 3},
            "Parameters": {"Bucket": "orders", "Key": "lines.csv"}
        },
        "ItemSelector": {"sku.$": "$$.Map.Item.Value.sku", "order.$": "$.order_id"},
        "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"order.$": "$.order_id"}},
        "ToleratedFailurePercentage": 40,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Price",
            "States": {"Price": {"Type": "Pass", "End": true}}
        },
        "End": true
    })
    .to_string();
    let input = r#"{"order_id": "ORD-9"}"#;
    // One result per iteration: the failures given may not outnumber them (AWS's rule).
    let mock = json!({"result": "[{}, {}, {}]"}).to_string();
    let data = "sku,qty\nA,1\n\"B,2\",2\nC,3\nD,4\n";
    let configuration =
        |failures: u32| json!({"mapItemReaderData": data, "mapIterationFailureCount": failures}).to_string();
    let test = |failures: u32| {
        ok(
            &server.endpoint,
            &[
                "test-state",
                "--definition",
                &map,
                "--input",
                input,
                "--mock",
                &mock,
                "--inspection-level",
                "DEBUG",
                "--state-configuration",
                &configuration(failures),
            ],
        )
    };
    let tested = test(1);
    assert_eq!(tested["status"], "SUCCEEDED", "{tested}");
    let data_of =
        |key: &str| -> Value { serde_json::from_str(tested["inspectionData"][key].as_str().unwrap()).unwrap() };
    // Three rows (MaxItems), each through ItemSelector, in batches of two.
    assert_eq!(
        data_of("afterItemSelector"),
        json!([{"sku": "A", "order": "ORD-9"}, {"sku": "B,2", "order": "ORD-9"}, {"sku": "C", "order": "ORD-9"}])
    );
    assert_eq!(
        data_of("afterItemBatcher"),
        json!([
            {"BatchInput": {"order": "ORD-9"}, "Items": [{"sku": "A", "order": "ORD-9"}, {"sku": "B,2", "order": "ORD-9"}]},
            {"BatchInput": {"order": "ORD-9"}, "Items": [{"sku": "C", "order": "ORD-9"}]}
        ])
    );
    assert_eq!(tested["inspectionData"]["toleratedFailurePercentage"], 40.0);
    // Two of three items failed: over 40%.
    let over = test(2);
    assert_eq!(
        (over["status"].as_str(), over["error"].as_str()),
        (Some("FAILED"), Some("States.ExceedToleratedFailureThreshold")),
        "{over}"
    );
    // Without the reader's data there is nothing to read.
    let (code, out, err) =
        aws(&server.endpoint, &["test-state", "--definition", &map, "--input", input, "--mock", &mock]);
    assert!(code == 0 && out["error"] == "States.ItemReaderFailed", "{out} {err}");
}

/// Requests over a quota get AWS's ValidationException from the service
/// model, read whole first: a 10 MB definition through the AWS CLI, an
/// execution input over 256 KiB; a body past what the server reads is
/// drained, so its client gets an answer, not a broken pipe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_requests_get_the_models_answer() {
    let server = server().await;
    let dir = std::env::temp_dir().join(format!("orderflow-oversized-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.json");
    let definition =
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "x".repeat(10 << 20), "End": true}}});
    std::fs::write(&big, definition.to_string()).unwrap();
    let (code, _, err) = aws(
        &server.endpoint,
        &[
            "create-state-machine",
            "--name",
            "big",
            "--role-arn",
            "arn:aws:iam::123456789012:role/local",
            "--definition",
            &format!("file://{}", big.display()),
        ],
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("(ValidationException)")
            && err.contains("1 validation error detected: Value at 'definition' failed to satisfy constraint: Member must have length less than or equal to 1048576"),
        "{err}"
    );
    let machine =
        machine(&server.endpoint, "small", r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#);
    let input = dir.join("input.json");
    std::fs::write(&input, format!("\"{}\"", "x".repeat(300_000))).unwrap();
    let (code, _, err) = aws(
        &server.endpoint,
        &["start-execution", "--state-machine-arn", &machine, "--input", &format!("file://{}", input.display())],
    );
    assert_ne!(code, 0);
    assert!(err.contains("Member must have size less than or equal to 262144 bytes in UTF-8 encoding"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);

    // 80 MB, more than the server reads: drained, then answered.
    let address = server.endpoint.trim_start_matches("http://").to_owned();
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        let size = 80usize << 20;
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {address}\r\nX-Amz-Target: AWSStepFunctions.CreateStateMachine\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {size}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..80 {
            stream.write_all(&chunk).expect("the server reads the whole body");
        }
        let mut answer = vec![0u8; 4096];
        let n = stream.read(&mut answer).unwrap();
        String::from_utf8_lossy(&answer[..n]).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("ValidationException") && answer.contains("more than this server reads"), "{answer}");
}

/// TestState runs JSONata states through the AWS CLI: a Task with a mock
/// (its Arguments evaluated, the mock's result, its Assign and Output), a
/// caught error (the catcher's Output over `$states.errorOutput`), a Choice
/// by its Condition; no JSONPath field is asked of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_state_runs_jsonata_states() {
    let server = server().await;
    let task = json!({
        "Type": "Task",
        "QueryLanguage": "JSONata",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "price", "Payload": {"sku": "{% $states.input.sku %}", "qty": "{% $states.input.qty * 2 %}"}},
        "Assign": {"lastTotal": "{% $states.result.Payload.total %}"},
        "Output": {"total": "{% $states.result.Payload.total %}", "sku": "{% $states.input.sku %}"},
        "Catch": [{"ErrorEquals": ["Pricing.Down"], "Output": {"failed": "{% $states.errorOutput.Error %}"}, "Next": "Fallback"}],
        "Next": "Done"
    })
    .to_string();
    let input = r#"{"sku": "A-1", "qty": 3}"#;
    let mock = json!({"result": json!({"Payload": {"total": 42}, "StatusCode": 200}).to_string()}).to_string();
    let tested = ok(
        &server.endpoint,
        &["test-state", "--definition", &task, "--input", input, "--mock", &mock, "--inspection-level", "DEBUG"],
    );
    assert_eq!(tested["status"], "SUCCEEDED", "{tested}");
    assert_eq!(tested["nextState"], "Done");
    let output: Value = serde_json::from_str(tested["output"].as_str().unwrap()).unwrap();
    assert_eq!(output, json!({"total": 42, "sku": "A-1"}));
    let inspection = &tested["inspectionData"];
    let arguments: Value = serde_json::from_str(inspection["afterArguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments, json!({"FunctionName": "price", "Payload": {"sku": "A-1", "qty": 6}}));
    let result: Value = serde_json::from_str(inspection["result"].as_str().unwrap()).unwrap();
    assert_eq!(result["Payload"]["total"], 42);
    let variables: Value = serde_json::from_str(inspection["variables"].as_str().unwrap()).unwrap();
    assert_eq!(variables, json!({"lastTotal": 42}));
    assert!(inspection.get("afterParameters").is_none() && inspection.get("afterInputPath").is_none(), "{inspection}");

    let down = json!({"errorOutput": {"error": "Pricing.Down", "cause": "maintenance"}}).to_string();
    let caught = ok(&server.endpoint, &["test-state", "--definition", &task, "--input", input, "--mock", &down]);
    assert_eq!(caught["status"], "CAUGHT_ERROR", "{caught}");
    assert_eq!(caught["nextState"], "Fallback");
    assert_eq!(caught["output"], r#"{"failed":"Pricing.Down"}"#);

    let choice = json!({
        "Type": "Choice",
        "QueryLanguage": "JSONata",
        "Choices": [{"Condition": "{% $states.input.qty > 2 %}", "Next": "Bulk", "Output": {"bulk": true}}],
        "Default": "Single"
    })
    .to_string();
    let chose = ok(&server.endpoint, &["test-state", "--definition", &choice, "--input", input]);
    assert_eq!((chose["status"].as_str(), chose["nextState"].as_str()), (Some("SUCCEEDED"), Some("Bulk")), "{chose}");
    assert_eq!(chose["output"], r#"{"bulk":true}"#);
}

/// A Pass machine whose output names its revision.
fn revision(n: u32) -> String {
    json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"revision": n}, "End": true}}}).to_string()
}

/// Versions and aliases through the AWS CLI, with AWS's recorded answers:
/// publishing at create and update, publishing an unchanged revision again,
/// a version's own definition, executions started on a version or through
/// an alias and listed by either, an alias holding its versions, numbers
/// never given twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_publishes_versions_and_routes_executions_through_aliases() {
    let server = server().await;
    let e = server.endpoint.as_str();
    let created = ok(
        e,
        &[
            "create-state-machine",
            "--name",
            "priced",
            "--definition",
            &revision(1),
            "--role-arn",
            aws_cli::ROLE,
            "--publish",
        ],
    );
    let arn = created["stateMachineArn"].as_str().unwrap().to_owned();
    let v1 = format!("{arn}:1");
    assert_eq!(created["stateMachineVersionArn"], json!(v1));
    let updated =
        ok(e, &["update-state-machine", "--state-machine-arn", &arn, "--definition", &revision(2), "--publish"]);
    let v2 = format!("{arn}:2");
    assert_eq!(updated["stateMachineVersionArn"], json!(v2));
    assert!(updated["revisionId"].is_string(), "{updated}");
    // The current revision is published already: the same version again.
    let again = ok(e, &["publish-state-machine-version", "--state-machine-arn", &arn]);
    assert_eq!(again["stateMachineVersionArn"], json!(v2));
    let (code, _, err) =
        aws(e, &["publish-state-machine-version", "--state-machine-arn", &arn, "--revision-id", "not-the-current-one"]);
    assert!(
        code != 0
            && err.contains("ConflictException")
            && err.contains("Failed to publish the State Machine version for revision not-the-current-one."),
        "{err}"
    );
    let listed = ok(e, &["list-state-machine-versions", "--state-machine-arn", &arn]);
    let arns: Vec<&str> = listed["stateMachineVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["stateMachineVersionArn"].as_str().unwrap())
        .collect();
    assert_eq!(arns, [v2.as_str(), v1.as_str()]);
    let described = ok(e, &["describe-state-machine", "--state-machine-arn", &v1]);
    assert_eq!(
        (described["stateMachineArn"].as_str(), described["definition"].as_str()),
        (Some(v1.as_str()), Some(revision(1).as_str()))
    );
    // UpdateStateMachine does not take a version's ARN (AWS's words).
    let (code, _, err) = aws(e, &["update-state-machine", "--state-machine-arn", &v2, "--definition", &revision(3)]);
    assert!(code != 0 && err.contains(&format!("State Machine Does Not Exist: '{v2}'")), "{err}");

    // An execution on a version runs that version.
    let on_v1 = until_done(e, &started(e, &v1, "{}")).await;
    assert_eq!(on_v1["output"], r#"{"revision":1}"#);
    assert_eq!(
        (on_v1["stateMachineArn"].as_str(), on_v1["stateMachineVersionArn"].as_str()),
        (Some(arn.as_str()), Some(v1.as_str()))
    );
    assert!(on_v1.get("stateMachineAliasArn").is_none(), "{on_v1}");

    // An alias routes to its version; bad routing is refused in AWS's words.
    let (code, _, err) = aws(
        e,
        &[
            "create-state-machine-alias",
            "--name",
            "live",
            "--routing-configuration",
            &json!([{"stateMachineVersionArn": v1, "weight": 70}, {"stateMachineVersionArn": v2, "weight": 29}])
                .to_string(),
        ],
    );
    assert!(
        code != 0 && err.contains("Sum of routing configuration weights must equal 100. Received: [70, 29]"),
        "{err}"
    );
    let alias = ok(
        e,
        &[
            "create-state-machine-alias",
            "--name",
            "live",
            "--routing-configuration",
            &json!([{"stateMachineVersionArn": v1, "weight": 100}]).to_string(),
        ],
    );
    let live = format!("{arn}:live");
    assert_eq!(alias["stateMachineAliasArn"], json!(live));
    let through = until_done(e, &started(e, &live, "{}")).await;
    assert_eq!(through["output"], r#"{"revision":1}"#);
    assert_eq!(
        (through["stateMachineVersionArn"].as_str(), through["stateMachineAliasArn"].as_str()),
        (Some(v1.as_str()), Some(live.as_str()))
    );
    let unqualified = until_done(e, &started(e, &arn, "{}")).await;
    assert_eq!(unqualified["output"], r#"{"revision":2}"#);

    // Listed by version: only what ran on it; by the machine: all, each naming its version and alias.
    let by_version = ok(e, &["list-executions", "--state-machine-arn", &v1]);
    assert_eq!(by_version["executions"].as_array().unwrap().len(), 2, "{by_version}");
    let by_alias = ok(e, &["list-executions", "--state-machine-arn", &live]);
    assert_eq!(by_alias["executions"][0]["stateMachineAliasArn"], json!(live));
    assert_eq!(by_alias["executions"].as_array().unwrap().len(), 1, "{by_alias}");
    let all = ok(e, &["list-executions", "--state-machine-arn", &arn]);
    let all = all["executions"].as_array().unwrap();
    assert_eq!(all.len(), 3);
    assert!(all[0].get("stateMachineVersionArn").is_none() && all[1]["stateMachineAliasArn"] == json!(live), "{all:?}");

    // A version an alias routes to cannot be deleted; re-pointed, it can, and its number is not given again.
    let (code, _, err) = aws(e, &["delete-state-machine-version", "--state-machine-version-arn", &v1]);
    assert!(code != 0 && err.contains("Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [live]"), "{err}");
    ok(
        e,
        &[
            "update-state-machine-alias",
            "--state-machine-alias-arn",
            &live,
            "--routing-configuration",
            &json!([{"stateMachineVersionArn": v2, "weight": 100}]).to_string(),
        ],
    );
    assert_eq!(
        ok(e, &["describe-state-machine-alias", "--state-machine-alias-arn", &live])["routingConfiguration"][0]["stateMachineVersionArn"],
        json!(v2)
    );
    ok(e, &["delete-state-machine-version", "--state-machine-version-arn", &v1]);
    // Deleting it again answers as AWS does: nothing to say.
    ok(e, &["delete-state-machine-version", "--state-machine-version-arn", &v1]);
    let (code, _, _) = aws(e, &["describe-state-machine", "--state-machine-arn", &v1]);
    assert_ne!(code, 0);
    let third =
        ok(e, &["update-state-machine", "--state-machine-arn", &arn, "--definition", &revision(3), "--publish"]);
    assert_eq!(third["stateMachineVersionArn"], json!(format!("{arn}:3")));
    let aliases = ok(e, &["list-state-machine-aliases", "--state-machine-arn", &arn]);
    assert_eq!(aliases["stateMachineAliases"][0]["stateMachineAliasArn"], json!(live));
    ok(e, &["delete-state-machine-alias", "--state-machine-alias-arn", &live]);
    let (code, _, err) = aws(e, &["describe-state-machine-alias", "--state-machine-alias-arn", &live]);
    assert!(code != 0 && err.contains("ResourceNotFound"), "{err}");
}
