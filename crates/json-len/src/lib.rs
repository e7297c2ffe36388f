//! The length of a value's compact JSON text, as serde_json writes it,
//! counted by walking the value: no text is built. Step Functions and the
//! order steps both limit payloads by this length (256 KiB), and both measure
//! every payload, so it is worth one careful implementation.
#![forbid(unsafe_code)]

use serde_json::Value;

/// A JSON value as the measures see it: what a value type gives them to
/// walk. serde_json's value (the order steps) and the executor's
/// (orderflow-value) both are one, so both are measured by the same walk.
pub trait Tree: Sized {
    type Items<'a>: Iterator<Item = &'a Self>
    where
        Self: 'a;
    type Members<'a>: Iterator<Item = (&'a str, &'a Self)>
    where
        Self: 'a;
    fn shape(&self) -> Shape<'_, Self>;

    /// [`json_len_bound`] of the value. A value type may answer it with a
    /// walk of its own (the executor's does: every payload is bounded).
    fn len_bound(&self) -> usize {
        walk(self, string_bound)
    }
}

/// One node of a [`Tree`].
pub enum Shape<'a, V: Tree + 'a> {
    /// `null`, a boolean or a number: the length of its text.
    Plain(usize),
    String(&'a str),
    /// The item count, and the items.
    Array(usize, V::Items<'a>),
    /// The member count, and the members.
    Object(usize, V::Members<'a>),
}

impl Tree for Value {
    type Items<'a> = std::slice::Iter<'a, Value>;
    type Members<'a> = Members<'a>;
    fn shape(&self) -> Shape<'_, Value> {
        match self {
            Value::Null | Value::Bool(true) => Shape::Plain(4),
            Value::Bool(false) => Shape::Plain(5),
            // The workspace keeps numbers as their text (serde_json's arbitrary_precision).
            Value::Number(n) => Shape::Plain(n.as_str().len()),
            Value::String(s) => Shape::String(s),
            Value::Array(items) => Shape::Array(items.len(), items.iter()),
            Value::Object(map) => Shape::Object(map.len(), Members(map.iter())),
        }
    }
}

/// A serde_json object's members, names as `&str`.
pub struct Members<'a>(serde_json::map::Iter<'a>);

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, &'a Value);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k.as_str(), v))
    }
}

/// The length of `value`'s compact JSON text.
pub fn json_len<V: Tree>(value: &V) -> usize {
    walk(value, string_len)
}

/// An upper bound of `value`'s compact JSON length, read from the lengths
/// of its strings and numbers, not their bytes (no byte escapes to more
/// than six). A value well under a limit is settled by it without reading
/// a string; only one whose bound passes the limit needs `json_len`.
pub fn json_len_bound<V: Tree>(value: &V) -> usize {
    value.len_bound()
}

/// `value`'s JSON length as a quota needs it: an upper bound (`json_len_bound`)
/// while that bound is within `limit`, else the exact length. So the result
/// passes `limit` exactly when the length does, and is then exact for the
/// error to tell; a value under the limit has its strings' bytes unread.
pub fn json_len_against<V: Tree>(value: &V, limit: usize) -> usize {
    let bound = json_len_bound(value);
    if bound > limit { json_len(value) } else { bound }
}

/// The JSON length of `value` with each string (key or value) measured by
/// `string`: one walk, compiled once per measure and value type (each
/// function is its own type, so the call is direct).
fn walk<V: Tree, S: Fn(&str) -> usize + Copy>(value: &V, string: S) -> usize {
    match value.shape() {
        Shape::Plain(len) => len,
        Shape::String(s) => string(s),
        Shape::Array(n, items) => items.fold(punctuation(n), |len, item| len + walk(item, string)),
        Shape::Object(n, members) => {
            members.fold(punctuation(n), |len, (name, value)| len + member(string(name), walk(value, string)))
        }
    }
}

/// What an array or object of `n` items or members adds around them: its
/// brackets, and a comma between each two. A value type that walks itself
/// (as [`Tree::len_bound`] may) adds up its containers with this and
/// [`member`], so the rules of the text live here alone.
pub fn punctuation(n: usize) -> usize {
    2 + n.saturating_sub(1)
}

