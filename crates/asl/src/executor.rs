//! Runs a compiled state machine with the semantics of the Step Functions
//! documentation and of AWS's recorded behaviour, recording a
//! GetExecutionHistory-shaped history. The state types live in `states/`;
//! the input/output pipeline they share in `pipeline`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orderflow_value::{Value, json};
use serde::Serialize;
use time::OffsetDateTime;

use crate::context::ExecutionFacts;
use crate::error::{Failure, StatesError, matches};
use crate::history::{Detail, Fields, History, MAX_EVENTS, Members};
use crate::model::{Kind, State, StateMachine, Transition, UNRESOLVED};
use crate::pipeline::{MAX_PAYLOAD_BYTES, Now, Payload, Scope};
use crate::rng::Rng;
use crate::states;
use crate::variables::Frame;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A failed task, as Step Functions sees it: for a Lambda function's error the
/// `error` is its `errorType` and the `cause` Lambda's whole error document as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskFailure {
    pub error: String,
    pub cause: String,
}

impl TaskFailure {
    /// The failure of a Lambda function that returned `errorType`/`errorMessage`.
    pub fn function_error(error_type: &str, error_message: &str) -> TaskFailure {
        TaskFailure {
            error: error_type.to_owned(),
            cause: json!({"errorMessage": error_message, "errorType": error_type}).to_string(),
        }
    }
}

/// Where Task states send their work: in-process handlers, a Lambda Invoke
/// API endpoint, or a test double.
pub trait Invoker: Send + Sync {
    fn invoke<'a>(&'a self, function: &'a str, payload: &'a Value) -> BoxFuture<'a, Result<Value, TaskFailure>>;
}

/// Time, for timestamps, Wait states and retry intervals.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
    /// The same instant as Unix nanoseconds, which history events keep.
    fn now_nanos(&self) -> i128 {
        self.now().unix_timestamp_nanos()
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()>;
}

/// Wall-clock time: Wait states and retry intervals really wait.
#[derive(Debug, Default)]
pub struct RealClock;

impl Clock for RealClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
    // Read for every history event: straight from the system time, without
    // the calendar date `OffsetDateTime::now_utc` works out.
    fn now_nanos(&self) -> i128 {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(after) => after.as_nanos() as i128,
            Err(before) => -(before.duration().as_nanos() as i128),
        }
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Time that moves only when something waits, and then at once: a Wait of
/// an hour takes no time, and the history still says an hour passed. Kept as
/// Unix nanoseconds, read without a lock.
#[derive(Debug)]
pub struct VirtualClock(std::sync::atomic::AtomicI64);

impl VirtualClock {
    pub fn starting_at(now: OffsetDateTime) -> VirtualClock {
        let nanos = i64::try_from(now.unix_timestamp_nanos()).unwrap_or(i64::MAX);
        VirtualClock(std::sync::atomic::AtomicI64::new(nanos))
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        VirtualClock::starting_at(OffsetDateTime::now_utc())
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(self.now_nanos()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
    fn now_nanos(&self) -> i128 {
        i128::from(self.0.load(Ordering::Relaxed))
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        // Saturates at the year 2262, past every quota's reach.
        let step = i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX);
        let _ = self.0.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n.saturating_add(step)));
        Box::pin(std::future::ready(()))
    }
}

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

/// Where a redriven execution starts again: the top-level state that did not
/// finish, with the input it had entered with.
#[derive(Debug, Clone)]
pub struct Redrive {
    pub state: Arc<str>,
    pub input: Arc<Value>,
    /// This redrive's number, from 1 (the redrives so far, when resumed).
    pub count: u64,
    /// Set when the execution was running as the server stopped: it goes on
    /// without an ExecutionRedriven event.
    pub resumed: Option<Resumed>,
    /// When `state` is a Map or Parallel state: the outputs of its iterations
    /// or branches (by index) that succeeded in its last attempt, which do
    /// not run again (the history's notes of that attempt).
    pub done: Vec<(usize, Arc<Value>)>,
}

/// Where a resumed execution was: the StateEntered event of `Redrive::state`,
/// which is not entered again (a Wait waits what was left of it, a Task runs
/// again), or none when it stopped before its first state.
#[derive(Debug, Clone, Copy)]
pub struct Resumed {
    pub entered: Option<(u64, i128)>,
}

