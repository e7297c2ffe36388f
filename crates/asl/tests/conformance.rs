//! The table-driven conformance suite: each case in `conformance/*.json` is a
//! definition, an input, scripted task answers and the expected outcome,
//! taken from an example of the AWS Step Functions documentation (each case
//! names the section it comes from).

use std::collections::HashMap;
use std::sync::Mutex;

use orderflow_asl::{BoxFuture, ExecutionOptions, Executor, Invoker, TaskFailure, VirtualClock, parse};
use orderflow_value::Value;

/// Answers each function's invocations from a script: in order, each entry
/// either `{"output": ...}`, `{"error": ..., "cause": ...}`, `{"echo": true}`
/// (the payload back) or `{"sleep_ms": n}` (answers after n real ms).
struct Scripted {
    script: Mutex<HashMap<String, Vec<Value>>>,
    calls: Mutex<Vec<(String, Value)>>,
}

impl Invoker for Scripted {
    fn invoke<'a>(&'a self, function: &'a str, payload: &'a Value) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        Box::pin(async move {
            self.calls.lock().unwrap().push((function.to_owned(), payload.clone()));
            let answer = {
                let mut script = self.script.lock().unwrap();
                let answers = script.get_mut(function).unwrap_or_else(|| panic!("no script for {function}"));
                if answers.len() > 1 { answers.remove(0) } else { answers[0].clone() }
            };
            if let Some(ms) = answer.get("sleep_ms").and_then(Value::as_u64) {
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            }
            if let Some(error) = answer.get("error").and_then(Value::as_str) {
                return Err(TaskFailure {
                    error: error.to_owned(),
                    cause: answer["cause"].as_str().unwrap_or_default().to_owned(),
                });
            }
            if answer.get("echo").is_some() {
                return Ok(payload.clone());
            }
            Ok(answer["output"].clone())
        })
    }
}

fn run_case(case: &Value) -> Result<(), String> {
    let name = case["name"].as_str().unwrap_or("?");
    let machine = match parse(&case["definition"]) {
        Ok(m) => m,
        Err(e) => {
            // A whole-machine finding (what `orderflow lint` reports) is a definition error too.
            let expected = case["expect"]["definition_error"].as_str().or(case["expect"]["lint"].as_str());
            return match expected {
                Some(expected) if e.to_string().contains(expected) => Ok(()),
                _ => Err(format!("{name}: definition error {e}")),
            };
        }
    };
    if case["expect"].get("definition_error").is_some() {
        return Err(format!("{name}: expected a definition error"));
    }
    if let Some(expected) = case["expect"]["lint"].as_str() {
        return Err(format!("{name}: expected the definition refused with {expected:?}"));
    }
    let script: HashMap<String, Vec<Value>> = case["tasks"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.to_string(), v.as_array().cloned().unwrap_or_default())).collect())
        .unwrap_or_default();
    let invoker = Scripted { script: Mutex::new(script), calls: Mutex::new(Vec::new()) };
    let clock = VirtualClock::starting_at(time::macros::datetime!(2026-11-24 12:00:00 UTC));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let options =
        ExecutionOptions { name: "case".into(), state_machine_name: "conformance".into(), ..Default::default() };
    let execution = runtime.block_on(Executor::new(&machine, &invoker, &clock, options).run(case["input"].clone()));
    let expect = &case["expect"];
    let status = Value::from(serde_json::to_value(execution.status).unwrap());
    if status != expect["status"] {
        return Err(format!(
            "{name}: status {status}, expected {}; error {:?} cause {:?}\n{}",
            expect["status"],
            execution.error,
            execution.cause,
            orderflow_asl::trace(&execution.history.events())
        ));
    }
    if let Some(output) = expect.get("output")
        && execution.output.as_deref() != Some(output)
    {
        return Err(format!("{name}: output {:?}, expected {output}", execution.output));
    }
    if let Some(error) = expect.get("error")
        && execution.error.as_deref() != error.as_str()
    {
        return Err(format!("{name}: error {:?}, expected {error}", execution.error));
    }
    if let Some(cause) = expect.get("cause_contains").and_then(Value::as_str)
        && !execution.cause.as_deref().unwrap_or_default().contains(cause)
    {
        return Err(format!("{name}: cause {:?} lacks {cause:?}", execution.cause));
    }
    if let Some(calls) = expect.get("calls").and_then(Value::as_u64) {
        let made = invoker.calls.lock().unwrap().len() as u64;
        if made != calls {
            return Err(format!("{name}: {made} task invocations, expected {calls}"));
        }
    }
    if let Some(payloads) = expect.get("payloads").and_then(Value::as_array) {
        let made: Vec<Value> = invoker.calls.lock().unwrap().iter().map(|(_, p)| p.clone()).collect();
        if &made != payloads {
            return Err(format!("{name}: task payloads {made:?}, expected {payloads:?}"));
        }
    }
    if let Some(events) = expect.get("history_types").and_then(Value::as_array) {
        let kinds: Vec<Value> = execution.history.events().iter().map(|e| Value::from(e.kind.name())).collect();
        if &kinds != events {
            return Err(format!("{name}: history {kinds:?}, expected {events:?}"));
        }
    }
    if let Some(seconds) = expect.get("elapsed_seconds").and_then(Value::as_i64) {
        let elapsed =
            (orderflow_asl::Clock::now(&clock) - time::macros::datetime!(2026-11-24 12:00:00 UTC)).whole_seconds();
        if elapsed != seconds {
            return Err(format!("{name}: {elapsed} virtual seconds passed, expected {seconds}"));
        }
    }
    Ok(())
}

#[test]
fn conformance_suite() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut failures = Vec::new();
    let mut count = 0;
    for file in files {
        let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for case in &cases {
            assert!(
                case["source"].as_str().is_some_and(|s| !s.is_empty()),
                "{}: every case names its source",
                case["name"]
            );
            count += 1;
            if let Err(e) = run_case(case) {
                failures.push(format!("[{}] {e}", file.file_name().unwrap().to_string_lossy()));
            }
        }
    }
    assert!(count >= 40, "only {count} cases");
    assert!(failures.is_empty(), "{} of {count} cases failed:\n{}", failures.len(), failures.join("\n\n"));
}
