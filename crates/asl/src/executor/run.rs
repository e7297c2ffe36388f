//! One execution's run: the state loop, a state's entry and exit, and what
//! the run keeps (invocation counts, rules taken, its deadline).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orderflow_value::Value;
use time::OffsetDateTime;

use super::{
    Activities, BoxFuture, Clock, EXECUTION_TIMED_OUT, Entered, ExecutionOptions, Invoker, MachineType, MapRuns,
    RuleTaken, Services, TaskMocks, TaskTokens,
};
use crate::context::ExecutionFacts;
use crate::error::{Failure, StatesError};
use crate::history::{Detail, EventType, History};
use crate::model::{Kind, NO_ID, State, StateMachine, Transition, UNRESOLVED};
use crate::pipeline::{MAX_PAYLOAD_BYTES, Payload, Scope};
use crate::rng::Rng;
use crate::states;
use crate::variables::Frame;

/// One line of events (the execution, a Parallel branch, a Map iteration):
/// each event's previousEventId is the line's event before it.
#[derive(Debug, Default)]
pub(crate) struct Thread {
    pub(super) last: AtomicU64,
    /// Events not kept: a Distributed Map's child execution (its events are not the
    /// parent's), or an execution run without history (EXPRESS).
    pub(super) silent: bool,
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
    pub services: Option<&'a dyn Services>,
    pub activities: Option<&'a dyn Activities>,
    pub mocks: Option<&'a dyn TaskMocks>,
    pub tokens: Option<&'a dyn TaskTokens>,
    pub map_runs: Option<&'a dyn MapRuns>,
    /// Task invocations so far, per state, for the mocks' invocation numbers.
    pub(super) invocations: Mutex<Vec<(Arc<str>, u32)>>,
    pub clock: &'a dyn Clock,
    pub history: Arc<History>,
    pub rng: Rng,
    pub region: Arc<str>,
    pub facts: ExecutionFacts,
    pub(super) deadline: Option<OffsetDateTime>,
    pub(super) rules_taken: Mutex<Vec<RuleTaken>>,
    /// The StateEntered (id, time) of the state a resumed execution goes on in.
    pub(super) resumed_entry: Mutex<Option<Entered>>,
    /// Set while `resumed_entry` waits to be taken: the other states' entries
    /// read this flag, not the lock.
    pub(super) resuming: std::sync::atomic::AtomicBool,
    /// The machine the execution runs, to tell its top-level states.
    pub root: Option<&'a StateMachine>,
    /// A redriven Map or Parallel state's finished iterations or branches.
    pub(super) redrive_done: Mutex<Option<(Arc<str>, DoneOutputs)>>,
    /// The STANDARD children of a redriven Distributed Map, by index: the failed ones are redriven in place.
    pub(super) redrive_children: Mutex<Option<(Arc<str>, NotedChildren)>>,
    /// TestState at TRACE: where an HTTP Task leaves its exchange.
    pub(crate) http_trace: Option<Arc<crate::executor::HttpTrace>>,
    /// A redriven Distributed Map's Map Run (its state, ARN and the redrive's number): it goes on.
    pub(super) redrive_map_run: Mutex<Option<(Arc<str>, String, u64)>>,
    /// Whether the history names this run's states by number (`State::id`).
    pub(super) names_by_id: bool,
}

/// Outputs of iterations or branches by index.
pub(super) type DoneOutputs = std::collections::HashMap<usize, Arc<Value>>;

/// A Distributed Map's STANDARD children as its last attempt left them, by index.
pub(super) type NotedChildren = std::collections::HashMap<usize, crate::history::NotedChild>;

/// What a run calls out to.
pub(crate) struct Parts<'a> {
    pub invoker: &'a dyn Invoker,
    pub services: Option<&'a dyn Services>,
    pub activities: Option<&'a dyn Activities>,
    pub mocks: Option<&'a dyn TaskMocks>,
    pub tokens: Option<&'a dyn TaskTokens>,
    pub map_runs: Option<&'a dyn MapRuns>,
    pub clock: &'a dyn Clock,
}

