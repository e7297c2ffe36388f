//! Payload templates (Parameters, ResultSelector, ItemSelector; in JSONata
//! states Arguments, Output, Assign, Items), compiled when the definition
//! loads: a tree whose `"key.$"` leaves are compiled paths or intrinsic calls
//! (JSONPath) or whose `"{% ... %}"` strings are compiled expressions
//! (JSONata), and whose literal subtrees are kept whole.

use orderflow_value::{Map, Str, Value};

use crate::intrinsics::{self, Call};
use crate::jsonata::{self, Expression};
use crate::path::{Path, Step};
use orderflow_json_len::json_len;

/// A filled template or leaf: the value and an upper bound of its JSON length.
pub type Rendered = (Value, usize);

#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    /// A subtree with no `.$` field anywhere: copied as it is; with the
    /// length of its JSON text.
    Literal(Value, usize),
    Object(Fields),
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
    /// A `"{% ... %}"` string of a JSONata template; `field` is where it sits
    /// as AWS names it in causes (`Output/result`, `Arguments`).
    Expr {
        field: String,
        expr: Expression,
    },
}

/// An object template's fields, in order, and whether their names all
/// differ (`"a"` and `"a.$"` both name `a`): then they fill a map with no
/// lookup.
#[derive(Debug, Clone, PartialEq)]
pub struct Fields {
    list: Vec<(Str, Template)>,
    unique: bool,
}

impl Fields {
    fn new(list: Vec<(Str, Template)>) -> Fields {
        let unique = list.iter().enumerate().all(|(i, (k, _))| list[..i].iter().all(|(other, _)| other != k));
        Fields { list, unique }
    }
}

impl std::ops::Deref for Fields {
    type Target = [(Str, Template)];
    fn deref(&self) -> &Self::Target {
        &self.list
    }
}

