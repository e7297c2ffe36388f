//! One file per state type; each runs its own work inside the shared
//! pipeline (`crate::pipeline`) and the retry loop (`crate::executor`).

pub(crate) mod activity;
pub(crate) mod callback;
pub(crate) mod choice;
pub(crate) mod distributed_map;
pub(crate) mod fail;
pub(crate) mod map;
pub(crate) mod parallel;
pub(crate) mod pass;
pub(crate) mod succeed;
pub(crate) mod task;
pub(crate) mod wait;

use crate::history::EventType;
use crate::model::Kind;

/// A state's `...StateEntered` and `...StateExited` event types (a Fail
/// state never exits).
pub(crate) fn event_types(kind: &Kind) -> (EventType, Option<EventType>) {
    use EventType as E;
    match kind {
        Kind::Pass { .. } => (E::PassStateEntered, Some(E::PassStateExited)),
        Kind::Task { .. } => (E::TaskStateEntered, Some(E::TaskStateExited)),
        Kind::Choice { .. } => (E::ChoiceStateEntered, Some(E::ChoiceStateExited)),
        Kind::Wait(_) => (E::WaitStateEntered, Some(E::WaitStateExited)),
        Kind::Succeed => (E::SucceedStateEntered, Some(E::SucceedStateExited)),
        Kind::Fail { .. } => (E::FailStateEntered, None),
        Kind::Parallel { .. } => (E::ParallelStateEntered, Some(E::ParallelStateExited)),
        Kind::Map(_) => (E::MapStateEntered, Some(E::MapStateExited)),
    }
}
