//! The AWS-recorded conformance suite: every case in `../shared/aws-recorded`
//! (an execution recorded against real AWS Step Functions) run through the
//! executor with its Lambda calls replayed from the recording, one trial per
//! case, so that a failure names its case. The data is read where it lies
//! (`ORDERFLOW_AWS_RECORDED`, else `../shared/aws-recorded` beside the
//! workspace); it is not copied into the repository.
//!
//! Every case runs: a definition the executor refuses is a failure. The
//! summary counts the passed cases of each feature (JSONata, workflow
//! variables) apart.

mod compare;
mod replay;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use libtest_mimic::{Arguments, Failed, Trial};
use orderflow_asl::{ExecutionOptions, ExecutionStatus, Executor, MachineType, VirtualClock, parse};
use orderflow_value::Value;

/// When the cases' inputs were written: their timestamps are relative to it
/// (`wait__timestamp_too_far_in_future_boundary_24856` waits 24,856 days from
/// it, past Step Functions' limit of 2^31 - 1 seconds; the Wait cases' past
/// `start_at` is this very instant). Runs start then, not at today's date.
const RECORDED_AT: time::OffsetDateTime = time::macros::datetime!(2026-11-25 08:54:21 UTC);

static PASSED: AtomicUsize = AtomicUsize::new(0);
static PASSED_JSONATA: AtomicUsize = AtomicUsize::new(0);
static PASSED_VARIABLES: AtomicUsize = AtomicUsize::new(0);

fn data_dir() -> PathBuf {
    match std::env::var_os("ORDERFLOW_AWS_RECORDED") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/aws-recorded"),
    }
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    orderflow_value::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn run_case(dir: &Path) -> Result<(), String> {
    let definition = read_json(&dir.join("definition.json"))?;
    let input = read_json(&dir.join("input.json"))?;
    let expected = read_json(&dir.join("expected.json"))?;
    let machine = parse(&definition).map_err(|e| format!("refused: {e}"))?;
    let invoker = replay::Replay::load(dir)?;
    let clock = VirtualClock::starting_at(RECORDED_AT);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
    let options = ExecutionOptions {
        name: "recorded".into(),
        machine_type: if expected["execution_kind"] == "sync" { MachineType::Express } else { MachineType::Standard },
        state_machine_name: dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .chars()
            .take(80)
            .collect::<String>()
            .into(),
        ..Default::default()
    };
    let execution = runtime.block_on(Executor::new(&machine, &invoker, &clock, options).run(input));
    let status = match execution.status {
        ExecutionStatus::Succeeded => "SUCCEEDED",
        ExecutionStatus::Failed => "FAILED",
        ExecutionStatus::TimedOut => "TIMED_OUT",
    };
    let trace = || orderflow_asl::trace(&execution.history.events());
    if expected["status"] != status {
        return Err(format!(
            "status {status}, expected {}; error {:?}, cause {:?}\n{}",
            expected["status"],
            execution.error,
            execution.cause,
            trace()
        ));
    }
    let wildcards: Vec<String> = expected["wildcard_keys"]
        .as_array()
        .map(|keys| keys.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    if status == "SUCCEEDED" {
        if expected["output_masked"] != Value::Bool(true) {
            let output = execution.output.as_deref().cloned().unwrap_or(Value::Null);
            if let Some(d) = compare::difference(&expected["output"], &output, &wildcards, "$") {
                return Err(format!("output differs at {d}\noutput: {output}\n{}", trace()));
            }
        }
    } else {
        let error = execution.error.clone().map_or(Value::Null, Value::from);
        if let Some(d) = compare::difference(&expected["error"], &error, &wildcards, "error") {
            return Err(format!("{d}\n{}", trace()));
        }
        let cause = execution.cause.clone().map_or(Value::Null, Value::from);
        let expected_cause = match &expected["cause"] {
            text @ (Value::String(_) | Value::Null) => text.clone(),
            payload => Value::from(payload.to_string()),
        };
        if let Some(d) = compare::difference(&expected_cause, &cause, &wildcards, "cause") {
            return Err(format!("{d}\n{}", trace()));
        }
    }
    check_history(dir, &execution)?;
    PASSED.fetch_add(1, Ordering::Relaxed);
    match expected["feature"].as_str() {
        Some("jsonata") => PASSED_JSONATA.fetch_add(1, Ordering::Relaxed),
        Some("variables") => PASSED_VARIABLES.fetch_add(1, Ordering::Relaxed),
        _ => 0,
    };
    Ok(())
}

/// Cases whose history differs from AWS's in a way not matched yet, and why.
/// A listed case whose history comes to match fails, so the list stays true.
/// AWS's Distributed Map changed: recordings up to June 2024 show
/// MapStateExited after MapRunSucceeded, those from November 2024 on (and
/// the executor) after MapRunStarted.
const OLD_MAP_STATE_EXITED: &str = "recorded before AWS's MapStateExited came to follow MapRunStarted";

const HISTORY_DIFFERS: &[(&str, &str)] = &[
    ("base_scenarios__map_state_config_distributed_parameters", OLD_MAP_STATE_EXITED),
    ("base_scenarios__map_state_config_inline_item_selector", OLD_MAP_STATE_EXITED),
    ("base_scenarios__map_state_config_distributed_reentrant", OLD_MAP_STATE_EXITED),
    ("base_scenarios__map_state_label", OLD_MAP_STATE_EXITED),
    ("base_scenarios__map_state_legacy_config_distributed", OLD_MAP_STATE_EXITED),
    ("base_scenarios__map_state_legacy_config_distributed_item_selector", OLD_MAP_STATE_EXITED),
    ("base_scenarios__map_state_tolerated_failure_count_path_0", OLD_MAP_STATE_EXITED),
    ("base_scenarios__map_state_tolerated_failure_percentage_path_0", OLD_MAP_STATE_EXITED),
    ("base_scenarios__map_state_tolerated_failure_percentage_path_1", OLD_MAP_STATE_EXITED),
    ("base_scenarios__map_state_tolerated_failure_percentage_path_1.1", OLD_MAP_STATE_EXITED),
    ("base_scenarios__map_state_tolerated_failure_percentage_path_100", OLD_MAP_STATE_EXITED),
    ("base_scenarios__map_state_tolerated_failure_values_count_literal", OLD_MAP_STATE_EXITED),
];

static HISTORIES_MATCHED: AtomicUsize = AtomicUsize::new(0);

/// The shapes of AWS's histories (tests/recorded/history-shapes.json, made by
/// tools/extract_history_shapes.py from LocalStack's snapshots of AWS): per
/// event, its type, previousEventId, details member and that member's fields.
fn history_shapes() -> &'static orderflow_value::Map {
    static SHAPES: std::sync::OnceLock<orderflow_value::Map> = std::sync::OnceLock::new();
    SHAPES.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/recorded/history-shapes.json");
        match read_json(&path) {
            Ok(Value::Object(mut file)) => match file.remove("cases") {
                Some(Value::Object(cases)) => cases,
                _ => panic!("{}: no cases", path.display()),
            },
            other => panic!("{}: {other:?}", path.display()),
        }
    })
}