impl<'f> IntoIterator for &'f Fields {
    type Item = &'f (Str, Template);
    type IntoIter = std::slice::Iter<'f, (Str, Template)>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl Template {
    /// Compiles a template; on error, the location inside it and the message.
    pub fn compile(value: &Value) -> Result<Template, (String, String)> {
        if !has_dynamic(value) {
            return Ok(Template::Literal(value.clone(), json_len(value)));
        }
        match value {
            Value::Object(obj) => {
                let mut fields = Vec::with_capacity(obj.len());
                for (k, v) in obj {
                    match k.strip_suffix(".$") {
                        Some(name) => {
                            // AWS's words for any `.$` field that is neither, at the object that holds it.
                            let invalid = || {
                                (
                                    String::new(),
                                    format!(
                                        "The value for the field '{k}' must be a valid JSONPath or a valid intrinsic function call"
                                    ),
                                )
                            };
                            let text = v.as_str().ok_or_else(invalid)?;
                            let leaf = if intrinsics::is_call(text) {
                                Template::Call { field: k.to_string(), call: Call::parse(text).map_err(|_| invalid())? }
                            } else if text.starts_with('$') {
                                Template::Path { field: k.to_string(), path: Path::parse(text).map_err(|_| invalid())? }
                            } else {
                                return Err(invalid());
                            };
                            fields.push((Str::new(name), leaf));
                        }
                        None => {
                            fields.push((k.clone(), Template::compile(v).map_err(|(at, m)| (format!(".{k}{at}"), m))?))
                        }
                    }
                }
                Ok(Template::Object(Fields::new(fields)))
            }
            Value::Array(items) => Ok(Template::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Template::compile(v).map_err(|(at, m)| (format!("[{i}]{at}"), m)))
                    .collect::<Result<_, _>>()?,
            )),
            other => Ok(Template::Literal(other.clone(), json_len(other))),
        }
    }

    /// Compiles a JSONata state's template: every `"{% ... %}"` string an
    /// expression, everything else literal. `field` is its field's name; on
    /// error, the location inside it and the message.
    pub fn compile_jsonata(value: &Value, field: &str) -> Result<Template, (String, String)> {
        if !has_expression(value) {
            return Ok(Template::Literal(value.clone(), json_len(value)));
        }
        match value {
            Value::String(text) => Ok(Template::Expr {
                field: field.to_owned(),
                expr: Expression::compile(text).map_err(|m| (String::new(), m))?,
            }),
            Value::Object(obj) => {
                let mut fields = Vec::with_capacity(obj.len());
                for (k, v) in obj {
                    let inner = Template::compile_jsonata(v, &format!("{field}/{k}"))
                        .map_err(|(at, m)| (format!(".{k}{at}"), m))?;
                    fields.push((k.clone(), inner));
                }
                Ok(Template::Object(Fields::new(fields)))
            }
            Value::Array(items) => Ok(Template::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        Template::compile_jsonata(v, &format!("{field}/{i}"))
                            .map_err(|(at, m)| (format!("[{i}]{at}"), m))
                    })
                    .collect::<Result<_, _>>()?,
            )),
            other => Ok(Template::Literal(other.clone(), json_len(other))),
        }
    }

    /// Whether the top-level object names `key`, literally or by `key.$`.
    pub fn names_field(&self, key: &str) -> bool {
        match self {
            Template::Literal(v, _) => v.get(key).is_some(),
            Template::Object(fields) => fields.iter().any(|(k, _)| k == key),
            _ => false,
        }
    }

    /// Whether every `.$` leaf is a path into the state's input (`$...`): no
    /// context, variable or intrinsic call. Such a template filled twice from
    /// the same input gives the same value.
    pub fn selects_input_only(&self) -> bool {
        match self {
            Template::Literal(..) => true,
            Template::Object(fields) => fields.iter().all(|(_, t)| t.selects_input_only()),
            Template::Array(items) => items.iter().all(Template::selects_input_only),
            Template::Path { path, .. } => matches!(path.root(), crate::path::Root::Input),
            Template::Call { .. } | Template::Expr { .. } => false,
        }
    }

    /// The template of a top-level field.
    pub fn field(&self, key: &str) -> Option<&Template> {
        match self {
            Template::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, t)| t),
            _ => None,
        }
    }

    /// Visits the `.$` leaves in the order `render` evaluates them; the first
    /// error stops it, as it stops `render`.
    pub fn leaves<E>(&self, leaf: &mut dyn FnMut(&Template) -> Result<(), E>) -> Result<(), E> {
        match self {
            Template::Literal(..) => Ok(()),
            Template::Object(fields) => fields.iter().try_for_each(|(_, t)| t.leaves(leaf)),
            Template::Array(items) => items.iter().try_for_each(|t| t.leaves(leaf)),
            dynamic => leaf(dynamic),
        }
    }

    /// Fills a template that `selects_input_only` from `input`, whose paths
    /// have been found there (a path found nowhere gives null).
    pub fn fill_from(&self, input: &Value) -> Value {
        let filled: Result<Rendered, std::convert::Infallible> = self.render(&mut |leaf| match leaf {
            Template::Path { path, .. } => Ok((path.select(input).map(|v| v.into_owned()).unwrap_or(Value::Null), 0)),
            _ => Ok((Value::Null, 0)),
        });
        match filled {
            Ok((value, _)) => value,
        }
    }

    /// Whether the template can be filled by moving what it selects out of
    /// its input rather than copying it, and the input put back together
    /// from the filled value later: an object whose `.$` leaves are definite
    /// `$` paths below the root with no index from the end (two could name
    /// one item), none of them inside another or equal to it, with no name
    /// twice in any of its objects.
    pub fn moves_selections(&self) -> bool {
        let mut paths: Vec<&[Step]> = Vec::new();
        matches!(self, Template::Object(_)) && self.movable(&mut paths) && {
            paths.sort();
            paths.windows(2).all(|pair| !pair[1].starts_with(pair[0]))
        }
    }

    /// Whether every `.$` leaf is a definite path under `$.<key>`.
    pub fn reads_only_under(&self, key: &str) -> bool {
        self.leaves(&mut |leaf| match leaf {
            Template::Path { path, .. } if matches!(path.steps(), Some([Step::Field(first), ..]) if first == key) => {
                Ok(())
            }
            _ => Err(()),
        })
        .is_ok()
    }

    fn movable<'t>(&'t self, paths: &mut Vec<&'t [Step]>) -> bool {
        match self {
            Template::Literal(..) => true,
            Template::Object(fields) => fields.unique && fields.iter().all(|(_, t)| t.movable(paths)),
            Template::Array(items) => items.iter().all(|t| t.movable(paths)),
            Template::Path { path, .. } => match path.steps() {
                Some(steps)
                    if !steps.is_empty()
                        && path.root() == crate::path::Root::Input
                        && steps.iter().all(|step| !matches!(step, Step::Index(i) if *i < 0)) =>
                {
                    paths.push(steps);
                    true
                }
                _ => false,
            },
            Template::Call { .. } | Template::Expr { .. } => false,
        }
    }

    /// Fills a template that [`moves_selections`](Template::moves_selections)
    /// by taking what each path selects out of `source` (null is left in its
    /// place); each taken value's bound is `bound`. None, with `source`
    /// untouched, when a path selects nothing.
    pub fn fill_by_moving(&self, source: &mut Value, bound: usize) -> Option<Rendered> {
        let found: Result<(), ()> = self.leaves(&mut |leaf| match leaf {
            Template::Path { path, .. } => path.select(source).map(drop).map_err(drop),
            _ => Err(()),
        });
        found.ok()?;
        let filled: Result<Rendered, ()> = self.render(&mut |leaf| {
            let steps = match leaf {
                Template::Path { path, .. } => path.steps().ok_or(())?,
                _ => return Err(()),
            };
            Ok((crate::path::walk_mut(source, steps).ok_or(())?.take(), bound))
        });
        filled.ok()
    }

    /// Undoes [`fill_by_moving`](Template::fill_by_moving) on a copy: puts
    /// what `filled` holds at each leaf back where its path selected it in
    /// `rest`.
    pub fn put_back(&self, rest: &mut Value, filled: &Value) {
        match self {
            Template::Literal(..) | Template::Call { .. } | Template::Expr { .. } => {}
            Template::Object(fields) => {
                for (k, t) in fields {
                    if let Some(v) = filled.get(k) {
                        t.put_back(rest, v);
                    }
                }
            }
            Template::Array(items) => {
                for (t, v) in items.iter().zip(filled.as_array().into_iter().flatten()) {
                    t.put_back(rest, v);
                }
            }
            Template::Path { path, .. } => {
                if let Some(slot) = path.steps().and_then(|steps| crate::path::walk_mut(rest, steps)) {
                    *slot = filled.clone();
                }
            }
        }
    }

    /// Fills the template: `leaf` evaluates each `.$` leaf, giving its value
    /// and an upper bound of its JSON length. Gives the value and an upper
    /// bound of its JSON length.
    pub fn render<E>(&self, leaf: &mut dyn FnMut(&Template) -> Result<Rendered, E>) -> Result<Rendered, E> {
        match self {
            Template::Literal(v, len) => Ok((v.clone(), *len)),
            Template::Object(fields) if fields.unique => {
                let mut out = Vec::with_capacity(fields.len());
                let mut len = 1 + fields.len().max(1);
                for (k, t) in fields {
                    let (value, bound) = t.render(leaf)?;
                    len += k.len() * 6 + 3 + bound;
                    out.push((k.clone(), value));
                }
                Ok((Value::Object(Map::from_unique(out)), len))
            }
            Template::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                let mut len = 1 + fields.len().max(1);
                for (k, t) in fields {
                    let (value, bound) = t.render(leaf)?;
                    len += k.len() * 6 + 3 + bound;
                    out.insert(k.clone(), value);
                }
                Ok((Value::Object(out), len))
            }
            Template::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut len = 1 + items.len().max(1);
                for t in items {
                    let (value, bound) = t.render(leaf)?;
                    len += bound;
                    out.push(value);
                }
                Ok((Value::array(out), len))
            }
            dynamic => leaf(dynamic),
        }
    }
}

