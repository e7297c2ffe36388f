//! The AWS protocols a model names, each its own room: how a request is
//! written from the task's Parameters and how an answer is read back into
//! the task's result, both guided by the operation's shapes.
//!
//! Parameters are checked against the input shape on the way: a member the
//! shape does not have, or a value of the wrong type, is refused before
//! anything is sent.

pub mod checksum;
pub mod json;
pub mod query;
pub mod rest;
mod xml;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use orderflow_value::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::model::{Model, Shape};

/// A parameter that does not fit the operation's input shape: where it is
/// (`Item.id`) and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub at: String,
    pub problem: String,
    /// A required member that is missing or null: the service's own
    /// validation refuses that (AWS sends the request; the emulator may not
    /// check), so it is answered as the service answers it.
    pub missing: Option<String>,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.at.is_empty() { f.write_str(&self.problem) } else { write!(f, "{}: {}", self.at, self.problem) }
    }
}

pub(crate) fn invalid(at: &str, problem: impl Into<String>) -> Invalid {
    Invalid { at: at.to_owned(), problem: problem.into(), missing: None }
}

pub(crate) fn join(at: &str, name: &str) -> String {
    if at.is_empty() { name.to_owned() } else { format!("{at}.{name}") }
}

/// A value's JSON type, for the refusal's words.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    value.type_name()
}

/// A member's name as Step Functions writes it in Parameters and results:
/// the model's name with its first letter upper case (`stateMachineArn` →
/// `StateMachineArn`).
pub fn pascal(name: &str) -> std::borrow::Cow<'_, str> {
    match name.chars().next() {
        Some(c) if c.is_ascii_lowercase() => {
            let mut out = String::with_capacity(name.len());
            out.push(c.to_ascii_uppercase());
            out.push_str(&name[1..]);
            std::borrow::Cow::Owned(out)
        }
        _ => std::borrow::Cow::Borrowed(name),
    }
}

/// The structure members named in `value`, each with its shape, in the
/// order the Parameters give them (a name in PascalCase, as Step Functions
/// writes them); an unknown name is refused, a null is left out.
pub(crate) fn members<'v, 'm>(
    model: &'m Model,
    shape: Shape<'m>,
    value: &'v Value,
    at: &str,
) -> Result<Vec<(crate::model::Member<'m>, Shape<'m>, &'v Value)>, Invalid> {
    let object = value.as_object().ok_or_else(|| invalid(at, format!("must be an object, not {}", kind_of(value))))?;
    let mut out = Vec::with_capacity(object.len());
    for (name, v) in object {
        let member = shape.members().find(|m| pascal(m.name) == name.as_str()).ok_or_else(|| {
            let known: Vec<String> = shape.members().map(|m| pascal(m.name).into_owned()).collect();
            invalid(at, format!("{name:?} is not a parameter of {} (it takes {})", shape.name, known.join(", ")))
        })?;
        if v.is_null() {
            continue;
        }
        let target = model.target(member).ok_or_else(|| invalid(at, "the model names a shape it lacks"))?;
        out.push((member, target, v));
    }
    if let Some(required) = shape.required().find(|r| out.iter().all(|(m, _, _)| m.name != *r)) {
        let mut refused = invalid(at, format!("{:?} is required", pascal(required)));
        refused.missing = Some(required.to_owned());
        return Err(refused);
    }
    Ok(out)
}

/// A scalar parameter as its shape's type wants it, as text for the query
/// protocol and as JSON for the JSON ones.
pub(crate) enum Scalar {
    Text(String),
    Json(Value),
}