impl<'a> Run<'a> {
    /// A run of one execution (or, for TestState, of one state outside any),
    /// its facts made from `options`, starting now, with no deadline yet.
    pub(crate) fn new(parts: Parts<'a>, options: &ExecutionOptions, input: &Payload, history: Arc<History>) -> Run<'a> {
        let o = options;
        let (machine_arn, role_arn) = o.machine_and_role_arns();
        Run {
            invoker: parts.invoker,
            services: parts.services,
            activities: parts.activities,
            mocks: parts.mocks,
            tokens: parts.tokens,
            map_runs: parts.map_runs,
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
                role_arn: Some(role_arn),
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
            resuming: Default::default(),
            root: None,
            redrive_done: Mutex::new(None),
            redrive_children: Mutex::new(None),
            http_trace: None,
            redrive_map_run: Mutex::new(None),
            names_by_id: false,
        }
    }
}

impl<'a> Run<'a> {
    /// What this run calls out to, for a child execution's run.
    pub(crate) fn parts(&self) -> Parts<'a> {
        Parts {
            invoker: self.invoker,
            services: self.services,
            activities: self.activities,
            mocks: self.mocks,
            tokens: self.tokens,
            map_runs: self.map_runs,
            clock: self.clock,
        }
    }

    /// A history member naming `state`: by number when the history has the
    /// machine's names (nothing shared is counted), else its shared text.
    pub fn state_name(&self, state: &State) -> Detail {
        if self.names_by_id && state.id != NO_ID { Detail::Name(state.id) } else { Detail::Shared(state.name.clone()) }
    }

    /// The variable frame for an iteration or branch run in `outer`: its
    /// own, unless the machine assigns no variable at all.
    pub fn inner_frame(&self, outer: &Arc<Frame>) -> Arc<Frame> {
        if self.root.is_none_or(|m| m.assigns) { Frame::child(outer) } else { outer.clone() }
    }

