//! What the server keeps: state machines and the executions of STANDARD ones
//! (EXPRESS executions are not describable in Step Functions either), in
//! memory. Each execution's history is shared with its running executor, so
//! GetExecutionHistory reads it while it grows.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use orderflow_asl::{History, MachineType, StateMachine};
use tokio::task::AbortHandle;

#[derive(Debug)]
pub struct MachineRecord {
    pub arn: String,
    pub name: String,
    pub definition: String,
    pub compiled: Arc<StateMachine>,
    pub role_arn: String,
    pub kind: MachineType,
    /// Unix nanoseconds.
    pub created: i128,
    pub updated: i128,
    pub revision: u64,
    pub logging: serde_json::Value,
    pub tracing: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "RUNNING",
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
            Status::Aborted => "ABORTED",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        [Status::Running, Status::Succeeded, Status::Failed, Status::TimedOut, Status::Aborted]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

#[derive(Debug)]
pub struct ExecutionRecord {
    pub arn: String,
    pub name: String,
    /// The state machine as it was when the execution started.
    pub machine: Arc<MachineRecord>,
    pub status: Status,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// Unix nanoseconds.
    pub started: i128,
    pub stopped: Option<i128>,
    pub history: Arc<History>,
    pub task: Option<AbortHandle>,
    /// RedriveExecution calls so far, and the last one's time (Unix nanoseconds).
    pub redrive_count: u64,
    pub redriven: Option<i128>,
}

#[derive(Debug, Default)]
pub struct Inner {
    /// By ARN.
    pub machines: BTreeMap<String, Arc<MachineRecord>>,
    /// By ARN.
    pub executions: BTreeMap<String, ExecutionRecord>,
    /// Execution ARNs in start order.
    pub started: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Store(Mutex<Inner>);

impl Store {
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
