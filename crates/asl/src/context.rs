//! The context object (`$$`). It embeds the whole execution input, so it is
//! never built per state: a state that reads `$$` builds it once, on demand,
//! from the execution's shared facts and the state's own.

use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};

/// What every state of one execution shares.
#[derive(Debug)]
pub struct ExecutionFacts {
    pub id: String,
    pub input: Arc<Value>,
    pub name: String,
    pub role_arn: String,
    pub start_time: String,
    /// None for EXPRESS executions, whose context object has no RedriveCount.
    pub redrive_count: Option<u64>,
    pub machine_id: String,
    pub machine_name: String,
}

/// A state's own part of the context object.
#[derive(Debug, Clone)]
pub struct StateFacts<'a> {
    pub name: &'a str,
    pub entered_time: &'a str,
    /// Only Task, Parallel and Map states (those that retry) show a RetryCount.
    pub retry_count: Option<u32>,
    /// `$$.Map.Item` while a Map state's ItemSelector runs.
    pub item: Option<(usize, &'a Value)>,
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

    fn build(&self) -> Value {
        let e = self.execution;
        let mut execution = Map::new();
        execution.insert("Id".into(), e.id.clone().into());
        execution.insert("Input".into(), (*e.input).clone());
        execution.insert("Name".into(), e.name.clone().into());
        execution.insert("RoleArn".into(), e.role_arn.clone().into());
        execution.insert("StartTime".into(), e.start_time.clone().into());
        if let Some(count) = e.redrive_count {
            execution.insert("RedriveCount".into(), count.into());
        }
        let mut machine = Map::new();
        machine.insert("Id".into(), e.machine_id.clone().into());
        machine.insert("Name".into(), e.machine_name.clone().into());
        let mut state = Map::new();
        state.insert("Name".into(), self.state.name.into());
        state.insert("EnteredTime".into(), self.state.entered_time.into());
        if let Some(count) = self.state.retry_count {
            state.insert("RetryCount".into(), count.into());
        }
        let mut context = Map::new();
        context.insert("Execution".into(), Value::Object(execution));
        context.insert("StateMachine".into(), Value::Object(machine));
        context.insert("State".into(), Value::Object(state));
        if let Some((index, value)) = self.state.item {
            let mut item = Map::new();
            item.insert("Index".into(), index.into());
            item.insert("Value".into(), value.clone());
            let mut map = Map::new();
            map.insert("Item".into(), Value::Object(item));
            context.insert("Map".into(), Value::Object(map));
        }
        Value::Object(context)
    }
}
