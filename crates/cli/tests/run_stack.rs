//! `orderflow run` on a SAM application that is not this project's: the
//! state machine named with --state-machine runs in an in-process Step
//! Functions API, its child an execution of that API, its activity's worker
//! the AWS CLI polling the API's port, its resources made in the emulator.

use std::process::Command;

#[path = "../../server/tests/support/aws_cli.rs"]
mod aws_cli;
#[path = "support/user_app.rs"]
mod user_app;

use serde_json::{Value, json};
use user_app::{ORDER, check_fulfilled, review_worker};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn orderflow(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .args(args)
        .current_dir(dir)
        .env("MOTO_SERVER", aws_cli::venv("moto_server"))
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("ORDERFLOW_AWS_ENDPOINT")
        .output()
        .unwrap()
}

#[test]
fn run_takes_a_users_state_machine_with_a_child_and_an_activity_to_succeeded() {
    let dir = std::env::temp_dir().join(format!("orderflow-run-user-app-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("order.json"), ORDER).unwrap();
    let port = free_port();
    let worker = review_worker(format!("http://127.0.0.1:{port}"));
    let template = user_app::template();
    let port = port.to_string();
    let out = orderflow(
        &dir,
        &[
            "run",
            "--template",
            template.to_str().unwrap(),
            "--state-machine",
            "Fulfil",
            "--port",
            &port,
            "--input",
            "order.json",
            "--output",
            "json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{}", String::from_utf8_lossy(&out.stdout));
    assert!(stderr.contains(&format!("the Step Functions API on http://127.0.0.1:{port}")), "{stderr}");
    assert!(stderr.contains("AWS::DynamoDB::Table orders-test (Orders)"), "{stderr}");
    assert_eq!(worker.join().unwrap(), json!({"id": "o-7", "total": 42}));
    let execution: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(execution["status"], "SUCCEEDED", "{execution}");
    check_fulfilled(&execution["output"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_template_with_several_state_machines_needs_one_named() {
    let dir = std::env::temp_dir();
    let template = user_app::template();
    let out = orderflow(&dir, &["run", "--template", template.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("declares several state machines (Pricing, Fulfil): name one with --state-machine"),
        "{stderr}"
    );
    let out = orderflow(&dir, &["graph", "--template", template.to_str().unwrap(), "--state-machine", "Nope"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("declares no state machine \"Nope\" (it declares: Pricing, Fulfil)"), "{stderr}");
    // lint and graph take any of them.
    let out = orderflow(&dir, &["lint", "--template", template.to_str().unwrap(), "--state-machine", "fulfil-test"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let out = orderflow(&dir, &["graph", "--template", template.to_str().unwrap(), "--state-machine", "Fulfil"]);
    let graph = String::from_utf8_lossy(&out.stdout);
    assert!(graph.contains("PutAgain") && graph.contains("Approve"), "{graph}");
}
