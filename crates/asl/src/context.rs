//! The context object (`$$`). It embeds the whole execution input, so it is
//! never built per state: a state that reads `$$` builds it once, on demand,
//! from the execution's shared facts and the state's own.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use orderflow_value::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::path::{Missing, Path, Step, walk};

/// What every state of one execution shares.
#[derive(Debug)]
pub struct ExecutionFacts {
    pub id: crate::arn::ExecutionArn,
    pub input: Arc<Value>,
    /// The execution input's JSON length.
    pub input_size: usize,
    pub name: Arc<str>,
    /// None only for TestState without a role, whose context shows null.
    pub role_arn: Option<Arc<str>>,
    /// Unix nanoseconds; shown as RFC 3339 text.
    pub start_time: i128,
    /// None for EXPRESS executions, whose context object has no RedriveCount.
    pub redrive_count: Option<u64>,
    pub machine_id: Arc<str>,
    pub machine_name: Arc<str>,
    /// A context object given by the caller (TestState's `context`): the
    /// whole context object, in place of the one these facts make.
    pub given: Option<Arc<Value>>,
}

/// A state's own part of the context object.
#[derive(Debug, Clone)]
pub struct StateFacts<'a> {
    pub name: &'a str,
    /// Unix nanoseconds; shown as RFC 3339 text.
    pub entered_time: i128,
    /// Only Task, Parallel and Map states (those that retry) show a RetryCount.
    pub retry_count: Option<u32>,
    /// `$$.Map.Item` while a Map state's ItemSelector runs.
    pub item: Option<(usize, &'a Value)>,
    /// `$$.Task.Token` while a callback task's Parameters are filled.
    pub task_token: Option<&'a str>,
    /// The workflow variables in scope.
    pub vars: Option<&'a crate::variables::Frame>,
}

/// The context object for one evaluation scope, built at most once.
pub struct Context<'a> {
    pub execution: &'a ExecutionFacts,
    pub state: StateFacts<'a>,
    built: OnceLock<Value>,
}

