//! Map: the processor runs once per item of ItemsPath (each shaped by
//! ItemSelector), at most MaxConcurrency at a time (and never more than
//! Step Functions' 40 for an inline Map); the output is the iterations'
//! outputs in item order. Without a tolerated failure count or percentage the
//! first failing iteration fails the state and the others are stopped.

use std::sync::Arc;

use futures_util::StreamExt;
use orderflow_value::Value;

use crate::context::Context;
use crate::error::{Failure, StatesError};
use crate::executor::Thread;
use crate::history::{Detail, EventType, Fields};
use crate::model::{Given, MapSpec};
use crate::path::Path;
use crate::pipeline::{Now, Payload, Scope};
use crate::states::wait::shown;
use crate::template::Template;

/// Step Functions runs at most this many inline Map iterations at once.
const MAX_INLINE_CONCURRENCY: usize = 40;

pub(crate) async fn run(
    scope: &Scope<'_, '_>,
    spec: &MapSpec,
    effective: &Payload,
    context: &Context<'_>,
) -> Result<Payload, Failure> {
    if let Some(distributed) = &spec.distributed {
        return super::distributed_map::run(scope, spec, distributed, effective, context).await;
    }
    let run = scope.run;
    let now = Now::input(&effective.value);
    let items = items(scope, spec, effective, context)?;
    let max_concurrency = max_concurrency(scope, spec, effective, context)?;
    // AWS starts the Map (with its length) after reading MaxConcurrencyPath,
    // before the tolerated failures.
    let started =
        run.record(scope.thread, EventType::MapStateStarted, [("length", Detail::Number(items.len() as u64))])?;
    let (tolerated_count, tolerated_percentage) = tolerance(scope, spec, effective, context)?;
    let mut inputs = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        inputs.push(match &spec.item_selector {
            Some(selector) => {
                let item_context = scope.item_context(context.state.retry_count, Some((index, item)));
                if scope.state.jsonata {
                    scope.render_jsonata(selector, now, &item_context)?
                } else {
                    scope.render(selector, effective, &item_context)?
                }
            }
            // An item is no longer than the input it came from.
            None => Payload::new(item.clone(), effective.size),
        });
    }
    let total = inputs.len();
    let thread = scope.thread;
    if spec.processor.distributed {
        // A Distributed Map's iterations are child executions with their own
        // histories; the parent's shows the map run.
        let arn =
            format!("{}/{}:{}", run.facts.machine_id.replace(":stateMachine:", ":mapRun:"), scope.state.name, started);
        run.record(thread, EventType::MapRunStarted, [("mapRunArn", Detail::Text(arn))])?;
    }
    let limit = match max_concurrency {
        0 => MAX_INLINE_CONCURRENCY,
        n => (n as usize).min(MAX_INLINE_CONCURRENCY),
    };
    let name = &scope.state.name;
    let iteration_details =
        |index: usize| [("name", Detail::Shared(name.clone())), ("index", Detail::Number(index as u64))];
    let distributed = spec.processor.distributed;
    // After a redrive, the iterations that succeeded before are not run again.
    let done = run.take_done(scope.state);
    let done = &done;
    let entered = scope.entered_id;
    let mut iterations = futures_util::stream::iter(inputs.into_iter().enumerate().map(|(index, input)| async move {
        if let Some(output) = done.get(&index) {
            // Noted again for this attempt: a later redrive keeps it too.
            run.note(entered, scope.state, index, output);
            return Ok::<_, Failure>((Ok(Payload::measured(output.clone())), 0));
        }
        if distributed {
            let own = Thread::silent();
            let vars = run.inner_frame(scope.vars);
            let outcome = run.machine(&spec.processor, input, &own, &vars).await;
            if let Ok(output) = &outcome {
                run.note(entered, scope.state, index, &output.value);
            }
            return Ok::<_, Failure>((outcome, 0));
        }
        // Iterations continue the Map's line; each one's end is recorded beside it.
        run.record(thread, EventType::MapIterationStarted, iteration_details(index))?;
        // Each iteration reads the outer variables and keeps its own assignments.
        let vars = run.inner_frame(scope.vars);
        let outcome = run.machine(&spec.processor, input, thread, &vars).await;
        if let Ok(output) = &outcome {
            run.note(entered, scope.state, index, &output.value);
        }
        let kind = if outcome.is_ok() { EventType::MapIterationSucceeded } else { EventType::MapIterationFailed };
        let end = run.record_aside(thread, kind, iteration_details(index))?;
        Ok::<_, Failure>((outcome, end))
    }))
    .buffered(limit);
    let tolerant = tolerated_count.is_some() || tolerated_percentage.is_some();
    let mut outputs = Vec::with_capacity(total);
    let mut size = 2;
    let mut failed = 0usize;
    let mut last_end = 0;
    // MapStateFailed is the retry loop's to record: a failed attempt that is
    // retried leaves none.
    let fail = |failure: Failure| -> Result<Payload, Failure> {
        if distributed {
            run.record(thread, EventType::MapRunFailed, map_run_failed(&failure))?;
        }
        Err(failure)
    };
    while let Some(iteration) = iterations.next().await {
        let (outcome, end) = iteration?;
        last_end = end;
        match outcome {
            Ok(output) => {
                size += output.size + 1;
                outputs.push(Arc::unwrap_or_clone(output.value));
            }
            Err(f) if f.error == crate::executor::EXECUTION_TIMED_OUT || f.is(StatesError::Runtime) => return Err(f),
            Err(f) if !tolerant => return fail(f),
            Err(f) => {
                failed += 1;
                if over_tolerance(failed as u64, Some(total as u64), tolerated_count, tolerated_percentage) {
                    return fail(tolerance_exceeded());
                }
                let error = f.to_value();
                size += crate::pipeline::json_len(&error) + 1;
                outputs.push(error);
            }
        }
    }
    drop(iterations);
    if distributed {
        run.record(thread, EventType::MapRunSucceeded, [])?;
    } else if last_end != 0 {
        thread.set_last(last_end);
    }
    run.record_aside(thread, EventType::MapStateSucceeded, [])?;
    Ok(Payload::new(Value::array(outputs), size))
}

