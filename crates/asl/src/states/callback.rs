//! The wait of a callback task (`.waitForTaskToken`) and of an activity's
//! task for its token's answer: SendTaskSuccess, SendTaskFailure, or the
//! end of TimeoutSeconds or of HeartbeatSeconds between heartbeats.

use std::time::Duration;

use orderflow_value::Value;

use crate::error::StatesError;
use crate::executor::{TaskFailure, TokenSignal};

/// Waits for SendTaskSuccess or SendTaskFailure on `token`, within the task's
/// TimeoutSeconds and, between heartbeats, its HeartbeatSeconds.
pub(crate) async fn wait_for_token(
    run: &crate::executor::Run<'_>,
    token: &str,
    overall: Option<tokio::time::Instant>,
    heartbeat: Option<u64>,
) -> Result<Result<Value, TaskFailure>, StatesError> {
    let Some(tokens) = run.tokens else {
        return Ok(Err(TaskFailure {
            error: StatesError::Runtime.name().to_owned(),
            cause:
                "Nothing here can answer a task token: run the state machine with `orderflow run` or `orderflow serve`, or mock the task"
                    .into(),
        }));
    };
    loop {
        let beat = heartbeat.map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
        let until = match (overall, beat) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let signal = match until {
            Some(at) => match tokio::time::timeout_at(at, tokens.wait(token)).await {
                Ok(signal) => signal,
                Err(_) if overall == Some(at) => return Err(StatesError::Timeout),
                Err(_) => return Err(StatesError::HeartbeatTimeout),
            },
            None => tokens.wait(token).await,
        };
        match signal {
            TokenSignal::Heartbeat => continue,
            TokenSignal::Success(value) => return Ok(Ok(value)),
            TokenSignal::Failure(failure) => return Ok(Err(failure)),
        }
    }
}
