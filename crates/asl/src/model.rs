//! Amazon States Language (both query languages) compiled into the form the
//! executor runs: states addressed by index, every path, template, intrinsic
//! call, JSONata expression and Choice rule parsed once, timestamps parsed.
//! Every definition error surfaces here with its location
//! (`States.X.Parameters.a.b.$`). Features this executor does not run are
//! refused by name.

use std::collections::HashMap;

use orderflow_value::{Map, Value};
use time::OffsetDateTime;

use crate::choice::{self, Rule};
use crate::intrinsics::{self, Call};
use crate::jsonata::{self, Expression};
use crate::path::{Path, ReferencePath};
use crate::template::Template;

#[derive(Debug, Clone, PartialEq)]
pub struct DefinitionError {
    /// Where, e.g. `States.ValidateData.Retry[0].BackoffRate`.
    pub location: String,
    pub message: String,
}

impl std::fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl std::error::Error for DefinitionError {}

pub(crate) fn def_err(location: impl Into<String>, message: impl Into<String>) -> DefinitionError {
    DefinitionError { location: location.into(), message: message.into() }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StateMachine {
    pub comment: Option<String>,
    pub start_at: Target,
    /// In name order (a JSON object's order is not kept).
    pub states: Vec<State>,
    pub timeout_seconds: Option<u64>,
    /// Map iterators run as a Distributed Map's child executions.
    pub distributed: bool,
    /// Whether any state here or in a branch or iterator assigns a variable:
    /// without, no execution needs a variable frame of its own.
    pub assigns: bool,
}

impl StateMachine {
    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.iter().find(|s| &*s.name == name)
    }
}

/// A transition's target: the state's name, and its index once resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    pub index: usize,
}

/// Not resolved: the name is not a state of the machine (lint reports it).
pub const UNRESOLVED: usize = usize::MAX;

impl Target {
    fn new(name: &str) -> Target {
        Target { name: name.to_owned(), index: UNRESOLVED }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Shared with every history event that names the state.
    pub name: std::sync::Arc<str>,
    pub kind: Kind,
    pub io: Io,
    pub transition: Transition,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    /// Workflow variables the state sets (`Assign`): a template like Parameters.
    pub assign: Option<Template>,
    /// A JSONata state: its templates hold expressions reading `$states`,
    /// and `io` has only `parameters` (Arguments) and `output`.
    pub jsonata: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    Next(Target),
    End,
    /// Choice, Succeed and Fail choose (or end) by themselves.
    Own,
}

/// Input and output processing. `None` for InputPath/OutputPath means JSON
/// `null` (an empty object); for ResultPath, discard the result.
#[derive(Debug, Clone, PartialEq)]
pub struct Io {
    pub input_path: Option<Path>,
    pub output_path: Option<Path>,
    /// Shared: a Task's history event may keep it to show its parameters.
    pub parameters: Option<std::sync::Arc<Template>>,
    /// Shared: a Task's history event may keep it to put the task's result
    /// back together from what it moved out.
    pub result_selector: Option<std::sync::Arc<Template>>,
    /// How a Task's ResultSelector takes what it selects from the result.
    pub result_selection: Selection,
    pub result_path: Option<ReferencePath>,
    /// A JSONata state's Output: the state's output in place of its result (or input).
    pub output: Option<Template>,
}

/// How a Task's ResultSelector takes what it selects from the task result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Filled by copying, as any template is.
    Copies,
    /// Moved out ([`Template::moves_selections`]): the history keeps the rest.
    Moves,
    /// Moved out of the function's answer: every path is under `$.Payload`
    /// of a lambda:invoke result, whose envelope is then only built when the
    /// history is read.
    MovesFromPayload,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub full_jitter: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub result_path: Option<ReferencePath>,
    pub next: Target,
    /// Variables set when this catcher takes the error (`$` is the error output).
    pub assign: Option<Template>,
    /// A JSONata catcher's Output (`$states.errorOutput` when absent).
    pub output: Option<Template>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    /// `arn:aws:states:::lambda:invoke`: FunctionName and Payload in Parameters,
    /// the result wrapped as `{"Payload": ..., "StatusCode": 200, ...}`.
    LambdaInvoke,
    /// `arn:aws:states:::lambda:invoke.waitForTaskToken`: the function is
    /// invoked with the task token (`$$.Task.Token`) and the task waits until
    /// SendTaskSuccess or SendTaskFailure names that token.
    LambdaInvokeCallback,
    /// A Lambda function ARN as the Resource: the input is the payload, the
    /// result is the function's output as it is.
    Function(String),
}

/// A number given in the definition, or read from the input by a `...Path` field.
#[derive(Debug, Clone, PartialEq)]
pub enum Given<T> {
    Value(T),
    Path(Path),
    /// A JSONata state's `{% ... %}`.
    Expr(Expression),
}

#[derive(Debug, Clone, PartialEq)]
pub enum WaitFor {
    Seconds(u64),
    SecondsPath(Path),
    Timestamp(OffsetDateTime),
    TimestampPath(Path),
    /// A JSONata state's `"Seconds": "{% ... %}"`.
    SecondsExpr(Expression),
    TimestampExpr(Expression),
}

