//! Parallel: every branch runs on the same input, concurrently; the output is
//! their outputs in branch order. The first branch to fail fails the state
//! and the others are stopped.

use std::sync::Arc;

use orderflow_value::Value;

use crate::error::Failure;
use crate::history::EventType;
use crate::model::StateMachine;
use crate::pipeline::{Payload, Scope};

pub(crate) async fn run(scope: &Scope<'_, '_>, branches: &[StateMachine], input: Payload) -> Result<Payload, Failure> {
    let run = scope.run;
    run.record(scope.thread, EventType::ParallelStateStarted, [])?;
    // The branches continue the state's line; ParallelStateFailed is the retry
    // loop's to record, as a retried attempt leaves none.
    // After a redrive, the branches that succeeded before are not run again.
    let done = run.take_done(scope.state);
    let runs = branches.iter().enumerate().map(|(index, branch)| {
        let (input, done) = (input.clone(), done.get(&index).cloned());
        async move {
            if let Some(output) = done {
                // Noted again for this attempt: a later redrive keeps it too.
                run.note(scope.entered_id, scope.state, index, &output);
                return Ok(Payload::measured(output));
            }
            // Each branch reads the outer variables and keeps its own assignments.
            let vars = run.inner_frame(scope.vars);
            let output = run.machine(branch, input, scope.thread, &vars).await?;
            run.note(scope.entered_id, scope.state, index, &output.value);
            Ok(output)
        }
    });
    match futures_util::future::try_join_all(runs).await {
        Ok(outputs) => {
            run.record_aside(scope.thread, EventType::ParallelStateSucceeded, [])?;
            let size = 1 + outputs.len().max(1) + outputs.iter().map(|o| o.size).sum::<usize>();
            let values = outputs.into_iter().map(|o| Arc::unwrap_or_clone(o.value)).collect();
            Ok(Payload::new(Value::array(values), size))
        }
        Err(f) => Err(f),
    }
}
