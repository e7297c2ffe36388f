//! The API-validation suite: CreateStateMachine, UpdateStateMachine and
//! ValidateStateMachineDefinition requests whose answers AWS recorded
//! (LocalStack's AWS-validated snapshots; see NOTICE), sent to this server's
//! API in process. Each case's answer is compared with AWS's: the error's
//! name and message, or ValidateStateMachineDefinition's result and
//! diagnostics (code, message, location, severity). The recordings name the
//! account 111111111111, the region `<region>`, the partition `<partition>`
//! and a state machine `<ArnPart_0idx>`: ours are written so before comparing.
//! Prints its counts; fails on a case that differs and is not in KNOWN.

use std::sync::Arc;

#[path = "../support/no_tasks.rs"]
mod no_tasks;

use no_tasks::NoTasks;
use orderflow_asl::VirtualClock;
use orderflow_server::{Config, Service};
use serde_json::{Value, json};

const ROLE: &str = "arn:aws:iam::123456789012:role/local";
const NAME: &str = "sm";

/// Cases known to differ from AWS, with why.
const KNOWN: &[(&str, &str)] = &[(
    "tests/aws/services/stepfunctions/v2/test_sfn_api_versioning.py::TestSnfApiVersioning::test_update_state_machine",
    "state machine versions (publish, PublishStateMachineVersion, version ARNs) are not served here",
)];

fn service() -> Arc<Service> {
    Arc::new(
        Service::new(Config::default(), Arc::new(NoTasks), Arc::new(VirtualClock::default()))
            .expect("an in-memory store"),
    )
}

/// Our text as the recordings write it.
fn recorded_form(text: &str) -> String {
    text.replace("arn:aws:", "arn:<partition>:")
        .replace("123456789012", "111111111111")
        .replace("us-east-1", "<region>")
        .replace(&format!(":stateMachine:{NAME}"), ":stateMachine:<ArnPart_0idx>")
}

/// The request's own fields: those the recording names by a placeholder are ours.
fn extra(case: &Value, request: &mut serde_json::Map<String, Value>) {
    if let Some(fields) = case["request_extra"].as_object() {
        for (k, v) in fields {
            let placeholder = v.as_str().is_some_and(|s| s.starts_with('<') || s.contains("not sent"));
            if !placeholder {
                request.insert(k.clone(), v.clone());
            }
        }
    }
}

async fn run(case: &Value) -> Result<(), String> {
    let service = service();
    let call = |operation: &str, request: Value| {
        let service = service.clone();
        let operation = operation.to_owned();
        async move { service.call(&operation, request.to_string().as_bytes()).await }
    };
    let mut definition = case["definition"].as_str().map(str::to_owned);
    let mut machine_arn = None;
    for pre in case["preconditions"].as_array().into_iter().flatten() {
        match pre["operation"].as_str() {
            Some("CreateStateMachine") => {
                let mut request = json!({"name": NAME, "roleArn": ROLE, "definition": pre["definition"]});
                if let Some(fields) = pre["request_extra"].as_object() {
                    for (k, v) in fields {
                        request[k] = v.clone();
                    }
                }
                let made = call("CreateStateMachine", request).await.map_err(|e| format!("precondition: {e}"))?;
                machine_arn = made["stateMachineArn"].as_str().map(str::to_owned);
            }
            Some("CreateActivity") => {
                let made = call("CreateActivity", json!({"name": "activity-1"})).await.map_err(|e| e.to_string())?;
                let arn = made["activityArn"].as_str().unwrap_or_default();
                definition = definition.map(|d| d.replace("${ACTIVITY_ARN}", arn));
            }
            Some(other) => return Err(format!("a precondition this suite does not make: {other}")),
            None => {}
        }
    }
    let operation = case["operation"].as_str().unwrap_or_default();
    let mut request = serde_json::Map::new();
    if let Some(d) = definition {
        request.insert("definition".into(), Value::String(d));
    }
    match operation {
        "CreateStateMachine" => {
            request.insert("name".into(), json!(NAME));
            request.insert("roleArn".into(), json!(ROLE));
        }
        "UpdateStateMachine" => {
            let arn = machine_arn.clone().ok_or("no state machine to update")?;
            let target = case["request_extra"]["stateMachineArn"].as_str().unwrap_or_default();
            let arn = if target.contains(":2") { format!("{arn}:2") } else { arn };
            request.insert("stateMachineArn".into(), json!(arn));
        }
        _ => {}
    }
    extra(case, &mut request);
    let answer = call(operation, Value::Object(request)).await;
    let recorded = &case["recorded"];
    match (recorded["kind"].as_str(), answer) {
        (Some("exception"), Err(e)) => {
            let (code, message) = (e.code.name(), recorded_form(&e.message));
            if code != recorded["error_code"] || message != recorded["error_message"] {
                return Err(format!(
                    "{code}: {message}\n  AWS: {}: {}",
                    recorded["error_code"].as_str().unwrap_or_default(),
                    recorded["error_message"].as_str().unwrap_or_default()
                ));
            }
            Ok(())
        }
        (Some("exception"), Ok(answer)) => Err(format!("answered {answer}; AWS: {}", recorded["error_code"])),
        (Some("response"), Err(e)) => Err(format!("{}: {}; AWS answered", e.code.name(), e.message)),
        (Some("response"), Ok(answer)) => {
            let mut differs = Vec::new();
            for (field, ours) in answer.as_object().into_iter().flatten() {
                let theirs = &recorded[field];
                let ours = match ours {
                    Value::String(s) => Value::String(recorded_form(s)),
                    other => other.clone(),
                };
                let timestamp = field.ends_with("Date");
                if !timestamp && &ours != theirs {
                    differs.push(format!("{field}: {ours}\n  AWS: {theirs}"));
                }
            }
            if differs.is_empty() { Ok(()) } else { Err(differs.join("\n")) }
        }
        _ => Err("the case records neither an exception nor a response".into()),
    }
}

fn main() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validation_suite/cases.json");
    let cases: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("cases.json")).expect("JSON");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let cases = cases["cases"].as_array().cloned().unwrap_or_default();
    let (mut passed, mut known, mut failed, mut stale) = (0, 0, Vec::new(), Vec::new());
    for case in &cases {
        let id = case["id"].as_str().unwrap_or_default();
        let is_known = KNOWN.iter().any(|(k, _)| *k == id);
        match (runtime.block_on(run(case)), is_known) {
            (Ok(()), false) => passed += 1,
            (Ok(()), true) => stale.push(id.to_owned()),
            (Err(_), true) => known += 1,
            (Err(why), false) => failed.push(format!("{id}\n  {why}")),
        }
    }
    for f in &failed {
        eprintln!("FAIL {f}");
    }
    for s in &stale {
        eprintln!("PASSES NOW (take it off KNOWN): {s}");
    }
    println!(
        "AWS-validated API validation cases (LocalStack's snapshots): {} in all; {passed} passed; {known} known to differ (KNOWN); {} failed",
        cases.len(),
        failed.len() + stale.len()
    );
    if !failed.is_empty() || !stale.is_empty() {
        std::process::exit(1);
    }
}
