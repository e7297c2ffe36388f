//! An event as GetExecutionHistory shows it, and the event types with the
//! details object each carries (AWS's service model, HistoryEventType).

use orderflow_value::{Map, Value};
use serde::{Deserialize, Serialize};

/// Declares the event types, each with the details object it carries.
macro_rules! event_types {
    ($($name:ident => $key:expr,)*) => {
        /// A history event's type (AWS's HistoryEventType), which fixes the
        /// member its details sit in (`stateEnteredEventDetails`, or none).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            $($name,)*
        }

        impl EventType {
            /// Every type, in the service model's order.
            pub const ALL: &[EventType] = &[$(EventType::$name,)*];

            /// The type as GetExecutionHistory names it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(EventType::$name => stringify!($name),)*
                }
            }

            /// The member of the event that holds its details, for the types
            /// that have one.
            pub const fn details_key(self) -> Option<&'static str> {
                match self {
                    $(EventType::$name => $key,)*
                }
            }
        }
    };
}

event_types! {
    ActivityFailed => Some("activityFailedEventDetails"),
    ActivityScheduled => Some("activityScheduledEventDetails"),
    ActivityScheduleFailed => Some("activityScheduleFailedEventDetails"),
    ActivityStarted => Some("activityStartedEventDetails"),
    ActivitySucceeded => Some("activitySucceededEventDetails"),
    ActivityTimedOut => Some("activityTimedOutEventDetails"),
    ChoiceStateEntered => Some("stateEnteredEventDetails"),
    ChoiceStateExited => Some("stateExitedEventDetails"),
    ExecutionAborted => Some("executionAbortedEventDetails"),
    ExecutionFailed => Some("executionFailedEventDetails"),
    ExecutionStarted => Some("executionStartedEventDetails"),
    ExecutionSucceeded => Some("executionSucceededEventDetails"),
    ExecutionTimedOut => Some("executionTimedOutEventDetails"),
    FailStateEntered => Some("stateEnteredEventDetails"),
    LambdaFunctionFailed => Some("lambdaFunctionFailedEventDetails"),
    LambdaFunctionScheduled => Some("lambdaFunctionScheduledEventDetails"),
    LambdaFunctionScheduleFailed => Some("lambdaFunctionScheduleFailedEventDetails"),
    LambdaFunctionStarted => None,
    LambdaFunctionStartFailed => Some("lambdaFunctionStartFailedEventDetails"),
    LambdaFunctionSucceeded => Some("lambdaFunctionSucceededEventDetails"),
    LambdaFunctionTimedOut => Some("lambdaFunctionTimedOutEventDetails"),
    MapIterationAborted => Some("mapIterationAbortedEventDetails"),
    MapIterationFailed => Some("mapIterationFailedEventDetails"),
    MapIterationStarted => Some("mapIterationStartedEventDetails"),
    MapIterationSucceeded => Some("mapIterationSucceededEventDetails"),
    MapStateAborted => None,
    MapStateEntered => Some("stateEnteredEventDetails"),
    MapStateExited => Some("stateExitedEventDetails"),
    MapStateFailed => None,
    MapStateStarted => Some("mapStateStartedEventDetails"),
    MapStateSucceeded => None,
    ParallelStateAborted => None,
    ParallelStateEntered => Some("stateEnteredEventDetails"),
    ParallelStateExited => Some("stateExitedEventDetails"),
    ParallelStateFailed => None,
    ParallelStateStarted => None,
    ParallelStateSucceeded => None,
    PassStateEntered => Some("stateEnteredEventDetails"),
    PassStateExited => Some("stateExitedEventDetails"),
    SucceedStateEntered => Some("stateEnteredEventDetails"),
    SucceedStateExited => Some("stateExitedEventDetails"),
    TaskFailed => Some("taskFailedEventDetails"),
    TaskScheduled => Some("taskScheduledEventDetails"),
    TaskStarted => Some("taskStartedEventDetails"),
    TaskStartFailed => Some("taskStartFailedEventDetails"),
    TaskStateAborted => None,
    TaskStateEntered => Some("stateEnteredEventDetails"),
    TaskStateExited => Some("stateExitedEventDetails"),
    TaskSubmitFailed => Some("taskSubmitFailedEventDetails"),
    TaskSubmitted => Some("taskSubmittedEventDetails"),
    TaskSucceeded => Some("taskSucceededEventDetails"),
    TaskTimedOut => Some("taskTimedOutEventDetails"),
    WaitStateAborted => None,
    WaitStateEntered => Some("stateEnteredEventDetails"),
    WaitStateExited => Some("stateExitedEventDetails"),
    MapRunAborted => None,
    MapRunFailed => Some("mapRunFailedEventDetails"),
    MapRunStarted => Some("mapRunStartedEventDetails"),
    MapRunSucceeded => None,
    ExecutionRedriven => Some("executionRedrivenEventDetails"),
    MapRunRedriven => Some("mapRunRedrivenEventDetails"),
    EvaluationFailed => Some("evaluationFailedEventDetails"),
}

impl EventType {
    /// The type named `name`, as GetExecutionHistory names it.
    pub fn from_name(name: &str) -> Option<EventType> {
        EventType::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// A state's first event: `TaskStateEntered`, `PassStateEntered`, ...
    pub fn is_state_entered(self) -> bool {
        matches!(self.details_key(), Some("stateEnteredEventDetails"))
    }

    /// A state's last event when it succeeds: `TaskStateExited`, ...
    pub fn is_state_exited(self) -> bool {
        matches!(self.details_key(), Some("stateExitedEventDetails"))
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for EventType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        EventType::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format_args!("unknown history event type `{name}`")))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEvent {
    pub timestamp: String,
    /// The same instant as Unix nanoseconds.
    #[serde(skip)]
    pub at_nanos: i128,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub id: u64,
    pub previous_event_id: u64,
    #[serde(flatten)]
    pub details: Map,
}

impl HistoryEvent {
    /// The event's details object, e.g. `stateEnteredEventDetails`.
    pub fn details(&self) -> Option<&Value> {
        self.details.values().next()
    }

    /// The state an event is about, where it names one.
    pub fn state_name(&self) -> Option<&str> {
        self.details()?.get("name")?.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_reads_back_from_its_name_and_keeps_one_details_member() {
        for &t in EventType::ALL {
            assert_eq!(EventType::from_name(t.name()), Some(t));
            let text = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::from_str::<EventType>(&text).unwrap(), t);
        }
        assert_eq!(EventType::ALL.len(), 62);
        assert_eq!(EventType::TaskStateEntered.details_key(), Some("stateEnteredEventDetails"));
        assert_eq!(EventType::MapIterationFailed.details_key(), Some("mapIterationFailedEventDetails"));
        assert_eq!(EventType::LambdaFunctionStarted.details_key(), None);
        assert_eq!(EventType::ParallelStateStarted.details_key(), None);
        assert!(EventType::WaitStateEntered.is_state_entered() && !EventType::WaitStateExited.is_state_entered());
        assert!(EventType::ChoiceStateExited.is_state_exited() && !EventType::ExecutionSucceeded.is_state_exited());
        assert!(serde_json::from_str::<EventType>("\"TaskStateWandered\"").is_err());
    }
}
