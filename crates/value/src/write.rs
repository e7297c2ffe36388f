//! A [`Value`] to JSON text, as serde_json writes it (compact, or indented
//! by two spaces), and the value as orderflow-json-len's measures walk it.

use orderflow_json_len::Shape;

use crate::Value;

pub(crate) fn compact(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(n.as_str()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                compact(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                compact(v, out);
            }
            out.push('}');
        }
    }
}

pub(crate) fn pretty(value: &Value, out: &mut String, indent: usize) {
    fn newline(out: &mut String, indent: usize) {
        out.push('\n');
        for _ in 0..indent {
            out.push_str("  ");
        }
    }
    match value {
        Value::Array(items) if !items.is_empty() => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent + 1);
                pretty(item, out, indent + 1);
            }
            newline(out, indent);
            out.push(']');
        }
        Value::Object(map) if !map.is_empty() => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent + 1);
                write_string(k, out);
                out.push_str(": ");
                pretty(v, out, indent + 1);
            }
            newline(out, indent);
            out.push('}');
        }
        other => compact(other, out),
    }
}

/// `text` as a JSON string, quoted and escaped as serde_json escapes it:
/// `\"`, `\\`, the short control escapes, `\u00XX` for the other control
/// characters; everything else as it is.
pub fn write_string(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// The measures of orderflow-json-len walk the executor's value as they walk serde_json's.
impl orderflow_json_len::Tree for Value {
    type Items<'a> = std::slice::Iter<'a, Value>;
    type Members<'a> = Members<'a>;
    fn shape(&self) -> Shape<'_, Value> {
        match self {
            Value::String(s) => Shape::String(s),
            Value::Array(items) => Shape::Array(items.len(), items.iter()),
            Value::Object(map) => Shape::Object(map.len(), Members(map.iter())),
            plain => Shape::Plain(plain.plain_len()),
        }
    }

    /// The generic walk's bound by direct recursion over the value's own
    /// variants, with no node shape or iterator adapter between them (every
    /// payload of every state is bounded); its rules are the crate's own.
    fn len_bound(&self) -> usize {
        use orderflow_json_len::{member, punctuation, string_bound};
        match self {
            Value::String(s) => string_bound(s),
            Value::Array(items) => items.iter().fold(punctuation(items.len()), |len, item| len + item.len_bound()),
            Value::Object(map) => map
                .iter()
                .fold(punctuation(map.len()), |len, (name, value)| len + member(string_bound(name), value.len_bound())),
            plain => plain.plain_len(),
        }
    }
}

impl Value {
    /// The text's length of `null`, a boolean or a number (0 for the others).
    fn plain_len(&self) -> usize {
        match self {
            Value::Null | Value::Bool(true) => 4,
            Value::Bool(false) => 5,
            Value::Number(n) => n.as_str().len(),
            Value::String(_) | Value::Array(_) | Value::Object(_) => 0,
        }
    }
}

/// An object's members, names as `&str`.
pub struct Members<'a>(crate::map::Iter<'a>);

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, &'a Value);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k.as_str(), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;
    use orderflow_json_len::{json_len, json_len_against, json_len_bound};

    const TEXTS: [&str; 8] = [
        "null",
        "[true,false,-0,1.50,1e400]",
        r#"{"a":{"b":[1,{"c":null}]},"z":"é😀\n\t\"\\/\u0001\u007f\b\f\r"}"#,
        r#"{"z":1,"a":2,"m":{"y":[],"b":{}}}"#,
        "[]",
        "{}",
        r#"[[[]],{"":""}]"#,
        r#""a string longer than thirty-two bytes \" with \\ escapes \u0001""#,
    ];

    #[test]
    fn compact_and_pretty_text_as_serde_json_writes_them() {
        for text in TEXTS {
            let ours = parse(text).unwrap();
            // serde_json without preserve_order sorts keys: compare on sorted-key texts.
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            let sorted = Value::from(theirs.clone());
            assert_eq!(sorted.to_json(), serde_json::to_string(&theirs).unwrap(), "{text}");
            assert_eq!(sorted.to_json_pretty(), serde_json::to_string_pretty(&theirs).unwrap(), "{text}");
            assert_eq!(json_len(&ours), ours.to_json().len(), "{text}");
            assert!(json_len_bound(&ours) >= json_len(&ours), "{text}");
            // The direct walk gives the generic walk's bound (serde_json's value takes that one).
            assert_eq!(json_len_bound(&ours), json_len_bound(&theirs), "{text}");
        }
        assert_eq!(parse(TEXTS[3]).unwrap().to_json(), TEXTS[3], "document order is kept");
    }

    #[test]
    fn the_quota_length_passes_a_limit_exactly_when_the_length_does() {
        for text in TEXTS {
            let v = parse(text).unwrap();
            let len = json_len(&v);
            for limit in [0, len.saturating_sub(1), len, len + 1, len * 7] {
                assert_eq!(json_len_against(&v, limit) > limit, len > limit, "{text} {limit}");
            }
        }
    }
}