fn has_expression(value: &Value) -> bool {
    match value {
        Value::String(text) => jsonata::is_expression(text),
        Value::Object(obj) => obj.values().any(has_expression),
        Value::Array(items) => items.iter().any(has_expression),
        _ => false,
    }
}

fn has_dynamic(value: &Value) -> bool {
    match value {
        Value::Object(obj) => obj.iter().any(|(k, v)| k.ends_with(".$") || has_dynamic(v)),
        Value::Array(items) => items.iter().any(has_dynamic),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(template: &Value, input: &Value) -> Value {
        let template = Template::compile(template).unwrap();
        let rendered: Result<Rendered, ()> = template.render(&mut |leaf| match leaf {
            Template::Path { path, .. } => Ok((path.select(input).map_err(drop)?.into_owned(), 0)),
            _ => Err(()),
        });
        rendered.unwrap().0
    }

    #[test]
    fn fields_keep_their_order_and_a_repeated_name_replaces_in_place() {
        let json = |text: &str| orderflow_value::parse(text).unwrap();
        let input = json(r#"{"x": 1, "y": 2}"#);
        let out = fill(&json(r#"{"b.$": "$.y", "a": 0, "c": {"d.$": "$.x"}}"#), &input);
        assert_eq!(out.to_json(), r#"{"b":2,"a":0,"c":{"d":1}}"#);
        // "a" and "a.$" both name a: the later one's value, in the first one's place.
        let out = fill(&json(r#"{"a": 0, "b": 9, "a.$": "$.y"}"#), &input);
        assert_eq!(out.to_json(), r#"{"a":2,"b":9}"#);
    }
}