/// A Fail state's Error or Cause.
#[derive(Debug, Clone, PartialEq)]
pub enum Text {
    Literal(String),
    Path(Path),
    Call(Call),
    Expr(Expression),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MapSpec {
    pub processor: Box<StateMachine>,
    pub items_path: Path,
    /// A JSONata Map's Items: an array, or an expression giving one (the
    /// state's input when absent).
    pub items: Option<Template>,
    pub item_selector: Option<Template>,
    /// 0: no limit.
    pub max_concurrency: Given<u64>,
    pub tolerated_failure_count: Option<Given<i64>>,
    pub tolerated_failure_percentage: Option<Given<f64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// The Result, shared, with the length of its JSON text.
    Pass {
        result: Option<(std::sync::Arc<Value>, usize)>,
    },
    Task {
        resource: Resource,
        timeout_seconds: Option<Given<u64>>,
        /// For a callback task: how long without a heartbeat before States.HeartbeatTimeout.
        heartbeat_seconds: Option<Given<u64>>,
    },
    Choice {
        choices: Vec<(Rule, Target)>,
        default: Option<Target>,
        /// Each rule's own Assign, by the rule's index.
        assigns: Vec<Option<Template>>,
        /// Each JSONata rule's own Output, by the rule's index.
        outputs: Vec<Option<Template>>,
    },
    Wait(WaitFor),
    Succeed,
    Fail {
        error: Option<Text>,
        cause: Option<Text>,
    },
    Parallel {
        branches: Vec<StateMachine>,
    },
    Map(Box<MapSpec>),
}

impl Kind {
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Pass { .. } => "Pass",
            Kind::Task { .. } => "Task",
            Kind::Choice { .. } => "Choice",
            Kind::Wait(_) => "Wait",
            Kind::Succeed => "Succeed",
            Kind::Fail { .. } => "Fail",
            Kind::Parallel { .. } => "Parallel",
            Kind::Map(_) => "Map",
        }
    }
}

/// Fields Step Functions knows that this executor does not run, and why.
const UNSUPPORTED_FIELDS: &[(&str, &str)] = &[
    ("Credentials", "cross-account task credentials (Credentials)"),
    ("ItemReader", "Distributed Map's ItemReader (items read from S3)"),
    ("ItemBatcher", "Distributed Map's ItemBatcher"),
    ("ResultWriter", "Distributed Map's ResultWriter (results written to S3)"),
];

const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];
const FLOW: &[&str] = &["Next", "End"];
const IO: &[&str] = &["InputPath", "OutputPath"];
const RESULT: &[&str] = &["Parameters", "ResultSelector", "ResultPath"];
const ERRORS: &[&str] = &["Retry", "Catch"];
/// Fields of the JSONPath query language only (JSONata's own are listed per state type).
const JSONPATH_ONLY: &[&str] = &[
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Result",
    "ItemsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
];

/// Step Functions' hard quota on a definition's size.
pub const MAX_DEFINITION_BYTES: usize = 1024 * 1024;

/// Parses, compiles and checks a definition: what this returns can run.
pub fn parse(definition: &Value) -> Result<StateMachine, DefinitionError> {
    let machine = parse_unchecked(definition)?;
    match crate::lint::lint(&machine).into_iter().next() {
        Some(finding) => Err(finding),
        None => Ok(machine),
    }
}

pub fn parse_str(text: &str) -> Result<StateMachine, DefinitionError> {
    let value: Value = orderflow_value::parse(text).map_err(|e| def_err("(definition)", format!("not JSON: {e}")))?;
    parse(&value)
}

/// Parses and compiles without the whole-machine checks of [`crate::lint`],
/// for tools that report every finding.
pub fn parse_unchecked(definition: &Value) -> Result<StateMachine, DefinitionError> {
    if crate::pipeline::json_len(definition) > MAX_DEFINITION_BYTES {
        return Err(def_err("(definition)", "is larger than 1 MB (1,048,576 bytes), Step Functions' quota"));
    }
    let mut machine = parse_machine(definition, "", false, false)?;
    resolve(&mut machine);
    Ok(machine)
}

fn resolve(machine: &mut StateMachine) {
    let index: HashMap<std::sync::Arc<str>, usize> =
        machine.states.iter().enumerate().map(|(i, s)| (s.name.clone(), i)).collect();
    let fix = |t: &mut Target| t.index = index.get(t.name.as_str()).copied().unwrap_or(UNRESOLVED);
    fix(&mut machine.start_at);
    for state in &mut machine.states {
        if let Transition::Next(t) = &mut state.transition {
            fix(t);
        }
        for c in &mut state.catch {
            fix(&mut c.next);
        }
        match &mut state.kind {
            Kind::Choice { choices, default, .. } => {
                choices.iter_mut().for_each(|(_, t)| fix(t));
                if let Some(d) = default {
                    fix(d);
                }
            }
            Kind::Parallel { branches } => branches.iter_mut().for_each(resolve),
            Kind::Map(spec) => resolve(&mut spec.processor),
            _ => {}
        }
    }
}

/// Whether `obj` uses JSONata: its own QueryLanguage, else `inherited`.
fn query_language(obj: &Map, at: &str, inherited: bool) -> Result<bool, DefinitionError> {
    match obj.get("QueryLanguage") {
        None => Ok(inherited),
        Some(language) => match language.as_str() {
            // A JSONata machine's states cannot go back to JSONPath, as in AWS.
            Some("JSONPath") if inherited => {
                Err(def_err(at, "cannot be JSONPath in a state machine whose QueryLanguage is JSONata"))
            }
            Some("JSONPath") => Ok(false),
            Some("JSONata") => Ok(true),
            _ => Err(def_err(at, "must be \"JSONPath\" or \"JSONata\"")),
        },
    }
}

