//! Paths, compiled once when a definition loads. A definite path (names and
//! single indexes only) walks its steps and selects exactly one value, or
//! fails; any other path is an RFC 9535 query (serde_json_path) that selects
//! an array of every match. `$$` paths read the context object. Reference
//! paths (ResultPath) name one node and are kept as steps.

use std::borrow::Cow;
use std::fmt::Write as _;

use orderflow_value::{Map, Value};
use serde_json_path::JsonPath;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Field(String),
    /// A negative index counts from the end, as Jayway's does.
    Index(i64),
}

#[derive(Debug, Clone)]
enum Form {
    Definite(Vec<Step>),
    Query(JsonPath),
}

/// Which document a path reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    Input,
    Context,
    /// A workflow variable's value (`$name...`).
    Variable,
}

#[derive(Debug, Clone)]
pub struct Path {
    text: String,
    root: Root,
    /// The variable a `$name...` path reads.
    variable: Option<std::sync::Arc<str>>,
    form: Form,
}

impl PartialEq for Path {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// Why a path selected nothing: Jayway's words, which AWS quotes.
#[derive(Debug, Clone, PartialEq)]
pub struct Missing {
    /// `Missing property in path $['a']`, or the index's equivalent.
    pub detail: String,
}

impl Path {
    pub fn parse(text: &str) -> Result<Path, String> {
        let rest = text.strip_prefix('$').ok_or_else(|| format!("{text:?} must start with $"))?;
        let (root, rest) = match rest.strip_prefix('$') {
            Some(r) => (Root::Context, r),
            None => (Root::Input, rest),
        };
        let (root, variable, rest) = match variable_name(rest) {
            Some((name, after)) if root == Root::Input => (Root::Variable, Some(std::sync::Arc::from(name)), after),
            Some(_) => return Err(format!("{text:?} is not a valid JSONPath")),
            None => (root, None, rest),
        };
        if !rest.is_empty() && !rest.starts_with(['.', '[']) {
            return Err(format!("{text:?} is not a valid JSONPath"));
        }
        let form = match definite_steps(rest) {
            Some(steps) => Form::Definite(steps),
            None => {
                let rfc = format!("${}", to_rfc_names(rest));
                Form::Query(JsonPath::parse(&rfc).map_err(|e| format!("{text:?} is not a valid JSONPath: {e}"))?)
            }
        };
        Ok(Path { text: text.to_owned(), root, variable, form })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn root(&self) -> Root {
        self.root
    }

    /// The variable a `$name...` path reads.
    pub fn variable(&self) -> Option<&str> {
        self.variable.as_deref()
    }

    /// `$` itself: the whole document.
    pub fn is_root(&self) -> bool {
        matches!(&self.form, Form::Definite(steps) if steps.is_empty()) && self.root == Root::Input
    }

    pub fn is_definite(&self) -> bool {
        matches!(self.form, Form::Definite(_))
    }

    /// The steps of a definite path.
    pub fn steps(&self) -> Option<&[Step]> {
        match &self.form {
            Form::Definite(steps) => Some(steps),
            Form::Query(_) => None,
        }
    }

    /// The value this path selects from `doc` (the input or the context
    /// object, as [`Path::root`] says).
    pub fn select<'v>(&self, doc: &'v Value) -> Result<Cow<'v, Value>, Missing> {
        match &self.form {
            Form::Definite(steps) => walk(doc, steps).map(Cow::Borrowed),
            Form::Query(query) => {
                // serde_json_path queries serde_json's value: the document is bridged for it.
                let doc = serde_json::Value::from(doc);
                Ok(Cow::Owned(Value::array(query.query(&doc).all().into_iter().map(Value::from).collect())))
            }
        }
    }

    /// Like [`Path::select`], taking the value out of an owned document.
    pub fn select_owned(&self, doc: Value) -> Result<Value, Missing> {
        match &self.form {
            Form::Definite(steps) if steps.is_empty() => Ok(doc),
            Form::Definite(steps) => {
                walk(&doc, steps)?;
                let mut doc = doc;
                let mut node = &mut doc;
                for step in steps {
                    node = match step {
                        Step::Field(name) => node.get_mut(name.as_str()),
                        Step::Index(i) => {
                            let len = node.as_array().map_or(0, Vec::len) as i64;
                            let i = if *i < 0 { len + i } else { *i };
                            node.get_mut(i as usize)
                        }
                    }
                    .ok_or_else(|| Missing { detail: String::new() })?;
                }
                Ok(node.take())
            }
            Form::Query(_) => self.select(&doc).map(Cow::into_owned),
        }
    }
}

