//! A Parallel state: its Branches, each a state machine of its own.

use orderflow_value::Map;

use super::fields::non_empty_list_field;
use super::{ERRORS, FLOW, Fields, IO, Io, RESULT, StateType, parse_machine};
use crate::model::{DefinitionError, Kind};

pub(super) const PARALLEL: StateType = StateType {
    name: "Parallel",
    fields: &[FLOW, IO, RESULT, ERRORS, &["Branches", "Assign"]],
    jsonata_fields: &["Arguments", "Output"],
    transition: Fields::NextOrEnd,
    jsonpath,
    jsonata,
};

fn jsonpath(obj: &Map, at: &str, _io: &mut Io) -> Result<Kind, DefinitionError> {
    Ok(Kind::Parallel {
        branches: non_empty_list_field(obj, "Branches", at, |v, at| parse_machine(v, at, false, false))?,
    })
}

fn jsonata(obj: &Map, at: &str) -> Result<Kind, DefinitionError> {
    Ok(Kind::Parallel {
        branches: non_empty_list_field(obj, "Branches", at, |v, at| parse_machine(v, at, false, true))?,
    })
}