impl Default for ExecutionOptions {
    fn default() -> Self {
        // Made once: an execution started with the defaults copies no text.
        static NAMES: std::sync::LazyLock<[Arc<str>; 3]> =
            std::sync::LazyLock::new(|| ["local".into(), "us-east-1".into(), "123456789012".into()]);
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
    pub execution_arn: Arc<str>,
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
    pub state: String,
    /// `Retry`, `Catch`, `Choices` or `Default`.
    pub list: &'static str,
    pub index: usize,
    /// The error a Retry or Catch entry acted on; empty for a Choice.
    pub error: String,
}

/// Answers a Task state's attempts in place of its resource, as Step
/// Functions Local's MockConfigFile does. `invocation` counts the state's
/// task invocations in the execution, retries included, from 0. A `Return`
/// is the task's whole result (for `lambda:invoke`, with its `Payload`).
pub trait TaskMocks: Send + Sync {
    fn answer(&self, state: &str, invocation: u32) -> Option<Result<Value, TaskFailure>>;
}

/// What a callback task (`.waitForTaskToken`) hears about its token.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenSignal {
    Heartbeat,
    Success(Value),
    Failure(TaskFailure),
}

/// Task tokens, for the callback pattern: the API server issues them and
/// answers SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat with them.
pub trait TaskTokens: Send + Sync {
    /// A new token for one attempt of `state` in `execution`.
    fn issue(&self, execution: &str, state: &str) -> String;
    /// The next signal for `token`. Cancel-safe: dropped and called again, it
    /// loses nothing.
    fn wait<'a>(&'a self, token: &'a str) -> BoxFuture<'a, TokenSignal>;
    /// The token's task is over (answered, timed out or failed).
    fn close(&self, token: &str);
}

pub struct Executor<'a> {
    machine: &'a StateMachine,
    invoker: &'a dyn Invoker,
    mocks: Option<&'a dyn TaskMocks>,
    tokens: Option<&'a dyn TaskTokens>,
    clock: &'a dyn Clock,
    options: ExecutionOptions,
    history: Option<Arc<History>>,
}

/// Internal marker for the whole execution running past its TimeoutSeconds.
pub(crate) const EXECUTION_TIMED_OUT: &str = "orderflow.ExecutionTimedOut";

impl<'a> Executor<'a> {
    pub fn new(
        machine: &'a StateMachine,
        invoker: &'a dyn Invoker,
        clock: &'a dyn Clock,
        options: ExecutionOptions,
    ) -> Self {
        Executor { machine, invoker, mocks: None, tokens: None, clock, options, history: None }
    }

    /// Records into `history`, which others may read while the execution runs.
    pub fn with_history(mut self, history: Arc<History>) -> Self {
        self.history = Some(history);
        self
    }

