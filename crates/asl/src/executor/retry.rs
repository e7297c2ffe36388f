//! A Task, Parallel or Map state's Retry and Catch lists around its attempts.

use std::sync::Arc;
use std::time::Duration;

use super::EXECUTION_TIMED_OUT;
use super::run::Run;
use crate::error::{Failure, StatesError, matches};
use crate::history::EventType;
use crate::model::{Kind, UNRESOLVED};
use crate::pipeline::{Now, Payload, Scope};
use crate::rng::Rng;

impl Run<'_> {
    /// Runs a Task, Parallel or Map state with its Retry and Catch lists:
    /// `Ok(Ok(output))` on success, `Ok(Err((next, output)))` when a Catch
    /// sends it elsewhere.
    pub(super) async fn with_retries(
        &self,
        scope: &Scope<'_, '_>,
        raw: Payload,
    ) -> Result<Result<Payload, (usize, Payload)>, Failure> {
        let state = scope.state;
        // Made at the first failure: most attempts succeed.
        let mut attempts: Vec<u32> = Vec::new();
        let mut retry_count = 0u32;
        loop {
            let outcome = self.attempt(scope, &raw, retry_count).await;
            let f = match outcome {
                Ok(output) => return Ok(Ok(output)),
                Err(f) if f.is(StatesError::Runtime) || f.error == EXECUTION_TIMED_OUT => return Err(f),
                Err(f) => f,
            };
            if attempts.is_empty() {
                attempts.resize(state.retry.len(), 0);
            }
            let retrier = state.retry.iter().position(|r| matches(&r.error_equals, &f));
            let retried = retrier.is_some_and(|i| attempts[i] < state.retry[i].max_attempts);
            if !retried {
                // Only the attempt that is not retried records the failure.
                match state.kind {
                    Kind::Parallel { .. } => self.record(scope.thread, EventType::ParallelStateFailed, [])?,
                    Kind::Map(_) => self.record(scope.thread, EventType::MapStateFailed, [])?,
                    _ => 0,
                };
            }
            if let Some(i) = retrier
                && retried
            {
                self.took(state, "Retry", i, &f.error);
                let delay = retry_delay(&self.rng, &state.retry[i], attempts[i]);
                attempts[i] += 1;
                retry_count += 1;
                if let Some(left) = self.time_left()
                    && delay >= left
                {
                    self.clock.sleep(left).await;
                    return Err(Failure::of(EXECUTION_TIMED_OUT.to_owned(), None));
                }
                self.clock.sleep(delay).await;
                continue;
            }
            return match state.catch.iter().position(|c| matches(&c.error_equals, &f)) {
                Some(i) => {
                    self.took(state, "Catch", i, &f.error);
                    let catcher = &state.catch[i];
                    let error = Payload::measured(Arc::new(f.to_value()));
                    // The catcher sees the state's context, its RetryCount included, as AWS shows it.
                    let context = scope.context(Some(retry_count));
                    let output = if state.jsonata {
                        let now = Now::input(&raw.value).with_error(&error.value);
                        let (assign, output) = (catcher.assign.as_ref(), catcher.output.as_ref());
                        scope.conclude(assign, output, now, error.clone(), &context)?
                    } else {
                        scope.assign(catcher.assign.as_ref(), &error, &context)?;
                        scope.result_path(catcher.result_path.as_ref(), raw, error)?
                    };
                    if catcher.next.index == UNRESOLVED {
                        return Err(Failure::new(StatesError::Runtime, "a Catch names a state that does not exist"));
                    }
                    Ok(Err((catcher.next.index, output)))
                }
                None => Err(f),
            };
        }
    }
}

fn retry_delay(rng: &Rng, retrier: &crate::model::Retrier, attempt: u32) -> Duration {
    let mut seconds = retrier.interval_seconds * retrier.backoff_rate.powi(attempt.min(1024) as i32);
    if let Some(max) = retrier.max_delay_seconds {
        seconds = seconds.min(max);
    }
    if retrier.full_jitter {
        seconds *= rng.next_f64();
    }
    // A year bounds a delay whose backoff overflowed.
    Duration::from_secs_f64(seconds.clamp(0.0, 365.0 * 86_400.0))
}
