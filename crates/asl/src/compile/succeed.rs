//! A Succeed state: nothing of its own.

use orderflow_value::Map;

use super::{Fields, IO, Io, StateType};
use crate::model::{DefinitionError, Kind};

pub(super) const SUCCEED: StateType = StateType {
    name: "Succeed",
    fields: &[IO],
    jsonata_fields: &["Output"],
    transition: Fields::Own,
    jsonpath,
    jsonata,
};

fn jsonpath(_obj: &Map, _at: &str, _io: &mut Io) -> Result<Kind, DefinitionError> {
    Ok(Kind::Succeed)
}

fn jsonata(_obj: &Map, _at: &str) -> Result<Kind, DefinitionError> {
    Ok(Kind::Succeed)
}