/// A Distributed Map run's failure, as MapRunFailed shows it.
fn map_run_failed(failure: &Failure) -> Fields {
    let mut details = Fields::default();
    details.push("error", Detail::Text(failure.error.clone()));
    if let Some(cause) = &failure.cause {
        details.push("cause", Detail::Text(cause.clone()));
    }
    details
}

/// A Map's items: ItemsPath's array (JSONPath), Items or the input (JSONata).
pub(crate) fn items(
    scope: &Scope<'_, '_>,
    spec: &MapSpec,
    effective: &Payload,
    context: &Context<'_>,
) -> Result<Arc<Vec<Value>>, Failure> {
    let now = Now::input(&effective.value);
    Ok(if scope.state.jsonata {
        match &spec.items {
            Some(Template::Expr { field, expr }) => match scope.expr_of_type(field, expr, "array", now, context)? {
                Value::Array(items) => items,
                _ => Default::default(),
            },
            Some(template) => match Arc::unwrap_or_clone(scope.render_jsonata(template, now, context)?.value) {
                Value::Array(items) => items,
                other => {
                    return Err(
                        scope.query_failed(Some("Items"), format!("The Items field must be an array but was: {other}"))
                    );
                }
            },
            None => match &*effective.value {
                Value::Array(items) => items.clone(),
                other => {
                    return Err(scope.query_failed(None, format!("Map state input must be an array but was: {other}")));
                }
            },
        }
    } else {
        match scope.select_field(&spec.items_path, &effective.value, context)? {
            Value::Array(items) => items,
            other => {
                return Err(scope.runtime(format!(
                    "Invalid path '{}': The ItemsPath field must refer to a JSON array, but it refers to '{other}'",
                    spec.items_path.text()
                )));
            }
        }
    })
}

