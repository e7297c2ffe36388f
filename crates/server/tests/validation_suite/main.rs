//! The API-validation suite: CreateStateMachine, UpdateStateMachine,
//! ValidateStateMachineDefinition and TestState requests whose answers AWS
//! recorded (LocalStack's AWS-validated snapshots; see NOTICE), sent to this
//! server's API in process. Each answer is compared with AWS's: the error's
//! name and message, ValidateStateMachineDefinition's result and diagnostics,
//! or TestState's whole answer (status, output, error, cause, next state,
//! inspection data). The recordings name the account 111111111111, the region
//! `<region>`, the partition `<partition>`, a state machine `<ArnPart_0idx>`,
//! a time `date` and generated names `<resource:N>`: ours are compared so.
//! Prints its counts; fails on a case that differs and is not in known.json,
//! and on an entry of known.json that no case shows any more.

use std::sync::Arc;

#[path = "../support/no_tasks.rs"]
mod no_tasks;

use no_tasks::NoTasks;
use orderflow_asl::VirtualClock;
use orderflow_server::{Config, Service};
use serde_json::{Value, json};

const ROLE: &str = "arn:aws:iam::123456789012:role/local";
const NAME: &str = "sm";

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
            Some("UpdateStateMachine") => {
                let arn = machine_arn.clone().ok_or("no state machine to update")?;
                let mut request = json!({"stateMachineArn": arn, "definition": pre["definition"]});
                if let Some(fields) = pre["request_extra"].as_object() {
                    for (k, v) in fields {
                        request[k] = v.clone();
                    }
                }
                let updated = call("UpdateStateMachine", request).await.map_err(|e| format!("precondition: {e}"))?;
                // `success, version 2`: the version the update published.
                let expected = pre["result"].as_str().unwrap_or_default();
                if let Some(n) = expected.strip_prefix("success, version ") {
                    let published = updated["stateMachineVersionArn"].as_str().unwrap_or_default();
                    if !published.ends_with(&format!(":{n}")) {
                        return Err(format!("precondition: published {published}, AWS version {n}"));
                    }
                }
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

/// A JSON text as its value (an object or array: the recordings hold those
/// parsed), any other value as it is; ours written as the recordings write them.
fn parsed(v: &Value) -> Value {
    match v {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(inner @ (Value::Object(_) | Value::Array(_))) => normalized(&inner),
            _ => Value::String(recorded_form(s)),
        },
        other => normalized(other),
    }
}

fn normalized(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(recorded_form(s)),
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), normalized(v))).collect()),
        other => other.clone(),
    }
}

/// Whether ours matches AWS's, where the recordings write a time as `date`
/// and a generated name as `<resource:N>` (any text in its place).
fn same(ours: &Value, theirs: &Value) -> bool {
    match (ours, theirs) {
        (Value::String(_), Value::String(t)) if t == "date" || t == "start-date" => true,
        (Value::String(o), Value::String(t)) if PLACEHOLDERS.iter().any(|p| t.contains(p)) => wildcard(o, t),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && b.iter().all(|(k, t)| a.get(k).is_some_and(|o| same(o, t)))
        }
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(o, t)| same(o, t)),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

/// What the recordings write in place of a generated value (a name, an id, a digest).
const PLACEHOLDERS: &[&str] = &["<resource:", "<uuid:", "<table_name>", "<md5_of_message_body>"];

/// `text` against `pattern`, each placeholder in it standing for a run of characters.
fn wildcard(text: &str, pattern: &str) -> bool {
    let mut parts = Vec::new();
    let mut rest = pattern;
    while let Some(start) = PLACEHOLDERS.iter().filter_map(|p| rest.find(p)).min() {
        let end = rest[start..].find('>').map_or(rest.len(), |e| start + e + 1);
        parts.push(&rest[..start]);
        rest = &rest[end..];
    }
    parts.push(rest);
    let mut at = 0;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !text.starts_with(part) {
                return false;
            }
            at = part.len();
        } else if i == parts.len() - 1 {
            return text.len() >= at + part.len() && text.ends_with(part);
        } else {
            match text[at..].find(part) {
                Some(found) => at += found + part.len(),
                None => return false,
            }
        }
    }
    at == text.len()
}