fn parse_machine(value: &Value, at: &str, distributed: bool, jsonata: bool) -> Result<StateMachine, DefinitionError> {
    let here = |field: &str| if at.is_empty() { field.to_owned() } else { format!("{at}.{field}") };
    let obj = value
        .as_object()
        .ok_or_else(|| def_err(if at.is_empty() { "(definition)" } else { at }, "must be a JSON object"))?;
    let jsonata = query_language(obj, &here("QueryLanguage"), jsonata)?;
    for key in obj.keys() {
        if !["Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage", "ProcessorConfig"]
            .contains(&key.as_str())
        {
            return Err(def_err(here(key), "unknown field"));
        }
    }
    let start_at = string(obj, "StartAt", &here("StartAt"))?.ok_or_else(|| def_err(here("StartAt"), "is required"))?;
    let states_value = obj.get("States").ok_or_else(|| def_err(here("States"), "is required"))?;
    let states_obj = states_value.as_object().ok_or_else(|| def_err(here("States"), "must be an object"))?;
    if states_obj.is_empty() {
        return Err(def_err(here("States"), "must hold at least one state"));
    }
    let mut states = Vec::with_capacity(states_obj.len());
    for (name, state) in states_obj {
        if name.is_empty() || name.chars().count() > 80 {
            return Err(def_err(here("States"), format!("state name {name:?} must be 1 to 80 characters")));
        }
        states.push(parse_state(name, state, &here(&format!("States.{name}")), jsonata)?);
    }
    let assigns = states.iter().any(|s| {
        s.assign.is_some()
            || s.catch.iter().any(|c| c.assign.is_some())
            || match &s.kind {
                Kind::Choice { assigns, .. } => assigns.iter().any(Option::is_some),
                Kind::Parallel { branches } => branches.iter().any(|b| b.assigns),
                Kind::Map(spec) => spec.processor.assigns,
                _ => false,
            }
    });
    Ok(StateMachine {
        comment: obj.get("Comment").and_then(Value::as_str).map(str::to_owned),
        start_at: Target::new(&start_at),
        assigns,
        states,
        timeout_seconds: positive(obj, "TimeoutSeconds", &here("TimeoutSeconds"))?,
        distributed,
    })
}

fn string(obj: &Map, key: &str, at: &str) -> Result<Option<String>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.to_string())),
        Some(_) => Err(def_err(at, "must be a string")),
    }
}

fn positive(obj: &Map, key: &str, at: &str) -> Result<Option<u64>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 => Ok(Some(n)),
            _ => Err(def_err(at, "must be a positive integer")),
        },
    }
}

fn number(obj: &Map, key: &str, at: &str) -> Result<Option<f64>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| def_err(at, "must be a number")),
    }
}

fn compile_path(text: &str, at: &str) -> Result<Path, DefinitionError> {
    Path::parse(text).map_err(|e| def_err(at, e))
}

/// A path field: absent is `$`, `null` is `None`.
fn path_field(obj: &Map, key: &str, at: &str) -> Result<Option<Path>, DefinitionError> {
    match obj.get(key) {
        None => Ok(Some(compile_path("$", at)?)),
        Some(Value::Null) => Ok(None),
        Some(Value::String(p)) if p.starts_with('$') => Ok(Some(compile_path(p, at)?)),
        Some(_) => Err(def_err(at, "must be a path starting with $, or null")),
    }
}

/// A `...Path` field that must be given as a path.
fn required_path(obj: &Map, key: &str, at: &str) -> Result<Option<Path>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(p)) if p.starts_with('$') => Ok(Some(compile_path(p, at)?)),
        Some(_) => Err(def_err(at, "must be a path starting with $")),
    }
}

/// One of `Key` and `KeyPath`, or neither.
fn given<T>(
    obj: &Map,
    key: &str,
    at: &str,
    literal: impl Fn(&Value) -> Option<T>,
    wanted: &str,
) -> Result<Option<Given<T>>, DefinitionError> {
    let path_key = format!("{key}Path");
    match (obj.get(key), required_path(obj, &path_key, &format!("{at}.{path_key}"))?) {
        (Some(_), Some(_)) => Err(def_err(at, format!("has both {key} and {path_key}"))),
        (Some(v), None) => {
            literal(v).map(|v| Some(Given::Value(v))).ok_or_else(|| def_err(format!("{at}.{key}"), wanted))
        }
        (None, Some(p)) => Ok(Some(Given::Path(p))),
        (None, None) => Ok(None),
    }
}