/// A member's length from its name's and its value's: the colon between.
pub fn member(name: usize, value: usize) -> usize {
    name + 1 + value
}

/// An upper bound of a JSON string's length with its quotes and escapes:
/// `\u00XX` is the longest escape, six bytes for one.
pub fn string_bound(s: &str) -> usize {
    s.len().saturating_mul(6).saturating_add(2)
}

/// A JSON string's length with its quotes and escapes.
pub fn string_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    // Most strings are short (keys, ids, amounts): a table lookup per byte
    // beats setting up the vector loop below.
    if bytes.len() < 32 {
        return bytes.len() + 2 + bytes.iter().map(|&b| usize::from(ESCAPE_EXTRA[usize::from(b)])).sum::<usize>();
    }
    // A long string most likely needs no escape: one pass without early
    // exit, which the compiler vectorizes, settles it.
    let plain = bytes.iter().fold(true, |plain, &b| plain & (b >= 0x20) & (b != b'"') & (b != b'\\'));
    if plain {
        return bytes.len() + 2;
    }
    bytes.len() + 2 + bytes.iter().map(|&b| usize::from(ESCAPE_EXTRA[usize::from(b)])).sum::<usize>()
}

/// What escaping adds to a byte: `\"`, `\\` and the short control escapes
/// one byte, the other control characters five (`\u00XX`).
static ESCAPE_EXTRA: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = 5;
        b += 1;
    }
    table[b'"' as usize] = 1;
    table[b'\\' as usize] = 1;
    table[b'\n' as usize] = 1;
    table[b'\r' as usize] = 1;
    table[b'\t' as usize] = 1;
    table[0x08] = 1;
    table[0x0c] = 1;
    table
};

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::json_len;

    #[test]
    fn json_len_is_the_length_of_the_compact_text() {
        let values = [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(-12.5e3),
            json!(1.0),
            json!(123456789012345678901234567890u128.to_string()),
            json!("plain"),
            json!("quote \" backslash \\ newline \n tab \t bell \u{7} del \u{7f} é ✓"),
            json!([]),
            json!({}),
            json!({"a": [1, 2, {"b": null}], "c d": "e", "\n": {}}),
            json!("a string longer than thirty-two bytes, plain"),
            json!("a string longer than thirty-two bytes \" with \\ escapes \u{1} \n"),
            json!((0u8..128).map(char::from).collect::<String>()),
        ];
        for v in values {
            assert_eq!(json_len(&v), serde_json::to_string(&v).unwrap().len(), "{v}");
        }
    }

    #[test]
    fn the_bound_is_never_below_the_length() {
        let values = [
            json!(null),
            json!(false),
            json!(-12.5e3),
            json!(""),
            json!("\u{1}\u{1f}"),
            json!((0u8..128).map(char::from).collect::<String>()),
            json!({"a": [1, "\n", {"b": null}], "\u{0}": "é✓"}),
        ];
        for v in values {
            let len = json_len(&v);
            assert!(super::json_len_bound(&v) >= len, "{v}");
            for limit in [0, len.saturating_sub(1), len, len + 1, super::json_len_bound(&v)] {
                let against = super::json_len_against(&v, limit);
                assert!(against >= len, "{v} against {limit}");
                assert_eq!(against > limit, len > limit, "{v} against {limit}");
                if len > limit {
                    assert_eq!(against, len, "{v} against {limit}: exact past the limit");
                }
            }
        }
        // All control characters: the bound is reached, exactly.
        let controls = json!("\u{1}".repeat(10));
        assert_eq!(super::json_len_bound(&controls), json_len(&controls));
    }

    #[test]
    fn every_character_below_128_is_counted_as_serde_json_escapes_it() {
        for c in (0u8..128).map(char::from) {
            // Short and long strings take different paths.
            for s in [c.to_string(), format!("{c}{}", "x".repeat(40))] {
                let v = json!(s);
                assert_eq!(json_len(&v), serde_json::to_string(&v).unwrap().len(), "{c:?}");
            }
        }
    }
}
