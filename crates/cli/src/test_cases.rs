//! `orderflow test`: workflow test cases beside a definition, run with their
//! tasks mocked in Step Functions Local's MockConfigFile format, in virtual
//! time and all at once; each case's expectations checked with the
//! difference shown, and a coverage report of the definition's states,
//! Choice branches, Retry and Catch entries.
//!
//! A test file:
//! `{"StateMachine": "<name in the mock file>", "MockConfigFile": "<path, from this file>",
//!   "TestCases": {"<case, as in the mock file>": {"Input": {...} | "InputFile": "<path>",
//!   "Expect": {"Status", "Output" | "OutputIncludes", "Error", "Cause", "States": [...]}}}}`

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use orderflow_asl::model::Kind;
use orderflow_asl::{BoxFuture, ExecutionOptions, Executor, Invoker, StateMachine, TaskFailure, VirtualClock};
use orderflow_value::Value;

use crate::mock_config::MockConfig;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expect {
    pub status: Option<String>,
    pub output: Option<Value>,
    pub output_includes: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub states: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub input: Value,
    pub expect: Expect,
}

#[derive(Debug, Clone)]
pub struct Suite {
    pub path: PathBuf,
    pub machine: String,
    pub mocks: MockConfig,
    pub cases: Vec<Case>,
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    orderflow_value::parse(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))
}

impl Suite {
    /// Reads a test file and its mock file; a bad entry is refused with the
    /// file and the entry's path, and nothing runs.
    pub fn load(path: &Path) -> Result<Suite, String> {
        let file = read_json(path)?;
        let here = path.parent().unwrap_or(Path::new("."));
        let bad = |at: &str, message: &str| format!("{}: {at}: {message}", path.display());
        let top = file.as_object().ok_or_else(|| bad("(file)", "must be an object"))?;
        for key in top.keys() {
            if !["Comment", "StateMachine", "MockConfigFile", "TestCases"].contains(&key.as_str()) {
                return Err(bad(key, "not a field of a test file (StateMachine, MockConfigFile, TestCases, Comment)"));
            }
        }
        let machine = top
            .get("StateMachine")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("StateMachine", "is required, a string"))?;
        let mock_path = here.join(
            top.get("MockConfigFile")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("MockConfigFile", "is required, a path"))?,
        );
        let mocks = MockConfig::parse(&read_json(&mock_path)?).map_err(|e| format!("{}: {e}", mock_path.display()))?;
        let cases_value = top
            .get("TestCases")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("TestCases", "is required, an object"))?;
        if cases_value.is_empty() {
            return Err(bad("TestCases", "holds no case"));
        }
        let mut cases = Vec::new();
        for (name, body) in cases_value {
            let at = format!("TestCases.{name}");
            let body = body.as_object().ok_or_else(|| bad(&at, "must be an object"))?;
            for key in body.keys() {
                if !["Comment", "Input", "InputFile", "Expect"].contains(&key.as_str()) {
                    return Err(bad(
                        &format!("{at}.{key}"),
                        "not a field of a test case (Input, InputFile, Expect, Comment)",
                    ));
                }
            }
            let input = match (body.get("Input"), body.get("InputFile").and_then(Value::as_str)) {
                (Some(input), None) => input.clone(),
                (None, Some(file)) => read_json(&here.join(file)).map_err(|e| bad(&format!("{at}.InputFile"), &e))?,
                _ => return Err(bad(&at, "needs exactly one of Input and InputFile")),
            };
            if mocks.case(machine, name).is_none() {
                return Err(bad(
                    &at,
                    &format!("{} has no test case {name:?} for the state machine {machine:?}", mock_path.display()),
                ));
            }
            let expect = parse_expect(body.get("Expect"), &format!("{at}.Expect")).map_err(|(at, m)| bad(&at, &m))?;
            cases.push(Case { name: name.to_string(), input, expect });
        }
        Ok(Suite { path: path.to_path_buf(), machine: machine.to_owned(), mocks, cases })
    }
}

