//! Appending events to an execution's history, each on its line (thread).

use std::sync::atomic::Ordering;

use super::run::{Run, Thread};
use crate::error::{Failure, StatesError};
use crate::history::{EventType, MAX_EVENTS, Members};

impl Run<'_> {
    /// Appends an event to `thread`'s line. A history past Step Functions'
    /// 25,000 events ends the execution, as in AWS.
    pub fn record(&self, thread: &Thread, kind: EventType, details: impl Members) -> Result<u64, Failure> {
        if thread.silent {
            return Ok(0);
        }
        self.record_at(thread, self.clock.now_nanos(), kind, details)
    }

    /// Appends an event that happened at `at` (Unix nanoseconds), read from the clock just before.
    pub fn record_at(&self, thread: &Thread, at: i128, kind: EventType, details: impl Members) -> Result<u64, Failure> {
        if thread.silent {
            return Ok(0);
        }
        let previous = thread.last.load(Ordering::Relaxed);
        match self.history.record(at, kind, previous, details) {
            Some(id) => {
                thread.last.store(id, Ordering::Relaxed);
                Ok(id)
            }
            None => Err(Failure::new(
                StatesError::Runtime,
                format!("The execution reached the maximum number of history events ({MAX_EVENTS})."),
            )),
        }
    }

    /// Appends an event whose previous event is `previous`, not `thread`'s last.
    pub fn record_after(
        &self,
        thread: &Thread,
        previous: u64,
        kind: EventType,
        details: impl Members,
    ) -> Result<u64, Failure> {
        let last = thread.last();
        thread.set_last(previous);
        let recorded = self.record(thread, kind, details);
        if recorded.is_err() {
            thread.set_last(last);
        }
        recorded
    }

    /// Appends an event that does not move `thread`'s line on, as AWS records
    /// a Map iteration's end and a Map state's success.
    pub fn record_aside(&self, thread: &Thread, kind: EventType, details: impl Members) -> Result<u64, Failure> {
        let last = thread.last();
        let id = self.record(thread, kind, details)?;
        thread.set_last(last);
        Ok(id)
    }

    /// The execution's last event, recorded even when the history is full.
    pub(super) fn finish(&self, thread: &Thread, kind: EventType, details: impl Members) {
        self.history.force(self.clock.now_nanos(), kind, thread.last(), details);
    }
}
