//! Wait: a number of seconds or until a timestamp, given or read by path.

use std::time::Duration;

use orderflow_value::Value;

use crate::choice::parse_timestamp;
use crate::error::Failure;
use crate::executor::EXECUTION_TIMED_OUT;
use crate::model::WaitFor;
use crate::pipeline::{Now, Payload, Scope};

/// Step Functions refuses a Wait longer than this (2^31 − 1 seconds).
const MAX_WAIT_SECONDS: u64 = i32::MAX as u64;

pub(crate) async fn run(scope: &Scope<'_, '_>, raw: &Payload, wait: &WaitFor) -> Result<Payload, Failure> {
    let context = scope.context(None);
    let effective = scope.input_path(raw, &context)?;
    // From the state's entry, which is earlier than now when the execution
    // was resumed after a restart of the server: a Wait waits only what is left.
    let entered =
        time::OffsetDateTime::from_unix_timestamp_nanos(scope.entered_time).unwrap_or_else(|_| scope.run.clock.now());
    let now = entered;
    let until = |t: time::OffsetDateTime| Duration::try_from(t - now).unwrap_or(Duration::ZERO);
    // A path that selects nothing, in AWS's words for these fields.
    let read = |p: &crate::path::Path, field: &str| -> Result<Value, Failure> {
        scope.select(p, &effective.value, &context).map(std::borrow::Cow::into_owned).map_err(|_| {
            scope.runtime(format!("The {field} parameter does not reference an input value: {}", p.text()))
        })
    };
    let seconds_field = |p: &crate::path::Path| -> Result<Duration, Failure> {
        let value = read(p, "SecondsPath")?;
        // AWS reads a long: a negative one is refused as such, anything
        // else that is not a long (a fraction, a string, out of range) cannot be parsed.
        match (value.as_u64(), value.as_i64()) {
            (Some(s), _) => Ok(Duration::from_secs(s)),
            (None, Some(_)) => Err(scope.runtime(format!(
                "The SecondsPath parameter references a negative value: {} == {}",
                p.text(),
                shown(&value)
            ))),
            (None, None) => Err(scope.runtime(format!(
                "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                p.text(),
                shown(&value)
            ))),
        }
    };
    let duration = match wait {
        WaitFor::Seconds(s) => Duration::from_secs(*s),
        WaitFor::SecondsPath(p) => seconds_field(p)?,
        WaitFor::Timestamp(t) => until(*t),
        WaitFor::SecondsExpr(expr) => {
            let whole = |v: &Value| v.as_u64().is_some();
            let value = scope.expr_such("Seconds", expr, "integer", &whole, Now::input(&raw.value), &context)?;
            Duration::from_secs(value.as_u64().unwrap_or_default())
        }
        WaitFor::TimestampExpr(expr) => {
            let value = scope.expr("Timestamp", expr, Now::input(&raw.value), &context)?;
            let t = value.as_str().and_then(parse_timestamp).ok_or_else(|| {
                scope.query_failed(
                    Some("Timestamp"),
                    format!(
                        "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {}",
                        shown(&value)
                    ),
                )
            })?;
            until(t)
        }
        WaitFor::TimestampPath(p) => {
            let value = read(p, "TimestampPath")?;
            let t = value.as_str().and_then(parse_timestamp).ok_or_else(|| {
                scope.runtime(format!(
                    "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                    p.text(),
                    shown(&value)
                ))
            })?;
            until(t)
        }
    };
    if duration.as_secs() > MAX_WAIT_SECONDS {
        return Err(scope.runtime("Wait state delay is too long."));
    }
    let elapsed = Duration::try_from(scope.run.clock.now() - entered).unwrap_or(Duration::ZERO);
    let duration = duration.saturating_sub(elapsed);
    if let Some(left) = scope.run.time_left()
        && duration >= left
    {
        scope.run.clock.sleep(left).await;
        return Err(Failure::of(EXECUTION_TIMED_OUT.to_owned(), None));
    }
    scope.run.clock.sleep(duration).await;
    if scope.state.jsonata {
        let state = scope.state;
        return scope.conclude(
            state.assign.as_ref(),
            state.io.output.as_ref(),
            Now::input(&raw.value),
            raw.clone(),
            &context,
        );
    }
    scope.assign(scope.state.assign.as_ref(), &effective, &context)?;
    scope.output_path(effective, &context)
}

/// A value as AWS quotes it in a cause: strings bare, anything else as JSON.
pub(crate) fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    }
}