/// A workflow variable's name at the start of a path's text (after its
/// `$`), and what follows it.
fn variable_name(rest: &str) -> Option<(&str, &str)> {
    let first = rest.chars().next()?;
    if !(first.is_alphabetic() || first == '_') {
        return None;
    }
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
    Some((&rest[..end], &rest[end..]))
}

/// The value at `steps` below `doc`.
pub fn walk<'v>(doc: &'v Value, steps: &[Step]) -> Result<&'v Value, Missing> {
    let mut node = doc;
    for (n, step) in steps.iter().enumerate() {
        let next = match step {
            Step::Field(name) => node.as_object().and_then(|o| o.get(name)),
            Step::Index(i) => node.as_array().and_then(|a| {
                let i = if *i < 0 { a.len() as i64 + i } else { *i };
                usize::try_from(i).ok().and_then(|i| a.get(i))
            }),
        };
        node = next.ok_or_else(|| missing(node, steps, n))?;
    }
    Ok(node)
}

/// The value at `steps` below `doc`, to change or take.
pub fn walk_mut<'v>(doc: &'v mut Value, steps: &[Step]) -> Option<&'v mut Value> {
    let mut node = doc;
    for step in steps {
        node = match step {
            Step::Field(name) => node.as_object_mut()?.get_mut(name)?,
            Step::Index(i) => {
                let items = node.as_array_mut()?;
                let i = if *i < 0 { items.len() as i64 + i } else { *i };
                items.get_mut(usize::try_from(i).ok()?)?
            }
        };
    }
    Some(node)
}

/// Jayway's words (which AWS quotes) for a definite path whose step `n`
/// found nothing in `node`: a missing property before the last step is
/// `Missing property in path $['a']` (the path up to it); a missing last
/// property, or an index past an array's end anywhere, leaves no result:
/// `No results for path: $['a']['b']` (the whole path).
fn missing(node: &Value, steps: &[Step], n: usize) -> Missing {
    let shown = |steps: &[Step]| {
        let mut shown = String::from("$");
        for step in steps {
            let _ = match step {
                Step::Field(name) => write!(shown, "['{name}']"),
                Step::Index(i) => write!(shown, "[{i}]"),
            };
        }
        shown
    };
    let last = n + 1 == steps.len();
    let detail = match (&steps[n], node) {
        (Step::Field(_), Value::Object(_)) if !last => format!("Missing property in path {}", shown(&steps[..=n])),
        (Step::Field(_), Value::Object(_)) | (Step::Index(_), Value::Array(_)) => {
            format!("No results for path: {}", shown(steps))
        }
        (Step::Index(_), _) => format!("Index out of bounds in path {}", shown(&steps[..=n])),
        (Step::Field(_), _) => format!("Missing property in path {}", shown(&steps[..=n])),
    };
    Missing { detail }
}

/// The steps of a path made only of names and single indexes, or None.
fn definite_steps(rest: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    let mut rest = rest;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let name = &r[..end];
            if name.is_empty() || name.contains(['*', '(', ')', '@', '?', ',', ' ', ':', '\'', '"']) {
                return None;
            }
            steps.push(Step::Field(name.to_owned()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let r = r.trim_start();
            if let Some(quote) = r.chars().next().filter(|c| *c == '\'' || *c == '"') {
                let body = &r[1..];
                let mut name = String::new();
                let mut chars = body.char_indices();
                let close = loop {
                    match chars.next()? {
                        (_, '\\') => unescape(&mut chars, &mut name)?,
                        (i, c) if c == quote => break i,
                        (_, c) => name.push(c),
                    }
                };
                let after = body[close + 1..].trim_start();
                rest = after.strip_prefix(']')?;
                steps.push(Step::Field(name));
            } else {
                let end = r.find(']')?;
                let index: i64 = r[..end].trim().parse().ok()?;
                steps.push(Step::Index(index));
                rest = &r[end + 1..];
            }
        } else {
            return None;
        }
    }
    Some(steps)
}