/// A field's value that must be a number of one kind, read by path.
fn not_a(scope: &Scope<'_, '_>, p: &Path, field: &str, value: &Value, kind: &str) -> Failure {
    scope.runtime(format!(
        "The {field} field refers to value \"{}\" which is not a valid {kind}: {}",
        shown(value),
        p.text()
    ))
}

/// MaxConcurrency, given, by path or by expression (0: no limit).
pub(super) fn max_concurrency(
    scope: &Scope<'_, '_>,
    spec: &MapSpec,
    effective: &Payload,
    context: &Context<'_>,
) -> Result<u64, Failure> {
    let now = Now::input(&effective.value);
    Ok(match &spec.max_concurrency {
        Given::Value(n) => *n,
        Given::Expr(e) => scope
            .expr_such("MaxConcurrency", e, "integer", &|v| v.as_u64().is_some(), now, context)?
            .as_u64()
            .unwrap_or(0),
        Given::Path(p) => {
            let v = scope.select_field(p, &effective.value, context)?;
            // A number, or a string that reads as one, as AWS takes it.
            v.as_u64()
                .or_else(|| v.as_str().and_then(|t| t.parse().ok()))
                .ok_or_else(|| not_a(scope, p, "MaxConcurrencyPath", &v, "integer"))?
        }
    })
}

/// ToleratedFailureCount and ToleratedFailurePercentage, each when given.
/// Whether `failed` failures of `total` items (None while not all are read)
/// pass the tolerated failure threshold; with neither given, any failure does.
pub(crate) fn over_tolerance(failed: u64, total: Option<u64>, count: Option<i64>, percentage: Option<f64>) -> bool {
    count.is_none_or(|c| failed as i64 > c)
        && percentage.is_none_or(|p| total.is_some_and(|t| failed as f64 * 100.0 / t as f64 > p))
}

/// The failure of a Map whose failures passed its tolerated failure threshold.
pub(crate) fn tolerance_exceeded() -> Failure {
    Failure::new(StatesError::ExceedToleratedFailureThreshold, "The specified tolerated failure threshold was exceeded")
}

pub(super) fn tolerance(
    scope: &Scope<'_, '_>,
    spec: &MapSpec,
    effective: &Payload,
    context: &Context<'_>,
) -> Result<(Option<i64>, Option<f64>), Failure> {
    let now = Now::input(&effective.value);
    let read = |p: &Path| scope.select_field(p, &effective.value, context);
    let number = |field: &str, expr: &crate::jsonata::Expression, kind: &str, ok: &dyn Fn(&Value) -> bool| {
        scope.expr_such(field, expr, kind, ok, now, context)
    };
    let tolerated_count = match &spec.tolerated_failure_count {
        None => None,
        Some(Given::Value(n)) => Some(*n),
        Some(Given::Expr(e)) => number("ToleratedFailureCount", e, "integer", &|v| v.as_i64().is_some())?.as_i64(),
        Some(Given::Path(p)) => {
            let v = read(p)?;
            Some(
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|t| t.parse().ok()))
                    .ok_or_else(|| not_a(scope, p, "ToleratedFailureCountPath", &v, "integer"))?,
            )
        }
    };
    if tolerated_count.is_some_and(|c| c < 0) {
        return Err(scope.runtime("ToleratedFailureCount cannot be negative."));
    }
    let tolerated_percentage = match &spec.tolerated_failure_percentage {
        None => None,
        Some(Given::Value(p)) => Some(*p),
        Some(Given::Expr(e)) => number("ToleratedFailurePercentage", e, "number", &|v| v.is_number())?.as_f64(),
        Some(Given::Path(p)) => {
            let v = read(p)?;
            Some(
                v.as_f64()
                    .or_else(|| v.as_str().and_then(|t| t.parse().ok()))
                    .ok_or_else(|| not_a(scope, p, "ToleratedFailurePercentagePath", &v, "float"))?,
            )
        }
    };
    if tolerated_percentage.is_some_and(|p| !(0.0..=100.0).contains(&p)) {
        return Err(scope.runtime("ToleratedFailurePercentage must be between 0 and 100."));
    }
    Ok((tolerated_count, tolerated_percentage))
}