fn check_history(dir: &Path, execution: &orderflow_asl::Execution) -> Result<(), String> {
    let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let Some(expected) = history_shapes().get(&name) else { return Ok(()) };
    let actual: Vec<Value> = execution
        .history
        .events()
        .iter()
        .map(|e| {
            let (key, members) = match e.details.iter().next() {
                Some((k, Value::Object(m))) => {
                    let mut names: Vec<&str> = m.keys().map(|k| k.as_str()).collect();
                    names.sort();
                    (Value::from(k.to_string()), names.into_iter().map(Value::from).collect())
                }
                _ => (Value::Null, Value::array(Vec::new())),
            };
            Value::array(vec![Value::from(e.kind.name()), Value::from(e.previous_event_id), key, members])
        })
        .collect();
    let same = *expected == Value::array(actual.clone());
    let known = HISTORY_DIFFERS.iter().find(|(case, _)| *case == name);
    match (same, known) {
        (true, None) => {
            HISTORIES_MATCHED.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        (false, Some(_)) => Ok(()),
        (true, Some(_)) => Err("the history now matches AWS's: take the case off HISTORY_DIFFERS".into()),
        (false, None) => {
            let first = expected.as_array().into_iter().flatten().zip(&actual).position(|(e, a)| e != a);
            Err(format!(
                "history differs at event {}:\nAWS:  {}\nours: {}",
                first.map_or("(count)".into(), |i| (i + 1).to_string()),
                first.and_then(|i| expected.get(i)).map_or(expected.to_string(), Value::to_string),
                first.and_then(|i| actual.get(i)).map_or(format!("{} events", actual.len()), Value::to_string),
            ))
        }
    }
}

fn main() {
    let args = Arguments::from_args();
    let dir = data_dir().join("cases");
    let mut names: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect(),
        Err(e) => {
            eprintln!(
                "the AWS-recorded cases are not at {} ({e}); set ORDERFLOW_AWS_RECORDED to their folder",
                dir.display()
            );
            std::process::exit(1);
        }
    };
    names.sort();
    let total = names.len();
    let mut trials = vec![Trial::test("matcher_self_check", || compare::self_check().map_err(Failed::from))];
    trials.extend(names.into_iter().map(|name| {
        let case = dir.join(&name);
        Trial::test(name, move || run_case(&case).map_err(Failed::from))
    }));
    let conclusion = libtest_mimic::run(&args, trials);
    let passed = PASSED.load(Ordering::Relaxed);
    let (jsonata, variables) = (PASSED_JSONATA.load(Ordering::Relaxed), PASSED_VARIABLES.load(Ordering::Relaxed));
    println!(
        "AWS-recorded cases: {total} in all; {passed} passed ({jsonata} of them JSONata, {variables} workflow variables in JSONPath); {} failed; {} not run (filtered out)",
        conclusion.num_failed, conclusion.num_filtered_out
    );
    println!(
        "Histories: {} of the passed cases' match AWS's recorded shape; {} known to differ (HISTORY_DIFFERS)",
        HISTORIES_MATCHED.load(Ordering::Relaxed),
        HISTORY_DIFFERS.len()
    );
    conclusion.exit();
}
