//! Where connections are served: one thread per core, each a tokio
//! current-thread runtime that owns the connections handed to it. A request
//! is then read, run and answered on one thread, with no hand-off between
//! threads: on a multi-threaded runtime, each answer waited for a wake-up
//! of another worker (a futex and a context switch), which cost a single
//! client half its latency. What a request starts (an execution, a Map's
//! iterations) runs on its connection's thread; the listener and the
//! server's own timers stay on the caller's runtime.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use tokio::sync::mpsc;

/// A connection, on its way from the listener to its thread.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

pub(crate) struct Workers {
    queues: Vec<mpsc::UnboundedSender<Job>>,
    next: AtomicUsize,
}

impl Workers {
    /// One thread per core the process may use, each running what it is handed until the
    /// process ends. None when no thread could be started: the caller's runtime serves then.
    pub(crate) fn start() -> Option<Workers> {
        let count = thread::available_parallelism().map_or(1, |n| n.get());
        let mut queues = Vec::with_capacity(count);
        for index in 0..count {
            let (sender, mut jobs) = mpsc::unbounded_channel::<Job>();
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            thread::Builder::new()
                .name(format!("orderflow-conn-{index}"))
                .spawn(move || {
                    runtime.block_on(async move {
                        while let Some(job) = jobs.recv().await {
                            job();
                        }
                    })
                })
                .ok()?;
            queues.push(sender);
        }
        Some(Workers { queues, next: AtomicUsize::new(0) })
    }

    /// Runs `job` on the next thread in turn; it may spawn tasks, which stay on that thread.
    pub(crate) fn hand(&self, job: Job) -> Result<(), Job> {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.queues.len();
        self.queues[index].send(job).map_err(|e| e.0)
    }
}
