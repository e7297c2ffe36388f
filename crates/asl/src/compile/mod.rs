//! A definition (Amazon States Language, both query languages) compiled into
//! `crate::model`'s form: the machine and its states here, each state type's
//! own fields in its file (`pass`, `task`, `choice`, `wait`, `succeed`,
//! `fail`, `parallel`, `map`), the fields they share in `fields`, Retry and
//! Catch in `retry_catch`, a Task's Resource in `resource`. Every definition
//! error surfaces here with its location (`States.X.Parameters.a.b.$`).
//! Features this executor does not run are refused by name.

mod choice;
mod distributed;
mod fail;
mod fields;
mod map;
mod parallel;
mod pass;
mod resource;
mod retry_catch;
mod succeed;
mod task;
mod wait;

use std::collections::HashMap;
use std::sync::Arc;

use orderflow_value::{Map, Value};

use fields::{
    compile_path, jsonata_field, list_field, path_field, positive, result_path_field, string, template_field,
};
use retry_catch::{parse_catcher, parse_retrier};

use crate::model::{
    DefinitionError, Io, Kind, Resource, Selection, State, StateMachine, Target, Transition, UNRESOLVED, def_err,
};
use crate::path::ReferencePath;

/// A state type: the fields it may have (besides `Type`, `Comment` and
/// `QueryLanguage`), its JSONata-only fields, how it moves on, and how its own
/// fields compile in either query language.
pub(super) struct StateType {
    name: &'static str,
    fields: &'static [&'static [&'static str]],
    jsonata_fields: &'static [&'static str],
    transition: Fields,
    /// Its own fields, JSONPath: may take what it renames from `Io` (a Map's
    /// Parameters is its ItemSelector).
    jsonpath: fn(&Map, &str, &mut Io) -> Result<Kind, DefinitionError>,
    jsonata: fn(&Map, &str) -> Result<Kind, DefinitionError>,
}

/// How a state type moves on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Fields {
    /// `Next` or `"End": true`.
    NextOrEnd,
    /// Its own way (Choice), or not at all (Succeed, Fail).
    Own,
}

const TYPES: &[StateType] =
    &[pass::PASS, task::TASK, choice::CHOICE, wait::WAIT, succeed::SUCCEED, fail::FAIL, parallel::PARALLEL, map::MAP];

impl StateType {
    fn allows(&self, key: &str) -> bool {
        COMMON.contains(&key) || self.fields.iter().any(|group| group.contains(&key))
    }
}

/// Fields Step Functions knows that this executor does not run, and why.
const UNSUPPORTED_FIELDS: &[(&str, &str)] = &[("Credentials", "cross-account task credentials (Credentials)")];

const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];
pub(super) const FLOW: &[&str] = &["Next", "End"];
pub(super) const IO: &[&str] = &["InputPath", "OutputPath"];
pub(super) const RESULT: &[&str] = &["Parameters", "ResultSelector", "ResultPath"];
pub(super) const ERRORS: &[&str] = &["Retry", "Catch"];
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
pub use orderflow_local::quotas::MAX_DEFINITION_BYTES;

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
    if machine_wide_jsonata(definition) {
        no_jsonpath_state(definition, "")?;
    }
    resolve(&mut machine);
    let mut names = Vec::new();
    number(&mut machine, &mut names);
    machine.names = names.into();
    Ok(machine)
}

/// Numbers every state, nested ones included, in the order they are
/// written, and lists their names by number.
fn number(machine: &mut StateMachine, names: &mut Vec<Arc<str>>) {
    for state in &mut machine.states {
        state.id = u32::try_from(names.len()).unwrap_or(crate::model::NO_ID);
        names.push(state.name.clone());
        match &mut state.kind {
            Kind::Parallel { branches } => branches.iter_mut().for_each(|b| number(b, names)),
            Kind::Map(spec) => number(&mut spec.processor, names),
            _ => {}
        }
    }
}

fn resolve(machine: &mut StateMachine) {
    let index: HashMap<Arc<str>, usize> = machine.states.iter().enumerate().map(|(i, s)| (s.name.clone(), i)).collect();
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
            Some("JSONPath") => Ok(false),
            Some("JSONata") => Ok(true),
            _ => Err(def_err(at, "must be \"JSONPath\" or \"JSONata\"")),
        },
    }
}

/// The top-level QueryLanguage is JSONata.
fn machine_wide_jsonata(definition: &Value) -> bool {
    definition.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata")
}

/// AWS's rule: when the whole state machine is JSONata, no state, nested
/// ones included, may set JSONPath. (A JSONata state inside a JSONPath
/// machine may hold JSONPath states.)
fn no_jsonpath_state(machine: &Value, at: &str) -> Result<(), DefinitionError> {
    let here = |field: &str| if at.is_empty() { field.to_owned() } else { format!("{at}.{field}") };
    for (name, state) in machine.get("States").and_then(Value::as_object).into_iter().flatten() {
        let at = here(&format!("States.{name}"));
        if state.get("QueryLanguage").and_then(Value::as_str) == Some("JSONPath") {
            return Err(def_err(
                at,
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
            ));
        }
        for processor in ["ItemProcessor", "Iterator"] {
            if let Some(inner) = state.get(processor) {
                no_jsonpath_state(inner, &format!("{at}.{processor}"))?;
            }
        }
        for (i, branch) in state.get("Branches").and_then(Value::as_array).into_iter().flatten().enumerate() {
            no_jsonpath_state(branch, &format!("{at}.Branches[{i}]"))?;
        }
    }
    Ok(())
}

