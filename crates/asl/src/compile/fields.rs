//! Reading one field of a definition's object: its JSON type checked, its
//! path, template or JSONata expression compiled, errors at its location.

use orderflow_value::{Map, Value};

use crate::jsonata::{self, Expression};
use crate::model::{DefinitionError, Given, def_err};
use crate::path::{Path, ReferencePath};
use crate::template::Template;

pub(super) fn string(obj: &Map, key: &str, at: &str) -> Result<Option<String>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.to_string())),
        Some(_) => Err(def_err(at, "must be a string")),
    }
}

pub(super) fn positive(obj: &Map, key: &str, at: &str) -> Result<Option<u64>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 => Ok(Some(n)),
            _ => Err(def_err(at, "must be a positive integer")),
        },
    }
}

pub(super) fn number(obj: &Map, key: &str, at: &str) -> Result<Option<f64>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| def_err(at, "must be a number")),
    }
}

pub(super) fn compile_path(text: &str, at: &str) -> Result<Path, DefinitionError> {
    Path::parse(text).map_err(|e| def_err(at, e))
}

/// A path field: absent is `$`, `null` is `None`.
pub(super) fn path_field(obj: &Map, key: &str, at: &str) -> Result<Option<Path>, DefinitionError> {
    match obj.get(key) {
        None => Ok(Some(compile_path("$", at)?)),
        Some(Value::Null) => Ok(None),
        Some(Value::String(p)) if p.starts_with('$') => Ok(Some(compile_path(p, at)?)),
        Some(_) => Err(def_err(at, "must be a path starting with $, or null")),
    }
}

/// A `...Path` field that must be given as a path.
pub(super) fn required_path(obj: &Map, key: &str, at: &str) -> Result<Option<Path>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(p)) if p.starts_with('$') => Ok(Some(compile_path(p, at)?)),
        Some(_) => Err(def_err(at, "must be a path starting with $")),
    }
}

/// One of `Key` and `KeyPath`, or neither.
pub(super) fn given<T>(
    obj: &Map,
    key: &str,
    at: &str,
    literal: impl Fn(&Value) -> Option<T>,
    wanted: &str,
) -> Result<Option<Given<T>>, DefinitionError> {
    let path_key = format!("{key}Path");
    match (obj.get(key), required_path(obj, &path_key, &format!("{at}.{path_key}"))?) {
        (Some(_), Some(_)) => Err(def_err(at, format!("has both {key} and {path_key}"))),
        (Some(v), None) => {
            literal(v).map(|v| Some(Given::Value(v))).ok_or_else(|| def_err(format!("{at}.{key}"), wanted))
        }
        (None, Some(p)) => Ok(Some(Given::Path(p))),
        (None, None) => Ok(None),
    }
}

pub(super) fn expression(text: &str, at: &str) -> Result<Expression, DefinitionError> {
    Expression::compile(text).map_err(|m| def_err(at, m))
}

/// A JSONata template field (Arguments, Output, Assign, Items, ItemSelector).
pub(super) fn jsonata_field(obj: &Map, key: &str, at: &str) -> Result<Option<Template>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => Template::compile_jsonata(v, key)
            .map(Some)
            .map_err(|(inner, message)| def_err(format!("{at}.{key}{inner}"), message)),
    }
}

/// A number a JSONata state gives literally or as an expression.
pub(super) fn jsonata_given<T>(
    obj: &Map,
    key: &str,
    at: &str,
    literal: impl Fn(&Value) -> Option<T>,
    wanted: &str,
) -> Result<Option<Given<T>>, DefinitionError> {
    let here = format!("{at}.{key}");
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(text)) if jsonata::is_expression(text) => Ok(Some(Given::Expr(expression(text, &here)?))),
        Some(v) => literal(v)
            .map(|v| Some(Given::Value(v)))
            .ok_or_else(|| def_err(here, format!("{wanted} or a JSONata expression"))),
    }
}

/// An optional array field, each entry parsed at `{at}.{key}[i]`.
pub(super) fn list_field<T>(
    obj: &Map,
    key: &str,
    at: &str,
    parse_one: impl Fn(&Value, &str) -> Result<T, DefinitionError>,
) -> Result<Vec<T>, DefinitionError> {
    match obj.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            items.iter().enumerate().map(|(i, item)| parse_one(item, &format!("{at}.{key}[{i}]"))).collect()
        }
        Some(_) => Err(def_err(format!("{at}.{key}"), "must be an array")),
    }
}

/// A required array field with at least one entry, each parsed at `{at}.{key}[i]`.
pub(super) fn non_empty_list_field<T>(
    obj: &Map,
    key: &str,
    at: &str,
    parse_one: impl Fn(&Value, &str) -> Result<T, DefinitionError>,
) -> Result<Vec<T>, DefinitionError> {
    match obj.get(key) {
        Some(Value::Array(items)) if !items.is_empty() => list_field(obj, key, at, parse_one),
        // AWS's words for an empty list.
        Some(Value::Array(_)) => Err(def_err(format!("{at}.{key}"), "Value cannot be empty")),
        _ => Err(def_err(format!("{at}.{key}"), "must be a non-empty array")),
    }
}

/// A ResultPath: absent is `$`, `null` is `None` (discard the result).
pub(super) fn result_path_field(obj: &Map, at: &str) -> Result<Option<ReferencePath>, DefinitionError> {
    match obj.get("ResultPath") {
        None => Ok(Some(ReferencePath::parse("$").map_err(|e| def_err(at, e))?)),
        Some(Value::Null) => Ok(None),
        Some(Value::String(p)) => Ok(Some(ReferencePath::parse(p).map_err(|e| def_err(at, e))?)),
        Some(_) => Err(def_err(at, "must be a reference path or null")),
    }
}

pub(super) fn template_field(obj: &Map, key: &str, at: &str) -> Result<Option<Template>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => Template::compile(v).map(Some).map_err(|(inner, message)| def_err(format!("{at}{inner}"), message)),
    }
}
