//! A Wait state: exactly one of Seconds, SecondsPath, Timestamp and
//! TimestampPath (JSONPath), or of Seconds and Timestamp, literal or as
//! expressions (JSONata).

use orderflow_value::{Map, Value};

use super::fields::{compile_path, expression, string};
use super::{FLOW, Fields, IO, Io, StateType};
use crate::choice;
use crate::jsonata;
use crate::model::{DefinitionError, Kind, WaitFor, def_err};

pub(super) const WAIT: StateType = StateType {
    name: "Wait",
    fields: &[FLOW, IO, &["Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign"]],
    jsonata_fields: &["Output"],
    transition: Fields::NextOrEnd,
    jsonpath,
    jsonata,
};

fn jsonpath(obj: &Map, at: &str, _io: &mut Io) -> Result<Kind, DefinitionError> {
    let field = |f: &str| format!("{at}.{f}");
    let given: Vec<&str> =
        ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"].into_iter().filter(|k| obj.contains_key(k)).collect();
    let [given] = given.as_slice() else {
        return Err(def_err(at, "needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath"));
    };
    let text = |k: &str| string(obj, k, &field(k)).map(Option::unwrap_or_default);
    Ok(Kind::Wait(match *given {
        "Seconds" => WaitFor::Seconds(
            obj.get("Seconds")
                .and_then(Value::as_u64)
                .ok_or_else(|| def_err(field("Seconds"), "must be a non-negative integer"))?,
        ),
        "SecondsPath" => WaitFor::SecondsPath(compile_path(&text("SecondsPath")?, &field("SecondsPath"))?),
        "Timestamp" => WaitFor::Timestamp(
            choice::parse_timestamp(&text("Timestamp")?)
                .ok_or_else(|| def_err(field("Timestamp"), "String does not match RFC3339 timestamp"))?,
        ),
        _ => WaitFor::TimestampPath(compile_path(&text("TimestampPath")?, &field("TimestampPath"))?),
    }))
}

fn jsonata(obj: &Map, at: &str) -> Result<Kind, DefinitionError> {
    let field = |f: &str| format!("{at}.{f}");
    Ok(Kind::Wait(match (obj.get("Seconds"), obj.get("Timestamp")) {
        (Some(Value::String(text)), None) if jsonata::is_expression(text) => {
            WaitFor::SecondsExpr(expression(text, &field("Seconds"))?)
        }
        (Some(v), None) => WaitFor::Seconds(
            v.as_u64()
                .ok_or_else(|| def_err(field("Seconds"), "must be a non-negative integer or a JSONata expression"))?,
        ),
        (None, Some(Value::String(text))) if jsonata::is_expression(text) => {
            WaitFor::TimestampExpr(expression(text, &field("Timestamp"))?)
        }
        (None, Some(Value::String(text))) => WaitFor::Timestamp(
            choice::parse_timestamp(text)
                .ok_or_else(|| def_err(field("Timestamp"), "String does not match RFC3339 timestamp"))?,
        ),
        _ => return Err(def_err(at, "needs exactly one of Seconds and Timestamp")),
    }))
}