fn parse_state(name: &str, value: &Value, at: &str, machine_jsonata: bool) -> Result<State, DefinitionError> {
    let obj = value.as_object().ok_or_else(|| def_err(at, "must be a JSON object"))?;
    let field = |f: &str| format!("{at}.{f}");
    let jsonata = query_language(obj, &field("QueryLanguage"), machine_jsonata)?;
    let kind_name = string(obj, "Type", &field("Type"))?.ok_or_else(|| def_err(field("Type"), "is required"))?;
    let allowed: Vec<&str> = match kind_name.as_str() {
        "Pass" => [COMMON, FLOW, IO, &["Parameters", "ResultPath", "Result", "Assign"]].concat(),
        "Task" => [
            COMMON,
            FLOW,
            IO,
            RESULT,
            ERRORS,
            &["Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Assign"],
        ]
        .concat(),
        "Choice" => [COMMON, IO, &["Choices", "Default", "Assign"]].concat(),
        "Wait" => [COMMON, FLOW, IO, &["Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign"]].concat(),
        "Succeed" => [COMMON, IO].concat(),
        "Fail" => [COMMON, &["Error", "ErrorPath", "Cause", "CausePath"]].concat(),
        "Parallel" => [COMMON, FLOW, IO, RESULT, ERRORS, &["Branches", "Assign"]].concat(),
        "Map" => [
            COMMON,
            FLOW,
            IO,
            RESULT,
            ERRORS,
            &[
                "ItemsPath",
                "ItemSelector",
                "ItemProcessor",
                "Iterator",
                "MaxConcurrency",
                "MaxConcurrencyPath",
                "ToleratedFailureCount",
                "ToleratedFailureCountPath",
                "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath",
                "Label",
                "Assign",
            ],
        ]
        .concat(),
        other => return Err(def_err(field("Type"), format!("unknown state type {other:?}"))),
    };
    let jsonata_fields: &[&str] = match kind_name.as_str() {
        "Task" | "Parallel" => &["Arguments", "Output"],
        "Map" => &["Items", "Output"],
        "Fail" => &[],
        _ => &["Output"],
    };
    for key in obj.keys() {
        if let Some((_, feature)) = UNSUPPORTED_FIELDS.iter().find(|(f, _)| f == key) {
            return Err(def_err(field(key), format!("{feature} is not supported by this executor yet")));
        }
        let key = key.as_str();
        if jsonata && JSONPATH_ONLY.contains(&key) && allowed.contains(&key) {
            return Err(def_err(
                field(key),
                format!("is a field of the JSONPath query language; this {kind_name} state uses JSONata"),
            ));
        }
        if !jsonata && jsonata_fields.contains(&key) {
            return Err(def_err(
                field(key),
                format!(
                    "is a field of the JSONata query language; this {kind_name} state uses JSONPath (set \"QueryLanguage\": \"JSONata\")"
                ),
            ));
        }
        let own = allowed.contains(&key) || (jsonata && jsonata_fields.contains(&key));
        if !own {
            return Err(def_err(field(key), format!("is not a field of a {kind_name} state")));
        }
    }
    if jsonata {
        return parse_jsonata_state(name, obj, at, &kind_name);
    }

    let transition = transition(obj, at, &kind_name)?;
    let mut io = Io {
        input_path: path_field(obj, "InputPath", &field("InputPath"))?,
        output_path: path_field(obj, "OutputPath", &field("OutputPath"))?,
        parameters: template_field(obj, "Parameters", &field("Parameters"))?.map(std::sync::Arc::new),
        result_selector: template_field(obj, "ResultSelector", &field("ResultSelector"))?.map(std::sync::Arc::new),
        result_selection: Selection::Copies,
        result_path: result_path_field(obj, &field("ResultPath"))?,
        output: None,
    };
    let retry = list_field(obj, "Retry", at, parse_retrier)?;
    let catch = list_field(obj, "Catch", at, |v, at| parse_catcher(v, at, false))?;

    let kind = match kind_name.as_str() {
        "Pass" => Kind::Pass {
            result: obj.get("Result").map(|r| (std::sync::Arc::new(r.clone()), crate::pipeline::json_len(r))),
        },
        "Task" => {
            let seconds = |v: &Value| v.as_u64().filter(|n| *n > 0);
            let timeout_seconds = given(obj, "TimeoutSeconds", at, seconds, "must be a positive integer")?;
            let heartbeat = given(obj, "HeartbeatSeconds", at, seconds, "must be a positive integer")?;
            if let (Some(Given::Value(t)), Some(Given::Value(h))) = (&timeout_seconds, &heartbeat)
                && h >= t
            {
                return Err(def_err(field("HeartbeatSeconds"), "must be smaller than TimeoutSeconds"));
            }
            Kind::Task {
                resource: parse_resource(obj.get("Resource"), &field("Resource"))?,
                timeout_seconds,
                heartbeat_seconds: heartbeat,
            }
        }
        "Choice" => {
            let parsed = non_empty_list_field(obj, "Choices", at, choice::parse_top_rule)?;
            let mut choices = Vec::with_capacity(parsed.len());
            let mut assigns = Vec::with_capacity(parsed.len());
            for (i, (rule, next, assign)) in parsed.into_iter().enumerate() {
                choices.push((rule, Target::new(&next)));
                let at = format!("{}[{i}].Assign", field("Choices"));
                assigns.push(match assign {
                    Some(v) => Some(Template::compile(&v).map_err(|(inner, m)| def_err(format!("{at}{inner}"), m))?),
                    None => None,
                });
            }
            let default = string(obj, "Default", &field("Default"))?.map(|d| Target::new(&d));
            let outputs = vec![None; choices.len()];
            Kind::Choice { choices, default, assigns, outputs }
        }
        "Wait" => {
            let given: Vec<&str> = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
                .into_iter()
                .filter(|k| obj.contains_key(k))
                .collect();
            if given.len() != 1 {
                return Err(def_err(at, "needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath"));
            }
            let text = |k: &str| string(obj, k, &field(k)).map(Option::unwrap_or_default);
            Kind::Wait(match given[0] {
                "Seconds" => WaitFor::Seconds(
                    obj["Seconds"]
                        .as_u64()
                        .ok_or_else(|| def_err(field("Seconds"), "must be a non-negative integer"))?,
                ),
                "SecondsPath" => WaitFor::SecondsPath(compile_path(&text("SecondsPath")?, &field("SecondsPath"))?),
                "Timestamp" => WaitFor::Timestamp(
                    choice::parse_timestamp(&text("Timestamp")?)
                        .ok_or_else(|| def_err(field("Timestamp"), "must be an ISO-8601 timestamp"))?,
                ),
                _ => WaitFor::TimestampPath(compile_path(&text("TimestampPath")?, &field("TimestampPath"))?),
            })
        }
        "Succeed" => Kind::Succeed,
        "Fail" => Kind::Fail { error: fail_text(obj, "Error", at)?, cause: fail_text(obj, "Cause", at)? },
        "Parallel" => Kind::Parallel {
            branches: non_empty_list_field(obj, "Branches", at, |v, at| parse_machine(v, at, false, false))?,
        },
        _ => {
            let processor = map_processor(obj, at, false)?;
            if obj.contains_key("ItemSelector") && obj.contains_key("Parameters") {
                return Err(def_err(at, "has both ItemSelector and Parameters"));
            }
            let items_path = path_field(obj, "ItemsPath", &field("ItemsPath"))?
                .ok_or_else(|| def_err(field("ItemsPath"), "must be a path, not null"))?;
            let max_concurrency = given(obj, "MaxConcurrency", at, Value::as_u64, "must be a non-negative integer")?
                .unwrap_or(Given::Value(0));
            let tolerated_failure_count =
                given(obj, "ToleratedFailureCount", at, Value::as_i64, "must be a non-negative integer")?;
            if let Some(Given::Value(c)) = tolerated_failure_count
                && c < 0
            {
                return Err(def_err(field("ToleratedFailureCount"), "must be a non-negative integer"));
            }
            let tolerated_failure_percentage =
                given(obj, "ToleratedFailurePercentage", at, Value::as_f64, "must be a number between 0 and 100")?;
            if let Some(Given::Value(p)) = tolerated_failure_percentage
                && !(0.0..=100.0).contains(&p)
            {
                return Err(def_err(field("ToleratedFailurePercentage"), "must be between 0 and 100"));
            }
            // Parameters is the older name of ItemSelector in a Map state.
            let item_selector = match template_field(obj, "ItemSelector", &field("ItemSelector"))? {
                Some(selector) => Some(selector),
                None => io.parameters.take().map(std::sync::Arc::unwrap_or_clone),
            };
            Kind::Map(Box::new(MapSpec {
                processor,
                items_path,
                items: None,
                item_selector,
                max_concurrency,
                tolerated_failure_count,
                tolerated_failure_percentage,
            }))
        }
    };
    let assign = template_field(obj, "Assign", &field("Assign"))?;
    // Only a Task's history and its Assign see its result whole, and the
    // history can put it back together: without an Assign, the selector moves.
    io.result_selection = match (&kind, &io.result_selector) {
        (Kind::Task { resource, .. }, Some(selector)) if assign.is_none() && selector.moves_selections() => {
            if *resource == Resource::LambdaInvoke && selector.reads_only_under("Payload") {
                Selection::MovesFromPayload
            } else {
                Selection::Moves
            }
        }
        _ => Selection::Copies,
    };
    Ok(State { name: name.into(), kind, io, transition, retry, catch, assign, jsonata: false })
}

