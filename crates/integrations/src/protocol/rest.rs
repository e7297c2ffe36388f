//! The AWS REST protocols (`rest-json`: Lambda; `rest-xml`: S3): members
//! placed by their `location` (the URI's labels, the query string, headers,
//! a prefixed header map), the rest in the body (the `payload` member alone
//! when the input names one: raw bytes for a blob or string, else that
//! structure as JSON or XML); the answer read back the same way, with the
//! status code and headers as members where the output shape says so.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use orderflow_value::{Map, Value};

use super::xml::{self, Element};
use super::{Invalid, Scalar, TimestampOut, invalid, join, kind_of, members, pascal, scalar};
use crate::error::ServiceError;
use crate::http::{Answer, Request};
use crate::model::{Member, Model, Operation, Shape};

/// Which REST protocol: the body's language.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Body {
    Json,
    Xml,
}

const PATH: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
const GREEDY: &percent_encoding::AsciiSet = &PATH.remove(b'/');

fn encode(text: &str, set: &'static percent_encoding::AsciiSet) -> String {
    percent_encoding::utf8_percent_encode(text, set).to_string()
}

pub fn request(model: &Model, operation: Operation<'_>, parameters: &Value, body: Body) -> Result<Request, Invalid> {
    let shape = operation.input().and_then(|name| model.shape(name));
    let given = match shape {
        Some(shape) => members(model, shape, parameters, "")?,
        None if parameters.as_object().is_some_and(Map::is_empty) => Vec::new(),
        None => return Err(invalid("", format!("{} takes no parameters", operation.name))),
    };
    let (template, static_query) = match operation.request_uri().split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (operation.request_uri().to_owned(), None),
    };
    let mut path = template;
    let mut query: Vec<(String, String)> = Vec::new();
    if let Some(q) = static_query {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            query.push((k.to_owned(), v.to_owned()));
        }
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut in_body: Vec<(Member<'_>, Shape<'_>, &Value)> = Vec::new();
    for (member, target, value) in given {
        let at = pascal(member.name).into_owned();
        let name = member.location_name().unwrap_or(member.name);
        match member.location() {
            Some("uri") => {
                let text = text_of(target, value, &at, TimestampOut::Iso8601)?;
                let greedy = format!("{{{name}+}}");
                if path.contains(&greedy) {
                    path = path.replace(&greedy, &encode(&text, GREEDY));
                } else {
                    path = path.replace(&format!("{{{name}}}"), &encode(&text, PATH));
                }
            }
            Some("querystring") => match (target.kind(), value) {
                ("list", Value::Array(items)) => {
                    let item = target
                        .item()
                        .and_then(|m| model.target(m))
                        .ok_or_else(|| invalid(&at, "a list without items"))?;
                    for v in items.iter() {
                        query.push((name.to_owned(), text_of(item, v, &at, TimestampOut::Iso8601)?));
                    }
                }
                ("map", Value::Object(map)) => {
                    for (k, v) in map {
                        query.push((k.to_string(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())));
                    }
                }
                _ => query.push((name.to_owned(), text_of(target, value, &at, TimestampOut::Iso8601)?)),
            },
            Some("header") => {
                let text = if member.is_json_value() {
                    BASE64.encode(value.to_string())
                } else {
                    text_of(target, value, &at, TimestampOut::Iso8601)?
                };
                headers.push((name.to_owned(), text));
            }
            Some("headers") => {
                let map = value
                    .as_object()
                    .ok_or_else(|| invalid(&at, format!("must be an object, not {}", kind_of(value))))?;
                for (k, v) in map {
                    headers
                        .push((format!("{name}{k}"), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())));
                }
            }
            _ => in_body.push((member, target, value)),
        }
    }
    if path.contains('{') {
        return Err(invalid("", format!("{} needs the parameters its URI names ({path})", operation.name)));
    }
    let payload = shape.and_then(|s| s.payload());
    let body_bytes: Vec<u8> = match payload {
        Some(payload) => match in_body.iter().find(|(m, _, _)| m.name == payload) {
            None => Vec::new(),
            Some((member, target, value)) => match target.kind() {
                // A blob body is the value's compact JSON text (AWS stores an S3 Body "text" with its quotes).
                "blob" => value.to_string().into_bytes(),
                "string" => value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string()).into_bytes(),
                _ => match body {
                    Body::Json => {
                        super::json::to_wire(model, *target, value, &pascal(member.name))?.to_string().into_bytes()
                    }
                    Body::Xml => {
                        let name = member.location_name().or(target.location_name()).unwrap_or(member.name);
                        let namespace = model.xml_namespace();
                        let mut out = String::new();
                        write_xml(model, *target, value, name, namespace, &pascal(member.name), &mut out)?;
                        out.into_bytes()
                    }
                },
            },
        },
        None if in_body.is_empty() => Vec::new(),
        None => match body {
            Body::Json => {
                let mut object = Map::new();
                for (member, target, value) in &in_body {
                    object
                        .insert(member.wire_name(), super::json::to_wire(model, *target, value, &pascal(member.name))?);
                }
                Value::Object(object).to_string().into_bytes()
            }
            Body::Xml => {
                let shape = shape.ok_or_else(|| invalid("", "no input shape"))?;
                let name = shape.location_name().unwrap_or(shape.name);
                let mut out = format!("<{name}");
                if let Some(ns) = model.xml_namespace() {
                    out.push_str(&format!(" xmlns=\"{}\"", escape(ns)));
                }
                out.push('>');
                for (member, target, value) in &in_body {
                    let child = member.location_name().unwrap_or(member.name);
                    write_xml(model, *target, value, child, None, &pascal(member.name), &mut out)?;
                }
                out.push_str(&format!("</{name}>"));
                out.into_bytes()
            }
        },
    };
    if !body_bytes.is_empty() && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
        let kind = match (payload.is_some(), body) {
            (true, _)
                if in_body.iter().any(|(m, t, _)| Some(m.name) == payload && matches!(t.kind(), "blob" | "string")) =>
            {
                "application/octet-stream"
            }
            (_, Body::Json) => "application/json",
            (_, Body::Xml) => "application/xml",
        };
        headers.push(("content-type".into(), kind.into()));
    }
    let mut path_and_query = path;
    if !query.is_empty() {
        let q: Vec<String> = query
            .iter()
            .map(|(k, v)| {
                if v.is_empty() && !k.contains('=') {
                    encode(k, PATH)
                } else {
                    format!("{}={}", encode(k, PATH), encode(v, PATH))
                }
            })
            .collect();
        path_and_query = format!("{path_and_query}?{}", q.join("&"));
    }
    Ok(Request {
        method: method(operation.method()),
        path_and_query,
        headers,
        body: body_bytes,
        signing_name: model.signing_name().to_owned(),
    })
}

