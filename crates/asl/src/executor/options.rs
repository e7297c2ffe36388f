//! Who and where an execution is, and where a redriven or resumed one starts again.

use std::sync::Arc;

use orderflow_value::Value;

/// STANDARD or EXPRESS: the ARN and the context object differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MachineType {
    #[default]
    Standard,
    Express,
}

/// Who and where an execution is. The names are shared text, so options
/// made once serve many executions without copying them.
#[derive(Debug, Clone)]
pub struct ExecutionOptions {
    pub name: Arc<str>,
    pub state_machine_name: Arc<str>,
    pub region: Arc<str>,
    pub account: Arc<str>,
    pub machine_type: MachineType,
    /// Seeds retry jitter, States.MathRandom and States.UUID.
    pub seed: u64,
    /// The execution's ARN when the caller has already given it out (the API
    /// server answers StartExecution before the execution runs); else made
    /// from the names.
    pub execution_arn: Option<Arc<str>>,
    /// The state machine's role, shown in ExecutionStarted and `$$.Execution.RoleArn`.
    pub role_arn: Option<Arc<str>>,
    /// Runs the execution again from where it stopped (RedriveExecution, or
    /// a restart of the server), continuing the history given with `with_history`.
    pub redrive: Option<Redrive>,
    /// When the execution started (Unix nanoseconds), if before this run: its
    /// `$$.Execution.StartTime` and the start of its TimeoutSeconds.
    pub started_at: Option<i128>,
}

/// How a redriven or resumed execution goes on.
#[derive(Debug, Clone)]
pub struct Redrive {
    /// The top-level state it starts again in, with the input it had entered with.
    pub from: RestartPoint,
    /// This redrive's number, from 1 (the redrives so far, when resumed).
    pub count: u64,
    /// Set when the execution was running as the server stopped: it goes on
    /// without an ExecutionRedriven event, and does not enter `from` again
    /// (a Wait waits what was left of it, a Task runs again).
    pub resumed: bool,
    /// When `from` is a Map or Parallel state: the outputs of its iterations
    /// or branches (by index) that succeeded in its last attempt, which do
    /// not run again (the history's notes of that attempt).
    pub done: Vec<(usize, Arc<Value>)>,
    /// When `from` is a Distributed Map: its STANDARD children in its last
    /// attempt, by index; those that did not succeed are redriven in place.
    pub children: Vec<(usize, crate::history::NotedChild)>,
}

impl Default for ExecutionOptions {
    fn default() -> Self {
        // Made once: an execution started with the defaults copies no text.
        static NAMES: std::sync::LazyLock<[Arc<str>; 3]> = std::sync::LazyLock::new(|| {
            ["local".into(), orderflow_local::REGION.into(), orderflow_local::ACCOUNT.into()]
        });
        let [local, region, account] = &*NAMES;
        ExecutionOptions {
            name: local.clone(),
            state_machine_name: local.clone(),
            region: region.clone(),
            account: account.clone(),
            machine_type: MachineType::Standard,
            seed: 1,
            execution_arn: None,
            role_arn: None,
            redrive: None,
            started_at: None,
        }
    }
}

/// Where an execution that did not finish goes on: a top-level state, the
/// input it entered with, and its StateEntered event when there was one.
#[derive(Debug, Clone)]
pub struct RestartPoint {
    pub state: Arc<str>,
    pub input: Arc<Value>,
    pub entered: Option<Entered>,
}

/// A StateEntered event: its id and time (Unix nanoseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entered {
    pub id: u64,
    pub at_nanos: i128,
}
