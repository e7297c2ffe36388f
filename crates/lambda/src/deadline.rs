//! One deadline per invocation, shared by every call the handler makes.
//! The SDK's timeouts are per call; three calls in a row, each slow, would run
//! past the Lambda timeout, and a function killed there answers nothing of
//! ours (`Sandbox.Timedout`), possibly after a side effect. So each call gets
//! at most what is left of the invocation, less a margin to answer in.

use std::future::Future;
use std::time::Duration;

use orderflow_domain::{DependencyError, DependencyErrorKind};
use tokio::time::Instant;

/// Kept back from the Runtime API's deadline to send the answer.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(1500);

/// The budget of an invocation that has no deadline (a handler called
/// in-process, in tests or by `orderflow run`).
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(8);

#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
}

impl Deadline {
    /// From the Runtime API's `Lambda-Runtime-Deadline-Ms` (epoch
    /// milliseconds; 0 when there is none), less `ANSWER_MARGIN`.
    pub fn from_epoch_millis(deadline_ms: u64) -> Deadline {
        let now = Instant::now();
        if deadline_ms == 0 {
            return Deadline { at: now + DEFAULT_BUDGET };
        }
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        // `cargo lambda watch` sends the function's timeout itself (600000)
        // where Lambda sends an instant: no instant is that long before 2001.
        let left = if deadline_ms < 1_000_000_000_000 {
            Duration::from_millis(deadline_ms)
        } else {
            Duration::from_millis(deadline_ms.saturating_sub(now_ms))
        };
        Deadline { at: now + left.saturating_sub(ANSWER_MARGIN) }
    }

    /// A deadline `budget` from now.
    pub fn after(budget: Duration) -> Deadline {
        Deadline { at: Instant::now() + budget }
    }

    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    pub fn instant(&self) -> Instant {
        self.at
    }

    /// `call`, cut off at the deadline with a retryable error naming it.
    pub async fn bound<T>(
        &self,
        service: &'static str,
        operation: &'static str,
        call: impl Future<Output = Result<T, DependencyError>>,
    ) -> Result<T, DependencyError> {
        match tokio::time::timeout_at(self.at, call).await {
            Ok(result) => result,
            Err(_) => Err(DependencyError {
                kind: DependencyErrorKind::Unavailable,
                service,
                operation,
                detail: "no answer before the invocation's deadline".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_call_past_the_deadline_is_cut_off_retryable() {
        let deadline = Deadline::after(Duration::from_millis(50));
        let slow = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<_, DependencyError>(())
        };
        let started = std::time::Instant::now();
        let err = deadline.bound("DynamoDB", "GetItem", slow).await.unwrap_err();
        assert_eq!(err.kind, DependencyErrorKind::Unavailable);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn the_runtime_s_deadline_less_the_margin() {
        let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        let remaining = Deadline::from_epoch_millis(now_ms + 10_000).remaining();
        assert!(remaining <= Duration::from_millis(8_500) && remaining > Duration::from_millis(8_000), "{remaining:?}");
        assert_eq!(Deadline::from_epoch_millis(now_ms).remaining(), Duration::ZERO);
        assert!(Deadline::from_epoch_millis(0).remaining() > Duration::from_secs(7));
        // cargo lambda watch's header: the timeout, not an instant.
        let watch = Deadline::from_epoch_millis(600_000).remaining();
        assert!(watch > Duration::from_secs(590) && watch <= Duration::from_millis(598_500), "{watch:?}");
    }
}
