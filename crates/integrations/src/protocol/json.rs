//! The AWS JSON protocols (1.0 and 1.1: DynamoDB, SQS, EventBridge, Secrets
//! Manager, SSM, KMS, Step Functions, CloudWatch Logs, Kinesis, Firehose):
//! `POST /` with `X-Amz-Target: <prefix>.<Operation>` and the input as a
//! JSON body; the answer's body is the output, or `{"__type", "message"}`.

use orderflow_value::{Map, Value};

use super::{Invalid, Scalar, TimestampOut, invalid, join, kind_of, members, scalar};
use crate::error::ServiceError;
use crate::http::{Answer, Request};
use crate::model::{Model, Operation, Shape};

/// The request of `operation` with `parameters`.
pub fn request(model: &Model, operation: Operation<'_>, parameters: &Value) -> Result<Request, Invalid> {
    let body = match operation.input().and_then(|name| model.shape(name)) {
        Some(shape) => to_wire(model, shape, parameters, "")?,
        None if parameters.as_object().is_some_and(Map::is_empty) => Value::Object(Map::new()),
        None => return Err(invalid("", format!("{} takes no parameters", operation.name))),
    };
    Ok(Request {
        method: "POST",
        path_and_query: "/".into(),
        headers: vec![
            ("content-type".into(), format!("application/x-amz-json-{}", model.json_version())),
            ("x-amz-target".into(), format!("{}.{}", model.target_prefix(), operation.name)),
        ],
        body: body.to_string().into_bytes(),
        signing_name: model.signing_name().to_owned(),
    })
}

/// A parameter as the wire wants it.
pub(crate) fn to_wire(model: &Model, shape: Shape<'_>, value: &Value, at: &str) -> Result<Value, Invalid> {
    match shape.kind() {
        _ if shape.is_document() => Ok(value.clone()),
        "structure" => {
            let mut out = Map::new();
            for (member, target, v) in members(model, shape, value, at)? {
                let wire = if member.is_json_value() {
                    Value::from(v.to_string())
                } else {
                    to_wire(model, target, v, &join(at, member.name))?
                };
                out.insert(member.wire_name(), wire);
            }
            Ok(Value::Object(out))
        }
        "list" => {
            let items =
                value.as_array().ok_or_else(|| invalid(at, format!("must be an array, not {}", kind_of(value))))?;
            let item = shape.item().and_then(|m| model.target(m)).ok_or_else(|| invalid(at, "a list without items"))?;
            let out = items
                .iter()
                .enumerate()
                .map(|(i, v)| to_wire(model, item, v, &format!("{at}[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::array(out))
        }
        "map" => {
            let object =
                value.as_object().ok_or_else(|| invalid(at, format!("must be an object, not {}", kind_of(value))))?;
            let target =
                shape.value().and_then(|m| model.target(m)).ok_or_else(|| invalid(at, "a map without values"))?;
            let mut out = Map::new();
            for (k, v) in object {
                out.insert(k.clone(), to_wire(model, target, v, &join(at, k))?);
            }
            Ok(Value::Object(out))
        }
        _ => Ok(match scalar(shape, value, at, TimestampOut::EpochSeconds)? {
            Scalar::Text(text) => Value::from(text),
            Scalar::Json(json) => json,
        }),
    }
}

/// The operation's result from its answer, or the service's error.
pub fn answer(model: &Model, operation: Operation<'_>, answer: &Answer) -> Result<Value, ServiceError> {
    let text = std::str::from_utf8(&answer.body).unwrap_or_default();
    let body = if text.trim().is_empty() {
        Value::Object(Map::new())
    } else {
        orderflow_value::parse(text).unwrap_or_default()
    };
    if !(200..300).contains(&answer.status) {
        return Err(error(answer, &body));
    }
    Ok(match operation.output().and_then(|name| model.shape(name)) {
        Some(shape) => from_wire(model, shape, &body),
        None => Value::Object(Map::new()),
    })
}

/// A JSON error answer: `__type` (or the `x-amzn-ErrorType` header) names
/// the code, after any `namespace#` and before any `:`.
pub(crate) fn error(answer: &Answer, body: &Value) -> ServiceError {
    let raw = body
        .get("__type")
        .and_then(Value::as_str)
        .or_else(|| body.get("code").and_then(Value::as_str))
        .or_else(|| answer.header("x-amzn-errortype"))
        .unwrap_or("UnknownError");
    let code = raw.rsplit('#').next().unwrap_or(raw);
    let code = code.split(':').next().unwrap_or(code);
    let message = ["message", "Message", "errorMessage"].iter().find_map(|k| body.get(*k).and_then(Value::as_str));
    ServiceError {
        status: answer.status,
        code: code.to_owned(),
        message: message.unwrap_or_default().to_owned(),
        request_id: answer.request_id().unwrap_or_default().to_owned(),
        extended_request_id: None,
    }
}

/// A result read back by its shape: members under their names as Step
/// Functions writes them, in alphabetical order (as AWS's results list
/// them); a map's entries in the answer's order; timestamps as ISO 8601.
pub(crate) fn from_wire(model: &Model, shape: Shape<'_>, value: &Value) -> Value {
    match (shape.kind(), value) {
        (_, _) if shape.is_document() => value.clone(),
        ("structure", Value::Object(object)) => {
            let mut out: Vec<(String, Value)> = Vec::with_capacity(object.len());
            for (key, v) in object {
                // A null is an absent member, as the SDK reads it.
                if v.is_null() {
                    continue;
                }
                let member = shape.members().find(|m| m.wire_name() == key.as_str());
                match member.and_then(|m| Some((m, model.target(m)?))) {
                    Some((member, target)) => {
                        out.push((super::pascal(member.name).into_owned(), from_wire(model, target, v)))
                    }
                    None => out.push((key.to_string(), v.clone())),
                }
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(out.into_iter().collect())
        }
        ("list", Value::Array(items)) => match shape.item().and_then(|m| model.target(m)) {
            Some(item) => Value::array(items.iter().map(|v| from_wire(model, item, v)).collect()),
            None => value.clone(),
        },
        ("map", Value::Object(object)) => match shape.value().and_then(|m| model.target(m)) {
            Some(target) => {
                Value::Object(object.iter().map(|(k, v)| (k.clone(), from_wire(model, target, v))).collect())
            }
            None => value.clone(),
        },
        ("timestamp", _) => super::timestamp_result(value),
        _ => value.clone(),
    }
}
