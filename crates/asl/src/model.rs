//! Amazon States Language (JSONPath query language) parsed into typed states.
//! Every field is checked where it is read, and an error names the state and
//! the field. Features this executor does not run are refused by name.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::choice::{self, Rule};

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
    pub start_at: String,
    /// In definition order is not kept: Step Functions does not use it either.
    pub states: BTreeMap<String, State>,
    pub timeout_seconds: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub name: String,
    pub kind: Kind,
    pub io: Io,
    pub transition: Transition,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    Next(String),
    End,
    /// Choice, Succeed and Fail choose (or end) by themselves.
    Own,
}

/// Input and output processing. `None` for a path means JSON `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct Io {
    pub input_path: Option<String>,
    pub output_path: Option<String>,
    pub parameters: Option<Value>,
    pub result_selector: Option<Value>,
    pub result_path: Option<String>,
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
    pub result_path: Option<String>,
    pub next: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    /// `arn:aws:states:::lambda:invoke`: FunctionName and Payload in Parameters,
    /// the result wrapped as `{"Payload": ..., "StatusCode": 200, ...}`.
    LambdaInvoke,
    /// A Lambda function ARN as the Resource: the input is the payload, the
    /// result is the function's output as it is.
    Function(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum WaitFor {
    Seconds(u64),
    SecondsPath(String),
    Timestamp(String),
    TimestampPath(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Pass {
        result: Option<Value>,
    },
    Task {
        resource: Resource,
        timeout_seconds: Option<u64>,
    },
    Choice {
        choices: Vec<(Rule, String)>,
        default: Option<String>,
    },
    Wait(WaitFor),
    Succeed,
    Fail {
        error: Option<String>,
        error_path: Option<String>,
        cause: Option<String>,
        cause_path: Option<String>,
    },
    Parallel {
        branches: Vec<StateMachine>,
    },
    Map {
        processor: Box<StateMachine>,
        items_path: String,
        item_selector: Option<Value>,
        max_concurrency: u32,
        tolerated_failure_count: Option<u64>,
        tolerated_failure_percentage: Option<f64>,
    },
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
            Kind::Map { .. } => "Map",
        }
    }
}

/// Fields Step Functions knows that this executor does not run, and why.
const UNSUPPORTED_FIELDS: &[(&str, &str)] = &[
    ("Assign", "workflow variables (Assign)"),
    ("Arguments", "the JSONata query language (Arguments)"),
    ("Output", "the JSONata query language (Output)"),
    ("Items", "the JSONata query language (Items)"),
    ("Credentials", "cross-account task credentials (Credentials)"),
    ("HeartbeatSeconds", "task heartbeats (HeartbeatSeconds), which only callback and activity tasks use"),
    ("HeartbeatSecondsPath", "task heartbeats (HeartbeatSecondsPath)"),
    ("TimeoutSecondsPath", "TimeoutSecondsPath"),
    ("ItemReader", "Distributed Map (ItemReader)"),
    ("ItemBatcher", "Distributed Map (ItemBatcher)"),
    ("ResultWriter", "Distributed Map (ResultWriter)"),
    ("Label", "Distributed Map (Label)"),
    ("MaxConcurrencyPath", "MaxConcurrencyPath"),
    ("ToleratedFailureCountPath", "ToleratedFailureCountPath"),
    ("ToleratedFailurePercentagePath", "ToleratedFailurePercentagePath"),
];

const COMMON: &[&str] = &["Type", "Comment"];
const FLOW: &[&str] = &["Next", "End"];
const IO: &[&str] = &["InputPath", "OutputPath"];
const RESULT: &[&str] = &["Parameters", "ResultSelector", "ResultPath"];
const ERRORS: &[&str] = &["Retry", "Catch"];

pub fn parse(definition: &Value) -> Result<StateMachine, DefinitionError> {
    parse_machine(definition, "")
}

pub fn parse_str(text: &str) -> Result<StateMachine, DefinitionError> {
    let value: Value = serde_json::from_str(text).map_err(|e| def_err("(definition)", format!("not JSON: {e}")))?;
    parse(&value)
}

