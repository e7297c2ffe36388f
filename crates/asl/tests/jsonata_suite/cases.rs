//! jsonata-js's test suite read from its folder (`groups/`, and `skip/` in
//! jsonata-rs's copy, with `datasets/`): shared by the executor's test of its
//! engine (`tests/jsonata_suite.rs`) and the engine comparison of
//! `tools/jsonata-conformance`, which includes this file.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Value(Value),
    Undefined,
    Error(String),
}

pub struct Case {
    /// `group/file.json#index`.
    pub name: String,
    pub expr: String,
    pub data: Option<Value>,
    pub bindings: BTreeMap<String, Value>,
    pub expected: Outcome,
    pub timelimit_ms: Option<u64>,
    pub depth: Option<usize>,
}

fn read(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// The cases, and how many files serde_json could not read.
pub fn load(suite: &Path) -> (Vec<Case>, usize) {
    let datasets: HashMap<String, Value> = std::fs::read_dir(suite.join("datasets"))
        .expect("the suite's datasets/")
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.path().file_stem()?.to_string_lossy().into_owned(), read(&e.path())?)))
        .collect();
    // jsonata-js keeps every group under groups/; jsonata-rs's copy moves the
    // cases it skips to skip/.
    let mut groups: Vec<PathBuf> = ["groups", "skip"]
        .iter()
        .filter_map(|root| std::fs::read_dir(suite.join(root)).ok())
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    groups.sort();
    let (mut cases, mut unreadable) = (Vec::new(), 0);
    for group in groups {
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(&group).into_iter().flatten().filter_map(|e| e.ok()).map(|e| e.path()).collect();
        files.sort();
        for file in files.into_iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
            // serde_json refuses a lone surrogate escape, which two cases hold.
            let Some(parsed) = read(&file) else {
                unreadable += 1;
                continue;
            };
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
                } else if let Some(result) = case.get("result").filter(|_| case.get("undefinedResult").is_none()) {
                    Outcome::Value(result.clone())
                } else {
                    Outcome::Undefined
                };
                let expr = match case.get("expr") {
                    Some(Value::String(e)) => e.clone(),
                    _ => match case.get("expr-file").and_then(Value::as_str) {
                        Some(f) => std::fs::read_to_string(group.join(f)).unwrap_or_default(),
                        None => continue,
                    },
                };
                let group_name = group.file_name().unwrap_or_default().to_string_lossy().into_owned();
                let file_name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
                cases.push(Case {
                    name: format!("{group_name}/{file_name}#{i}"),
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
    (cases, unreadable)
}

/// Numbers compared as f64, as jsonata-js's own test does (deepEqual on JS numbers).
pub fn norm(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(items) => Value::Array(items.iter().map(norm).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), norm(v))).collect()),
        other => other.clone(),
    }
}

/// Whether an outcome is the suite's (numbers compared as f64).
pub fn same(expected: &Outcome, got: &Outcome) -> bool {
    match (expected, got) {
        (Outcome::Value(a), Outcome::Value(b)) => norm(a) == norm(b),
        (a, b) => a == b,
    }
}