    /// Callback tasks (`.waitForTaskToken`) wait on these tokens.
    pub fn with_task_tokens(mut self, tokens: &'a dyn TaskTokens) -> Self {
        self.tokens = Some(tokens);
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
        let parts = Parts { invoker: self.invoker, mocks: self.mocks, tokens: self.tokens, clock: self.clock };
        let mut run = Run::new(parts, o, &input, self.history.clone().unwrap_or_default());
        let start =
            OffsetDateTime::from_unix_timestamp_nanos(run.facts.start_time).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        run.deadline = self.machine.timeout_seconds.and_then(|s| start.checked_add(time::Duration::seconds(s as i64)));
        run.root = Some(self.machine);
        if let Some(redrive) = &o.redrive
            && !redrive.done.is_empty()
        {
            let done = redrive.done.iter().cloned().collect();
            *run.redrive_done.lock().unwrap_or_else(|p| p.into_inner()) = Some((redrive.state.clone(), done));
        }
        let execution_arn = run.facts.id.clone();
        let thread = Thread::default();
        // A machine that assigns nothing reads no variable: every execution of
        // it shares one empty frame.
        let vars = if self.machine.assigns { Frame::root() } else { Frame::none() };
        if o.redrive.is_some() && self.machine.assigns {
            // The variables the execution had: those its top-level states set, in order.
            let top: Vec<&str> = self.machine.states.iter().map(|s| &*s.name).collect();
            for event in run.history.events() {
                if event.kind.ends_with("StateExited")
                    && event.state_name().is_some_and(|n| top.contains(&n))
                    && let Some(assigned) =
                        event.details().and_then(|d| d.get("assignedVariables")).and_then(Value::as_object)
                {
                    vars.preset(assigned.iter().filter_map(|(name, text)| {
                        Some((Arc::from(name.as_str()), orderflow_value::parse(text.as_str()?).ok()?))
                    }));
                }
            }
        }
        let outcome = match &o.redrive {
            Some(redrive) => {
                thread.set_last(run.history.len() as u64);
                let redriven = match redrive.resumed {
                    Some(resumed) => {
                        *run.resumed_entry.lock().unwrap_or_else(|p| p.into_inner()) = resumed.entered;
                        Ok(0)
                    }
                    None => run.record(
                        &thread,
                        "ExecutionRedriven",
                        Some("executionRedrivenEventDetails"),
                        [("redriveCount", Detail::Number(redrive.count))],
                    ),
                };
                let at = self.machine.states.iter().position(|s| s.name == redrive.state);
                match (redriven, at) {
                    (Err(f), _) => Err(f),
                    (Ok(_), None) => Err(Failure::new(
                        StatesError::Runtime,
                        format!("the redriven state '{}' is not in the definition", redrive.state),
                    )),
                    (Ok(_), Some(at)) => {
                        run.machine_from(self.machine, at, Payload::measured(redrive.input.clone()), &thread, &vars)
                            .await
                    }
                }
            }
            None => {
                let started = run.record(
                    &thread,
                    "ExecutionStarted",
                    Some("executionStartedEventDetails"),
                    [
                        ("input", Detail::Payload(input.value.clone())),
                        ("roleArn", Detail::Shared(run.facts.role_arn.clone())),
                    ],
                );
                // AWS's first state names no previous event (previousEventId 0).
                thread.set_last(0);
                match started {
                    Err(f) => Err(f),
                    Ok(_) if input.size > MAX_PAYLOAD_BYTES => Err(Failure::new(
                        StatesError::DataLimitExceeded,
                        format!("The execution input exceeds the maximum of {MAX_PAYLOAD_BYTES} bytes."),
                    )),
                    Ok(_) => run.machine(self.machine, input.clone(), &thread, &vars).await,
                }
            }
        };
        let (status, output, error, cause) = match outcome {
            Ok(output) => {
                run.finish(
                    &thread,
                    "ExecutionSucceeded",
                    "executionSucceededEventDetails",
                    [("output", Detail::Payload(output.value.clone()))].into(),
                );
                (ExecutionStatus::Succeeded, Some(output.value), None, None)
            }
            Err(f) if f.error == EXECUTION_TIMED_OUT => {
                run.finish(&thread, "ExecutionTimedOut", "executionTimedOutEventDetails", Fields::default());
                (ExecutionStatus::TimedOut, None, Some(StatesError::Timeout.name().to_owned()), None)
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
                run.finish(&thread, "ExecutionFailed", "executionFailedEventDetails", details);
                (ExecutionStatus::Failed, None, error, f.cause)
            }
        };
        let rules_taken = run.rules_taken.into_inner().unwrap_or_else(|p| p.into_inner());
        Execution { execution_arn, status, input: input.value, output, error, cause, history: run.history, rules_taken }
    }
}

/// One line of events (the execution, a Parallel branch, a Map iteration):
/// each event's previousEventId is the line's event before it.
#[derive(Debug, Default)]
pub(crate) struct Thread {
    last: AtomicU64,
    /// A Distributed Map's child execution: its events are not the parent's.
    silent: bool,
}

impl Thread {
    /// A line whose events are not kept.
    pub fn silent() -> Thread {
        Thread { last: AtomicU64::new(0), silent: true }
    }

    pub fn last(&self) -> u64 {
        self.last.load(Ordering::Relaxed)
    }

    pub fn set_last(&self, id: u64) {
        self.last.store(id, Ordering::Relaxed);
    }
}

pub(crate) enum Step {
    Next(usize, Payload),
    End(Payload),
}

pub(crate) struct Run<'a> {
    pub invoker: &'a dyn Invoker,
    pub mocks: Option<&'a dyn TaskMocks>,
    pub tokens: Option<&'a dyn TaskTokens>,
    /// Task invocations so far, per state, for the mocks' invocation numbers.
    invocations: Mutex<Vec<(Arc<str>, u32)>>,
    pub clock: &'a dyn Clock,
    pub history: Arc<History>,
    pub rng: Rng,
    pub region: Arc<str>,
    pub facts: ExecutionFacts,
    deadline: Option<OffsetDateTime>,
    rules_taken: Mutex<Vec<RuleTaken>>,
    /// The StateEntered (id, time) of the state a resumed execution goes on in.
    resumed_entry: Mutex<Option<(u64, i128)>>,
    /// The machine the execution runs, to tell its top-level states.
    pub root: Option<&'a StateMachine>,
    /// A redriven Map or Parallel state's finished iterations or branches.
    redrive_done: Mutex<Option<(Arc<str>, DoneOutputs)>>,
}

/// Outputs of iterations or branches by index.
type DoneOutputs = std::collections::HashMap<usize, Arc<Value>>;