/// One escape in a quoted member name, after its backslash, as Jayway
/// (Step Functions' JsonPath) reads it: `\\n`, `\\t`, `\\r`, `\\f`, `\\b`,
/// `\\uXXXX` (two of them for a character beyond the BMP), and any other
/// character as itself (`\\'`, `\\"`, `\\\\`). None: a `\\u` without four hex digits.
fn unescape(chars: &mut std::str::CharIndices<'_>, name: &mut String) -> Option<()> {
    let hex = |chars: &mut std::str::CharIndices<'_>| -> Option<u32> {
        let digits: String = (0..4).map(|_| chars.next().map(|(_, c)| c)).collect::<Option<_>>()?;
        u32::from_str_radix(&digits, 16).ok()
    };
    let c = match chars.next()?.1 {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        'f' => '\u{c}',
        'b' => '\u{8}',
        'u' => {
            let unit = hex(chars)?;
            match unit {
                // A high surrogate takes the low one that follows it.
                0xD800..=0xDBFF => {
                    let mut ahead = chars.clone();
                    let low = match (ahead.next(), ahead.next()) {
                        (Some((_, '\\')), Some((_, 'u'))) => hex(&mut ahead).filter(|l| (0xDC00..=0xDFFF).contains(l)),
                        _ => None,
                    };
                    match low {
                        Some(low) => {
                            *chars = ahead;
                            char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))?
                        }
                        None => char::REPLACEMENT_CHARACTER,
                    }
                }
                _ => char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER),
            }
        }
        other => other,
    };
    name.push(c);
    Some(())
}

