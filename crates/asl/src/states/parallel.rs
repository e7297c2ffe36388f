//! Parallel: every branch runs on the same input, concurrently; the output is
//! their outputs in branch order. The first branch to fail fails the state
//! and the others are stopped.

use std::sync::Arc;

use serde_json::Value;

use crate::error::Failure;
use crate::executor::Thread;
use crate::model::StateMachine;
use crate::pipeline::{Payload, Scope};

pub(crate) async fn run(scope: &Scope<'_, '_>, branches: &[StateMachine], input: Payload) -> Result<Payload, Failure> {
    let run = scope.run;
    let started = run.record(scope.thread, "ParallelStateStarted", None, [])?;
    let threads: Vec<Thread> = branches.iter().map(|_| Thread::starting_after(started)).collect();
    let runs = branches.iter().zip(&threads).map(|(branch, thread)| run.machine(branch, input.clone(), thread));
    match futures_util::future::try_join_all(runs).await {
        Ok(outputs) => {
            run.record(scope.thread, "ParallelStateSucceeded", None, [])?;
            let size = 1 + outputs.len().max(1) + outputs.iter().map(|o| o.size).sum::<usize>();
            let values = outputs.into_iter().map(|o| Arc::unwrap_or_clone(o.value)).collect();
            Ok(Payload::new(Value::Array(values), size))
        }
        Err(f) => {
            run.record(scope.thread, "ParallelStateFailed", None, [])?;
            Err(f)
        }
    }
}
