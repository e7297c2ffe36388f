//! Activities through the AWS CLI: a worker long-polls GetActivityTask,
//! beats its heart and answers the token; the execution records the
//! Activity* events AWS does; a task no worker takes times out.

#[path = "support/aws_cli.rs"]
mod aws_cli;

#[path = "support/no_tasks.rs"]
mod no_tasks;

use std::sync::Arc;

use aws_cli::{aws, machine, ok, started, until_done};
use no_tasks::NoTasks;
use orderflow_asl::{Clock, RealClock};
use orderflow_server::{Config, Service};
use serde_json::{Value, json};

async fn server() -> (String, tokio::task::JoinHandle<()>) {
    let clock: Arc<dyn Clock> = Arc::new(RealClock);
    let service = Arc::new(Service::new(Config::default(), Arc::new(NoTasks), clock).expect("an in-memory store"));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    (endpoint, tokio::spawn(orderflow_server::serve(listener, service)))
}

fn history_types(endpoint: &str, execution: &str) -> Vec<Value> {
    ok(endpoint, &["get-execution-history", "--execution-arn", execution])["events"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_takes_the_task_beats_and_answers() {
    let (endpoint, _server) = server().await;
    let created = ok(&endpoint, &["create-activity", "--name", "approve"]);
    let activity = created["activityArn"].as_str().unwrap().to_owned();
    assert_eq!(activity, "arn:aws:states:us-east-1:123456789012:activity:approve");
    // Idempotent, as AWS's CreateActivity is.
    assert_eq!(ok(&endpoint, &["create-activity", "--name", "approve"])["activityArn"], json!(activity));
    assert_eq!(ok(&endpoint, &["describe-activity", "--activity-arn", &activity])["name"], "approve");
    assert_eq!(ok(&endpoint, &["list-activities"])["activities"][0]["activityArn"], json!(activity));

    let definition = json!({"StartAt": "Approve", "States": {"Approve": {
        "Type": "Task", "Resource": activity, "Parameters": {"order.$": "$.id"},
        "TimeoutSeconds": 60, "HeartbeatSeconds": 30, "End": true}}});
    let arn = machine(&endpoint, "Approval", &definition.to_string());
    let execution = started(&endpoint, &arn, r#"{"id": "o-9"}"#);
    let task = ok(&endpoint, &["get-activity-task", "--activity-arn", &activity, "--worker-name", "clerk-1"]);
    let token = task["taskToken"].as_str().expect("a task within the long poll").to_owned();
    assert_eq!(serde_json::from_str::<Value>(task["input"].as_str().unwrap()).unwrap(), json!({"order": "o-9"}));
    ok(&endpoint, &["send-task-heartbeat", "--task-token", &token]);
    ok(&endpoint, &["send-task-success", "--task-token", &token, "--task-output", r#"{"approved": true}"#]);
    let done = until_done(&endpoint, &execution).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(serde_json::from_str::<Value>(done["output"].as_str().unwrap()).unwrap(), json!({"approved": true}));

    let events = history_types(&endpoint, &execution);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivitySucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let scheduled = &events[2]["activityScheduledEventDetails"];
    assert_eq!(scheduled["resource"], json!(activity));
    assert_eq!(
        (scheduled["timeoutInSeconds"].as_i64(), scheduled["heartbeatInSeconds"].as_i64()),
        (Some(60), Some(30))
    );
    assert_eq!(events[3]["activityStartedEventDetails"]["workerName"], "clerk-1");
    // The answered token is over.
    let (code, _, err) = aws(&endpoint, &["send-task-success", "--task-token", &token, "--task-output", "{}"]);
    assert_ne!(code, 0);
    assert!(err.contains("(TaskTimedOut)"), "{err}");

    // A Task on an activity that does not exist fails before anything is scheduled, as on AWS.
    let gone = "arn:aws:states:us-east-1:123456789012:activity:gone";
    let definition = json!({"StartAt": "Lost", "States": {"Lost": {"Type": "Task", "Resource": gone, "End": true}}});
    let lost = machine(&endpoint, "Lost", &definition.to_string());
    let done = until_done(&endpoint, &started(&endpoint, &lost, "{}")).await;
    assert_eq!(done["error"], "States.Runtime", "{done}");
    assert!(done["cause"].as_str().unwrap().ends_with(&format!("The activity {gone} does not exist.")), "{done}");

    ok(&endpoint, &["delete-activity", "--activity-arn", &activity]);
    let (code, _, err) = aws(&endpoint, &["describe-activity", "--activity-arn", &activity]);
    assert_ne!(code, 0);
    assert!(err.contains("ActivityDoesNotExist"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_no_worker_takes_times_out_and_a_failure_is_the_worker_s() {
    let (endpoint, _server) = server().await;
    let activity = ok(&endpoint, &["create-activity", "--name", "idle"])["activityArn"].as_str().unwrap().to_owned();
    let definition = json!({"StartAt": "Wait", "States": {"Wait": {"Type": "Task", "Resource": activity, "TimeoutSeconds": 1, "End": true}}});
    let arn = machine(&endpoint, "Idle", &definition.to_string());
    let execution = started(&endpoint, &arn, "{}");
    let done = until_done(&endpoint, &execution).await;
    assert_eq!((done["status"].as_str(), done["error"].as_str()), (Some("FAILED"), Some("States.Timeout")), "{done}");
    let events = history_types(&endpoint, &execution);
    let timed_out = events.iter().find(|e| e["type"] == "ActivityTimedOut").expect("ActivityTimedOut");
    assert_eq!(timed_out["activityTimedOutEventDetails"]["error"], "States.Timeout");

    let definition =
        json!({"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity, "End": true}}});
    let arn = machine(&endpoint, "Failing", &definition.to_string());
    let execution = started(&endpoint, &arn, "{}");
    let task = ok(&endpoint, &["get-activity-task", "--activity-arn", &activity]);
    let token = task["taskToken"].as_str().unwrap().to_owned();
    ok(&endpoint, &["send-task-failure", "--task-token", &token, "--error", "Clerk.Refused", "--cause", "no stock"]);
    let done = until_done(&endpoint, &execution).await;
    assert_eq!((done["error"].as_str(), done["cause"].as_str()), (Some("Clerk.Refused"), Some("no stock")), "{done}");
    let events = history_types(&endpoint, &execution);
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "ActivityFailed" && e["activityFailedEventDetails"]["error"] == "Clerk.Refused")
    );
}