fn method(name: &str) -> &'static str {
    match name {
        "GET" => "GET",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "PATCH" => "PATCH",
        _ => "POST",
    }
}

/// A scalar member as text (URI labels, query strings, headers).
fn text_of(shape: Shape<'_>, value: &Value, at: &str, timestamps: TimestampOut) -> Result<String, Invalid> {
    Ok(match scalar(shape, value, at, timestamps)? {
        Scalar::Text(text) => text,
        Scalar::Json(Value::Bool(b)) => b.to_string(),
        Scalar::Json(json) => json.to_string(),
    })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `value` (of `shape`) as the element `name`.
fn write_xml(
    model: &Model,
    shape: Shape<'_>,
    value: &Value,
    name: &str,
    namespace: Option<&str>,
    at: &str,
    out: &mut String,
) -> Result<(), Invalid> {
    let open = |out: &mut String| {
        out.push('<');
        out.push_str(name);
        if let Some(ns) = namespace {
            out.push_str(&format!(" xmlns=\"{}\"", escape(ns)));
        }
        out.push('>');
    };
    match shape.kind() {
        "structure" => {
            open(out);
            for (member, target, v) in members(model, shape, value, at)? {
                let child = member.location_name().unwrap_or(member.name);
                let at = join(at, &pascal(member.name));
                if target.kind() == "list" && (member.flattened() || target.flattened()) {
                    let items = v.as_array().ok_or_else(|| invalid(&at, "must be an array"))?;
                    let item = target.item().ok_or_else(|| invalid(&at, "a list without items"))?;
                    let item_shape =
                        model.target(item).ok_or_else(|| invalid(&at, "the model names a shape it lacks"))?;
                    let item_name = item.location_name().unwrap_or(child);
                    for (i, v) in items.iter().enumerate() {
                        write_xml(model, item_shape, v, item_name, None, &format!("{at}[{i}]"), out)?;
                    }
                } else {
                    write_xml(model, target, v, child, None, &at, out)?;
                }
            }
        }
        "list" => {
            open(out);
            let items =
                value.as_array().ok_or_else(|| invalid(at, format!("must be an array, not {}", kind_of(value))))?;
            let item = shape.item().ok_or_else(|| invalid(at, "a list without items"))?;
            let item_shape = model.target(item).ok_or_else(|| invalid(at, "the model names a shape it lacks"))?;
            let item_name = item.location_name().unwrap_or("member");
            for (i, v) in items.iter().enumerate() {
                write_xml(model, item_shape, v, item_name, None, &format!("{at}[{i}]"), out)?;
            }
        }
        "map" => {
            open(out);
            let map =
                value.as_object().ok_or_else(|| invalid(at, format!("must be an object, not {}", kind_of(value))))?;
            let value_shape =
                shape.value().and_then(|m| model.target(m)).ok_or_else(|| invalid(at, "a map without values"))?;
            for (k, v) in map {
                out.push_str(&format!("<entry><key>{}</key>", escape(k)));
                write_xml(model, value_shape, v, "value", None, &join(at, k), out)?;
                out.push_str("</entry>");
            }
        }
        _ => {
            open(out);
            out.push_str(&escape(&text_of(shape, value, at, TimestampOut::Iso8601)?));
        }
    }
    out.push_str(&format!("</{name}>"));
    Ok(())
}

/// The operation's result from its answer, or the service's error.
pub fn answer(model: &Model, operation: Operation<'_>, answer: &Answer, body: Body) -> Result<Value, ServiceError> {
    if !(200..300).contains(&answer.status) {
        return Err(error(answer, body));
    }
    let Some(shape) = operation.output().and_then(|name| model.shape(name)) else {
        return Ok(Value::Object(Map::new()));
    };
    let payload = shape.payload();
    let mut out: Vec<(String, Value)> = Vec::new();
    let mut streamed = None;
    for member in shape.members() {
        let Some(target) = model.target(member) else { continue };
        let name = member.location_name().unwrap_or(member.name);
        let key = pascal(member.name).into_owned();
        match member.location() {
            Some("header") => {
                if let Some(text) = answer.header(name) {
                    out.push((key, header_value(target, text)));
                }
            }
            Some("headers") => {
                let prefix = name.to_ascii_lowercase();
                let map: Map = answer
                    .headers
                    .iter()
                    .filter_map(|(k, v)| {
                        Some((k.as_str().strip_prefix(&prefix)?.to_owned(), Value::from(v.to_str().ok()?)))
                    })
                    .collect();
                out.push((key, Value::Object(map)));
            }
            Some("statusCode") => out.push((key, Value::from(u64::from(answer.status)))),
            _ if Some(member.name) == payload => match target.kind() {
                // A streamed body (S3's Body) is given as its text, last.
                "blob" | "string" => {
                    streamed = Some((key, Value::from(String::from_utf8_lossy(&answer.body).into_owned())))
                }
                _ => {
                    if let Some(value) = read_body(model, target, answer, body) {
                        out.push((key, value));
                    }
                }
            },
            _ => {}
        }
    }
    if payload.is_none()
        && let Some(Value::Object(read)) = read_body(model, shape, answer, body)
    {
        for (k, v) in read {
            if !out.iter().any(|(key, _)| key == k.as_str()) {
                out.push((k.to_string(), v));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.extend(streamed);
    Ok(Value::Object(out.into_iter().collect()))
}

/// The body read as `shape` (members placed elsewhere are absent from it).
fn read_body(model: &Model, shape: Shape<'_>, answer: &Answer, body: Body) -> Option<Value> {
    let text = std::str::from_utf8(&answer.body).ok()?;
    if text.trim().is_empty() {
        return None;
    }
    match body {
        Body::Json => {
            let value = orderflow_value::parse(text).ok()?;
            Some(super::json::from_wire(model, shape, &value))
        }
        Body::Xml => {
            let doc: Element = xml::parse(text).ok()?;
            Some(super::query::structure(model, shape, &doc))
        }
    }
}

fn header_value(shape: Shape<'_>, text: &str) -> Value {
    match shape.kind() {
        "integer" | "long" | "float" | "double" => {
            orderflow_value::parse(text.trim()).ok().filter(Value::is_number).unwrap_or_else(|| Value::from(text))
        }
        "boolean" => Value::Bool(text.trim().eq_ignore_ascii_case("true")),
        "timestamp" => {
            let parsed = time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc2822).ok();
            match parsed {
                Some(t) => super::timestamp_result(&Value::from(t.unix_timestamp())),
                None => super::timestamp_result(&Value::from(text)),
            }
        }
        _ => Value::from(text),
    }
}

/// A REST error answer: XML `<Error><Code>` (S3), JSON `__type`/`code` or
/// the `x-amzn-ErrorType` header (Lambda); a body-less one (HEAD) by its status.
fn error(answer: &Answer, body: Body) -> ServiceError {
    let text = String::from_utf8_lossy(&answer.body);
    let from_status = || match answer.status {
        404 => "NotFound",
        403 => "Forbidden",
        400 => "BadRequest",
        _ => "UnknownError",
    };
    match body {
        Body::Xml => {
            let doc = xml::parse(&text).ok();
            let mut error = super::query::error(answer, doc.as_ref());
            if error.code == "UnknownError" {
                error.code = from_status().to_owned();
            }
            error.extended_request_id = answer
                .header("x-amz-id-2")
                .map(str::to_owned)
                .or_else(|| doc.as_ref().and_then(|d| d.text_of("HostId")).map(str::to_owned));
            error
        }
        Body::Json => {
            let value = orderflow_value::parse(&text).unwrap_or_default();
            let mut error = super::json::error(answer, &value);
            if error.code == "UnknownError" {
                error.code = from_status().to_owned();
            }
            error
        }
    }
}
