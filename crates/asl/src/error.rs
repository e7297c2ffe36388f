//! Step Functions' predefined error names, and a state's failure.

/// The `States.*` errors, by the names AWS gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatesError {
    All,
    Runtime,
    Timeout,
    HeartbeatTimeout,
    TaskFailed,
    DataLimitExceeded,
    ResultPathMatchFailure,
    IntrinsicFailure,
    NoChoiceMatched,
    ExceedToleratedFailureThreshold,
    BranchFailed,
    QueryEvaluationError,
    ItemReaderFailed,
    ResultWriterFailed,
}

impl StatesError {
    pub fn name(self) -> &'static str {
        match self {
            StatesError::All => "States.ALL",
            StatesError::Runtime => "States.Runtime",
            StatesError::Timeout => "States.Timeout",
            StatesError::HeartbeatTimeout => "States.HeartbeatTimeout",
            StatesError::TaskFailed => "States.TaskFailed",
            StatesError::DataLimitExceeded => "States.DataLimitExceeded",
            StatesError::ResultPathMatchFailure => "States.ResultPathMatchFailure",
            StatesError::IntrinsicFailure => "States.IntrinsicFailure",
            StatesError::NoChoiceMatched => "States.NoChoiceMatched",
            StatesError::ExceedToleratedFailureThreshold => "States.ExceedToleratedFailureThreshold",
            StatesError::BranchFailed => "States.BranchFailed",
            StatesError::QueryEvaluationError => "States.QueryEvaluationError",
            StatesError::ItemReaderFailed => "States.ItemReaderFailed",
            StatesError::ResultWriterFailed => "States.ResultWriterFailed",
        }
    }
}

/// A failed state: the error name and the cause, which AWS sometimes omits.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub error: String,
    pub cause: Option<String>,
    /// A task's HeartbeatSeconds passed without a heartbeat: AWS records
    /// `States.Timeout` (no cause), which a Retry or Catch on
    /// `States.HeartbeatTimeout` also covers.
    pub heartbeat: bool,
}

impl Failure {
    pub fn new(error: StatesError, cause: impl Into<String>) -> Failure {
        Failure { error: error.name().to_owned(), cause: Some(cause.into()), heartbeat: false }
    }

    /// `error` with `cause` (or none), as a state failed with them.
    pub fn of(error: String, cause: Option<String>) -> Failure {
        Failure { error, cause, heartbeat: false }
    }

    /// A timeout (TimeoutSeconds, or HeartbeatSeconds between heartbeats):
    /// `States.Timeout` without a cause, as AWS records both.
    pub fn timed_out(which: StatesError) -> Failure {
        Failure {
            error: StatesError::Timeout.name().to_owned(),
            cause: None,
            heartbeat: which == StatesError::HeartbeatTimeout,
        }
    }

    pub fn is(&self, error: StatesError) -> bool {
        self.error == error.name()
    }

    /// `{"Error": ..., "Cause": ...}`, as a Catch passes it on (a missing cause as "").
    pub fn to_value(&self) -> orderflow_value::Value {
        let mut out = orderflow_value::Map::new();
        out.insert("Error", self.error.clone().into());
        out.insert("Cause", self.cause.clone().unwrap_or_default().into());
        orderflow_value::Value::Object(out)
    }
}

/// Whether a retrier's or catcher's ErrorEquals covers `failure`.
pub fn matches(error_equals: &[String], failure: &Failure) -> bool {
    let error = failure.error.as_str();
    // States.Runtime is never retried or caught.
    if error == StatesError::Runtime.name() {
        return false;
    }
    error_equals.iter().any(|e| match e.as_str() {
        "States.ALL" => true,
        // A wildcard for every error but a timeout.
        "States.TaskFailed" => error != StatesError::Timeout.name(),
        "States.HeartbeatTimeout" => failure.heartbeat || error == e,
        name => name == error,
    })
}

/// What is wrong with a definition, and where: refused when it loads.
#[derive(Debug, Clone, PartialEq)]
pub struct DefinitionError {
    /// Where, e.g. `States.ValidateData.Retry[0].BackoffRate`.
    pub location: String,
    pub message: String,
}

impl std::fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl std::error::Error for DefinitionError {}

pub(crate) fn def_err(location: impl Into<String>, message: impl Into<String>) -> DefinitionError {
    DefinitionError { location: location.into(), message: message.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers(names: &[&str], failure: &Failure) -> bool {
        matches(&names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>(), failure)
    }

    #[test]
    fn a_heartbeat_expiry_is_a_timeout_that_heartbeat_timeout_also_covers() {
        let heartbeat = Failure::timed_out(StatesError::HeartbeatTimeout);
        let overall = Failure::timed_out(StatesError::Timeout);
        assert_eq!((heartbeat.error.as_str(), heartbeat.cause.as_deref()), ("States.Timeout", None));
        assert!(covers(&["States.HeartbeatTimeout"], &heartbeat));
        assert!(covers(&["States.Timeout"], &heartbeat));
        assert!(covers(&["States.ALL"], &heartbeat));
        assert!(!covers(&["States.TaskFailed"], &heartbeat));
        assert!(!covers(&["States.HeartbeatTimeout"], &overall));
        assert!(covers(&["States.Timeout"], &overall));
        assert!(!covers(&["States.ALL"], &Failure::new(StatesError::Runtime, "x")));
    }
}
