//! A Distributed Map's child execution: a run of its own, with its own ARN,
//! name and context object (`$$.Execution.Id` is the child's), and its own
//! history when the Map Runs keep one. It calls out to what its parent does.

use std::sync::Arc;

use super::run::{Run, Thread};
use super::{Ended, ExecutionOptions, MachineType, Redrive, RestartPoint};
use crate::History;
use crate::model::StateMachine;
use crate::pipeline::Payload;
use crate::variables::Frame;

/// Who a child execution is.
pub(crate) struct Child {
    pub name: String,
    pub arn: String,
    /// `Parent/Label`: the children's state machine.
    pub machine_name: Arc<str>,
    pub express: bool,
    /// Where its events go; none are kept without one.
    pub history: Option<Arc<History>>,
    /// A STANDARD child redriven in place: its redrive number and first
    /// start. Its history then holds its events so far.
    pub redrive: Option<(u64, i128)>,
}

impl Run<'_> {
    /// Runs `machine` as a child execution of this run, to its end.
    pub(crate) async fn run_child(
        &self,
        machine: &StateMachine,
        input: Payload,
        child: Child,
        vars: &Arc<Frame>,
    ) -> Ended {
        let kept = child.history.is_some();
        let history = child.history.unwrap_or_default();
        // Redriven: from the last state it entered, as a redriven execution goes on.
        let redrive = child.redrive.map(|(count, _)| Redrive {
            from: RestartPoint::last_entered(machine, &history.events())
                .unwrap_or_else(|| RestartPoint::start(machine, input.value.clone())),
            count,
            resumed: false,
            done: Vec::new(),
            children: Vec::new(),
        });
        let account = self.facts.machine_id.split(':').nth(4).unwrap_or(orderflow_local::ACCOUNT);
        let options = ExecutionOptions {
            name: child.name.into(),
            state_machine_name: child.machine_name,
            region: self.region.clone(),
            account: account.into(),
            machine_type: if child.express { MachineType::Express } else { MachineType::Standard },
            seed: self.rng.next_u64(),
            execution_arn: Some(child.arn.into()),
            role_arn: self.facts.role_arn.clone(),
            // The redrive's count is its context's RedriveCount.
            redrive: redrive.clone(),
            started_at: child.redrive.map(|(_, started)| started),
        };
        let mut run = Run::new(self.parts(), &options, &input, history);
        run.root = Some(machine);
        // Its own TimeoutSeconds, within its parent's.
        let start = time::OffsetDateTime::from_unix_timestamp_nanos(run.facts.start_time)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let own = machine.timeout_seconds.and_then(|s| start.checked_add(time::Duration::seconds(s as i64)));
        run.deadline = match (own, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let thread = if kept { Thread::default() } else { Thread::silent() };
        let outcome = match &redrive {
            Some(redrive) => {
                if machine.assigns {
                    run.preset_variables(machine, vars);
                }
                run.redrive(machine, redrive, &thread, vars).await
            }
            None => run.start(machine, input, &thread, vars).await,
        };
        run.conclude(&thread, outcome)
    }
}