fn transition(obj: &Map, at: &str, kind_name: &str) -> Result<Transition, DefinitionError> {
    Ok(match kind_name {
        "Choice" | "Succeed" | "Fail" => Transition::Own,
        _ => match (obj.get("Next"), obj.get("End")) {
            (Some(Value::String(next)), None) => Transition::Next(Target::new(next)),
            (None, Some(Value::Bool(true))) => Transition::End,
            (Some(_), Some(_)) => return Err(def_err(at, "has both Next and End")),
            (None, None) | (None, Some(Value::Bool(false))) => return Err(def_err(at, "needs Next or \"End\": true")),
            _ => return Err(def_err(format!("{at}.Next"), "must be a state name (or End must be true)")),
        },
    })
}

/// A Map state's ItemProcessor (or Iterator), inline or distributed.
fn map_processor(obj: &Map, at: &str, jsonata: bool) -> Result<Box<StateMachine>, DefinitionError> {
    let (key, processor) = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
        (Some(p), None) => ("ItemProcessor", p),
        (None, Some(p)) => ("Iterator", p),
        _ => return Err(def_err(at, "needs exactly one of ItemProcessor and Iterator")),
    };
    let distributed = match processor.get("ProcessorConfig").and_then(|c| c.get("Mode")) {
        None => false,
        Some(Value::String(mode)) if mode == "INLINE" => false,
        Some(Value::String(mode)) if mode == "DISTRIBUTED" => true,
        Some(_) => return Err(def_err(format!("{at}.{key}.ProcessorConfig.Mode"), "must be INLINE or DISTRIBUTED")),
    };
    Ok(Box::new(parse_machine(processor, &format!("{at}.{key}"), distributed, jsonata)?))
}

