//! The AWS CLI from the project's virtualenv against a server's endpoint:
//! shared by the server's client tests and the CLI's `serve` tests (each
//! includes this file).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

pub fn venv(tool: &str) -> PathBuf {
    let path = orderflow_local::workspace_root().join(".venv/bin").join(tool);
    assert!(path.exists(), "{} is missing: run `make venv` first", path.display());
    path
}

/// `aws stepfunctions <args>` against `endpoint`: (exit code, stdout as JSON or text, stderr).
pub fn aws(endpoint: &str, args: &[&str]) -> (i32, Value, String) {
    aws_service(endpoint, "stepfunctions", args)
}

/// `aws <service> <args>` against `endpoint` (this server, or moto):
/// (exit code, stdout as JSON or text, stderr).
pub fn aws_service(endpoint: &str, service: &str, args: &[&str]) -> (i32, Value, String) {
    let (code, stdout, stderr) = aws_text(endpoint, service, args);
    let value = serde_json::from_str(&stdout).unwrap_or(Value::String(stdout));
    (code, value, stderr)
}

/// `aws <service> <args>` against `endpoint`: (exit code, stdout as it is, stderr).
pub fn aws_text(endpoint: &str, service: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(venv("aws"))
        .arg(service)
        .args(["--endpoint-url", endpoint, "--output", "json"])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", orderflow_local::REGION)
        .env("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `aws <service> <args>` against moto (or another endpoint), which must succeed: its answer.
pub fn on_moto(endpoint: &str, service: &str, args: &[&str]) -> Value {
    let (code, out, err) = aws_service(endpoint, service, args);
    assert_eq!(code, 0, "aws {service} {args:?}: {err}");
    out
}

pub fn ok(endpoint: &str, args: &[&str]) -> Value {
    let (code, out, err) = aws(endpoint, args);
    assert_eq!(code, 0, "aws {args:?}: {err}");
    out
}

pub const ROLE: &str = "arn:aws:iam::123456789012:role/local";

/// A STANDARD state machine made with the AWS CLI: its ARN.
pub fn machine(endpoint: &str, name: &str, definition: &str) -> String {
    let created =
        ok(endpoint, &["create-state-machine", "--name", name, "--definition", definition, "--role-arn", ROLE]);
    created["stateMachineArn"].as_str().unwrap().to_owned()
}

/// An execution started with the AWS CLI: its ARN.
pub fn started(endpoint: &str, machine: &str, input: &str) -> String {
    let started = ok(endpoint, &["start-execution", "--state-machine-arn", machine, "--input", input]);
    started["executionArn"].as_str().unwrap().to_owned()
}

pub async fn until_done(endpoint: &str, execution: &str) -> Value {
    for _ in 0..200 {
        let described = ok(endpoint, &["describe-execution", "--execution-arn", execution]);
        if described["status"] != "RUNNING" {
            return described;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{execution} still running");
}