/// The answer's fields, JSON texts read as values, as the recordings hold them.
fn answer_fields(v: &Value) -> Value {
    let fields = v.as_object().into_iter().flatten().filter(|(k, _)| k.as_str() != "ResponseMetadata");
    Value::Object(
        fields
            .map(|(k, v)| {
                let v = match (k.as_str(), v) {
                    ("inspectionData", Value::Object(data)) => {
                        Value::Object(data.iter().map(|(k, v)| (k.clone(), parsed(v))).collect())
                    }
                    _ => parsed(v),
                };
                (k.clone(), v)
            })
            .collect(),
    )
}

/// A TestState case: the request as it was sent, the answer compared whole.
async fn run_test_state(case: &Value) -> Result<(), String> {
    let service = service();
    let mut request = case["request"].clone();
    if case["roleArn_sent"].as_bool().unwrap_or(false) && request.get("roleArn").is_none() {
        request["roleArn"] = json!(ROLE);
    }
    let answer = service.call("TestState", request.to_string().as_bytes()).await;
    let recorded = &case["recorded"];
    match (recorded.get("error_code").and_then(Value::as_str), answer) {
        (Some(code), Err(e)) => {
            let message = recorded_form(&e.message);
            let theirs = recorded["error_message"].as_str().unwrap_or_default();
            if e.code.name() != code || message != theirs {
                return Err(format!("{}: {message}\n  AWS: {code}: {theirs}", e.code.name()));
            }
            Ok(())
        }
        (Some(code), Ok(answer)) => Err(format!("answered {answer}; AWS: {code}")),
        (None, Err(e)) => Err(format!("{}: {}; AWS answered {}", e.code.name(), e.message, recorded["response"])),
        (None, Ok(answer)) => {
            let (ours, theirs) = (answer_fields(&answer), answer_fields(&recorded["response"]));
            if same(&ours, &theirs) { Ok(()) } else { Err(format!("{ours}\n  AWS: {theirs}")) }
        }
    }
}

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validation_suite");
    let read = |name: &str| -> Vec<Value> {
        let text = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let cases: Value = serde_json::from_str(&text).expect("JSON");
        cases["cases"].as_array().cloned().unwrap_or_default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let mut cases = read("cases.json");
    cases.extend(read("test_state_cases.json"));
    // Cases known to differ from AWS, by id, with why (known.json).
    let known_text = std::fs::read_to_string(dir.join("known.json")).expect("known.json");
    let known_ids: Value = serde_json::from_str(&known_text).expect("JSON");
    let known_ids = known_ids["known"].as_object().cloned().unwrap_or_default();
    let (mut passed, mut known, mut failed) = (0, 0, Vec::new());
    let mut differing = std::collections::HashSet::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap_or_default();
        let outcome = if case.get("request").is_some() {
            runtime.block_on(run_test_state(case))
        } else {
            runtime.block_on(run(case))
        };
        match outcome {
            Ok(()) => passed += 1,
            Err(_) if known_ids.contains_key(id) => {
                known += 1;
                differing.insert(id.to_owned());
            }
            Err(why) => failed.push(format!("{id}\n  {why}")),
        }
    }
    // A known difference that no case shows any more is taken off the list.
    let stale: Vec<&String> = known_ids.keys().filter(|id| !differing.contains(*id)).collect();
    for f in &failed {
        eprintln!("FAIL {f}");
    }
    for s in &stale {
        eprintln!("PASSES NOW (take it off known.json): {s}");
    }
    println!(
        "AWS-validated API validation and TestState cases (LocalStack's snapshots): {} in all; {passed} passed; {known} known to differ (known.json); {} failed",
        cases.len(),
        failed.len() + stale.len()
    );
    if !failed.is_empty() || !stale.is_empty() {
        std::process::exit(1);
    }
}
