//! A Pass state: its Result (JSONPath); JSONata's Pass has only Output.

use orderflow_value::Map;

use super::{FLOW, Fields, IO, Io, StateType};
use crate::model::{DefinitionError, Kind};

pub(super) const PASS: StateType = StateType {
    name: "Pass",
    fields: &[FLOW, IO, &["Parameters", "ResultPath", "Result", "Assign"]],
    jsonata_fields: &["Output"],
    transition: Fields::NextOrEnd,
    jsonpath,
    jsonata,
};

fn jsonpath(obj: &Map, _at: &str, _io: &mut Io) -> Result<Kind, DefinitionError> {
    Ok(Kind::Pass { result: obj.get("Result").map(|r| (std::sync::Arc::new(r.clone()), crate::pipeline::json_len(r))) })
}

fn jsonata(_obj: &Map, _at: &str) -> Result<Kind, DefinitionError> {
    Ok(Kind::Pass { result: None })
}