/// What a run calls out to.
pub(crate) struct Parts<'a> {
    pub invoker: &'a dyn Invoker,
    pub mocks: Option<&'a dyn TaskMocks>,
    pub tokens: Option<&'a dyn TaskTokens>,
    pub clock: &'a dyn Clock,
}

impl ExecutionOptions {
    fn execution_arn(&self) -> Arc<str> {
        let o = self;
        if let Some(arn) = &o.execution_arn {
            return arn.clone();
        }
        let (region, account, machine, name) = (&*o.region, &*o.account, &*o.state_machine_name, &*o.name);
        match o.machine_type {
            MachineType::Standard => {
                joined(&["arn:aws:states:", region, ":", account, ":execution:", machine, ":", name])
            }
            MachineType::Express => {
                let id = Rng::new(o.seed ^ 0x5eed).uuid_v4();
                joined(&["arn:aws:states:", region, ":", account, ":express:", machine, ":", name, ":", &id])
            }
        }
    }

    /// The state machine's ARN and the execution's role ARN. Executions of
    /// one machine ask for the same two: the last pair made on this thread
    /// is kept and handed out again.
    fn machine_and_role_arns(&self) -> (Arc<str>, Arc<str>) {
        type Made = (Arc<str>, Arc<str>, Arc<str>, Option<Arc<str>>, Arc<str>, Arc<str>);
        thread_local! {
            static LAST: std::cell::RefCell<Option<Made>> = const { std::cell::RefCell::new(None) };
        }
        let o = self;
        LAST.with_borrow_mut(|last| {
            if let Some((region, account, machine, role, machine_arn, role_arn)) = last.as_ref()
                && *region == o.region
                && *account == o.account
                && *machine == o.state_machine_name
                && *role == o.role_arn
            {
                return (machine_arn.clone(), role_arn.clone());
            }
            let (region, account) = (&*o.region, &*o.account);
            let machine_arn =
                joined(&["arn:aws:states:", region, ":", account, ":stateMachine:", &o.state_machine_name]);
            let role_arn =
                o.role_arn.clone().unwrap_or_else(|| joined(&["arn:aws:iam::", account, ":role/local-execution-role"]));
            let made = (machine_arn.clone(), role_arn.clone());
            *last = Some((
                o.region.clone(),
                o.account.clone(),
                o.state_machine_name.clone(),
                o.role_arn.clone(),
                machine_arn,
                role_arn,
            ));
            made
        })
    }
}

/// The parts one after another, in one allocation where the text is short
/// (`format!` grows a String as it goes, and `Arc::from` copies it again).
fn joined(parts: &[&str]) -> Arc<str> {
    let mut buffer = [0u8; 256];
    let mut len = 0;
    for part in parts {
        match buffer.get_mut(len..len + part.len()) {
            Some(room) => room.copy_from_slice(part.as_bytes()),
            None => return Arc::from(parts.concat()),
        }
        len += part.len();
    }
    // Whole strings laid end to end are UTF-8.
    Arc::from(std::str::from_utf8(&buffer[..len]).unwrap_or_default())
}

impl<'a> Run<'a> {
    /// A run of one execution (or, for TestState, of one state outside any),
    /// its facts made from `options`, starting now, with no deadline yet.
    pub(crate) fn new(parts: Parts<'a>, options: &ExecutionOptions, input: &Payload, history: Arc<History>) -> Run<'a> {
        let o = options;
        let (machine_arn, role_arn) = o.machine_and_role_arns();
        Run {
            invoker: parts.invoker,
            mocks: parts.mocks,
            tokens: parts.tokens,
            invocations: Mutex::new(Vec::new()),
            clock: parts.clock,
            history,
            rng: Rng::new(o.seed),
            region: o.region.clone(),
            facts: ExecutionFacts {
                id: o.execution_arn(),
                input: input.value.clone(),
                input_size: input.size,
                name: o.name.clone(),
                role_arn,
                start_time: o.started_at.unwrap_or_else(|| parts.clock.now_nanos()),
                redrive_count: (o.machine_type == MachineType::Standard)
                    .then_some(o.redrive.as_ref().map_or(0, |r| r.count)),
                machine_id: machine_arn,
                machine_name: o.state_machine_name.clone(),
                given: None,
            },
            deadline: None,
            rules_taken: Mutex::new(Vec::new()),
            resumed_entry: Mutex::new(None),
            root: None,
            redrive_done: Mutex::new(None),
        }
    }
}

impl Run<'_> {
    /// The variable frame for an iteration or branch run in `outer`: its
    /// own, unless the machine assigns no variable at all.
    pub fn inner_frame(&self, outer: &Arc<Frame>) -> Arc<Frame> {
        if self.root.is_none_or(|m| m.assigns) { Frame::child(outer) } else { outer.clone() }
    }

