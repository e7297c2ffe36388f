//! The AWS query protocol (SNS, STS, CloudWatch): the input flattened into
//! a form (`Action`, `Version`, `Entries.member.1.Id`, `Attributes.entry.1.key`),
//! the answer an XML document whose `<Operation>Result` element is the output
//! and whose `ErrorResponse` is an error.

use orderflow_value::{Map, Value};

use super::xml::{self, Element};
use super::{Invalid, Scalar, TimestampOut, invalid, join, kind_of, members, scalar};
use crate::error::ServiceError;
use crate::http::{Answer, Request};
use crate::model::{Member, Model, Operation, Shape};

pub fn request(model: &Model, operation: Operation<'_>, parameters: &Value) -> Result<Request, Invalid> {
    let mut form =
        vec![("Action".to_owned(), operation.name.to_owned()), ("Version".to_owned(), model.api_version().to_owned())];
    match operation.input().and_then(|name| model.shape(name)) {
        Some(shape) => flatten(model, shape, parameters, "", "", &mut form)?,
        None if parameters.as_object().is_some_and(Map::is_empty) => {}
        None => return Err(invalid("", format!("{} takes no parameters", operation.name))),
    }
    let body = form.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
    Ok(Request {
        method: "POST",
        path_and_query: "/".into(),
        headers: vec![("content-type".into(), "application/x-www-form-urlencoded; charset=utf-8".into())],
        body: body.into_bytes(),
        signing_name: model.signing_name().to_owned(),
    })
}

fn encode(text: &str) -> String {
    const SET: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    percent_encoding::utf8_percent_encode(text, SET).to_string()
}

/// Writes `value` (of `shape`) under the form key `prefix`; `at` names it in refusals.
fn flatten(
    model: &Model,
    shape: Shape<'_>,
    value: &Value,
    prefix: &str,
    at: &str,
    form: &mut Vec<(String, String)>,
) -> Result<(), Invalid> {
    match shape.kind() {
        "structure" => {
            for (member, target, v) in members(model, shape, value, at)? {
                let key = join(prefix, member.location_name().unwrap_or(member.name));
                let key = match (target.kind(), member.flattened() || target.flattened()) {
                    // A flattened list's items are named by the item's name when it has one.
                    ("list", true) => match target.item().and_then(|i| i.location_name()) {
                        Some(name) => join(prefix, name),
                        None => key,
                    },
                    _ => key,
                };
                let flat = member.flattened() || target.flattened();
                flatten_member(model, target, v, &key, &join(at, member.name), flat, form)?;
            }
            Ok(())
        }
        _ => flatten_member(model, shape, value, prefix, at, shape.flattened(), form),
    }
}

fn flatten_member(
    model: &Model,
    shape: Shape<'_>,
    value: &Value,
    key: &str,
    at: &str,
    flattened: bool,
    form: &mut Vec<(String, String)>,
) -> Result<(), Invalid> {
    match shape.kind() {
        "structure" => flatten(model, shape, value, key, at, form),
        "list" => {
            let items =
                value.as_array().ok_or_else(|| invalid(at, format!("must be an array, not {}", kind_of(value))))?;
            let item = shape.item().ok_or_else(|| invalid(at, "a list without items"))?;
            let target = model.target(item).ok_or_else(|| invalid(at, "the model names a shape it lacks"))?;
            if items.is_empty() {
                form.push((key.to_owned(), String::new()));
            }
            for (i, v) in items.iter().enumerate() {
                let item_key = if flattened {
                    format!("{key}.{}", i + 1)
                } else {
                    format!("{key}.{}.{}", item.location_name().unwrap_or("member"), i + 1)
                };
                flatten_member(model, target, v, &item_key, &format!("{at}[{i}]"), target.flattened(), form)?;
            }
            Ok(())
        }
        "map" => {
            let object =
                value.as_object().ok_or_else(|| invalid(at, format!("must be an object, not {}", kind_of(value))))?;
            let (key_member, value_member) =
                shape.key().zip(shape.value()).ok_or_else(|| invalid(at, "a map without keys or values"))?;
            let key_shape = model.target(key_member).ok_or_else(|| invalid(at, "the model names a shape it lacks"))?;
            let value_shape =
                model.target(value_member).ok_or_else(|| invalid(at, "the model names a shape it lacks"))?;
            for (i, (k, v)) in object.iter().enumerate() {
                let entry = if flattened { format!("{key}.{}", i + 1) } else { format!("{key}.entry.{}", i + 1) };
                let k_key = format!("{entry}.{}", key_member.location_name().unwrap_or("key"));
                let v_key = format!("{entry}.{}", value_member.location_name().unwrap_or("value"));
                flatten_member(model, key_shape, &Value::from(k.as_str()), &k_key, at, false, form)?;
                flatten_member(model, value_shape, v, &v_key, &join(at, k), value_shape.flattened(), form)?;
            }
            Ok(())
        }
        _ => {
            let text = match scalar(shape, value, at, TimestampOut::Iso8601)? {
                Scalar::Text(text) => text,
                Scalar::Json(Value::Bool(b)) => b.to_string(),
                Scalar::Json(json) => json.to_string(),
            };
            form.push((key.to_owned(), text));
            Ok(())
        }
    }
}