pub(super) fn parse_machine(
    value: &Value,
    at: &str,
    distributed: bool,
    jsonata: bool,
) -> Result<StateMachine, DefinitionError> {
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
    // AWS names every missing field at once, at the object that lacks them.
    let missing: Vec<&str> = ["States", "StartAt"].into_iter().filter(|f| !obj.contains_key(f)).collect();
    if !missing.is_empty() {
        return Err(def_err(at, format!("These fields are required: [{}]", missing.join(", "))));
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
        names: Arc::from([]),
    })
}

fn parse_state(name: &str, value: &Value, at: &str, machine_jsonata: bool) -> Result<State, DefinitionError> {
    let obj = value.as_object().ok_or_else(|| def_err(at, "must be a JSON object"))?;
    let field = |f: &str| format!("{at}.{f}");
    let jsonata = query_language(obj, &field("QueryLanguage"), machine_jsonata)?;
    let kind_name = string(obj, "Type", &field("Type"))?.ok_or_else(|| def_err(field("Type"), "is required"))?;
    let Some(ty) = TYPES.iter().find(|t| t.name == kind_name) else {
        return Err(def_err(
            field("Type"),
            "The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]",
        ));
    };
    for key in obj.keys() {
        if key == "Credentials"
            && !obj.get(key).is_some_and(|c| c.get("RoleArn").is_some() || c.get("RoleArn.$").is_some())
        {
            return Err(def_err(field(key), "The field 'RoleArn' is required but was missing"));
        }
        if let Some((_, feature)) = UNSUPPORTED_FIELDS.iter().find(|(f, _)| f == key) {
            return Err(def_err(field(key), format!("{feature} is not supported by this executor yet")));
        }
        let key = key.as_str();
        if jsonata && JSONPATH_ONLY.contains(&key) && ty.allows(key) {
            return Err(def_err(
                field(key),
                format!("is a field of the JSONPath query language; this {kind_name} state uses JSONata"),
            ));
        }
        if !jsonata && ty.jsonata_fields.contains(&key) {
            return Err(def_err(
                field(key),
                format!(
                    "is a field of the JSONata query language; this {kind_name} state uses JSONPath (set \"QueryLanguage\": \"JSONata\")"
                ),
            ));
        }
        let own = ty.allows(key) || (jsonata && ty.jsonata_fields.contains(&key));
        if !own {
            return Err(def_err(field(key), format!("is not a field of a {kind_name} state")));
        }
    }
    let transition = transition(obj, at, ty.transition)?;
    if jsonata {
        let root = || ReferencePath::parse("$").map_err(|e| def_err(at, e));
        let io = Io {
            input_path: Some(compile_path("$", at)?),
            output_path: Some(compile_path("$", at)?),
            parameters: jsonata_field(obj, "Arguments", at)?.map(Arc::new),
            result_selector: None,
            result_selection: Selection::Copies,
            result_path: Some(root()?),
            output: jsonata_field(obj, "Output", at)?,
        };
        let retry = list_field(obj, "Retry", at, parse_retrier)?;
        let catch = list_field(obj, "Catch", at, |v, at| parse_catcher(v, at, true))?;
        let kind = (ty.jsonata)(obj, at)?;
        let assign = jsonata_field(obj, "Assign", at)?;
        return Ok(State {
            name: name.into(),
            id: crate::model::NO_ID,
            kind,
            io,
            transition,
            retry,
            catch,
            assign,
            jsonata: true,
        });
    }
    let mut io = Io {
        input_path: path_field(obj, "InputPath", &field("InputPath"))?,
        output_path: path_field(obj, "OutputPath", &field("OutputPath"))?,
        parameters: template_field(obj, "Parameters", &field("Parameters"))?.map(Arc::new),
        result_selector: template_field(obj, "ResultSelector", &field("ResultSelector"))?.map(Arc::new),
        result_selection: Selection::Copies,
        result_path: result_path_field(obj, &field("ResultPath"))?,
        output: None,
    };
    let retry = list_field(obj, "Retry", at, parse_retrier)?;
    let catch = list_field(obj, "Catch", at, |v, at| parse_catcher(v, at, false))?;
    let kind = (ty.jsonpath)(obj, at, &mut io)?;
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
    Ok(State { name: name.into(), id: crate::model::NO_ID, kind, io, transition, retry, catch, assign, jsonata: false })
}

fn transition(obj: &Map, at: &str, moves: Fields) -> Result<Transition, DefinitionError> {
    Ok(match moves {
        Fields::Own => Transition::Own,
        Fields::NextOrEnd => match (obj.get("Next"), obj.get("End")) {
            (Some(Value::String(next)), None) => Transition::Next(Target::new(next)),
            (None, Some(Value::Bool(true))) => Transition::End,
            (Some(_), Some(_)) => return Err(def_err(at, "has both Next and End")),
            (None, None) | (None, Some(Value::Bool(false))) => return Err(def_err(at, "needs Next or \"End\": true")),
            _ => return Err(def_err(format!("{at}.Next"), "must be a state name (or End must be true)")),
        },
    })
}
