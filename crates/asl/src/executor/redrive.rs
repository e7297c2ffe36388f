//! Starting again where an execution stopped: the variables its top-level
//! states had set, the ExecutionRedriven event (none when a restart of the
//! server resumes it), and the finished iterations or branches of the state
//! it starts again, taken once, with the notes that record them.

use std::sync::Arc;

use orderflow_value::Value;

use super::run::{DoneOutputs, NotedChildren, Run, Thread};
use super::{Entered, Redrive, RestartPoint};
use crate::error::{Failure, StatesError};
use crate::history::{Detail, EventType, HistoryEvent, NotedChild};
use crate::model::{State, StateMachine};
use crate::pipeline::Payload;
use crate::variables::Frame;

impl RestartPoint {
    /// The last top-level state `events` entered (state names are unique
    /// across a machine, so the name tells a top-level state), with the input
    /// it entered with; none when the execution entered no state.
    pub fn last_entered(machine: &StateMachine, events: &[HistoryEvent]) -> Option<RestartPoint> {
        events.iter().rev().find_map(|event| {
            if !event.kind.is_state_entered() {
                return None;
            }
            let details = event.details()?;
            let name = details.get("name")?.as_str()?;
            if !machine.states.iter().any(|s| *s.name == *name) {
                return None;
            }
            let input = orderflow_value::parse(details.get("input")?.as_str()?).ok()?;
            Some(RestartPoint {
                state: Arc::from(name),
                input: Arc::new(input),
                entered: Some(Entered { id: event.id, at_nanos: event.at_nanos }),
            })
        })
    }

    /// The machine's first state with the execution's input, not yet entered.
    pub fn start(machine: &StateMachine, input: Arc<Value>) -> RestartPoint {
        RestartPoint { state: Arc::from(machine.start_at.name.as_str()), input, entered: None }
    }
}

impl Run<'_> {
    /// The variables the execution had: those its top-level states set, in
    /// order, as the history it goes on with shows them.
    pub(super) fn preset_variables(&self, machine: &StateMachine, vars: &Frame) {
        let top: Vec<&str> = machine.states.iter().map(|s| &*s.name).collect();
        for event in self.history.events() {
            if event.kind.is_state_exited()
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

    /// Runs `machine` again from the state `redrive` names, after the history so far.
    pub(super) async fn redrive(
        &self,
        machine: &StateMachine,
        redrive: &Redrive,
        thread: &Thread,
        vars: &Arc<Frame>,
    ) -> Result<Payload, Failure> {
        thread.set_last(self.history.len() as u64);
        let from = &redrive.from;
        if redrive.resumed {
            *self.resumed_entry.lock().unwrap_or_else(|p| p.into_inner()) = from.entered;
            self.resuming.store(true, std::sync::atomic::Ordering::Relaxed);
        } else {
            // A Distributed Map's Map Run since the state was entered: the redrive goes on with it.
            let map_run = from.entered.and_then(|entered| {
                self.history.events().iter().rev().take_while(|e| e.id > entered.id).find_map(|e| {
                    matches!(e.kind, EventType::MapRunStarted | EventType::MapRunRedriven)
                        .then(|| e.details()?.get("mapRunArn")?.as_str().map(str::to_owned))
                        .flatten()
                })
            });
            if let Some(arn) = map_run {
                *self.redrive_map_run.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((from.state.clone(), arn, redrive.count));
            }
            self.record(thread, EventType::ExecutionRedriven, [("redriveCount", Detail::Number(redrive.count))])?;
        }
        let Some(at) = machine.states.iter().position(|s| s.name == from.state) else {
            return Err(Failure::new(
                StatesError::Runtime,
                format!("the redriven state '{}' is not in the definition", from.state),
            ));
        };
        self.machine_from(machine, at, Payload::measured(from.input.clone()), thread, vars).await
    }

    /// The iterations or branches of the redriven `state` that succeeded
    /// before, taken once: only its first attempt after the redrive skips them.
    pub fn take_done(&self, state: &State) -> DoneOutputs {
        self.take_for(&self.redrive_done, state)
    }

    /// What a redrive left for the top-level `state`, taken once.
    fn take_for<T: Default>(&self, slot: &std::sync::Mutex<Option<(Arc<str>, T)>>, state: &State) -> T {
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some((name, _)) if **name == *state.name && self.is_top_level(state) => {
                slot.take().map(|(_, left)| left).unwrap_or_default()
            }
            _ => T::default(),
        }
    }

    /// The Map Run a redriven top-level Distributed Map goes on with, and the
    /// redrive's number, taken once.
    pub fn take_redriven_map_run(&self, state: &State) -> Option<(String, u64)> {
        let mut map_run = self.redrive_map_run.lock().unwrap_or_else(|p| p.into_inner());
        match map_run.as_ref() {
            Some((name, _, _)) if **name == *state.name && self.is_top_level(state) => {
                map_run.take().map(|(_, arn, count)| (arn, count))
            }
            _ => None,
        }
    }

    /// Keeps a succeeded iteration's or branch's output of a top-level state for a redrive.
    pub fn note(&self, scope_entered: u64, state: &State, index: usize, output: &Arc<Value>) {
        self.keep_note(scope_entered, state, index, output, None);
    }

    /// Keeps a top-level Distributed Map's STANDARD child as it ended (its
    /// output, null when it did not succeed): a redrive of the Map Run shows
    /// it again or redrives it.
    pub fn note_child(&self, scope_entered: u64, state: &State, index: usize, output: &Arc<Value>, child: NotedChild) {
        self.keep_note(scope_entered, state, index, output, Some(child));
    }

    /// A note of a top-level state, when the history keeps notes.
    fn keep_note(&self, entered: u64, state: &State, index: usize, output: &Arc<Value>, child: Option<NotedChild>) {
        if self.history.keeps_notes() && self.is_top_level(state) {
            let note =
                crate::history::Note { entered, state: state.name.clone(), index, output: output.clone(), child };
            self.history.note(note);
        }
    }

    /// The STANDARD children of the redriven Distributed Map `state` in its
    /// last attempt, by index, taken once.
    pub fn take_children(&self, state: &State) -> NotedChildren {
        self.take_for(&self.redrive_children, state)
    }
}