impl<'a> Context<'a> {
    pub fn new(execution: &'a ExecutionFacts, state: StateFacts<'a>) -> Context<'a> {
        Context { execution, state, built: OnceLock::new() }
    }

    pub fn value(&self) -> &Value {
        self.built.get_or_init(|| self.build())
    }

    /// What a `$$` path selects. The common definite paths read the facts
    /// directly, so `$$.Map.Item.Value` or `$$.Execution.Id` never copies the
    /// execution input; any other path reads the whole context object.
    pub fn select(&self, path: &Path) -> Result<Cow<'_, Value>, Missing> {
        let text = |s: &str| Ok(Cow::Owned(Value::from(s)));
        if let Some(steps) = path.steps().filter(|_| self.execution.given.is_none()) {
            let field = |i: usize| match steps.get(i) {
                Some(Step::Field(name)) => Some(name.as_str()),
                _ => None,
            };
            let e = self.execution;
            match (field(0), field(1), steps.len()) {
                (Some("Execution"), Some("Input"), _) => return walk(&e.input, &steps[2..]).map(Cow::Borrowed),
                (Some("Execution"), Some("Id"), 2) => return text(e.id.get()),
                (Some("Execution"), Some("Name"), 2) => return text(&e.name),
                (Some("Execution"), Some("RoleArn"), 2) if e.role_arn.is_some() => {
                    return text(e.role_arn.as_deref().unwrap_or_default());
                }
                (Some("Execution"), Some("StartTime"), 2) => return text(&shown_time(e.start_time)),
                (Some("StateMachine"), Some("Id"), 2) => return text(&e.machine_id),
                (Some("StateMachine"), Some("Name"), 2) => return text(&e.machine_name),
                (Some("State"), Some("Name"), 2) => return text(self.state.name),
                (Some("Task"), Some("Token"), 2) if self.state.task_token.is_some() => {
                    return text(self.state.task_token.unwrap_or_default());
                }
                (Some("Map"), Some("Item"), _) => {
                    if let Some((index, value)) = self.state.item {
                        match (field(2), steps.len()) {
                            (Some("Value"), _) => return walk(value, &steps[3..]).map(Cow::Borrowed),
                            (Some("Index"), 3) => return Ok(Cow::Owned(Value::from(index))),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        path.select(self.value())
    }

    /// What a `$name...` path selects from the variable it names.
    pub fn select_variable(&self, path: &Path) -> Result<Cow<'_, Value>, Missing> {
        let name = path.variable().unwrap_or_default();
        let value = self
            .state
            .vars
            .and_then(|frame| frame.get(name))
            .ok_or_else(|| Missing { detail: format!("The variable '{name}' is not defined") })?;
        path.select(&value).map(|v| Cow::Owned(v.into_owned()))
    }

    /// One top-level member of the context object (`Execution`, `State`,
    /// `Map`, ...), built alone: a JSONata expression reading
    /// `$states.context.Map.Item.Value` does not copy the execution input.
    pub fn member(&self, key: &str) -> Option<Value> {
        if self.execution.given.is_some() {
            return self.value().get(key).cloned();
        }
        self.own_member(key)
    }

    /// A member as the execution's facts make it, without a given context.
    fn own_member(&self, key: &str) -> Option<Value> {
        match key {
            "Execution" | "StateMachine" | "State" => match self.build_parts(key) {
                Value::Object(mut parts) => parts.remove(key),
                _ => None,
            },
            "Task" => self.state.task_token.map(|token| {
                let mut task = Map::new();
                task.insert("Token", token.into());
                Value::Object(task)
            }),
            "Map" => self.state.item.map(|(index, value)| {
                let mut item = Map::new();
                item.insert("Index", index.into());
                item.insert("Value", value.clone());
                let mut map = Map::new();
                map.insert("Item", Value::Object(item));
                Value::Object(map)
            }),
            _ => None,
        }
    }

    fn build(&self) -> Value {
        // A given context (TestState's) is the whole context object.
        if let Some(given) = &self.execution.given {
            return (**given).clone();
        }
        let mut context = self.build_parts("");
        if let Value::Object(parts) = &mut context {
            for key in ["Task", "Map"] {
                if let Some(member) = self.own_member(key) {
                    parts.insert(key, member);
                }
            }
        }
        context
    }

    /// `Execution`, `StateMachine` and `State`; only `only` of them when it names one.
    fn build_parts(&self, only: &str) -> Value {
        let wanted = |key: &str| only.is_empty() || only == key;
        let e = self.execution;
        let mut context = Map::new();
        if wanted("Execution") {
            context.insert("Execution", self.execution_member());
        }
        if wanted("StateMachine") {
            let mut machine = Map::new();
            machine.insert("Id", Value::from(&*e.machine_id));
            machine.insert("Name", Value::from(&*e.machine_name));
            context.insert("StateMachine", Value::Object(machine));
        }
        if wanted("State") {
            let mut state = Map::new();
            state.insert("Name", self.state.name.into());
            state.insert("EnteredTime", shown_time(self.state.entered_time).into());
            if let Some(count) = self.state.retry_count {
                state.insert("RetryCount", count.into());
            }
            context.insert("State", Value::Object(state));
        }
        Value::Object(context)
    }

    fn execution_member(&self) -> Value {
        let e = self.execution;
        let mut execution = Map::new();
        execution.insert("Id", Value::from(&**e.id.get()));
        execution.insert("Input", (*e.input).clone());
        execution.insert("Name", Value::from(&*e.name));
        execution.insert("RoleArn", e.role_arn.as_deref().map_or(Value::Null, Value::from));
        execution.insert("StartTime", shown_time(e.start_time).into());
        if let Some(count) = e.redrive_count {
            execution.insert("RedriveCount", count.into());
        }
        Value::Object(execution)
    }
}

pub(crate) fn shown_time(nanos: i128) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok().and_then(|t| t.format(&Rfc3339).ok()).unwrap_or_default()
}
