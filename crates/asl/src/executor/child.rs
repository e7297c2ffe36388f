//! A Distributed Map's child execution: a run of its own, with its own ARN,
//! name and context object (`$$.Execution.Id` is the child's), and its own
//! history when the Map Runs keep one. It calls out to what its parent does.

use std::sync::Arc;

use super::run::{Run, Thread};
use super::{Ended, ExecutionOptions, MachineType};
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
        let account = self.facts.machine_id.split(':').nth(4).unwrap_or(orderflow_local::ACCOUNT);
        let options = ExecutionOptions {
            name: child.name.into(),
            state_machine_name: child.machine_name,
            region: self.region.clone(),
            account: account.into(),
            machine_type: if child.express { MachineType::Express } else { MachineType::Standard },
            seed: self.rng.next_u64(),
            execution_arn: Some(child.arn.into()),
            role_arn: Some(self.facts.role_arn.clone()),
            redrive: None,
            started_at: None,
        };
        let kept = child.history.is_some();
        let mut run = Run::new(self.parts(), &options, &input, child.history.unwrap_or_default());
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
        let outcome = run.start(machine, input, &thread, vars).await;
        run.conclude(&thread, outcome)
    }
}