fn parse_expect(value: Option<&Value>, at: &str) -> Result<Expect, (String, String)> {
    let body = value.and_then(Value::as_object).ok_or_else(|| (at.to_owned(), "is required, an object".to_owned()))?;
    let text = |key: &str| -> Result<Option<String>, (String, String)> {
        match body.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.to_string())),
            Some(_) => Err((format!("{at}.{key}"), "must be a string".into())),
        }
    };
    for key in body.keys() {
        if !["Status", "Output", "OutputIncludes", "Error", "Cause", "States"].contains(&key.as_str()) {
            return Err((
                format!("{at}.{key}"),
                "not an expectation (Status, Output, OutputIncludes, Error, Cause, States)".into(),
            ));
        }
    }
    let status = text("Status")?;
    if let Some(s) = &status
        && !["SUCCEEDED", "FAILED", "TIMED_OUT"].contains(&s.as_str())
    {
        return Err((format!("{at}.Status"), "must be SUCCEEDED, FAILED or TIMED_OUT".into()));
    }
    let states = match body.get("States") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|s| {
                    s.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| (format!("{at}.States"), "must hold state names".into()))
                })
                .collect::<Result<_, _>>()?,
        ),
        Some(_) => return Err((format!("{at}.States"), "must be an array of state names".into())),
    };
    let expect = Expect {
        status,
        output: body.get("Output").cloned(),
        output_includes: body.get("OutputIncludes").cloned(),
        error: text("Error")?,
        cause: text("Cause")?,
        states,
    };
    if expect == Expect::default() {
        return Err((at.to_owned(), "expects nothing".into()));
    }
    Ok(expect)
}

/// Tasks a case does not mock fail it: a test never reaches real functions.
struct Unmocked(Mutex<Vec<String>>);

impl Invoker for Unmocked {
    fn invoke<'a>(&'a self, function: &'a str, _: &'a Value) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(function.to_owned());
        Box::pin(std::future::ready(Err(TaskFailure {
            error: "orderflow.Unmocked".into(),
            cause: format!("the test case mocks no answer for the task calling {function}"),
        })))
    }
}

/// Service Tasks too: a case mocks every AWS call its execution makes.
impl orderflow_asl::Services for Unmocked {
    fn call<'a>(
        &'a self,
        task: &'a orderflow_asl::model::ServiceTask,
        _: &'a Value,
        _: orderflow_asl::Caller<'a>,
    ) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        let name = format!("{}:{}", task.resource_type, task.resource);
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(name.clone());
        Box::pin(std::future::ready(Err(TaskFailure {
            error: "orderflow.Unmocked".into(),
            cause: format!("the test case mocks no answer for the task calling {name}"),
        })))
    }

    fn run_job<'a>(
        &'a self,
        task: &'a orderflow_asl::model::ServiceTask,
        parameters: &'a Value,
        caller: orderflow_asl::Caller<'a>,
        _: orderflow_asl::Submitted<'a>,
    ) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        self.call(task, parameters, caller)
    }
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    pub name: String,
    pub problems: Vec<String>,
    pub seconds: f64,
    pub states: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub cases: Vec<CaseResult>,
    /// Every coverage item (`state ValidateData`, `ValidateData.Retry[0]`, ...) and whether a case took it.
    pub coverage: Vec<(&'static str, String, bool)>,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.cases.iter().filter(|c| !c.problems.is_empty()).count()
    }

    pub fn coverage_percent(&self) -> f64 {
        if self.coverage.is_empty() {
            return 100.0;
        }
        self.coverage.iter().filter(|(_, _, covered)| *covered).count() as f64 * 100.0 / self.coverage.len() as f64
    }

    /// `covered/total` per kind of item.
    pub fn coverage_by_kind(&self) -> Vec<(&'static str, usize, usize)> {
        ["states", "choice branches", "retry entries", "catch entries"]
            .into_iter()
            .map(|kind| {
                let items: Vec<_> = self.coverage.iter().filter(|(k, _, _)| *k == kind).collect();
                (kind, items.iter().filter(|(_, _, c)| *c).count(), items.len())
            })
            .collect()
    }
}

/// Everything the definition offers to cover.
fn coverage_items(machine: &StateMachine, out: &mut Vec<(&'static str, String)>) {
    for state in &machine.states {
        let name = &*state.name;
        out.push(("states", name.to_owned()));
        if let Kind::Choice { choices, default, .. } = &state.kind {
            out.extend((0..choices.len()).map(|i| ("choice branches", format!("{name}.Choices[{i}]"))));
            if default.is_some() {
                out.push(("choice branches", format!("{name}.Default")));
            }
        }
        out.extend((0..state.retry.len()).map(|i| ("retry entries", format!("{name}.Retry[{i}]"))));
        out.extend((0..state.catch.len()).map(|i| ("catch entries", format!("{name}.Catch[{i}]"))));
        match &state.kind {
            Kind::Parallel { branches } => branches.iter().for_each(|b| coverage_items(b, out)),
            Kind::Map(spec) => coverage_items(&spec.processor, out),
            _ => {}
        }
    }
}

/// Where `actual` differs from `expected` (`subset`: only the keys expected).
fn difference(expected: &Value, actual: &Value, subset: bool, at: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let here = format!("{at}.{k}");
                match a.get(k) {
                    None => return Some(format!("{here} is missing (expected {ev})")),
                    Some(av) => {
                        if let Some(d) = difference(ev, av, subset, &here) {
                            return Some(d);
                        }
                    }
                }
            }
            if !subset && let Some(k) = a.keys().find(|k| !e.contains_key(k)) {
                return Some(format!("{at}.{k} is not expected (it is {})", a[k]));
            }
            None
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a.iter())
            .enumerate()
            .find_map(|(i, (ev, av))| difference(ev, av, subset, &format!("{at}[{i}]"))),
        (e, a) if e == a => None,
        (e, a) => Some(format!("{at} is {a}, expected {e}")),
    }
}

