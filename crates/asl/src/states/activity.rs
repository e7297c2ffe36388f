//! A Task on an activity: its input is offered to the activity's workers
//! with a task token; a worker takes it (GetActivityTask) and answers the
//! token. The Activity* events AWS records: ActivityScheduled, then
//! ActivityStarted with the worker's name, then ActivitySucceeded,
//! ActivityFailed or ActivityTimedOut; ActivityScheduleFailed when the
//! activity is not there. TimeoutSeconds counts from the schedule,
//! HeartbeatSeconds from the start and each heartbeat.

use std::sync::Arc;
use std::time::Duration;

use orderflow_value::Value;

use crate::error::{Failure, StatesError};
use crate::executor::TaskFailure;
use crate::history::{Detail, EventType, Fields};
use crate::pipeline::{MAX_PAYLOAD_BYTES, Payload, Scope, json_len_against};

/// The task's TimeoutSeconds and HeartbeatSeconds.
pub(crate) struct Times {
    pub timeout: Option<u64>,
    pub heartbeat: Option<u64>,
}

pub(crate) async fn run(
    scope: &Scope<'_, '_>,
    activity: &Arc<str>,
    token: &str,
    input: Arc<Value>,
    times: Times,
) -> Result<Payload, Failure> {
    let run = scope.run;
    // As AWS: a missing activity fails the state before anything is scheduled.
    if let Some(activities) = run.activities
        && !activities.knows(activity)
    {
        return Err(scope.runtime(format!("The activity {activity} does not exist.")));
    }
    let emit = |kind: EventType, details: Fields| run.record(scope.thread, kind, details);
    let mut scheduled = Fields::default();
    scheduled.push("resource", Detail::Shared(activity.clone()));
    scheduled.push("input", Detail::Payload(input.clone()));
    if let Some(seconds) = times.timeout {
        scheduled.push("timeoutInSeconds", Detail::Number(seconds));
    }
    if let Some(seconds) = times.heartbeat {
        scheduled.push("heartbeatInSeconds", Detail::Number(seconds));
    }
    emit(EventType::ActivityScheduled, scheduled)?;
    let deadline = times.timeout.map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
    let failed = |kind: EventType, f: TaskFailure| {
        let mut details = Fields::default();
        details.push("error", Detail::Text(f.error.clone()));
        details.push("cause", Detail::Text(f.cause.clone()));
        emit(kind, details)?;
        Err(Failure::of(f.error, Some(f.cause)))
    };
    // TimeoutSeconds or HeartbeatSeconds: States.Timeout either way, as AWS records them.
    let timed_out = |which: StatesError| {
        let mut details = Fields::default();
        details.push("error", Detail::Static(StatesError::Timeout.name()));
        emit(EventType::ActivityTimedOut, details)?;
        Err(Failure::timed_out(which))
    };
    // A mocked answer stands for the worker's.
    let mocked = run.mocks.and_then(|m| m.answer(&scope.state.name, run.next_invocation(&scope.state.name)));
    let answer = match mocked {
        Some(answer) => answer,
        None => {
            let Some(activities) = run.activities else {
                let f = TaskFailure {
                    error: StatesError::Runtime.name().to_owned(),
                    cause: "Nothing here hands activity tasks to workers: run the state machine with `orderflow run` or `orderflow serve`, or mock the task".into(),
                };
                return failed(EventType::ActivityScheduleFailed, f);
            };
            let offered = activities.offer(activity, token, &input);
            let taken = match deadline {
                Some(at) => match tokio::time::timeout_at(at, offered).await {
                    Ok(taken) => taken,
                    Err(_) => return timed_out(StatesError::Timeout),
                },
                None => offered.await,
            };
            let worker = match taken {
                Ok(worker) => worker,
                Err(f) => return failed(EventType::ActivityScheduleFailed, f),
            };
            // Without a worker's name the details are empty, as AWS records them.
            let mut started = Fields::default();
            if !worker.is_empty() {
                started.push("workerName", Detail::Text(worker));
            }
            emit(EventType::ActivityStarted, started)?;
            let waited = super::callback::wait_for_token(run, token, deadline, times.heartbeat).await;
            if let Some(tokens) = run.tokens {
                tokens.close(token);
            }
            match waited {
                Ok(answer) => answer,
                Err(which) => return timed_out(which),
            }
        }
    };
    match answer {
        Ok(output) => {
            let size = json_len_against(&output, MAX_PAYLOAD_BYTES);
            if size > MAX_PAYLOAD_BYTES {
                return failed(
                    EventType::ActivityFailed,
                    TaskFailure {
                        error: StatesError::DataLimitExceeded.name().to_owned(),
                        cause: format!(
                            "The state/task '{activity}' returned a result with a size exceeding the maximum number of bytes service limit."
                        ),
                    },
                );
            }
            let output = Payload { value: Arc::new(output), size };
            emit(EventType::ActivitySucceeded, [("output", Detail::Payload(output.value.clone()))].into())?;
            Ok(output)
        }
        Err(f) => failed(EventType::ActivityFailed, f),
    }
}