    /// Whether `state` is one of the execution's top-level states.
    pub fn is_top_level(&self, state: &State) -> bool {
        self.root.is_some_and(|m| m.states.iter().any(|s| std::ptr::eq(s, state)))
    }

    /// The iterations or branches of the redriven `state` that succeeded
    /// before, taken once: only its first attempt after the redrive skips them.
    pub fn take_done(&self, state: &State) -> DoneOutputs {
        let mut done = self.redrive_done.lock().unwrap_or_else(|p| p.into_inner());
        match done.as_ref() {
            Some((name, _)) if **name == *state.name && self.is_top_level(state) => {
                done.take().map(|(_, d)| d).unwrap_or_default()
            }
            _ => Default::default(),
        }
    }

    /// Keeps a succeeded iteration's or branch's output of a top-level state for a redrive.
    pub fn note(&self, scope_entered: u64, state: &State, index: usize, output: &Arc<Value>) {
        if self.history.keeps_notes() && self.is_top_level(state) {
            self.history.note(crate::history::Note {
                entered: scope_entered,
                state: state.name.clone(),
                index,
                output: output.clone(),
            });
        }
    }

    /// Appends an event to `thread`'s line. A history past Step Functions'
    /// 25,000 events ends the execution, as in AWS.
    pub fn record(
        &self,
        thread: &Thread,
        kind: &'static str,
        details_key: Option<&'static str>,
        details: impl Members,
    ) -> Result<u64, Failure> {
        if thread.silent {
            return Ok(0);
        }
        self.record_at(thread, self.clock.now_nanos(), kind, details_key, details)
    }

    /// Appends an event that happened at `at` (Unix nanoseconds), read from the clock just before.
    pub fn record_at(
        &self,
        thread: &Thread,
        at: i128,
        kind: &'static str,
        details_key: Option<&'static str>,
        details: impl Members,
    ) -> Result<u64, Failure> {
        if thread.silent {
            return Ok(0);
        }
        let previous = thread.last.load(Ordering::Relaxed);
        match self.history.record(at, kind, previous, details_key, details) {
            Some(id) => {
                thread.last.store(id, Ordering::Relaxed);
                Ok(id)
            }
            None => Err(Failure::new(
                StatesError::Runtime,
                format!("The execution reached the maximum number of history events ({MAX_EVENTS})."),
            )),
        }
    }

    /// Appends an event whose previous event is `previous`, not `thread`'s last.
    pub fn record_after(
        &self,
        thread: &Thread,
        previous: u64,
        kind: &'static str,
        details_key: Option<&'static str>,
        details: impl Members,
    ) -> Result<u64, Failure> {
        let last = thread.last();
        thread.set_last(previous);
        let recorded = self.record(thread, kind, details_key, details);
        if recorded.is_err() {
            thread.set_last(last);
        }
        recorded
    }

    /// Appends an event that does not move `thread`'s line on, as AWS records
    /// a Map iteration's end and a Map state's success.
    pub fn record_aside(
        &self,
        thread: &Thread,
        kind: &'static str,
        details_key: Option<&'static str>,
        details: impl Members,
    ) -> Result<u64, Failure> {
        let last = thread.last();
        let id = self.record(thread, kind, details_key, details)?;
        thread.set_last(last);
        Ok(id)
    }

    /// The execution's last event, recorded even when the history is full.
    fn finish(&self, thread: &Thread, kind: &'static str, key: &'static str, details: Fields) {
        self.history.force(self.clock.now_nanos(), kind, thread.last(), Some(key), details);
    }

