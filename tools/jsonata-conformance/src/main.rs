//! Runs every case of jsonata-js's test suite (`groups/*/*.json`, with the
//! `datasets/`) through two Rust JSONata engines and counts, per engine, the
//! cases whose result (or error code, or undefined result) matches the
//! suite's. A panic or a run past the case's time limit counts as a failure.
//! Prints one line per engine and group, then the totals, as JSON lines.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

// The suite's reader, shared with the executor's own test of its engine.
#[path = "../../../crates/asl/tests/jsonata_suite/cases.rs"]
mod cases;

use cases::{Case, Outcome, load, same};

fn core(case: &Case) -> Outcome {
    use jsonata_core::evaluator::{Context, Evaluator, EvaluatorOptions};
    use jsonata_core::value::JValue;
    let expr = match jsonata_core::Expression::compile(&case.expr) {
        Ok(e) => e,
        Err(e) => {
            let text = e.to_string();
            return Outcome::Error(text.split(':').next().unwrap_or_default().trim().to_owned());
        }
    };
    let mut context = Context::new();
    for (name, value) in &case.bindings {
        context.bind(name.clone(), JValue::from(value.clone()));
    }
    let options = EvaluatorOptions {
        timeout_ms: Some(case.timelimit_ms.unwrap_or(10_000)),
        max_stack_depth: case.depth,
        ..EvaluatorOptions::default()
    };
    let data = case.data.clone().map(JValue::from).unwrap_or(JValue::Undefined);
    let mut evaluator = Evaluator::with_options(context, options);
    match evaluator.evaluate(expr.ast(), &data) {
        Ok(JValue::Undefined) => Outcome::Undefined,
        Ok(v) => match v.to_json_string() {
            Ok(text) => Outcome::Value(serde_json::from_str(&text).unwrap_or(Value::Null)),
            Err(_) => Outcome::Error("(unserializable)".into()),
        },
        Err(e) => Outcome::Error(e.code().unwrap_or("(no code)").to_owned()),
    }
}

fn rs(case: &Case) -> Outcome {
    let arena = bumpalo::Bump::new();
    let jsonata = match jsonata_rs::JsonAta::new(&case.expr, &arena) {
        Ok(j) => j,
        Err(e) => return Outcome::Error(e.code().to_owned()),
    };
    let data = case.data.as_ref().map(|d| d.to_string());
    let bindings: HashMap<&str, &Value> = case.bindings.iter().map(|(k, v)| (k.as_str(), v)).collect();
    for (name, value) in &bindings {
        let _ = (name, value);
    }
    let result = if bindings.is_empty() {
        jsonata.evaluate_timeboxed(data.as_deref(), case.depth, Some(case.timelimit_ms.unwrap_or(10_000) as usize))
    } else {
        jsonata.evaluate(data.as_deref(), Some(&bindings))
    };
    match result {
        Ok(v) if v.is_undefined() => Outcome::Undefined,
        Ok(v) => Outcome::Value(serde_json::from_str(&v.serialize(false)).unwrap_or(Value::Null)),
        Err(e) => Outcome::Error(e.code().to_owned()),
    }
}

/// One engine on one case, on a thread of its own: a panic is a failure, and
/// so is a case still running after a minute (the thread is left behind).
fn guarded(engine: fn(&Case) -> Outcome, case: &'static Case) -> Outcome {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(move || {
            let outcome = std::panic::catch_unwind(|| engine(case)).unwrap_or(Outcome::Error("(panic)".into()));
            let _ = tx.send(outcome);
        })
        .expect("a thread");
    rx.recv_timeout(Duration::from_secs(60)).unwrap_or(Outcome::Error("(hung)".into()))
}

fn main() {
    let suite = PathBuf::from(std::env::args().nth(1).expect("the path of jsonata's test/test-suite"));
    let (cases, unreadable) = load(&suite);
    eprintln!("{unreadable} case files unreadable by serde_json, counted for neither engine");
    let cases: &'static [Case] = Vec::leak(cases);
    // SHOW=<group>/<file>: both engines' outcomes for that case, against the suite's.
    if let Ok(show) = std::env::var("SHOW") {
        for case in cases.iter().filter(|c| c.name.starts_with(&show)) {
            println!("{}: {:?}\n  expected {:?}", case.name, case.expr, case.expected);
            println!("  jsonata-core {:?}\n  jsonata-rs   {:?}", guarded(core, case), guarded(rs, case));
        }
        return;
    }
    std::panic::set_hook(Box::new(|_| {}));
    let engines: [(&str, fn(&Case) -> Outcome); 2] = [("jsonata-core 2.2.13", core), ("jsonata-rs 0.3.4", rs)];
    for (engine, run) in engines {
        let (mut passed, mut any_error) = (0, 0);
        let mut failed = Vec::new();
        for case in cases {
            let got = guarded(run, case);
            if same(&case.expected, &got) {
                passed += 1;
            } else if matches!((&case.expected, &got), (Outcome::Error(_), Outcome::Error(_))) {
                // An error where one is expected, with another code (or none).
                any_error += 1;
                failed.push(format!("{} (error code {:?})", case.name, got));
            } else {
                failed.push(case.name.clone());
            }
        }
        let percent = |n: usize| (n as f64 * 1000.0 / cases.len() as f64).round() / 10.0;
        println!(
            "{}",
            json!({"engine": engine, "cases": cases.len(),
                   "passed": passed, "percent": percent(passed),
                   "passed_or_other_error_code": passed + any_error,
                   "percent_or_other_error_code": percent(passed + any_error),
                   "failed": failed})
        );
    }
}
