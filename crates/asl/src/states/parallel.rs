//! Parallel: every branch runs on the same input, concurrently; the output is
//! their outputs in branch order. The first branch to fail fails the state
//! and the others are stopped.

use std::sync::Arc;

use serde_json::Value;

use crate::error::Failure;
use crate::executor::Thread;
use crate::model::StateMachine;
use crate::pipeline::Scope;

pub(crate) async fn run(
    scope: &Scope<'_, '_>,
    branches: &[StateMachine],
    input: Arc<Value>,
) -> Result<Arc<Value>, Failure> {
    let run = scope.run;
    let started = run.record(scope.thread, "ParallelStateStarted", None, [])?;
    let threads: Vec<Thread> = branches.iter().map(|_| Thread::starting_after(started)).collect();
    let runs = branches.iter().zip(&threads).map(|(branch, thread)| run.machine(branch, input.clone(), thread));
    match futures_util::future::try_join_all(runs).await {
        Ok(outputs) => {
            run.record(scope.thread, "ParallelStateSucceeded", None, [])?;
            Ok(Arc::new(Value::Array(outputs.into_iter().map(Arc::unwrap_or_clone).collect())))
        }
        Err(f) => {
            run.record(scope.thread, "ParallelStateFailed", None, [])?;
            Err(f)
        }
    }
}