fn parse_machine(value: &Value, at: &str) -> Result<StateMachine, DefinitionError> {
    let here = |field: &str| if at.is_empty() { field.to_owned() } else { format!("{at}.{field}") };
    let obj = value
        .as_object()
        .ok_or_else(|| def_err(if at.is_empty() { "(definition)" } else { at }, "must be a JSON object"))?;
    if let Some(language) = obj.get("QueryLanguage") {
        match language.as_str() {
            Some("JSONPath") => {}
            Some("JSONata") => {
                return Err(def_err(
                    here("QueryLanguage"),
                    "the JSONata query language is not supported by this executor; use JSONPath",
                ));
            }
            _ => return Err(def_err(here("QueryLanguage"), "must be \"JSONPath\" or \"JSONata\"")),
        }
    }
    for key in obj.keys() {
        if !["Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage", "ProcessorConfig"]
            .contains(&key.as_str())
        {
            return Err(def_err(here(key), "unknown field"));
        }
    }
    if let Some(config) = obj.get("ProcessorConfig")
        && config.get("Mode").and_then(Value::as_str) == Some("DISTRIBUTED")
    {
        return Err(def_err(
            here("ProcessorConfig.Mode"),
            "Distributed Map is not supported by this executor; use INLINE",
        ));
    }
    let start_at = string(obj, "StartAt", &here("StartAt"))?.ok_or_else(|| def_err(here("StartAt"), "is required"))?;
    let states_value = obj.get("States").ok_or_else(|| def_err(here("States"), "is required"))?;
    let states_obj = states_value.as_object().ok_or_else(|| def_err(here("States"), "must be an object"))?;
    if states_obj.is_empty() {
        return Err(def_err(here("States"), "must hold at least one state"));
    }
    let mut states = BTreeMap::new();
    for (name, state) in states_obj {
        if name.is_empty() || name.chars().count() > 80 {
            return Err(def_err(here("States"), format!("state name {name:?} must be 1 to 80 characters")));
        }
        states.insert(name.clone(), parse_state(name, state, &here(&format!("States.{name}")))?);
    }
    Ok(StateMachine {
        comment: obj.get("Comment").and_then(Value::as_str).map(str::to_owned),
        start_at,
        states,
        timeout_seconds: positive(obj, "TimeoutSeconds", &here("TimeoutSeconds"))?,
    })
}

fn string(obj: &Map<String, Value>, key: &str, at: &str) -> Result<Option<String>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(def_err(at, "must be a string")),
    }
}

fn positive(obj: &Map<String, Value>, key: &str, at: &str) -> Result<Option<u64>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 => Ok(Some(n)),
            _ => Err(def_err(at, "must be a positive integer")),
        },
    }
}

fn number(obj: &Map<String, Value>, key: &str, at: &str) -> Result<Option<f64>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| def_err(at, "must be a number")),
    }
}

/// A path field: absent is `$`, `null` is `None`.
fn path_field(obj: &Map<String, Value>, key: &str, at: &str) -> Result<Option<String>, DefinitionError> {
    match obj.get(key) {
        None => Ok(Some("$".to_owned())),
        Some(Value::Null) => Ok(None),
        Some(Value::String(p)) if p.starts_with('$') => {
            crate::path::check_path(p).map_err(|e| def_err(at, e))?;
            Ok(Some(p.clone()))
        }
        Some(_) => Err(def_err(at, "must be a path starting with $, or null")),
    }
}

