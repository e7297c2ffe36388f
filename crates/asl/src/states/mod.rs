//! One file per state type; each runs its own work inside the shared
//! pipeline (`crate::pipeline`) and the retry loop (`crate::executor`).

pub(crate) mod choice;
pub(crate) mod fail;
pub(crate) mod map;
pub(crate) mod parallel;
pub(crate) mod pass;
pub(crate) mod succeed;
pub(crate) mod task;
pub(crate) mod wait;

use crate::model::Kind;

/// A state's `...StateEntered` and `...StateExited` event types.
pub(crate) fn event_names(kind: &Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Pass { .. } => ("PassStateEntered", "PassStateExited"),
        Kind::Task { .. } => ("TaskStateEntered", "TaskStateExited"),
        Kind::Choice { .. } => ("ChoiceStateEntered", "ChoiceStateExited"),
        Kind::Wait(_) => ("WaitStateEntered", "WaitStateExited"),
        Kind::Succeed => ("SucceedStateEntered", "SucceedStateExited"),
        Kind::Fail { .. } => ("FailStateEntered", "FailStateExited"),
        Kind::Parallel { .. } => ("ParallelStateEntered", "ParallelStateExited"),
        Kind::Map(_) => ("MapStateEntered", "MapStateExited"),
    }
}
