//! `orderflow serve` keeps its state: the binary is started on a state
//! directory, killed (SIGKILL, nothing flushed at exit) in the middle of a
//! long Wait, and started again; the AWS CLI then finds the finished
//! execution as it was and sees the running one go on, waiting only what was
//! left of its Wait.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use orderflow::serve::ServeProcess;
use orderflow_definition::workspace_root;
use serde_json::Value;

/// Starts the binary on `state_dir`.
fn serve(state_dir: &Path) -> ServeProcess {
    ServeProcess::start(Path::new(env!("CARGO_BIN_EXE_orderflow")), &workspace_root(), state_dir).unwrap()
}

fn aws(serve: &ServeProcess, args: &[&str]) -> Value {
    let out = Command::new(workspace_root().join(".venv/bin/aws"))
        .arg("stepfunctions")
        .args(["--endpoint-url", &serve.endpoint, "--output", "json"])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .unwrap();
    assert!(out.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn events(serve: &ServeProcess, execution: &str) -> Vec<Value> {
    aws(serve, &["get-execution-history", "--execution-arn", execution])["events"].as_array().unwrap().clone()
}

fn until_done(serve: &ServeProcess, execution: &str, within: Duration) -> Value {
    let start = Instant::now();
    while start.elapsed() < within {
        let described = aws(serve, &["describe-execution", "--execution-arn", execution]);
        if described["status"] != "RUNNING" {
            return described;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{execution} still running after {within:?}");
}

fn state_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("orderflow-serve-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

const ROLE: &str = "arn:aws:iam::123456789012:role/local";
const WAIT_SECONDS: f64 = 15.0;
const WAITING: &str = r#"{"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 15, "Next": "Done"}, "Done": {"Type": "Pass", "Result": "waited", "End": true}}}"#;
const ADDING: &str = r#"{"StartAt": "Add", "States": {"Add": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)"}, "End": true}}}"#;

#[test]
fn a_killed_server_keeps_finished_executions_and_goes_on_with_running_ones() {
    let dir = state_dir();
    let first = serve(&dir);
    let adding = aws(&first, &["create-state-machine", "--name", "Adding", "--definition", ADDING, "--role-arn", ROLE]);
    let adding = adding["stateMachineArn"].as_str().unwrap().to_owned();
    let waiting =
        aws(&first, &["create-state-machine", "--name", "Waiting", "--definition", WAITING, "--role-arn", ROLE]);
    let waiting = waiting["stateMachineArn"].as_str().unwrap().to_owned();
    let sum = aws(&first, &["start-execution", "--state-machine-arn", &adding, "--input", r#"{"a": 2, "b": 3}"#]);
    let sum = sum["executionArn"].as_str().unwrap().to_owned();
    let finished = until_done(&first, &sum, Duration::from_secs(10));
    assert_eq!(finished["status"], "SUCCEEDED");
    let finished_history = events(&first, &sum);

    let held = aws(&first, &["start-execution", "--state-machine-arn", &waiting, "--name", "held"]);
    let held = held["executionArn"].as_str().unwrap().to_owned();
    let start = Instant::now();
    while !events(&first, &held).iter().any(|e| e["type"] == "WaitStateEntered") {
        assert!(start.elapsed() < Duration::from_secs(5), "the Wait was never entered");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Longer than the server's flush interval (200 ms), well short of the Wait.
    std::thread::sleep(Duration::from_secs(1));
    drop(first);

    let second = serve(&dir);
    // Asked first, while its Wait still has seconds to run even on a loaded machine.
    let resumed = aws(&second, &["describe-execution", "--execution-arn", &held]);
    assert_eq!(resumed["status"], "RUNNING", "{resumed}");
    // The finished execution, as it was.
    let again = aws(&second, &["describe-execution", "--execution-arn", &sum]);
    assert_eq!(again, finished);
    assert_eq!(serde_json::from_str::<Value>(again["output"].as_str().unwrap()).unwrap()["sum"], 5);
    assert_eq!(events(&second, &sum), finished_history);
    let listed = aws(&second, &["list-executions", "--state-machine-arn", &adding]);
    assert_eq!(listed["executions"][0]["executionArn"], sum.as_str());
    let machines = aws(&second, &["list-state-machines"]);
    let names: Vec<&str> =
        machines["stateMachines"].as_array().unwrap().iter().filter_map(|m| m["name"].as_str()).collect();
    assert!(names.contains(&"Adding") && names.contains(&"Waiting"), "{names:?}");

    // The running one goes on where it was, then is done.
    let done = until_done(&second, &held, Duration::from_secs(30));
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["output"], "\"waited\"");
    let history = events(&second, &held);
    let kinds: Vec<&str> = history.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "ExecutionStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    for (i, event) in history.iter().enumerate() {
        assert_eq!(event["id"], i + 1);
    }
    // Waited what was left: exited WAIT_SECONDS after entering, not after the
    // restart (which came more than a second after entering).
    let at = |kind: &str| history.iter().find(|e| e["type"] == kind).unwrap()["timestamp"].as_f64().unwrap();
    let waited = at("WaitStateExited") - at("WaitStateEntered");
    assert!((WAIT_SECONDS - 0.01..WAIT_SECONDS + 1.0).contains(&waited), "waited {waited} s");

    // A second server on the same directory is refused, the first unharmed.
    let refused = Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .args(["serve", "--port", "0", "--lambda-endpoint", "http://127.0.0.1:9", "--state-dir"])
        .arg(&dir)
        .current_dir(workspace_root())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("in use by another orderflow serve"), "{stderr}");
    assert_eq!(aws(&second, &["describe-execution", "--execution-arn", &sum])["status"], "SUCCEEDED");

    // SIGTERM: a clean stop.
    let mut second = second;
    let term = Command::new("kill").args(["-TERM", &second.child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let status = second.child.wait().unwrap();
    assert!(status.success(), "{status}");
    let _ = std::fs::remove_dir_all(&dir);
}