    /// The number of this invocation of `state`'s task, from 0.
    pub fn next_invocation(&self, state: &Arc<str>) -> u32 {
        let mut counts = self.invocations.lock().unwrap_or_else(|p| p.into_inner());
        match counts.iter_mut().find(|(name, _)| name == state) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                counts.push((state.clone(), 0));
                0
            }
        }
    }

    /// A task token for one attempt of a callback task: the server's, or a
    /// local one when no server issues them (mocks may still answer the task).
    fn issue_token(&self, state: &State) -> String {
        match self.tokens {
            Some(tokens) => tokens.issue(&self.facts.id, &state.name),
            None => format!("local-task-token-{}", self.rng.uuid_v4()),
        }
    }

    pub fn took(&self, state: &State, list: &'static str, index: usize, error: &str) {
        let taken = RuleTaken { state: state.name.to_string(), list, index, error: error.to_owned() };
        self.rules_taken.lock().unwrap_or_else(|p| p.into_inner()).push(taken);
    }

    pub fn check_deadline(&self) -> Result<(), Failure> {
        match self.deadline {
            Some(deadline) if self.clock.now() >= deadline => {
                Err(Failure { error: EXECUTION_TIMED_OUT.to_owned(), cause: None })
            }
            _ => Ok(()),
        }
    }

    /// How long until the execution's deadline, if it has one.
    pub fn time_left(&self) -> Option<Duration> {
        self.deadline.map(|d| Duration::try_from(d - self.clock.now()).unwrap_or(Duration::ZERO))
    }

    /// Runs `machine` with the variables of `vars` in scope.
    pub fn machine<'b>(
        &'b self,
        machine: &'b StateMachine,
        input: Payload,
        thread: &'b Thread,
        vars: &'b Arc<Frame>,
    ) -> BoxFuture<'b, Result<Payload, Failure>> {
        self.machine_from(machine, machine.start_at.index, input, thread, vars)
    }

    /// Runs `machine` from its state `start`.
    pub fn machine_from<'b>(
        &'b self,
        machine: &'b StateMachine,
        start: usize,
        input: Payload,
        thread: &'b Thread,
        vars: &'b Arc<Frame>,
    ) -> BoxFuture<'b, Result<Payload, Failure>> {
        Box::pin(async move {
            let mut index = start;
            let mut input = input;
            loop {
                self.check_deadline()?;
                let state = machine.states.get(index).ok_or_else(|| {
                    Failure::new(StatesError::Runtime, "the definition names a state that does not exist")
                })?;
                match self.state(state, input, thread, vars).await? {
                    Step::Next(next, output) => {
                        index = next;
                        input = output;
                    }
                    Step::End(output) => return Ok(output),
                }
            }
        })
    }

    async fn state(&self, state: &State, raw: Payload, thread: &Thread, vars: &Arc<Frame>) -> Result<Step, Failure> {
        let resumed = self.resumed_entry.lock().unwrap_or_else(|p| p.into_inner()).take();
        let before_entered = thread.last();
        let (entered_id, entered) = match resumed {
            Some(entry) => entry,
            None => {
                let entered = self.clock.now_nanos();
                let id = self.record_at(
                    thread,
                    entered,
                    states::event_names(&state.kind).0,
                    Some("stateEnteredEventDetails"),
                    [("name", Detail::Shared(state.name.clone())), ("input", Detail::Payload(raw.value.clone()))],
                )?;
                (id, entered)
            }
        };
        let scope = Scope {
            run: self,
            state,
            thread,
            entered_id,
            entered_time: entered,
            vars,
            assigned: Default::default(),
            before_entered,
        };
        let output = match &state.kind {
            Kind::Fail { error, cause } => return Err(states::fail::run(&scope, &raw.value, error, cause)),
            Kind::Succeed => states::succeed::run(&scope, &raw)?,
            Kind::Choice { choices, default, assigns, outputs } => {
                let (next, output) = states::choice::run(&scope, &raw, choices, default.as_ref(), assigns, outputs)?;
                let output = self.exit(&scope, output)?;
                return Ok(Step::Next(next, output));
            }
            // Boxed, so the future of a state that does not wait stays small:
            // it is built, and moved, once per state.
            Kind::Wait(wait) => Box::pin(states::wait::run(&scope, &raw, wait)).await?,
            Kind::Pass { .. } if state.jsonata => states::pass::run_jsonata(&scope, raw)?,
            Kind::Pass { result } => states::pass::run(&scope, raw, result.as_ref())?,
            Kind::Task { .. } | Kind::Parallel { .. } | Kind::Map(_) => {
                match Box::pin(self.with_retries(&scope, raw)).await? {
                    Ok(output) => output,
                    Err((next, output)) => {
                        let output = self.exit(&scope, output)?;
                        return Ok(Step::Next(next, output));
                    }
                }
            }
        };
        let output = self.exit(&scope, output)?;
        Ok(match &state.transition {
            Transition::Next(next) if next.index != UNRESOLVED => Step::Next(next.index, output),
            Transition::Next(_) => {
                return Err(Failure::new(StatesError::Runtime, "the definition names a state that does not exist"));
            }
            Transition::End | Transition::Own => Step::End(output),
        })
    }

    fn exit(&self, scope: &Scope<'_, '_>, mut output: Payload) -> Result<Payload, Failure> {
        scope.check_size(&mut output, &scope.state.name)?;
        let (kind, key) = (states::event_names(&scope.state.kind).1, Some("stateExitedEventDetails"));
        let (name, shown) = (Detail::Shared(scope.state.name.clone()), Detail::Payload(output.value.clone()));
        match scope.assigned.get() {
            None => self.record(scope.thread, kind, key, [("name", name), ("output", shown)])?,
            Some(assigned) => {
                let assigned = Detail::Assigned(assigned.clone());
                self.record(
                    scope.thread,
                    kind,
                    key,
                    [("name", name), ("output", shown), ("assignedVariables", assigned)],
                )?
            }
        };
        Ok(output)
    }

    /// Runs a Task, Parallel or Map state with its Retry and Catch lists:
    /// `Ok(Ok(output))` on success, `Ok(Err((next, output)))` when a Catch
    /// sends it elsewhere.
    async fn with_retries(
        &self,
        scope: &Scope<'_, '_>,
        raw: Payload,
    ) -> Result<Result<Payload, (usize, Payload)>, Failure> {
        let state = scope.state;
        // Made at the first failure: most attempts succeed.
        let mut attempts: Vec<u32> = Vec::new();
        let mut retry_count = 0u32;
        loop {
            let outcome = self.attempt(scope, &raw, retry_count).await;
            let f = match outcome {
                Ok(output) => return Ok(Ok(output)),
                Err(f) if f.is(StatesError::Runtime) || f.error == EXECUTION_TIMED_OUT => return Err(f),
                Err(f) => f,
            };
            if attempts.is_empty() {
                attempts.resize(state.retry.len(), 0);
            }
            let retrier = state.retry.iter().position(|r| matches(&r.error_equals, &f.error));
            let retried = retrier.is_some_and(|i| attempts[i] < state.retry[i].max_attempts);
            if !retried {
                // Only the attempt that is not retried records the failure.
                match state.kind {
                    Kind::Parallel { .. } => self.record(scope.thread, "ParallelStateFailed", None, [])?,
                    Kind::Map(_) => self.record(scope.thread, "MapStateFailed", None, [])?,
                    _ => 0,
                };
            }
            if let Some(i) = retrier
                && retried
            {
                self.took(state, "Retry", i, &f.error);
                let delay = retry_delay(&self.rng, &state.retry[i], attempts[i]);
                attempts[i] += 1;
                retry_count += 1;
                if let Some(left) = self.time_left()
                    && delay >= left
                {
                    self.clock.sleep(left).await;
                    return Err(Failure { error: EXECUTION_TIMED_OUT.to_owned(), cause: None });
                }
                self.clock.sleep(delay).await;
                continue;
            }
            return match state.catch.iter().position(|c| matches(&c.error_equals, &f.error)) {
                Some(i) => {
                    self.took(state, "Catch", i, &f.error);
                    let catcher = &state.catch[i];
                    let error = Payload::measured(Arc::new(f.to_value()));
                    let context = scope.context(None);
                    let output = if state.jsonata {
                        let now = Now::input(&raw.value).with_error(&error.value);
                        let (assign, output) = (catcher.assign.as_ref(), catcher.output.as_ref());
                        scope.conclude(assign, output, now, error.clone(), &context)?
                    } else {
                        scope.assign(catcher.assign.as_ref(), &error, &context)?;
                        scope.result_path(catcher.result_path.as_ref(), raw, error)?
                    };
                    if catcher.next.index == UNRESOLVED {
                        return Err(Failure::new(StatesError::Runtime, "a Catch names a state that does not exist"));
                    }
                    Ok(Err((catcher.next.index, output)))
                }
                None => Err(f),
            };
        }
    }

    /// A Task's or Parallel's Parameters (Arguments) filled in, or its effective input.
    fn parameters(
        &self,
        scope: &Scope<'_, '_>,
        raw: &Payload,
        effective: &Payload,
        context: &crate::context::Context<'_>,
    ) -> Result<Payload, Failure> {
        let state = scope.state;
        match &state.io.parameters {
            Some(p) if state.jsonata => scope.render_jsonata(p, Now::input(&raw.value), context),
            Some(p) => scope.render(p, effective, context),
            None => Ok(effective.clone()),
        }
    }

    /// One attempt of a Task, Parallel or Map state, through the whole pipeline.
    async fn attempt(&self, scope: &Scope<'_, '_>, raw: &Payload, retry_count: u32) -> Result<Payload, Failure> {
        let state = scope.state;
        let token = match &state.kind {
            Kind::Task { resource: crate::model::Resource::LambdaInvokeCallback, .. } => Some(self.issue_token(state)),
            _ => None,
        };
        let context = match &token {
            Some(token) => scope.task_context(retry_count, token),
            None => scope.context(Some(retry_count)),
        };
        let effective = scope.input_path(raw, &context)?;
        let (result, selected) = match &state.kind {
            Kind::Map(spec) => (states::map::run(scope, spec, &effective, &context).await?, false),
            Kind::Task { resource, timeout_seconds, heartbeat_seconds } => {
                use states::task::Parameters;
                let parameters = match &state.io.parameters {
                    Some(p) if !state.jsonata && Parameters::can_select(resource, p) => {
                        scope.find_paths(p, &effective, &context)?;
                        Parameters::Selecting(p, effective.value.clone())
                    }
                    _ => Parameters::Rendered(self.parameters(scope, raw, &effective, &context)?.value),
                };
                let limits = states::task::Limits {
                    timeout: timeout_seconds.as_ref(),
                    heartbeat: heartbeat_seconds.as_ref(),
                    token: token.as_deref(),
                };
                let selector = match (&state.io.result_selector, state.io.result_selection) {
                    (Some(selector), moves) if moves != crate::model::Selection::Copies => Some((selector, moves)),
                    _ => None,
                };
                match states::task::run(scope, resource, limits, &effective.value, parameters, selector, &context)
                    .await?
                {
                    states::task::Answer::Whole(result) => (result, false),
                    states::task::Answer::Selected(result) => (result, true),
                }
            }
            Kind::Parallel { branches } => {
                let input = self.parameters(scope, raw, &effective, &context)?;
                (states::parallel::run(scope, branches, input).await?, false)
            }
            _ => unreachable!("attempt runs Task, Parallel and Map states"),
        };
        if state.jsonata {
            let now = Now::input(&raw.value).with_result(&result.value);
            let (assign, output) = (state.assign.as_ref(), state.io.output.as_ref());
            return scope.conclude(assign, output, now, result.clone(), &context);
        }
        scope.assign(state.assign.as_ref(), &result, &context)?;
        let selected = match &state.io.result_selector {
            Some(selector) if !selected => scope.render(selector, &result, &context)?,
            _ => result,
        };
        let combined = scope.result_path(state.io.result_path.as_ref(), raw.clone(), selected)?;
        scope.output_path(combined, &context)
    }
}