/// A JSONata state (its fields already checked against its type).
fn parse_jsonata_state(name: &str, obj: &Map, at: &str, kind_name: &str) -> Result<State, DefinitionError> {
    let field = |f: &str| format!("{at}.{f}");
    let transition = transition(obj, at, kind_name)?;
    let root = || ReferencePath::parse("$").map_err(|e| def_err(at, e));
    let io = Io {
        input_path: Some(compile_path("$", at)?),
        output_path: Some(compile_path("$", at)?),
        parameters: jsonata_field(obj, "Arguments", at)?.map(std::sync::Arc::new),
        result_selector: None,
        result_selection: Selection::Copies,
        result_path: Some(root()?),
        output: jsonata_field(obj, "Output", at)?,
    };
    let retry = list_field(obj, "Retry", at, parse_retrier)?;
    let catch = list_field(obj, "Catch", at, |v, at| parse_catcher(v, at, true))?;
    let seconds = |v: &Value| v.as_u64().filter(|n| *n > 0);
    let kind =
        match kind_name {
            "Pass" => Kind::Pass { result: None },
            "Task" => Kind::Task {
                resource: parse_resource(obj.get("Resource"), &field("Resource"))?,
                timeout_seconds: jsonata_given(obj, "TimeoutSeconds", at, seconds, "must be a positive integer")?,
                heartbeat_seconds: jsonata_given(obj, "HeartbeatSeconds", at, seconds, "must be a positive integer")?,
            },
            "Choice" => {
                let rules = non_empty_list_field(obj, "Choices", at, parse_condition_rule)?;
                let mut choices = Vec::with_capacity(rules.len());
                let (mut assigns, mut outputs) = (Vec::new(), Vec::new());
                for (rule, next, assign, output) in rules {
                    choices.push((rule, Target::new(&next)));
                    assigns.push(assign);
                    outputs.push(output);
                }
                let default = string(obj, "Default", &field("Default"))?.map(|d| Target::new(&d));
                Kind::Choice { choices, default, assigns, outputs }
            }
            "Wait" => Kind::Wait(match (obj.get("Seconds"), obj.get("Timestamp")) {
                (Some(Value::String(text)), None) if jsonata::is_expression(text) => {
                    WaitFor::SecondsExpr(expression(text, &field("Seconds"))?)
                }
                (Some(v), None) => WaitFor::Seconds(v.as_u64().ok_or_else(|| {
                    def_err(field("Seconds"), "must be a non-negative integer or a JSONata expression")
                })?),
                (None, Some(Value::String(text))) if jsonata::is_expression(text) => {
                    WaitFor::TimestampExpr(expression(text, &field("Timestamp"))?)
                }
                (None, Some(Value::String(text))) => WaitFor::Timestamp(
                    choice::parse_timestamp(text)
                        .ok_or_else(|| def_err(field("Timestamp"), "must be an ISO-8601 timestamp"))?,
                ),
                _ => return Err(def_err(at, "needs exactly one of Seconds and Timestamp")),
            }),
            "Succeed" => Kind::Succeed,
            "Fail" => {
                let text = |key: &str| -> Result<Option<Text>, DefinitionError> {
                    match obj.get(key) {
                        None => Ok(None),
                        Some(Value::String(t)) if jsonata::is_expression(t) => {
                            Ok(Some(Text::Expr(expression(t, &field(key))?)))
                        }
                        Some(Value::String(t)) => Ok(Some(Text::Literal(t.to_string()))),
                        Some(_) => Err(def_err(field(key), "must be a string or a JSONata expression")),
                    }
                };
                Kind::Fail { error: text("Error")?, cause: text("Cause")? }
            }
            "Parallel" => Kind::Parallel {
                branches: non_empty_list_field(obj, "Branches", at, |v, at| parse_machine(v, at, false, true))?,
            },
            _ => {
                let processor = map_processor(obj, at, true)?;
                let count = |v: &Value| v.as_i64().filter(|n| *n >= 0);
                let percentage = |v: &Value| v.as_f64().filter(|p| (0.0..=100.0).contains(p));
                Kind::Map(Box::new(MapSpec {
                    processor,
                    items_path: compile_path("$", at)?,
                    items: jsonata_field(obj, "Items", at)?,
                    item_selector: jsonata_field(obj, "ItemSelector", at)?,
                    max_concurrency: jsonata_given(
                        obj,
                        "MaxConcurrency",
                        at,
                        Value::as_u64,
                        "must be a non-negative integer",
                    )?
                    .unwrap_or(Given::Value(0)),
                    tolerated_failure_count: jsonata_given(
                        obj,
                        "ToleratedFailureCount",
                        at,
                        count,
                        "must be a non-negative integer",
                    )?,
                    tolerated_failure_percentage: jsonata_given(
                        obj,
                        "ToleratedFailurePercentage",
                        at,
                        percentage,
                        "must be a number between 0 and 100",
                    )?,
                }))
            }
        };
    let assign = jsonata_field(obj, "Assign", at)?;
    Ok(State { name: name.into(), kind, io, transition, retry, catch, assign, jsonata: true })
}

fn expression(text: &str, at: &str) -> Result<Expression, DefinitionError> {
    Expression::compile(text).map_err(|m| def_err(at, m))
}

/// A JSONata template field (Arguments, Output, Assign, Items, ItemSelector).
fn jsonata_field(obj: &Map, key: &str, at: &str) -> Result<Option<Template>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => Template::compile_jsonata(v, key)
            .map(Some)
            .map_err(|(inner, message)| def_err(format!("{at}.{key}{inner}"), message)),
    }
}