/// Step Functions' JsonPath (Jayway) accepts dot names RFC 9535 does not, such
/// as `$.detail.delivery-partner`; such names are rewritten as `['...']`.
fn to_rfc_names(rest: &str) -> String {
    let shorthand = |name: &str| {
        let mut chars = name.chars();
        chars.next().is_some_and(|c| c.is_alphabetic() || c == '_' || !c.is_ascii())
            && chars.all(|c| c.is_alphanumeric() || c == '_' || !c.is_ascii())
    };
    let mut out = String::with_capacity(rest.len() + 8);
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') if depth > 0 => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '.') if depth == 0 && chars.peek().is_some_and(|(_, n)| *n != '.' && *n != '*' && *n != '[') => {
                let start = i + 1;
                let end = rest[start..].find(['.', '[']).map_or(rest.len(), |e| start + e);
                let name = &rest[start..end];
                if shorthand(name) {
                    out.push('.');
                    out.push_str(name);
                } else {
                    out.push_str(&format!("['{}']", name.replace('\\', "\\\\").replace('\'', "\\'")));
                }
                while chars.peek().is_some_and(|(j, _)| *j < end) {
                    chars.next();
                }
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// A reference path (ResultPath): `$`, then names and indexes only.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferencePath {
    text: String,
    steps: Vec<Step>,
}

impl ReferencePath {
    pub fn parse(text: &str) -> Result<ReferencePath, String> {
        let bad = || format!("{text:?} is not a reference path (only $, .name, ['name'] and [index] are allowed)");
        let rest = text.strip_prefix('$').ok_or_else(bad)?;
        if rest.starts_with('$') {
            return Err(format!("{text:?}: a reference path cannot point into the context object"));
        }
        let steps = definite_steps(rest).ok_or_else(bad)?;
        if steps.iter().any(|s| matches!(s, Step::Index(i) if *i < 0)) {
            return Err(bad());
        }
        Ok(ReferencePath { text: text.to_owned(), steps })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    /// Puts `value` at this path in `target`, creating objects on the way as
    /// Step Functions does; `$` replaces the whole.
    pub fn put(&self, target: &mut Value, value: Value) -> Result<(), String> {
        let Some((last, way)) = self.steps.split_last() else {
            *target = value;
            return Ok(());
        };
        let mut node = target;
        for step in way {
            node = match step {
                Step::Field(name) => {
                    if node.is_null() {
                        *node = Value::Object(Map::new());
                    }
                    let Some(obj) = node.as_object_mut() else {
                        return Err(format!("a value on the way to {} is not an object", self.text));
                    };
                    obj.get_or_insert(name.as_str(), Value::Null)
                }
                Step::Index(index) => node
                    .as_array_mut()
                    .and_then(|a| a.get_mut(*index as usize))
                    .ok_or_else(|| format!("index {index} of {} is out of range", self.text))?,
            };
        }
        match last {
            Step::Field(name) => {
                if node.is_null() {
                    *node = Value::Object(Map::new());
                }
                let obj = node
                    .as_object_mut()
                    .ok_or_else(|| format!("a value on the way to {} is not an object", self.text))?;
                obj.insert(name.clone(), value);
            }
            Step::Index(index) => {
                let slot = node
                    .as_array_mut()
                    .and_then(|a| a.get_mut(*index as usize))
                    .ok_or_else(|| format!("index {index} of {} is out of range", self.text))?;
                *slot = value;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use orderflow_value::json;

    use super::*;

    fn select(path: &str, doc: &Value) -> Result<Value, String> {
        Path::parse(path)?.select(doc).map(Cow::into_owned).map_err(|m| m.detail)
    }

    #[test]
    fn definite_and_indefinite_paths() {
        let input = json!({"a": {"b": [1, 2, 3]}, "c d": 4});
        assert_eq!(select("$.a.b[1]", &input), Ok(json!(2)));
        assert_eq!(select("$.a.b[-1]", &input), Ok(json!(3)));
        assert_eq!(select("$['c d']", &input), Ok(json!(4)));
        assert_eq!(select("$.a.b[*]", &input), Ok(json!([1, 2, 3])));
        assert_eq!(select("$.a.b[?(@ > 1)]", &input), Ok(json!([2, 3])));
        assert_eq!(select("$..b", &input), Ok(json!([[1, 2, 3]])));
        assert_eq!(select("$.no.such", &input), Err("Missing property in path $['no']".into()));
        // Jayway's rule, as AWS quotes it: a missing last property, or an index past the end, leaves no result.
        assert_eq!(select("$.nothing", &input), Err("No results for path: $['nothing']".into()));
        assert_eq!(select("$.a.none", &input), Err("No results for path: $['a']['none']".into()));
        assert_eq!(select("$.a.b[7]", &input), Err("No results for path: $['a']['b'][7]".into()));
        assert_eq!(select("$.a.b[7].c", &input), Err("No results for path: $['a']['b'][7]['c']".into()));
        assert_eq!(select("$.a.x.y.z", &input), Err("Missing property in path $['a']['x']".into()));
        // Jayway's escapes in quoted names: quotes, backslashes, control characters, \uXXXX.
        let odd = json!({"it's": 1, "say \"hi\"": 2, "back\\slash": 3, "tab\there": 4, "é": 5, "😀": 6, "AB": 7});
        for (path, expected) in [
            (r"$['it\'s']", 1),
            (r#"$["say \"hi\""]"#, 2),
            (r#"$['say \"hi\"']"#, 2),
            (r"$['back\\slash']", 3),
            (r"$['tab\there']", 4),
            (r"$['\u00e9']", 5),
            (r"$['\uD83D\uDE00']", 6),
            (r"$['\u0041B']", 7),
        ] {
            assert_eq!(select(path, &odd), Ok(json!(expected)), "{path}");
            assert!(Path::parse(path).unwrap().is_definite(), "{path}");
        }
        assert!(Path::parse("$['a*b']").unwrap().is_definite());
        let jayway = json!({"detail": {"delivery-partner": "UQS", "2nd": 2}});
        assert_eq!(select("$.detail.delivery-partner", &jayway), Ok(json!("UQS")));
        assert_eq!(select("$.detail.2nd", &jayway), Ok(json!(2)));
        assert_eq!(Path::parse("$$.State.Name").unwrap().root(), Root::Context);
        let variable = Path::parse("$order.lines[0]").unwrap();
        assert_eq!((variable.root(), variable.variable()), (Root::Variable, Some("order")));
        assert_eq!(variable.select(&json!({"lines": [7]})).map(|v| v.into_owned()), Ok(json!(7)));
        assert_eq!(Path::parse("$x").unwrap().steps(), Some(&[][..]));
        assert!(Path::parse("$$x").is_err());
        assert!(Path::parse("$x-y").is_err());
        assert_eq!(Path::parse("$.a.b").unwrap().select_owned(input.clone()), Ok(json!([1, 2, 3])));
    }

    #[test]
    fn result_paths() {
        let put = |mut target: Value, path: &str, value: Value| {
            ReferencePath::parse(path)?.put(&mut target, value).map(|()| target)
        };
        assert_eq!(put(json!({"a": 1}), "$", json!(2)), Ok(json!(2)));
        assert_eq!(put(json!({"a": 1}), "$.b.c", json!(2)), Ok(json!({"a": 1, "b": {"c": 2}})));
        assert_eq!(put(json!({"a": [0, 1]}), "$.a[1]", json!(9)), Ok(json!({"a": [0, 9]})));
        assert_eq!(put(json!({"a": 1}), "$['x y']", json!(2)), Ok(json!({"a": 1, "x y": 2})));
        assert!(put(json!({"a": 1}), "$.a.b", json!(2)).is_err());
        assert!(put(json!([1]), "$.a", json!(2)).is_err());
        assert!(ReferencePath::parse("$.a[*]").is_err());
        assert!(ReferencePath::parse("$$.a").is_err());
    }
}
