//! Payload templates: Parameters, ResultSelector and ItemSelector. A field
//! whose name ends in `.$` takes its value from a path or an intrinsic call.

use serde_json::{Map, Value};

use crate::intrinsics::{self, Env};
use crate::path;

/// Checks every `.$` field of a template at definition time. On error, the
/// location inside the template and the message.
pub fn check(template: &Value) -> Result<(), (String, String)> {
    match template {
        Value::Object(obj) => {
            for (k, v) in obj {
                if let Some(_name) = k.strip_suffix(".$") {
                    let text = v
                        .as_str()
                        .ok_or_else(|| (format!(".{k}"), "a .$ field must hold a path or an intrinsic call".into()))?;
                    let checked = if intrinsics::is_call(text) {
                        intrinsics::parse(text).map(|_| ())
                    } else if text.starts_with('$') {
                        path::check_path(text)
                    } else {
                        Err("a .$ field must hold a path or an intrinsic call".into())
                    };
                    checked.map_err(|m| (format!(".{k}"), m))?;
                } else {
                    check(v).map_err(|(at, m)| (format!(".{k}{at}"), m))?;
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                check(v).map_err(|(at, m)| (format!("[{i}]{at}"), m))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Why a template could not be filled: the Step Functions error name and cause.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    pub error: &'static str,
    pub cause: String,
}

pub fn render(template: &Value, env: &Env<'_>) -> Result<Value, TemplateError> {
    match template {
        Value::Object(obj) => {
            let mut out = Map::with_capacity(obj.len());
            for (k, v) in obj {
                match k.strip_suffix(".$") {
                    Some(name) => {
                        let text = v.as_str().unwrap_or_default();
                        let value = if intrinsics::is_call(text) {
                            let call = intrinsics::parse(text)
                                .map_err(|cause| TemplateError { error: "States.IntrinsicFailure", cause })?;
                            intrinsics::evaluate(&call, env)
                                .map_err(|cause| TemplateError { error: "States.IntrinsicFailure", cause })?
                        } else {
                            path::select(text, env.input, env.context).map_err(|cause| TemplateError {
                                error: "States.Runtime",
                                cause: format!(
                                    "the JSONPath {text} specified for the field {k} could not be evaluated: {cause}"
                                ),
                            })?
                        };
                        out.insert(name.to_owned(), value);
                    }
                    None => {
                        out.insert(k.clone(), render(v, env)?);
                    }
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => Ok(Value::Array(items.iter().map(|v| render(v, env)).collect::<Result<_, _>>()?)),
        other => Ok(other.clone()),
    }
}