    /// Whether `state` is one of the execution's top-level states.
    pub fn is_top_level(&self, state: &State) -> bool {
        self.root.is_some_and(|m| m.states.iter().any(|s| std::ptr::eq(s, state)))
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
    pub(super) fn issue_token(&self, state: &State) -> String {
        match self.tokens {
            Some(tokens) => tokens.issue(self.facts.id.get(), &state.name),
            None => format!("local-task-token-{}", self.rng.uuid_v4()),
        }
    }

    pub fn took(&self, state: &State, list: &'static str, index: usize, error: &str) {
        let taken = RuleTaken { state: state.name.clone(), list, index, error: error.to_owned() };
        self.rules_taken.lock().unwrap_or_else(|p| p.into_inner()).push(taken);
    }

    pub fn check_deadline(&self) -> Result<(), Failure> {
        match self.deadline {
            Some(deadline) if self.clock.now() >= deadline => Err(Failure::of(EXECUTION_TIMED_OUT.to_owned(), None)),
            _ => Ok(()),
        }
    }

    /// How long until the execution's deadline, if it has one.
    pub fn time_left(&self) -> Option<Duration> {
        self.deadline.map(|d| Duration::try_from(d - self.clock.now()).unwrap_or(Duration::ZERO))
    }

    /// Starts the execution: ExecutionStarted, then `machine` from its first state.
    pub(super) async fn start(
        &self,
        machine: &StateMachine,
        input: Payload,
        thread: &Thread,
        vars: &Arc<Frame>,
    ) -> Result<Payload, Failure> {
        let started = self.record(
            thread,
            EventType::ExecutionStarted,
            [
                ("input", Detail::Payload(input.value.clone())),
                ("roleArn", Detail::Shared(self.facts.role_arn.clone().unwrap_or_default())),
            ],
        );
        // AWS's first state names no previous event (previousEventId 0).
        thread.set_last(0);
        started?;
        if input.size > MAX_PAYLOAD_BYTES {
            return Err(Failure::new(
                StatesError::DataLimitExceeded,
                format!("The execution input exceeds the maximum of {MAX_PAYLOAD_BYTES} bytes."),
            ));
        }
        self.machine(machine, input, thread, vars).await
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
                let step = match &state.kind {
                    Kind::Wait(_) | Kind::Task { .. } | Kind::Parallel { .. } | Kind::Map(_) => {
                        self.state(state, input, thread, vars).await?
                    }
                    _ => self.state_now(state, input, thread, vars)?,
                };
                match step {
                    Step::Next(next, output) => {
                        index = next;
                        input = output;
                    }
                    Step::End(output) => return Ok(output),
                }
            }
        })
    }

    /// Enters `state`: its StateEntered (or, for a resumed execution, the one
    /// it had), and the scope it runs in.
    fn enter<'s>(
        &'s self,
        state: &'s State,
        raw: &Payload,
        thread: &'s Thread,
        vars: &'s Arc<Frame>,
    ) -> Result<Scope<'s, 'a>, Failure> {
        let resumed = if self.resuming.load(Ordering::Relaxed) {
            self.resuming.store(false, Ordering::Relaxed);
            self.resumed_entry.lock().unwrap_or_else(|p| p.into_inner()).take()
        } else {
            None
        };
        let before_entered = thread.last();
        let (entered_id, entered_time) = match resumed {
            Some(entry) => (entry.id, entry.at_nanos),
            None => {
                let entered = self.clock.now_nanos();
                let id = self.record_at(
                    thread,
                    entered,
                    states::event_types(&state.kind).0,
                    [("name", self.state_name(state)), ("input", Detail::Payload(raw.value.clone()))],
                )?;
                (id, entered)
            }
        };
        Ok(Scope {
            run: self,
            state,
            thread,
            entered_id,
            entered_time,
            vars,
            assigned: Default::default(),
            before_entered,
        })
    }

    /// Runs a state that waits for nothing (Pass, Choice, Succeed, Fail)
    /// without a future of its own: most states of most machines.
    fn state_now(&self, state: &State, raw: Payload, thread: &Thread, vars: &Arc<Frame>) -> Result<Step, Failure> {
        let scope = self.enter(state, &raw, thread, vars)?;
        let output = match &state.kind {
            Kind::Fail { error, cause } => return Err(states::fail::run(&scope, &raw.value, error, cause)),
            Kind::Succeed => states::succeed::run(&scope, &raw)?,
            Kind::Choice { choices, default, assigns, outputs } => {
                let (next, output) = states::choice::run(&scope, &raw, choices, default.as_ref(), assigns, outputs)?;
                let output = self.exit(&scope, output)?;
                return Ok(Step::Next(next, output));
            }
            Kind::Pass { .. } if state.jsonata => states::pass::run_jsonata(&scope, raw)?,
            Kind::Pass { result } => states::pass::run(&scope, raw, result.as_ref())?,
            Kind::Wait(_) | Kind::Task { .. } | Kind::Parallel { .. } | Kind::Map(_) => {
                return Err(Failure::new(StatesError::Runtime, "a state that waits was run as one that does not"));
            }
        };
        self.step_after(&scope, output)
    }

    /// Runs a state that waits (Wait, Task, Parallel, Map).
    async fn state(&self, state: &State, raw: Payload, thread: &Thread, vars: &Arc<Frame>) -> Result<Step, Failure> {
        let scope = self.enter(state, &raw, thread, vars)?;
        let output = match &state.kind {
            // Boxed, so the future of a state stays small: it is built, and moved, once per state.
            Kind::Wait(wait) => Box::pin(states::wait::run(&scope, &raw, wait)).await?,
            _ => match Box::pin(self.with_retries(&scope, raw)).await? {
                Ok(output) => output,
                Err((next, output)) => {
                    let output = self.exit(&scope, output)?;
                    return Ok(Step::Next(next, output));
                }
            },
        };
        self.step_after(&scope, output)
    }

    /// The state's StateExited, and where the execution goes next.
    fn step_after(&self, scope: &Scope<'_, '_>, output: Payload) -> Result<Step, Failure> {
        let output = self.exit(scope, output)?;
        Ok(match &scope.state.transition {
            Transition::Next(next) if next.index != UNRESOLVED => Step::Next(next.index, output),
            Transition::Next(_) => {
                return Err(Failure::new(StatesError::Runtime, "the definition names a state that does not exist"));
            }
            Transition::End | Transition::Own => Step::End(output),
        })
    }

    fn exit(&self, scope: &Scope<'_, '_>, mut output: Payload) -> Result<Payload, Failure> {
        scope.check_size(&mut output, &scope.state.name)?;
        // A Fail state never exits.
        let Some(kind) = states::event_types(&scope.state.kind).1 else { return Ok(output) };
        let (name, shown) = (self.state_name(scope.state), Detail::Payload(output.value.clone()));
        match scope.assigned.get() {
            None => self.record(scope.thread, kind, [("name", name), ("output", shown)])?,
            Some(assigned) => {
                let assigned = Detail::Assigned(assigned.clone());
                self.record(scope.thread, kind, [("name", name), ("output", shown), ("assignedVariables", assigned)])?
            }
        };
        Ok(output)
    }
}