/// Checks and converts a scalar (not structure, list or map) parameter.
pub(crate) fn scalar(
    shape: Shape<'_>,
    value: &Value,
    at: &str,
    timestamp_json: TimestampOut,
) -> Result<Scalar, Invalid> {
    let wrong = || invalid(at, format!("must be {} ({}), not {}", article(shape.kind()), shape.name, kind_of(value)));
    match shape.kind() {
        // Any other JSON value is sent as its text, as Step Functions does.
        "string" => Ok(Scalar::Text(match value {
            Value::String(s) => s.to_string(),
            other => other.to_string(),
        })),
        "integer" | "long" => match value.as_i64() {
            Some(n) => Ok(Scalar::Json(Value::from(n))),
            None => Err(wrong()),
        },
        "float" | "double" => match value.as_number() {
            Some(_) => Ok(Scalar::Json(value.clone())),
            None => Err(wrong()),
        },
        "boolean" => value.as_bool().map(|b| Scalar::Json(Value::Bool(b))).ok_or_else(wrong),
        // A blob is the bytes of the value's compact JSON text (AWS stores
        // an S3 Body given as "text" with its quotes).
        "blob" => Ok(Scalar::Text(BASE64.encode(value.to_string().as_bytes()))),
        "timestamp" => {
            let at_time = match value {
                Value::String(s) => OffsetDateTime::parse(s, &Rfc3339)
                    .map_err(|_| invalid(at, format!("{s:?} is not an ISO 8601 timestamp")))?,
                Value::Number(n) => {
                    let seconds = n.as_f64().ok_or_else(wrong)?;
                    OffsetDateTime::from_unix_timestamp_nanos((seconds * 1e9) as i128).map_err(|_| wrong())?
                }
                _ => return Err(wrong()),
            };
            Ok(match timestamp_json {
                TimestampOut::EpochSeconds => {
                    // Whole seconds as an integer, else with the milliseconds.
                    let nanos = at_time.unix_timestamp_nanos();
                    match nanos % 1_000_000_000 {
                        0 => Scalar::Json(Value::from((nanos / 1_000_000_000) as i64)),
                        _ => Scalar::Json(
                            orderflow_value::Number::from_f64((nanos / 1_000_000) as f64 / 1e3)
                                .map(Value::Number)
                                .ok_or_else(wrong)?,
                        ),
                    }
                }
                TimestampOut::Iso8601 => Scalar::Text(at_time.format(&Rfc3339).map_err(|_| wrong())?),
            })
        }
        other => Err(invalid(at, format!("a parameter of type {other} cannot be given here"))),
    }
}

/// How a protocol writes a timestamp.
#[derive(Clone, Copy)]
pub(crate) enum TimestampOut {
    EpochSeconds,
    Iso8601,
}

fn article(kind: &str) -> String {
    match kind {
        "integer" | "long" => "an integer".into(),
        "float" | "double" => "a number".into(),
        "boolean" => "a boolean".into(),
        "blob" => "a string (its bytes)".into(),
        "timestamp" => "a timestamp".into(),
        "string" => "a string".into(),
        other => format!("a {other}"),
    }
}

/// A timestamp read from an answer (epoch seconds or ISO 8601 text), as
/// Step Functions gives it in a task's result: ISO 8601 in UTC, with the
/// fraction of a second in groups of three digits when there is one (as
/// Java's `Instant` writes it).
pub(crate) fn timestamp_result(value: &Value) -> Value {
    let at = match value {
        Value::Number(n) => n
            .as_f64()
            .and_then(|s| OffsetDateTime::from_unix_timestamp_nanos((s * 1e3).round() as i128 * 1_000_000).ok()),
        Value::String(s) => OffsetDateTime::parse(s, &Rfc3339).ok(),
        _ => None,
    };
    match at {
        Some(t) => Value::from(instant_text(t.to_offset(time::UtcOffset::UTC))),
        None => value.clone(),
    }
}

fn instant_text(t: OffsetDateTime) -> String {
    let nanos = t.nanosecond();
    let fraction = match nanos {
        0 => String::new(),
        n if n % 1_000_000 == 0 => format!(".{:03}", n / 1_000_000),
        n if n % 1_000 == 0 => format!(".{:06}", n / 1_000),
        n => format!(".{n:09}"),
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
