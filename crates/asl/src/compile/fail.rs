//! A Fail state: its Error and Cause, literal, by path or intrinsic call
//! (JSONPath's ErrorPath, CausePath) or as expressions (JSONata).

use orderflow_value::{Map, Value};

use super::fields::{compile_path, expression, string};
use super::{Fields, Io, StateType};
use crate::intrinsics::{self, Call};
use crate::jsonata;
use crate::model::{DefinitionError, Kind, Text, def_err};

pub(super) const FAIL: StateType = StateType {
    name: "Fail",
    fields: &[&["Error", "ErrorPath", "Cause", "CausePath"]],
    jsonata_fields: &[],
    transition: Fields::Own,
    jsonpath,
    jsonata,
};

fn jsonpath(obj: &Map, at: &str, _io: &mut Io) -> Result<Kind, DefinitionError> {
    Ok(Kind::Fail { error: fail_text(obj, "Error", at)?, cause: fail_text(obj, "Cause", at)? })
}

fn jsonata(obj: &Map, at: &str) -> Result<Kind, DefinitionError> {
    let text = |key: &str| -> Result<Option<Text>, DefinitionError> {
        let here = format!("{at}.{key}");
        match obj.get(key) {
            None => Ok(None),
            Some(Value::String(t)) if jsonata::is_expression(t) => Ok(Some(Text::Expr(expression(t, &here)?))),
            Some(Value::String(t)) => Ok(Some(Text::Literal(t.to_string()))),
            Some(_) => Err(def_err(here, "must be a string or a JSONata expression")),
        }
    };
    Ok(Kind::Fail { error: text("Error")?, cause: text("Cause")? })
}

/// A Fail state's `Error`/`ErrorPath` or `Cause`/`CausePath`.
fn fail_text(obj: &Map, key: &str, at: &str) -> Result<Option<Text>, DefinitionError> {
    let path_key = format!("{key}Path");
    match (string(obj, key, &format!("{at}.{key}"))?, string(obj, &path_key, &format!("{at}.{path_key}"))?) {
        (Some(_), Some(_)) => Err(def_err(at, format!("has both {key} and {path_key}"))),
        (Some(text), None) => Ok(Some(Text::Literal(text))),
        (None, Some(text)) => {
            let here = format!("{at}.{path_key}");
            if intrinsics::is_call(&text) {
                Ok(Some(Text::Call(Call::parse(&text).map_err(|e| def_err(here, e))?)))
            } else {
                Ok(Some(Text::Path(compile_path(&text, &here)?)))
            }
        }
        (None, None) => Ok(None),
    }
}
