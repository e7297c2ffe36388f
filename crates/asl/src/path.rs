//! Paths and reference paths. Selection uses serde_json_path (RFC 9535
//! JSONPath) with Step Functions' result shape: a definite path (names and
//! single indexes only) selects exactly one value, or fails; any other path
//! selects an array of every match. `$$` paths read the context object.
//! Reference paths (ResultPath) are parsed here: they only name one node.

use serde_json::{Map, Value};
use serde_json_path::JsonPath;

fn parse(path: &str) -> Result<JsonPath, String> {
    let rest = path.strip_prefix('$').ok_or_else(|| format!("{path:?} must start with $"))?;
    let rfc = format!("${}", to_rfc_names(rest.strip_prefix('$').unwrap_or(rest)));
    JsonPath::parse(&rfc).map_err(|e| format!("{path:?} is not a valid JSONPath: {e}"))
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

/// Checks a path's syntax, for definitions.
pub fn check_path(path: &str) -> Result<(), String> {
    parse(path).map(|_| ())
}

/// Whether a path names one node: no wildcard, slice, filter, union or descent.
pub fn is_definite(path: &str) -> bool {
    let mut quote = None;
    let bytes: Vec<char> = path.chars().collect();
    for (i, c) in bytes.iter().enumerate() {
        match (quote, c) {
            (Some(q), c) if *c == q && bytes.get(i.wrapping_sub(1)) != Some(&'\\') => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(*c),
            (None, '*' | '?' | ':' | ',') => return false,
            (None, '.') if bytes.get(i + 1) == Some(&'.') => return false,
            _ => {}
        }
    }
    true
}

/// The value a path selects from `input`, or from `context` for `$$` paths.
pub fn select(path: &str, input: &Value, context: &Value) -> Result<Value, String> {
    let (doc, shown) = if path.starts_with("$$") { (context, "context object") } else { (input, "input") };
    let compiled = parse(path)?;
    let nodes = compiled.query(doc);
    if is_definite(path) {
        nodes.exactly_one().cloned().map_err(|_| format!("the JSONPath {path} could not be found in the {shown}"))
    } else {
        Ok(Value::Array(nodes.all().into_iter().cloned().collect()))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
}

fn reference_steps(path: &str) -> Result<Vec<Step>, String> {
    let bad = || format!("{path:?} is not a reference path (only $, .name, ['name'] and [index] are allowed)");
    let mut rest = path.strip_prefix('$').ok_or_else(bad)?;
    if rest.starts_with('$') {
        return Err(format!("{path:?}: a reference path cannot point into the context object"));
    }
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let name = &r[..end];
            if name.is_empty() || name == "*" {
                return Err(bad());
            }
            steps.push(Step::Field(name.to_owned()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("['") {
            let end = r.find("']").ok_or_else(bad)?;
            steps.push(Step::Field(r[..end].to_owned()));
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or_else(bad)?;
            steps.push(Step::Index(r[..end].parse().map_err(|_| bad())?));
            rest = &r[end + 1..];
        } else {
            return Err(bad());
        }
    }
    Ok(steps)
}

pub fn check_reference_path(path: &str) -> Result<(), String> {
    reference_steps(path).map(|_| ())
}

/// `target` with `value` put at the reference path, creating objects on the
/// way as Step Functions does; `$` replaces the whole.
pub fn put(target: Value, path: &str, value: Value) -> Result<Value, String> {
    let steps = reference_steps(path)?;
    let mut root = target;
    {
        let mut node = &mut root;
        for (i, step) in steps.iter().enumerate() {
            let last = i + 1 == steps.len();
            node = match step {
                Step::Field(name) => {
                    if node.is_null() {
                        *node = Value::Object(Map::new());
                    }
                    let obj = node.as_object_mut().ok_or_else(|| {
                        format!("unable to apply ResultPath {path}: a value on the way is not an object")
                    })?;
                    if last {
                        obj.insert(name.clone(), value);
                        return Ok(root);
                    }
                    obj.entry(name.clone()).or_insert(Value::Null)
                }
                Step::Index(index) => {
                    let arr = node
                        .as_array_mut()
                        .filter(|a| *index < a.len())
                        .ok_or_else(|| format!("unable to apply ResultPath {path}: index {index} is out of range"))?;
                    if last {
                        arr[*index] = value;
                        return Ok(root);
                    }
                    &mut arr[*index]
                }
            };
        }
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn definite_and_indefinite_paths() {
        let input = json!({"a": {"b": [1, 2, 3]}, "c d": 4});
        assert_eq!(select("$.a.b[1]", &input, &Value::Null), Ok(json!(2)));
        assert_eq!(select("$['c d']", &input, &Value::Null), Ok(json!(4)));
        assert_eq!(select("$.a.b[*]", &input, &Value::Null), Ok(json!([1, 2, 3])));
        assert_eq!(select("$.a.b[?(@ > 1)]", &input, &Value::Null), Ok(json!([2, 3])));
        assert_eq!(select("$..b", &input, &Value::Null), Ok(json!([[1, 2, 3]])));
        assert!(select("$.missing", &input, &Value::Null).unwrap_err().contains("could not be found"));
        assert_eq!(select("$$.State.Name", &input, &json!({"State": {"Name": "S"}})), Ok(json!("S")));
        assert!(is_definite("$['a*b']"));
        let jayway = json!({"detail": {"delivery-partner": "UQS", "2nd": 2}});
        assert_eq!(select("$.detail.delivery-partner", &jayway, &Value::Null), Ok(json!("UQS")));
        assert_eq!(select("$.detail.2nd", &jayway, &Value::Null), Ok(json!(2)));
    }

    #[test]
    fn result_paths() {
        assert_eq!(put(json!({"a": 1}), "$", json!(2)), Ok(json!(2)));
        assert_eq!(put(json!({"a": 1}), "$.b.c", json!(2)), Ok(json!({"a": 1, "b": {"c": 2}})));
        assert_eq!(put(json!({"a": [0, 1]}), "$.a[1]", json!(9)), Ok(json!({"a": [0, 9]})));
        assert_eq!(put(json!({"a": 1}), "$['x y']", json!(2)), Ok(json!({"a": 1, "x y": 2})));
        assert!(put(json!({"a": 1}), "$.a.b", json!(2)).is_err());
        assert!(put(json!([1]), "$.a", json!(2)).is_err());
        assert!(check_reference_path("$.a[*]").is_err());
        assert!(check_reference_path("$$.a").is_err());
    }
}