async fn run_case(machine: &StateMachine, suite: &Suite, case: &Case) -> (CaseResult, Vec<orderflow_asl::RuleTaken>) {
    let started = Instant::now();
    let mocks = suite.mocks.case(&suite.machine, &case.name).expect("checked when the suite loaded");
    let invoker = Unmocked(Mutex::new(Vec::new()));
    let clock = VirtualClock::default();
    let options = ExecutionOptions {
        name: case.name.as_str().into(),
        state_machine_name: suite.machine.as_str().into(),
        ..Default::default()
    };
    let execution = Executor::new(machine, &invoker, &clock, options)
        .with_mocks(&mocks)
        .with_services(&invoker)
        .run(case.input.clone())
        .await;
    let states = execution.history.states_entered();
    let status =
        serde_json::to_value(execution.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let mut problems = Vec::new();
    for function in invoker.0.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        problems.push(format!("a task called {function}, which this case does not mock"));
    }
    let e = &case.expect;
    if let Some(want) = &e.status
        && *want != status
    {
        let detail = match (&execution.error, &execution.cause) {
            (Some(error), cause) => format!(" (error {error}, cause {})", cause.as_deref().unwrap_or("none")),
            _ => String::new(),
        };
        problems.push(format!("status is {status}{detail}, expected {want}"));
    }
    let output = execution.output.as_deref().cloned().unwrap_or(Value::Null);
    if let Some(want) = &e.output
        && let Some(d) = difference(want, &output, false, "$")
    {
        problems.push(format!("output differs: {d}\n  output:   {output}\n  expected: {want}"));
    }
    if let Some(want) = &e.output_includes
        && let Some(d) = difference(want, &output, true, "$")
    {
        problems.push(format!("output differs: {d}\n  output:   {output}"));
    }
    for (what, want, got) in [("error", &e.error, &execution.error), ("cause", &e.cause, &execution.cause)] {
        if let Some(want) = want
            && Some(want) != got.as_ref()
        {
            problems.push(format!(
                "{what} is {}, expected {want:?}",
                got.as_deref().map_or("none".into(), |g| format!("{g:?}"))
            ));
        }
    }
    if let Some(want) = &e.states
        && *want != states
    {
        problems.push(format!("states visited: {}\n  expected:       {}", states.join(" → "), want.join(" → ")));
    }
    let result = CaseResult { name: case.name.clone(), problems, seconds: started.elapsed().as_secs_f64(), states };
    (result, execution.rules_taken)
}

/// Runs every case at once (virtual time: Waits and retry delays cost nothing).
pub async fn run(machine: &StateMachine, suite: &Suite) -> Report {
    let runs = suite.cases.iter().map(|case| run_case(machine, suite, case));
    let outcomes = futures_util::future::join_all(runs).await;
    let mut entered = BTreeSet::new();
    let mut taken = BTreeSet::new();
    let mut cases = Vec::new();
    for (result, rules) in outcomes {
        entered.extend(result.states.iter().cloned());
        taken.extend(rules.into_iter().map(|r| match r.list {
            "Default" => format!("{}.Default", r.state),
            list => format!("{}.{list}[{}]", r.state, r.index),
        }));
        cases.push(result);
    }
    let mut items = Vec::new();
    coverage_items(machine, &mut items);
    let coverage = items
        .into_iter()
        .map(|(kind, label)| {
            let covered = if kind == "states" { entered.contains(&label) } else { taken.contains(&label) };
            (kind, label, covered)
        })
        .collect();
    Report { cases, coverage }
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The report as JUnit XML, for CI.
pub fn junit(suite: &Suite, report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total: f64 = report.cases.iter().map(|c| c.seconds).sum();
    out.push_str(&format!(
        "<testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" time=\"{total:.3}\">\n",
        xml(&suite.path.display().to_string()),
        report.cases.len(),
        report.failed()
    ));
    for case in &report.cases {
        out.push_str(&format!(
            "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            xml(&suite.machine),
            xml(&case.name),
            case.seconds
        ));
        if case.problems.is_empty() {
            out.push_str("/>\n");
        } else {
            out.push_str(&format!(
                ">\n    <failure message=\"{}\">{}</failure>\n  </testcase>\n",
                xml(case.problems[0].lines().next().unwrap_or_default()),
                xml(&case.problems.join("\n"))
            ));
        }
    }
    out.push_str("</testsuite>\n");
    out
}