fn retry_delay(rng: &Rng, retrier: &crate::model::Retrier, attempt: u32) -> Duration {
    let mut seconds = retrier.interval_seconds * retrier.backoff_rate.powi(attempt.min(1024) as i32);
    if let Some(max) = retrier.max_delay_seconds {
        seconds = seconds.min(max);
    }
    if retrier.full_jitter {
        seconds *= rng.next_f64();
    }
    // A year bounds a delay whose backoff overflowed.
    Duration::from_secs_f64(seconds.clamp(0.0, 365.0 * 86_400.0))
}

#[cfg(test)]
mod arn_tests {
    use super::*;

    #[test]
    fn joined_lays_parts_end_to_end_short_or_long() {
        assert_eq!(&*joined(&["arn:aws:states:", "eu-west-3", ":", "ünïcode"]), "arn:aws:states:eu-west-3:ünïcode");
        let long = "x".repeat(300);
        assert_eq!(&*joined(&["a:", &long, ":b"]), format!("a:{long}:b"));
        assert_eq!(&*joined(&[]), "");
    }

    #[test]
    fn machine_and_role_arns_follow_the_options_not_the_last_pair() {
        let mut o = ExecutionOptions::default();
        let (machine, role) = o.machine_and_role_arns();
        assert_eq!(&*machine, "arn:aws:states:us-east-1:123456789012:stateMachine:local");
        assert_eq!(&*role, "arn:aws:iam::123456789012:role/local-execution-role");
        o.state_machine_name = "orders".into();
        o.account = "000000000000".into();
        let (machine, role) = o.machine_and_role_arns();
        assert_eq!(&*machine, "arn:aws:states:us-east-1:000000000000:stateMachine:orders");
        assert_eq!(&*role, "arn:aws:iam::000000000000:role/local-execution-role");
        o.role_arn = Some("arn:aws:iam::000000000000:role/mine".into());
        assert_eq!(&*o.machine_and_role_arns().1, "arn:aws:iam::000000000000:role/mine");
        o.region = "eu-west-1".into();
        assert_eq!(&*o.machine_and_role_arns().0, "arn:aws:states:eu-west-1:000000000000:stateMachine:orders");
    }
}

#[cfg(test)]
mod clock_tests {
    use super::*;

    #[test]
    fn the_real_clock_reads_the_same_instant_either_way() {
        let clock = RealClock;
        let (before, nanos, after) =
            (clock.now().unix_timestamp_nanos(), clock.now_nanos(), clock.now().unix_timestamp_nanos());
        assert!(before <= nanos && nanos <= after, "{before} <= {nanos} <= {after}");
    }
}
