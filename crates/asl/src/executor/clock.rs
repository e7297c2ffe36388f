//! Time, for timestamps, Wait states and retry intervals: the wall clock,
//! and a virtual one that moves only when something waits.

use std::sync::atomic::Ordering;
use std::time::Duration;

use time::OffsetDateTime;

use super::BoxFuture;

/// Time, for timestamps, Wait states and retry intervals.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
    /// The same instant as Unix nanoseconds, which history events keep.
    fn now_nanos(&self) -> i128 {
        self.now().unix_timestamp_nanos()
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()>;
}

/// Wall-clock time: Wait states and retry intervals really wait.
#[derive(Debug, Default)]
pub struct RealClock;

impl Clock for RealClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
    // Read for every history event: straight from the system time, without
    // the calendar date `OffsetDateTime::now_utc` works out.
    fn now_nanos(&self) -> i128 {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(after) => after.as_nanos() as i128,
            Err(before) => -(before.duration().as_nanos() as i128),
        }
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Time that moves only when something waits, and then at once: a Wait of
/// an hour takes no time, and the history still says an hour passed. Kept as
/// Unix nanoseconds, read without a lock.
#[derive(Debug)]
pub struct VirtualClock(std::sync::atomic::AtomicI64);

impl VirtualClock {
    pub fn starting_at(now: OffsetDateTime) -> VirtualClock {
        let nanos = i64::try_from(now.unix_timestamp_nanos()).unwrap_or(i64::MAX);
        VirtualClock(std::sync::atomic::AtomicI64::new(nanos))
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        VirtualClock::starting_at(OffsetDateTime::now_utc())
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(self.now_nanos()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
    fn now_nanos(&self) -> i128 {
        i128::from(self.0.load(Ordering::Relaxed))
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        // Saturates at the year 2262, past every quota's reach.
        let step = i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX);
        let _ = self.0.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n.saturating_add(step)));
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod clock_tests {
    use super::*;

    #[test]
    fn the_real_clock_reads_the_same_instant_either_way() {
        let clock = RealClock;
        let (before, nanos, after) =
            (clock.now().unix_timestamp_nanos(), clock.now_nanos(), clock.now().unix_timestamp_nanos());
        assert!(before <= nanos && nanos <= after, "{before} <= {nanos} <= {after}");
    }
}
