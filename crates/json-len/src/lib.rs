//! The length of a value's compact JSON text, as serde_json writes it,
//! counted by walking the value: no text is built. Step Functions and the
//! order steps both limit payloads by this length (256 KiB), and both measure
//! every payload, so it is worth one careful implementation.

use serde_json::Value;

/// The length of `value`'s compact JSON text.
pub fn json_len(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        // The workspace keeps numbers as their text (serde_json's arbitrary_precision).
        Value::Number(n) => n.as_str().len(),
        Value::String(s) => string_len(s),
        Value::Array(items) => 2 + items.len().saturating_sub(1) + items.iter().map(json_len).sum::<usize>(),
        Value::Object(map) => {
            2 + map.len().saturating_sub(1) + map.iter().map(|(k, v)| string_len(k) + 1 + json_len(v)).sum::<usize>()
        }
    }
}

/// A JSON string's length with its quotes and escapes.
fn string_len(s: &str) -> usize {
    // Most strings need no escape: one pass without early exit, which the
    // compiler vectorizes, settles it.
    let plain = s.bytes().fold(true, |plain, b| plain & (b >= 0x20) & (b != b'"') & (b != b'\\'));
    if plain {
        return s.len() + 2;
    }
    let escapes: usize = s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
            0..=0x1f => 5,
            _ => 0,
        })
        .sum();
    s.len() + 2 + escapes
}

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
        ];
        for v in values {
            assert_eq!(json_len(&v), serde_json::to_string(&v).unwrap().len(), "{v}");
        }
    }
}
