//! Runs a compiled state machine with the semantics of the Step Functions
//! documentation and of AWS's recorded behaviour, recording a
//! GetExecutionHistory-shaped history. The state types live in `states/`;
//! the input/output pipeline they share in `pipeline`.
//!
//! By job: `host` (what an execution calls out to), `clock`, `options` and
//! `arn` (who and where an execution is), `run` (the state loop),
//! `record` (history events), `retry` and `attempt` (a Task, Parallel or
//! Map state's attempts), `redrive` (starting again where it stopped).

mod arn;
mod attempt;
mod child;
mod clock;
mod host;
mod options;
mod record;
mod redrive;
mod retry;
mod run;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use orderflow_value::Value;
use serde::Serialize;
use time::OffsetDateTime;

pub use crate::arn::ExecutionArn;
pub(crate) use child::Child;
pub use clock::{Clock, RealClock, VirtualClock};
pub use host::{
    Activities, Caller, ChildEnd, ChildStart, HttpExchange, HttpRequestShown, HttpResponseShown, HttpTrace, Invoker,
    ListedObject, MapRunSettings, MapRunStart, MapRuns, ObjectAt, ObjectPage, ObjectPart, RedrivenChild, Services,
    Submitted, TaskFailure, TaskMocks, TaskTokens, TokenSignal,
};
pub use options::{Entered, ExecutionOptions, MachineType, Redrive, RestartPoint};
pub(crate) use run::{Parts, Run, Thread};

use crate::error::StatesError;
use crate::history::{Detail, EventType, Fields, History};
use crate::model::StateMachine;
use crate::pipeline::Payload;
use crate::variables::Frame;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Succeeded,
    Failed,
    TimedOut,
}

/// A finished execution, as DescribeExecution and GetExecutionHistory tell it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub execution_arn: ExecutionArn,
    pub status: ExecutionStatus,
    pub input: Arc<Value>,
    pub output: Option<Arc<Value>>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub history: Arc<History>,
    /// Every Retry and Catch entry that acted, in order: for coverage checks.
    pub rules_taken: Vec<RuleTaken>,
}

/// A Retry or Catch entry that acted on an error, or a Choice rule (or its
/// Default) that chose the next state.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleTaken {
    pub state: Arc<str>,
    /// `Retry`, `Catch`, `Choices` or `Default`.
    pub list: &'static str,
    pub index: usize,
    /// The error a Retry or Catch entry acted on; empty for a Choice.
    pub error: String,
}

pub struct Executor<'a> {
    machine: &'a StateMachine,
    invoker: &'a dyn Invoker,
    services: Option<&'a dyn Services>,
    activities: Option<&'a dyn Activities>,
    mocks: Option<&'a dyn TaskMocks>,
    tokens: Option<&'a dyn TaskTokens>,
    map_runs: Option<&'a dyn MapRuns>,
    clock: &'a dyn Clock,
    options: ExecutionOptions,
    history: Option<Arc<History>>,
    /// No event is kept: an EXPRESS execution, whose history no API returns
    /// (and which has no 25,000-event limit).
    unrecorded: bool,
}

/// Internal marker for the whole execution running past its TimeoutSeconds.
pub(crate) const EXECUTION_TIMED_OUT: &str = "orderflow.ExecutionTimedOut";

/// How an execution ended.
pub(crate) struct Ended {
    pub status: ExecutionStatus,
    pub output: Option<Arc<Value>>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

impl Run<'_> {
    /// Records the execution's last event for its outcome.
    pub(crate) fn conclude(&self, thread: &Thread, outcome: Result<Payload, crate::error::Failure>) -> Ended {
        match outcome {
            Ok(output) => {
                self.finish(thread, EventType::ExecutionSucceeded, [("output", Detail::Payload(output.value.clone()))]);
                Ended { status: ExecutionStatus::Succeeded, output: Some(output.value), error: None, cause: None }
            }
            Err(f) if f.error == EXECUTION_TIMED_OUT => {
                self.finish(thread, EventType::ExecutionTimedOut, Fields::default());
                let error = Some(StatesError::Timeout.name().to_owned());
                Ended { status: ExecutionStatus::TimedOut, output: None, error, cause: None }
            }
            Err(f) => {
                let mut details = Fields::default();
                let error = (!f.error.is_empty()).then_some(f.error);
                if let Some(error) = &error {
                    details.push("error", Detail::Text(error.clone()));
                }
                if let Some(cause) = &f.cause {
                    details.push("cause", Detail::Text(cause.clone()));
                }
                self.finish(thread, EventType::ExecutionFailed, details);
                Ended { status: ExecutionStatus::Failed, output: None, error, cause: f.cause }
            }
        }
    }
}