/// A number a JSONata state gives literally or as an expression.
fn jsonata_given<T>(
    obj: &Map,
    key: &str,
    at: &str,
    literal: impl Fn(&Value) -> Option<T>,
    wanted: &str,
) -> Result<Option<Given<T>>, DefinitionError> {
    let here = format!("{at}.{key}");
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(text)) if jsonata::is_expression(text) => Ok(Some(Given::Expr(expression(text, &here)?))),
        Some(v) => literal(v)
            .map(|v| Some(Given::Value(v)))
            .ok_or_else(|| def_err(here, format!("{wanted} or a JSONata expression"))),
    }
}

/// A JSONata Choice rule: `Condition`, `Next`, and its own `Assign` and `Output`.
fn parse_condition_rule(
    value: &Value,
    at: &str,
) -> Result<(Rule, String, Option<Template>, Option<Template>), DefinitionError> {
    let obj = value.as_object().ok_or_else(|| def_err(at, "must be an object"))?;
    for key in obj.keys() {
        if !["Condition", "Next", "Assign", "Output", "Comment"].contains(&key.as_str()) {
            return Err(def_err(
                format!("{at}.{key}"),
                "is not a field of a JSONata Choice rule (Condition, Next, Assign, Output, Comment)",
            ));
        }
    }
    let condition = match obj.get("Condition") {
        Some(Value::String(text)) if jsonata::is_expression(text) => {
            Rule::Condition(expression(text, &format!("{at}.Condition"))?)
        }
        Some(Value::Bool(b)) => Rule::Constant(*b),
        _ => return Err(def_err(format!("{at}.Condition"), "must be a JSONata expression or a boolean")),
    };
    let next =
        string(obj, "Next", &format!("{at}.Next"))?.ok_or_else(|| def_err(format!("{at}.Next"), "is required"))?;
    Ok((condition, next, jsonata_field(obj, "Assign", at)?, jsonata_field(obj, "Output", at)?))
}

/// A Fail state's `Error`/`ErrorPath` or `Cause`/`CausePath`.
fn fail_text(obj: &Map, key: &str, at: &str) -> Result<Option<Text>, DefinitionError> {
    let path_key = format!("{key}Path");
    match (string(obj, key, &format!("{at}.{key}"))?, string(obj, &path_key, &format!("{at}.{path_key}"))?) {
        (Some(_), Some(_)) => Err(def_err(at, format!("has both {key} and {path_key}"))),
        (Some(text), None) => Ok(Some(Text::Literal(text))),
        (None, Some(text)) => {
            let here = format!("{at}.{path_key}");
            if intrinsics::is_call(&text) {
                Ok(Some(Text::Call(Call::parse(&text).map_err(|e| def_err(here, e))?)))
            } else {
                Ok(Some(Text::Path(compile_path(&text, &here)?)))
            }
        }
        (None, None) => Ok(None),
    }
}

/// An optional array field, each entry parsed at `{at}.{key}[i]`.
fn list_field<T>(
    obj: &Map,
    key: &str,
    at: &str,
    parse_one: impl Fn(&Value, &str) -> Result<T, DefinitionError>,
) -> Result<Vec<T>, DefinitionError> {
    match obj.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            items.iter().enumerate().map(|(i, item)| parse_one(item, &format!("{at}.{key}[{i}]"))).collect()
        }
        Some(_) => Err(def_err(format!("{at}.{key}"), "must be an array")),
    }
}

/// A required array field with at least one entry, each parsed at `{at}.{key}[i]`.
fn non_empty_list_field<T>(
    obj: &Map,
    key: &str,
    at: &str,
    parse_one: impl Fn(&Value, &str) -> Result<T, DefinitionError>,
) -> Result<Vec<T>, DefinitionError> {
    match obj.get(key) {
        Some(Value::Array(items)) if !items.is_empty() => list_field(obj, key, at, parse_one),
        _ => Err(def_err(format!("{at}.{key}"), "must be a non-empty array")),
    }
}

/// A ResultPath: absent is `$`, `null` is `None` (discard the result).
fn result_path_field(obj: &Map, at: &str) -> Result<Option<ReferencePath>, DefinitionError> {
    match obj.get("ResultPath") {
        None => Ok(Some(ReferencePath::parse("$").map_err(|e| def_err(at, e))?)),
        Some(Value::Null) => Ok(None),
        Some(Value::String(p)) => Ok(Some(ReferencePath::parse(p).map_err(|e| def_err(at, e))?)),
        Some(_) => Err(def_err(at, "must be a reference path or null")),
    }
}

fn template_field(obj: &Map, key: &str, at: &str) -> Result<Option<Template>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => Template::compile(v).map(Some).map_err(|(inner, message)| def_err(format!("{at}{inner}"), message)),
    }
}

fn error_names(obj: &Map, at: &str) -> Result<Vec<String>, DefinitionError> {
    let names = obj
        .get("ErrorEquals")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| def_err(format!("{at}.ErrorEquals"), "must be a non-empty array of error names"))?;
    let names: Vec<String> = names
        .iter()
        .map(|n| n.as_str().map(str::to_owned).ok_or_else(|| def_err(format!("{at}.ErrorEquals"), "must hold strings")))
        .collect::<Result<_, _>>()?;
    if names.contains(&"States.ALL".to_owned()) && names.len() > 1 {
        return Err(def_err(format!("{at}.ErrorEquals"), "States.ALL must appear alone"));
    }
    Ok(names)
}

