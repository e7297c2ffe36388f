//! Runs every case of jsonata-js's test suite (`groups/*/*.json`, with the
//! `datasets/`) through two Rust JSONata engines and counts, per engine, the
//! cases whose result (or error code, or undefined result) matches the
//! suite's. A panic or a run past the case's time limit counts as a failure.
//! Prints one line per engine and group, then the totals, as JSON lines.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Value(Value),
    Undefined,
    Error(String),
}

struct Case {
    group: String,
    name: String,
    expr: String,
    data: Option<Value>,
    bindings: BTreeMap<String, Value>,
    expected: Outcome,
    timelimit_ms: Option<u64>,
    depth: Option<usize>,
}

fn load(suite: &Path) -> Vec<Case> {
    let datasets: HashMap<String, Value> = std::fs::read_dir(suite.join("datasets"))
        .expect("datasets/")
        .filter_map(|e| e.ok())
        .map(|e| {
            let name = e.path().file_stem().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap())
        })
        .collect();
    let mut groups: Vec<PathBuf> =
        std::fs::read_dir(suite.join("groups")).expect("groups/").filter_map(|e| e.ok()).map(|e| e.path()).collect();
    groups.sort();
    let mut cases = Vec::new();
    for group in groups {
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(&group).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).collect();
        files.sort();
        // Only the .json files are cases; an expression may sit in a file beside them.
        for file in files.into_iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
            let text = std::fs::read_to_string(&file).unwrap();
            // serde_json refuses a lone surrogate escape, which a few cases hold:
            // such a case is listed as unreadable, for neither engine.
            let Ok(parsed) = serde_json::from_str::<Value>(&text) else {
                eprintln!("unreadable by serde_json: {}", file.display());
                continue;
            };
            // A file holds one case or an array of them.
            let list = match parsed {
                Value::Array(items) => items,
                one => vec![one],
            };
            for (i, case) in list.into_iter().enumerate() {
                let data = match (case.get("data"), case.get("dataset")) {
                    (Some(d), _) => Some(d.clone()),
                    (None, Some(Value::String(name))) => datasets.get(name).cloned(),
                    _ => None,
                };
                let code = case.get("code").or_else(|| case.get("error").and_then(|e| e.get("code")));
                let expected = if let Some(code) = code.and_then(Value::as_str) {
                    Outcome::Error(code.to_owned())
                } else if case.get("undefinedResult").and_then(Value::as_bool) == Some(true) {
                    Outcome::Undefined
                } else if let Some(result) = case.get("result") {
                    Outcome::Value(result.clone())
                } else {
                    Outcome::Undefined
                };
                let expr = match case.get("expr") {
                    Some(Value::String(e)) => e.clone(),
                    // A few cases give the expression in a file of its own.
                    _ => match case.get("expr-file").and_then(Value::as_str) {
                        Some(f) => std::fs::read_to_string(group.join(f)).unwrap_or_default(),
                        None => continue,
                    },
                };
                cases.push(Case {
                    group: group.file_name().unwrap().to_string_lossy().into_owned(),
                    name: format!("{}#{i}", file.file_name().unwrap().to_string_lossy()),
                    expr,
                    data,
                    bindings: case
                        .get("bindings")
                        .and_then(Value::as_object)
                        .map(|b| b.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                        .unwrap_or_default(),
                    expected,
                    timelimit_ms: case.get("timelimit").and_then(Value::as_u64),
                    depth: case.get("depth").and_then(Value::as_u64).map(|d| d as usize),
                });
            }
        }
    }
    cases
}

/// Numbers compared as f64, as jsonata-js's own test does (deepEqual on JS numbers).
fn norm(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(items) => Value::Array(items.iter().map(norm).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), norm(v))).collect()),
        other => other.clone(),
    }
}

fn matches(expected: &Outcome, got: &Outcome) -> bool {
    match (expected, got) {
        (Outcome::Value(a), Outcome::Value(b)) => norm(a) == norm(b),
        (Outcome::Undefined, Outcome::Undefined) => true,
        (Outcome::Error(a), Outcome::Error(b)) => a == b,
        _ => false,
    }
}

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
    let cases: &'static [Case] = Vec::leak(load(&suite));
    // SHOW=<group>/<file>: both engines' outcomes for that case, against the suite's.
    if let Ok(show) = std::env::var("SHOW") {
        for case in cases.iter().filter(|c| format!("{}/{}", c.group, c.name).starts_with(&show)) {
            println!("{}/{}: {:?}\n  expected {:?}", case.group, case.name, case.expr, case.expected);
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
            if matches(&case.expected, &got) {
                passed += 1;
            } else if matches!((&case.expected, &got), (Outcome::Error(_), Outcome::Error(_))) {
                // An error where one is expected, with another code (or none).
                any_error += 1;
                failed.push(format!("{}/{} (error code {:?})", case.group, case.name, got));
            } else {
                failed.push(format!("{}/{}", case.group, case.name));
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