/// The operation's result from its answer, or the service's error.
pub fn answer(model: &Model, operation: Operation<'_>, answer: &Answer) -> Result<Value, ServiceError> {
    let text = String::from_utf8_lossy(&answer.body);
    let doc = xml::parse(&text);
    if !(200..300).contains(&answer.status) {
        return Err(error(answer, doc.ok().as_ref()));
    }
    let doc = doc.map_err(|e| ServiceError {
        status: answer.status,
        code: "InternalFailure".into(),
        message: format!("the answer could not be read: {e}"),
        request_id: answer.request_id().unwrap_or_default().to_owned(),
        extended_request_id: None,
    })?;
    let result = match operation.result_wrapper() {
        Some(wrapper) => doc.child(wrapper),
        None => Some(&doc),
    };
    Ok(match (operation.output().and_then(|name| model.shape(name)), result) {
        (Some(shape), Some(element)) => structure(model, shape, element),
        _ => Value::Object(Map::new()),
    })
}

/// An `ErrorResponse` (or a bare `Error`) as the service's error.
pub(crate) fn error(answer: &Answer, doc: Option<&Element>) -> ServiceError {
    let error = doc.and_then(|d| if d.name == "Error" { Some(d) } else { d.child("Error") });
    let request_id = doc
        .and_then(|d| {
            d.text_of("RequestId").or_else(|| d.child("ResponseMetadata").and_then(|m| m.text_of("RequestId")))
        })
        .or_else(|| answer.request_id())
        .unwrap_or_default();
    ServiceError {
        status: answer.status,
        code: error.and_then(|e| e.text_of("Code")).unwrap_or("UnknownError").to_owned(),
        message: error.and_then(|e| e.text_of("Message")).unwrap_or_default().to_owned(),
        request_id: request_id.to_owned(),
        extended_request_id: None,
    }
}

/// A structure read from its element: members under their names as Step
/// Functions writes them, in alphabetical order; absent ones left out.
pub(crate) fn structure(model: &Model, shape: Shape<'_>, element: &Element) -> Value {
    let mut out: Vec<(String, Value)> = Vec::new();
    for member in shape.members() {
        let Some(target) = model.target(member) else { continue };
        if member.is_xml_attribute() {
            let name = member.location_name().unwrap_or(member.name);
            if let Some((_, v)) = element.attributes.iter().find(|(k, _)| k == name) {
                out.push((super::pascal(member.name).into_owned(), scalar_from(target, v)));
            }
            continue;
        }
        if let Some(value) = member_value(model, member, target, element) {
            out.push((super::pascal(member.name).into_owned(), value));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Object(out.into_iter().collect())
}

fn member_value(model: &Model, member: Member<'_>, target: Shape<'_>, parent: &Element) -> Option<Value> {
    let name = member.location_name().unwrap_or(member.name);
    let flattened = member.flattened() || target.flattened();
    match target.kind() {
        "list" if flattened => {
            let item = target.item()?;
            let item_name = item.location_name().unwrap_or(name);
            let item_shape = model.target(item)?;
            let found: Vec<Value> = parent.children_named(item_name).map(|e| read(model, item_shape, e)).collect();
            (!found.is_empty()).then(|| Value::array(found))
        }
        "map" if flattened => {
            let found: Vec<&Element> = parent.children_named(name).collect();
            (!found.is_empty()).then(|| map_entries(model, target, found.into_iter()))
        }
        _ => parent.child(name).map(|e| read(model, target, e)),
    }
}

fn read(model: &Model, shape: Shape<'_>, element: &Element) -> Value {
    match shape.kind() {
        "structure" => structure(model, shape, element),
        "list" => {
            let Some(item) = shape.item() else { return Value::array(Vec::new()) };
            let Some(item_shape) = model.target(item) else { return Value::array(Vec::new()) };
            let item_name = item.location_name().unwrap_or("member");
            Value::array(element.children_named(item_name).map(|e| read(model, item_shape, e)).collect())
        }
        "map" => map_entries(model, shape, element.children_named("entry")),
        _ => scalar_from(shape, &element.text),
    }
}

fn map_entries<'e>(model: &Model, shape: Shape<'_>, entries: impl Iterator<Item = &'e Element>) -> Value {
    let (Some(key), Some(value)) = (shape.key(), shape.value()) else { return Value::Object(Map::new()) };
    let Some(value_shape) = model.target(value) else { return Value::Object(Map::new()) };
    let (key_name, value_name) = (key.location_name().unwrap_or("key"), value.location_name().unwrap_or("value"));
    let mut out = Map::new();
    for entry in entries {
        let k = entry.text_of(key_name).unwrap_or_default().to_owned();
        let v = entry.child(value_name).map(|e| read(model, value_shape, e)).unwrap_or(Value::Null);
        out.insert(k, v);
    }
    Value::Object(out)
}

fn scalar_from(shape: Shape<'_>, text: &str) -> Value {
    match shape.kind() {
        "integer" | "long" | "float" | "double" => {
            orderflow_value::parse(text.trim()).ok().filter(Value::is_number).unwrap_or_else(|| Value::from(text))
        }
        "boolean" => Value::Bool(text.trim() == "true"),
        "timestamp" => super::timestamp_result(&Value::from(text.trim())),
        _ => Value::from(text),
    }
}