fn parse_retrier(value: &Value, at: &str) -> Result<Retrier, DefinitionError> {
    let obj = value.as_object().ok_or_else(|| def_err(at, "must be an object"))?;
    let field = |f: &str| format!("{at}.{f}");
    for key in obj.keys() {
        if ![
            "ErrorEquals",
            "IntervalSeconds",
            "MaxAttempts",
            "BackoffRate",
            "MaxDelaySeconds",
            "JitterStrategy",
            "Comment",
        ]
        .contains(&key.as_str())
        {
            return Err(def_err(field(key), "is not a field of a retrier"));
        }
    }
    let interval_seconds = match positive(obj, "IntervalSeconds", &field("IntervalSeconds"))? {
        Some(s) => s as f64,
        None => 1.0,
    };
    let max_attempts = match obj.get("MaxAttempts") {
        None => 3,
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| def_err(field("MaxAttempts"), "must be a non-negative integer"))?,
    };
    let backoff_rate = number(obj, "BackoffRate", &field("BackoffRate"))?.unwrap_or(2.0);
    if backoff_rate < 1.0 {
        return Err(def_err(field("BackoffRate"), "must be at least 1.0"));
    }
    let full_jitter = match string(obj, "JitterStrategy", &field("JitterStrategy"))?.as_deref() {
        None | Some("NONE") => false,
        Some("FULL") => true,
        Some(_) => return Err(def_err(field("JitterStrategy"), "must be FULL or NONE")),
    };
    Ok(Retrier {
        error_equals: error_names(obj, at)?,
        interval_seconds,
        max_attempts,
        backoff_rate,
        max_delay_seconds: positive(obj, "MaxDelaySeconds", &field("MaxDelaySeconds"))?.map(|s| s as f64),
        full_jitter,
    })
}

fn parse_catcher(value: &Value, at: &str, jsonata: bool) -> Result<Catcher, DefinitionError> {
    let obj = value.as_object().ok_or_else(|| def_err(at, "must be an object"))?;
    let (own, other, language) =
        if jsonata { ("Output", "ResultPath", "JSONPath") } else { ("ResultPath", "Output", "JSONata") };
    for key in obj.keys() {
        if key == other {
            return Err(def_err(format!("{at}.{key}"), format!("is a field of the {language} query language")));
        }
        if !["ErrorEquals", "Next", "Comment", "Assign", own].contains(&key.as_str()) {
            return Err(def_err(format!("{at}.{key}"), "is not a field of a catcher"));
        }
    }
    let next =
        string(obj, "Next", &format!("{at}.Next"))?.ok_or_else(|| def_err(format!("{at}.Next"), "is required"))?;
    Ok(Catcher {
        error_equals: error_names(obj, at)?,
        result_path: if jsonata {
            Some(ReferencePath::parse("$").map_err(|e| def_err(at, e))?)
        } else {
            result_path_field(obj, &format!("{at}.ResultPath"))?
        },
        next: Target::new(&next),
        assign: if jsonata {
            jsonata_field(obj, "Assign", at)?
        } else {
            template_field(obj, "Assign", &format!("{at}.Assign"))?
        },
        output: if jsonata { jsonata_field(obj, "Output", at)? } else { None },
    })
}

fn parse_resource(value: Option<&Value>, at: &str) -> Result<Resource, DefinitionError> {
    let arn = value.and_then(Value::as_str).ok_or_else(|| def_err(at, "is required and must be a string"))?;
    if let Some(integration) = arn.strip_prefix("arn:aws:states:::") {
        return match integration {
            "lambda:invoke" => Ok(Resource::LambdaInvoke),
            "lambda:invoke.waitForTaskToken" => Ok(Resource::LambdaInvokeCallback),
            i if i.ends_with(".waitForTaskToken") => Err(def_err(
                at,
                format!("the .waitForTaskToken callback pattern ({arn}) is not supported by this executor"),
            )),
            i if i.contains(".sync") => {
                Err(def_err(at, format!("the .sync integration pattern ({arn}) is not supported by this executor")))
            }
            _ => Err(def_err(
                at,
                format!(
                    "the service integration {arn} is not supported by this executor; only lambda:invoke and Lambda function ARNs are"
                ),
            )),
        };
    }
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", name, ..] if !name.is_empty() => Ok(Resource::Function(arn.to_owned())),
        ["arn", _, "states", _, _, "activity", ..] => Err(def_err(at, "activities are not supported by this executor")),
        _ => Err(def_err(at, format!("{arn:?} is not a Lambda function ARN or a supported integration"))),
    }
}

/// The function name in a Lambda ARN or a bare name: `arn:aws:lambda:r:a:function:NAME[:qualifier]` -> `NAME`.
pub fn function_name(arn_or_name: &str) -> &str {
    // The first seven colons, found in one pass over the bytes (every task
    // invocation passes here). Each is ASCII, so slicing at them is safe.
    let mut colons = [0usize; 7];
    let mut found = 0;
    for (i, byte) in arn_or_name.bytes().enumerate() {
        if byte == b':' {
            colons[found] = i;
            found += 1;
            if found == colons.len() {
                break;
            }
        }
    }
    if found < 6 {
        return arn_or_name;
    }
    let field = |n: usize| &arn_or_name[colons[n - 1] + 1..colons[n]];
    let is_function = &arn_or_name[..colons[0]] == "arn" && field(2) == "lambda" && field(5) == "function";
    // The name runs to the qualifier's colon, if there is one.
    let end = if found == 7 { colons[6] } else { arn_or_name.len() };
    if is_function { &arn_or_name[colons[5] + 1..end] } else { arn_or_name }
}
