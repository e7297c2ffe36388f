//! A Task state: its Resource and its TimeoutSeconds and HeartbeatSeconds,
//! given literally, by path (JSONPath) or as expressions (JSONata).

use orderflow_value::{Map, Value};

use super::fields::{given, jsonata_given};
use super::resource::parse_resource;
use super::{ERRORS, FLOW, Fields, IO, Io, RESULT, StateType};
use crate::model::{DefinitionError, Given, Kind, def_err};

pub(super) const TASK: StateType = StateType {
    name: "Task",
    fields: &[
        FLOW,
        IO,
        RESULT,
        ERRORS,
        &["Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Assign"],
    ],
    jsonata_fields: &["Arguments", "Output"],
    transition: Fields::NextOrEnd,
    jsonpath,
    jsonata,
};

fn seconds(v: &Value) -> Option<u64> {
    v.as_u64().filter(|n| *n > 0)
}

fn jsonpath(obj: &Map, at: &str, _io: &mut Io) -> Result<Kind, DefinitionError> {
    let timeout_seconds = given(obj, "TimeoutSeconds", at, seconds, "must be a positive integer")?;
    let heartbeat = given(obj, "HeartbeatSeconds", at, seconds, "must be a positive integer")?;
    if let (Some(Given::Value(t)), Some(Given::Value(h))) = (&timeout_seconds, &heartbeat)
        && h >= t
    {
        return Err(def_err(format!("{at}.HeartbeatSeconds"), "must be smaller than TimeoutSeconds"));
    }
    Ok(Kind::Task {
        resource: parse_resource(obj.get("Resource"), &format!("{at}.Resource"))?,
        timeout_seconds,
        heartbeat_seconds: heartbeat,
    })
}

fn jsonata(obj: &Map, at: &str) -> Result<Kind, DefinitionError> {
    Ok(Kind::Task {
        resource: parse_resource(obj.get("Resource"), &format!("{at}.Resource"))?,
        timeout_seconds: jsonata_given(obj, "TimeoutSeconds", at, seconds, "must be a positive integer")?,
        heartbeat_seconds: jsonata_given(obj, "HeartbeatSeconds", at, seconds, "must be a positive integer")?,
    })
}