fn parse_state(name: &str, value: &Value, at: &str) -> Result<State, DefinitionError> {
    let obj = value.as_object().ok_or_else(|| def_err(at, "must be a JSON object"))?;
    let field = |f: &str| format!("{at}.{f}");
    let kind_name = string(obj, "Type", &field("Type"))?.ok_or_else(|| def_err(field("Type"), "is required"))?;
    let allowed: Vec<&str> = match kind_name.as_str() {
        "Pass" => [COMMON, FLOW, IO, &["Parameters", "ResultPath", "Result"]].concat(),
        "Task" => [COMMON, FLOW, IO, RESULT, ERRORS, &["Resource", "TimeoutSeconds"]].concat(),
        "Choice" => [COMMON, IO, &["Choices", "Default"]].concat(),
        "Wait" => [COMMON, FLOW, IO, &["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]].concat(),
        "Succeed" => [COMMON, IO].concat(),
        "Fail" => [COMMON, &["Error", "ErrorPath", "Cause", "CausePath"]].concat(),
        "Parallel" => [COMMON, FLOW, IO, RESULT, ERRORS, &["Branches"]].concat(),
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
                "ToleratedFailureCount",
                "ToleratedFailurePercentage",
            ],
        ]
        .concat(),
        other => return Err(def_err(field("Type"), format!("unknown state type {other:?}"))),
    };
    for key in obj.keys() {
        if let Some((_, feature)) = UNSUPPORTED_FIELDS.iter().find(|(f, _)| f == key) {
            return Err(def_err(field(key), format!("{feature} is not supported by this executor")));
        }
        if !allowed.contains(&key.as_str()) {
            return Err(def_err(field(key), format!("is not a field of a {kind_name} state")));
        }
    }

    let transition = match kind_name.as_str() {
        "Choice" | "Succeed" | "Fail" => Transition::Own,
        _ => match (obj.get("Next"), obj.get("End")) {
            (Some(Value::String(next)), None) => Transition::Next(next.clone()),
            (None, Some(Value::Bool(true))) => Transition::End,
            (Some(_), Some(_)) => return Err(def_err(at, "has both Next and End")),
            (None, None) | (None, Some(Value::Bool(false))) => return Err(def_err(at, "needs Next or \"End\": true")),
            _ => return Err(def_err(field("Next"), "must be a state name (or End must be true)")),
        },
    };
    let io = Io {
        input_path: path_field(obj, "InputPath", &field("InputPath"))?,
        output_path: path_field(obj, "OutputPath", &field("OutputPath"))?,
        parameters: template_field(obj, "Parameters", &field("Parameters"))?,
        result_selector: template_field(obj, "ResultSelector", &field("ResultSelector"))?,
        result_path: result_path_field(obj, &field("ResultPath"))?,
    };
    let retry = list_field(obj, "Retry", at, parse_retrier)?;
    let catch = list_field(obj, "Catch", at, parse_catcher)?;

    let kind = match kind_name.as_str() {
        "Pass" => Kind::Pass { result: obj.get("Result").cloned() },
        "Task" => Kind::Task {
            resource: parse_resource(obj.get("Resource"), &field("Resource"))?,
            timeout_seconds: positive(obj, "TimeoutSeconds", &field("TimeoutSeconds"))?,
        },
        "Choice" => {
            let choices = non_empty_list_field(obj, "Choices", at, choice::parse_top_rule)?;
            Kind::Choice { choices, default: string(obj, "Default", &field("Default"))? }
        }
        "Wait" => {
            let given: Vec<&str> = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
                .into_iter()
                .filter(|k| obj.contains_key(*k))
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
                "SecondsPath" => WaitFor::SecondsPath(text("SecondsPath")?),
                "Timestamp" => {
                    let ts = text("Timestamp")?;
                    crate::choice::parse_timestamp(&ts)
                        .ok_or_else(|| def_err(field("Timestamp"), "must be an RFC 3339 timestamp"))?;
                    WaitFor::Timestamp(ts)
                }
                _ => WaitFor::TimestampPath(text("TimestampPath")?),
            })
        }
        "Succeed" => Kind::Succeed,
        "Fail" => {
            let error = string(obj, "Error", &field("Error"))?;
            let error_path = string(obj, "ErrorPath", &field("ErrorPath"))?;
            let cause = string(obj, "Cause", &field("Cause"))?;
            let cause_path = string(obj, "CausePath", &field("CausePath"))?;
            if error.is_some() && error_path.is_some() {
                return Err(def_err(at, "has both Error and ErrorPath"));
            }
            if cause.is_some() && cause_path.is_some() {
                return Err(def_err(at, "has both Cause and CausePath"));
            }
            Kind::Fail { error, error_path, cause, cause_path }
        }
        "Parallel" => Kind::Parallel { branches: non_empty_list_field(obj, "Branches", at, parse_machine)? },
        _ => {
            let (key, processor) = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
                (Some(p), None) => ("ItemProcessor", p),
                (None, Some(p)) => ("Iterator", p),
                _ => return Err(def_err(at, "needs exactly one of ItemProcessor and Iterator")),
            };
            if obj.contains_key("ItemSelector") && obj.contains_key("Parameters") {
                return Err(def_err(at, "has both ItemSelector and Parameters"));
            }
            let items_path = path_field(obj, "ItemsPath", &field("ItemsPath"))?
                .ok_or_else(|| def_err(field("ItemsPath"), "must be a path, not null"))?;
            let max_concurrency = match obj.get("MaxConcurrency") {
                None => 0,
                Some(v) => v
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| def_err(field("MaxConcurrency"), "must be a non-negative integer"))?,
            };
            let tolerated_failure_percentage =
                number(obj, "ToleratedFailurePercentage", &field("ToleratedFailurePercentage"))?;
            if tolerated_failure_percentage.is_some_and(|p| !(0.0..=100.0).contains(&p)) {
                return Err(def_err(field("ToleratedFailurePercentage"), "must be between 0 and 100"));
            }
            Kind::Map {
                processor: Box::new(parse_machine(processor, &field(key))?),
                items_path,
                // Parameters is the older name of ItemSelector in a Map state.
                item_selector: match template_field(obj, "ItemSelector", &field("ItemSelector"))? {
                    Some(selector) => Some(selector),
                    None => template_field(obj, "Parameters", &field("Parameters"))?,
                },
                max_concurrency,
                tolerated_failure_count: match obj.get("ToleratedFailureCount") {
                    None => None,
                    Some(v) => Some(
                        v.as_u64()
                            .ok_or_else(|| def_err(field("ToleratedFailureCount"), "must be a non-negative integer"))?,
                    ),
                },
                tolerated_failure_percentage,
            }
        }
    };
    let io = if let Kind::Map { .. } = kind { Io { parameters: None, ..io } } else { io };
    Ok(State { name: name.to_owned(), kind, io, transition, retry, catch })
}