impl<'a> Executor<'a> {
    pub fn new(
        machine: &'a StateMachine,
        invoker: &'a dyn Invoker,
        clock: &'a dyn Clock,
        options: ExecutionOptions,
    ) -> Self {
        Executor {
            machine,
            invoker,
            services: None,
            activities: None,
            mocks: None,
            tokens: None,
            map_runs: None,
            clock,
            options,
            history: None,
            unrecorded: false,
        }
    }

    /// Records into `history`, which others may read while the execution runs.
    pub fn with_history(mut self, history: Arc<History>) -> Self {
        self.history = Some(history);
        self
    }

    /// Keeps no history: for EXPRESS executions, whose events AWS keeps
    /// nowhere an API returns them, and which have no 25,000-event limit.
    pub fn without_history(mut self) -> Self {
        self.unrecorded = true;
        self
    }

    /// Callback tasks (`.waitForTaskToken`) wait on these tokens.
    pub fn with_task_tokens(mut self, tokens: &'a dyn TaskTokens) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// Task states that call other AWS services send their requests here.
    pub fn with_services(mut self, services: &'a dyn Services) -> Self {
        self.services = Some(services);
        self
    }

    /// Task states on an activity offer their work here.
    pub fn with_activities(mut self, activities: &'a dyn Activities) -> Self {
        self.activities = Some(activities);
        self
    }

    /// Distributed Maps report their Map Runs and child executions here.
    pub fn with_map_runs(mut self, map_runs: &'a dyn MapRuns) -> Self {
        self.map_runs = Some(map_runs);
        self
    }

    /// Task states the mocks answer do not reach the invoker.
    pub fn with_mocks(mut self, mocks: &'a dyn TaskMocks) -> Self {
        self.mocks = Some(mocks);
        self
    }

    pub async fn run(&self, input: Value) -> Execution {
        self.run_shared(Arc::new(input)).await
    }

    /// Runs an execution on an input the caller keeps too: nothing is copied.
    pub async fn run_shared(&self, input: Arc<Value>) -> Execution {
        let o = &self.options;
        let input = Payload::measured(input);
        let parts = Parts {
            invoker: self.invoker,
            services: self.services,
            activities: self.activities,
            mocks: self.mocks,
            tokens: self.tokens,
            map_runs: self.map_runs,
            clock: self.clock,
        };
        let mut run = Run::new(parts, o, &input, self.history.clone().unwrap_or_default());
        let start =
            OffsetDateTime::from_unix_timestamp_nanos(run.facts.start_time).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        run.deadline = self.machine.timeout_seconds.and_then(|s| start.checked_add(time::Duration::seconds(s as i64)));
        run.root = Some(self.machine);
        run.names_by_id = !self.machine.names.is_empty() && run.history.name_states(&self.machine.names);
        if let Some(redrive) = &o.redrive
            && !redrive.done.is_empty()
        {
            let done = redrive.done.iter().cloned().collect();
            *run.redrive_done.lock().unwrap_or_else(|p| p.into_inner()) = Some((redrive.from.state.clone(), done));
        }
        if let Some(redrive) = &o.redrive
            && !redrive.children.is_empty()
        {
            let children = redrive.children.iter().cloned().collect();
            *run.redrive_children.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((redrive.from.state.clone(), children));
        }
        let thread = if self.unrecorded { Thread::silent() } else { Thread::default() };
        // A machine that assigns nothing reads no variable: every execution of
        // it shares one empty frame.
        let vars = if self.machine.assigns { Frame::root() } else { Frame::none() };
        let outcome = match &o.redrive {
            Some(redrive) => {
                if self.machine.assigns {
                    run.preset_variables(self.machine, &vars);
                }
                run.redrive(self.machine, redrive, &thread, &vars).await
            }
            None => run.start(self.machine, input.clone(), &thread, &vars).await,
        };
        let Ended { status, output, error, cause } = run.conclude(&thread, outcome);
        let rules_taken = run.rules_taken.into_inner().unwrap_or_else(|p| p.into_inner());
        Execution {
            execution_arn: run.facts.id,
            status,
            input: input.value,
            output,
            error,
            cause,
            history: run.history,
            rules_taken,
        }
    }
}
