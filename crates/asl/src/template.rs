//! Payload templates (Parameters, ResultSelector, ItemSelector), compiled when
//! the definition loads: a tree whose `"key.$"` leaves are compiled paths or
//! intrinsic calls, and whose literal subtrees are kept whole.

use serde_json::{Map, Value};

use crate::intrinsics::{self, Call};
use crate::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    /// A subtree with no `.$` field anywhere: copied as it is.
    Literal(Value),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    /// The value of `"field.$": "<path>"`; `field` is the key as written.
    Path {
        field: String,
        path: Path,
    },
    Call {
        field: String,
        call: Call,
    },
}

impl Template {
    /// Compiles a template; on error, the location inside it and the message.
    pub fn compile(value: &Value) -> Result<Template, (String, String)> {
        if !has_dynamic(value) {
            return Ok(Template::Literal(value.clone()));
        }
        match value {
            Value::Object(obj) => {
                let mut fields = Vec::with_capacity(obj.len());
                for (k, v) in obj {
                    match k.strip_suffix(".$") {
                        Some(name) => {
                            let text = v.as_str().ok_or_else(|| {
                                (format!(".{k}"), "a .$ field must hold a path or an intrinsic call".to_owned())
                            })?;
                            let leaf = if intrinsics::is_call(text) {
                                Template::Call {
                                    field: k.clone(),
                                    call: Call::parse(text).map_err(|m| (format!(".{k}"), m))?,
                                }
                            } else if text.starts_with('$') {
                                Template::Path {
                                    field: k.clone(),
                                    path: Path::parse(text).map_err(|m| (format!(".{k}"), m))?,
                                }
                            } else {
                                return Err((
                                    format!(".{k}"),
                                    "a .$ field must hold a path or an intrinsic call".into(),
                                ));
                            };
                            fields.push((name.to_owned(), leaf));
                        }
                        None => {
                            fields.push((k.clone(), Template::compile(v).map_err(|(at, m)| (format!(".{k}{at}"), m))?))
                        }
                    }
                }
                Ok(Template::Object(fields))
            }
            Value::Array(items) => Ok(Template::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Template::compile(v).map_err(|(at, m)| (format!("[{i}]{at}"), m)))
                    .collect::<Result<_, _>>()?,
            )),
            other => Ok(Template::Literal(other.clone())),
        }
    }

    /// Every compiled path in the template, for static checks.
    pub fn reads_context(&self) -> bool {
        match self {
            Template::Literal(_) => false,
            Template::Object(fields) => fields.iter().any(|(_, t)| t.reads_context()),
            Template::Array(items) => items.iter().any(Template::reads_context),
            Template::Path { path, .. } => path.root() == crate::path::Root::Context,
            Template::Call { .. } => true,
        }
    }

    /// The literal value of `key` at the top of an object template, if it is one.
    pub fn literal_field(&self, key: &str) -> Option<&Value> {
        match self {
            Template::Literal(v) => v.get(key),
            Template::Object(fields) => fields.iter().find_map(|(k, t)| match t {
                Template::Literal(v) if k == key => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }

    /// Whether the top-level object names `key`, literally or by `key.$`.
    pub fn names_field(&self, key: &str) -> bool {
        match self {
            Template::Literal(v) => v.get(key).is_some(),
            Template::Object(fields) => fields.iter().any(|(k, _)| k == key),
            _ => false,
        }
    }

    /// Fills the template: `leaf` evaluates each `.$` leaf.
    pub fn render<E>(&self, leaf: &mut dyn FnMut(&Template) -> Result<Value, E>) -> Result<Value, E> {
        match self {
            Template::Literal(v) => Ok(v.clone()),
            Template::Object(fields) => {
                let mut out = Map::new();
                for (k, t) in fields {
                    out.insert(k.clone(), t.render(leaf)?);
                }
                Ok(Value::Object(out))
            }
            Template::Array(items) => items.iter().map(|t| t.render(leaf)).collect::<Result<_, _>>().map(Value::Array),
            dynamic => leaf(dynamic),
        }
    }
}

fn has_dynamic(value: &Value) -> bool {
    match value {
        Value::Object(obj) => obj.iter().any(|(k, v)| k.ends_with(".$") || has_dynamic(v)),
        Value::Array(items) => items.iter().any(has_dynamic),
        _ => false,
    }
}
