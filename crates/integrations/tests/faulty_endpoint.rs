//! An AWS endpoint that throttles, fails or never answers: the task fails with
//! the service's error name and the SDK's cause, which Retry and Catch take
//! as AWS's; a silent endpoint is bounded by the task's TimeoutSeconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[path = "support/http_stub.rs"]
mod http_stub;
#[path = "../../server/tests/support/no_tasks.rs"]
mod no_tasks;

use http_stub::http;
use no_tasks::NoTasks;
use orderflow_asl::{Execution, ExecutionOptions, Executor, RealClock};
use orderflow_integrations::Integrations;
use orderflow_value::json;

/// DynamoDB's error body for `code`.
fn dynamodb_error(status: &str, code: &str, message: &str) -> String {
    let body = json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{code}"), "message": message}).to_string();
    http(status, &[("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", "REQ1")], &body)
}

async fn run(endpoint: &str, state: orderflow_value::Value) -> Execution {
    let definition = json!({"StartAt": "Put", "States": {"Put": state}});
    let machine = orderflow_asl::parse(&definition).expect("a definition");
    let aws = Integrations::new(endpoint, "us-east-1").unwrap();
    Executor::new(&machine, &NoTasks, &RealClock, ExecutionOptions::default()).with_services(&aws).run(json!({})).await
}

fn put(extra: orderflow_value::Value) -> orderflow_value::Value {
    let mut state = json!({"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
        "Parameters": {"TableName": "t", "Item": {"id": {"S": "a"}}}, "End": true});
    for (k, v) in extra.as_object().unwrap().iter() {
        state[k.as_str()] = v.clone();
    }
    state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_call_is_retried_by_the_services_error_name() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let endpoint = http_stub::serve(move |_| match seen.fetch_add(1, Ordering::SeqCst) {
        0 => dynamodb_error(
            "400 Bad Request",
            "ProvisionedThroughputExceededException",
            "Rate of requests exceeds the allowed throughput.",
        ),
        _ => http("200 OK", &[("Content-Type", "application/x-amz-json-1.0")], "{}"),
    });
    let retry = json!({"Retry": [{"ErrorEquals": ["DynamoDB.ProvisionedThroughputExceededException"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}]});
    let done = run(&endpoint, put(retry)).await;
    assert_eq!(done.error, None, "{:?}", done.cause);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let failed = done
        .history
        .events()
        .into_iter()
        .find(|e| e.kind.to_string() == "TaskFailed")
        .expect("the first attempt failed");
    let shown = serde_json::to_value(&failed).unwrap().to_string();
    assert!(shown.contains("DynamoDB.ProvisionedThroughputExceededException"), "{shown}");
    assert!(
        shown.contains("Status Code: 400; Error Code: ProvisionedThroughputExceededException; Request ID: REQ1"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_service_is_caught_and_a_silent_one_times_out() {
    let failing = http_stub::serve(|_| dynamodb_error("500 Internal Server Error", "InternalServerError", "boom"));
    let catch = json!({"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]});
    let definition = json!({"StartAt": "Put", "States": {"Put": put(catch), "Caught": {"Type": "Pass", "End": true}}});
    let machine = orderflow_asl::parse(&definition).unwrap();
    let aws = Integrations::new(&failing, "us-east-1").unwrap();
    let done = Executor::new(&machine, &NoTasks, &RealClock, ExecutionOptions::default())
        .with_services(&aws)
        .run(json!({}))
        .await;
    assert_eq!(done.error, None, "{:?}", done.cause);
    let output = done.output.as_deref().unwrap();
    assert_eq!(output["Error"], "DynamoDB.InternalServerErrorException", "{output:?}");

    // Nothing answers: TimeoutSeconds ends the task, as AWS's States.Timeout.
    let silent = http_stub::serve(|_| {
        std::thread::sleep(std::time::Duration::from_secs(5));
        String::new()
    });
    let started = std::time::Instant::now();
    let done = run(&silent, put(json!({"TimeoutSeconds": 1}))).await;
    assert_eq!(done.error.as_deref(), Some("States.Timeout"));
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "{:?}", started.elapsed());
}