/// An optional array field, each entry parsed at `{at}.{key}[i]`.
fn list_field<T>(
    obj: &Map<String, Value>,
    key: &str,
    at: &str,
    parse_one: fn(&Value, &str) -> Result<T, DefinitionError>,
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
    obj: &Map<String, Value>,
    key: &str,
    at: &str,
    parse_one: fn(&Value, &str) -> Result<T, DefinitionError>,
) -> Result<Vec<T>, DefinitionError> {
    match obj.get(key) {
        Some(Value::Array(items)) if !items.is_empty() => list_field(obj, key, at, parse_one),
        _ => Err(def_err(format!("{at}.{key}"), "must be a non-empty array")),
    }
}

/// A ResultPath: absent is `$`, `null` is `None` (discard the result).
fn result_path_field(obj: &Map<String, Value>, at: &str) -> Result<Option<String>, DefinitionError> {
    match obj.get("ResultPath") {
        None => Ok(Some("$".to_owned())),
        Some(Value::Null) => Ok(None),
        Some(Value::String(p)) => {
            crate::path::check_reference_path(p).map_err(|e| def_err(at, e))?;
            Ok(Some(p.clone()))
        }
        Some(_) => Err(def_err(at, "must be a reference path or null")),
    }
}

fn template_field(obj: &Map<String, Value>, key: &str, at: &str) -> Result<Option<Value>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => {
            crate::template::check(v).map_err(|(inner, message)| def_err(format!("{at}{inner}"), message))?;
            Ok(Some(v.clone()))
        }
    }
}

fn error_names(obj: &Map<String, Value>, at: &str) -> Result<Vec<String>, DefinitionError> {
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

fn parse_catcher(value: &Value, at: &str) -> Result<Catcher, DefinitionError> {
    let obj = value.as_object().ok_or_else(|| def_err(at, "must be an object"))?;
    for key in obj.keys() {
        if !["ErrorEquals", "Next", "ResultPath", "Comment"].contains(&key.as_str()) {
            let message = if key == "Output" || key == "Assign" {
                format!("{key} belongs to JSONata and variables, which this executor does not support")
            } else {
                "is not a field of a catcher".to_owned()
            };
            return Err(def_err(format!("{at}.{key}"), message));
        }
    }
    Ok(Catcher {
        error_equals: error_names(obj, at)?,
        result_path: result_path_field(obj, &format!("{at}.ResultPath"))?,
        next: string(obj, "Next", &format!("{at}.Next"))?
            .ok_or_else(|| def_err(format!("{at}.Next"), "is required"))?,
    })
}

fn parse_resource(value: Option<&Value>, at: &str) -> Result<Resource, DefinitionError> {
    let arn = value.and_then(Value::as_str).ok_or_else(|| def_err(at, "is required and must be a string"))?;
    if let Some(integration) = arn.strip_prefix("arn:aws:states:::") {
        return match integration {
            "lambda:invoke" => Ok(Resource::LambdaInvoke),
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
    let parts: Vec<&str> = arn_or_name.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", name, ..] => name,
        _ => arn_or_name,
    }
}
