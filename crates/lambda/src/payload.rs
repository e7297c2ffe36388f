//! Reading an invocation's payload ourselves, in bounded memory and with our
//! own errors. The runtime hands over the payload's text unparsed (serde_json
//! checks a raw value's syntax without a depth limit and without decoding its
//! strings), and text that is not JSON at all (`NaN`, a truncated object, an
//! empty body) reaches us as such rather than failing in the runtime's
//! deserializer, so nothing can fail inside the runtime with a Rust type name:
//! the size is checked on the text before anything is built, then it is
//! parsed (at most 128 levels deep, no lone surrogate escapes, no key twice
//! in an object), and every refusal is an `OrderValidationFailed`.

use std::collections::HashSet;

use orderflow_domain::validation::MAX_INPUT_BYTES;
use orderflow_domain::{OrderError, Violation, ViolationCode};
use orderflow_value::Value;
use serde_json::value::RawValue;

fn refused(code: ViolationCode, message: String) -> OrderError {
    OrderError::ValidationFailed(vec![Violation::new("$", code, message)])
}

/// An invocation's payload as the runtime hands it over: its JSON text, or
/// why the text is not JSON. Reading it never fails, so the runtime's own
/// error (named by a Rust type) is never what the caller sees.
#[derive(Debug)]
pub enum Incoming {
    Text(Box<RawValue>),
    NotJson(String),
}

impl<'de> serde::Deserialize<'de> for Incoming {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Incoming, D::Error> {
        Ok(match <Box<RawValue> as serde::Deserialize>::deserialize(deserializer) {
            Ok(raw) => Incoming::Text(raw),
            Err(e) => Incoming::NotJson(e.to_string()),
        })
    }
}

/// The payload as a JSON value, or why it is refused.
pub fn parse_incoming(incoming: &Incoming) -> Result<Value, OrderError> {
    match incoming {
        Incoming::Text(raw) => parse(raw),
        Incoming::NotJson(why) => {
            Err(refused(ViolationCode::InvalidFormat, format!("input is not valid JSON text ({why})")))
        }
    }
}

/// The payload as a JSON value, or why it is refused.
pub fn parse(raw: &RawValue) -> Result<Value, OrderError> {
    let text = raw.get();
    if text.len() > MAX_INPUT_BYTES {
        return Err(refused(
            ViolationCode::InputTooLarge,
            format!("input is {} bytes; the limit is {MAX_INPUT_BYTES} bytes (256 KB)", text.len()),
        ));
    }
    // Read into the executor's value, as the state machine holds it (numbers
    // as written, keys in the order sent), with serde_json's errors and limit.
    let value: Value = orderflow_value::parse(text).map_err(|e| {
        let what = e.to_string();
        let message = if what.contains("recursion limit") {
            "nests arrays and objects deeper than 128 levels"
        } else if what.contains("surrogate") || what.contains("hex escape") {
            // The raw value's check passed its four hex digits: what fails
            // now is decoding them, i.e. half a surrogate pair.
            "holds a \\u escape that is half of a UTF-16 surrogate pair, not a character"
        } else {
            "is not valid JSON text"
        };
        refused(ViolationCode::InvalidFormat, format!("input {message}"))
    })?;
    if let Some(offset) = repeated_key(text) {
        return Err(refused(
            ViolationCode::DuplicateField,
            format!("input repeats a key in the object that starts at byte {offset}; each key may appear once"),
        ));
    }
    Ok(value)
}

/// The byte offset of the first object that names a key twice, in text that
/// already parsed as JSON. Keys compare by their decoded text, so `"a"` and
/// `"\u0061"` are the same key. Iterative: one set per open object.
fn repeated_key(text: &str) -> Option<usize> {
    enum Open {
        Object { start: usize, keys: HashSet<String>, expect_key: bool },
        Array,
    }
    let bytes = text.as_bytes();
    let mut stack: Vec<Open> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => stack.push(Open::Object { start: i, keys: HashSet::new(), expect_key: true }),
            b'[' => stack.push(Open::Array),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => {
                if let Some(Open::Object { expect_key, .. }) = stack.last_mut() {
                    *expect_key = true;
                }
            }
            b'"' => {
                let end = string_end(bytes, i);
                if let Some(Open::Object { start, keys, expect_key }) = stack.last_mut()
                    && *expect_key
                {
                    *expect_key = false;
                    let key = serde_json::from_str::<String>(&text[i..end]).unwrap_or_default();
                    if !keys.insert(key) {
                        return Some(*start);
                    }
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Just past the closing quote of the string that opens at `start`.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        // As the runtime reads it: through serde_path_to_error, from bytes.
        let mut de = serde_json::Deserializer::from_slice(text.as_bytes());
        serde_path_to_error::deserialize(&mut de).expect("the runtime accepts any JSON text")
    }

    /// As the runtime reads it: any bytes, JSON or not.
    fn incoming(bytes: &[u8]) -> Incoming {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(&mut de).expect("reading a payload never fails")
    }

    #[test]
    fn text_that_is_not_json_is_our_refusal() {
        for text in ["NaN", "{\"order_id\": \"ORD-1\", \"customer\": {", "", "\u{ff}", "[1,]"] {
            match parse_incoming(&incoming(text.as_bytes())) {
                Err(OrderError::ValidationFailed(v)) => {
                    assert_eq!(v[0].code, ViolationCode::InvalidFormat, "{text}");
                    assert!(v[0].message.starts_with("input is not valid JSON text ("), "{text}: {}", v[0].message);
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(parse_incoming(&incoming(b"{\"a\": 1}")).is_ok());
    }

    fn refusal(text: &str) -> (ViolationCode, String) {
        match parse(&raw(text)) {
            Err(OrderError::ValidationFailed(v)) => (v[0].code, v[0].message.clone()),
            other => panic!("{text}: {other:?}"),
        }
    }

    /// The payload keeps the order its keys were sent in, so an unknown
    /// field's position is counted in that order ("aaa" is last as sent,
    /// first by name).
    #[test]
    fn an_unknown_field_is_placed_in_the_order_sent() {
        let text = r#"{"order_id": "ORD-1", "customer": {"id": "C-1", "email": "ada@example.com", "name": "Ada"},
            "items": [{"sku": "A", "quantity": 1, "unit_price": "1.00"}], "currency": "EUR", "aaa": 1}"#;
        let order = parse(&raw(text)).expect("JSON");
        let err = orderflow_domain::RawOrder::new(order).validate().unwrap_err();
        assert_eq!(err.error_type(), "OrderValidationFailed");
        let OrderError::ValidationFailed(violations) = err else { unreachable!() };
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!((violations[0].path.as_str(), violations[0].code), ("$", ViolationCode::UnknownField));
        assert_eq!(
            violations[0].message,
            "has 1 unknown field(s), the first at position 5 of 5 in the order sent; \
             expected only: order_id, customer, items, currency, shipping_address"
        );
    }

    #[test]
    fn nesting_past_serde_s_limit_is_ours_to_refuse() {
        let deep = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
        let (code, message) = refusal(&deep);
        assert_eq!(code, ViolationCode::InvalidFormat);
        assert!(message.contains("deeper than 128"), "{message}");
    }

    #[test]
    fn a_lone_surrogate_is_refused_by_us() {
        let (code, message) = refusal(r#"{"customer": {"name": "Ada \ud800"}}"#);
        assert_eq!(code, ViolationCode::InvalidFormat);
        assert!(message.contains("surrogate"), "{message}");
    }

    #[test]
    fn repeated_keys_are_refused_even_when_spelled_differently() {
        assert_eq!(refusal(r#"{"a": 1, "b": {"c": 2}, "a": 3}"#).0, ViolationCode::DuplicateField);
        assert_eq!(refusal(r#"{"x": [{"k": 1, "\u006b": 2}]}"#).0, ViolationCode::DuplicateField);
        let (_, message) = refusal(r#"{"x": {"secret key": 1, "secret key": 2}}"#);
        assert!(!message.contains("secret"), "{message}");
        // The same key in sibling objects, and keys inside string values, are fine.
        let ok = parse(&raw(r#"{"a": {"k": "\"k\": 1"}, "b": {"k": 2}, "c": ["{\"a\":1,\"a\":2}"]}"#));
        assert!(ok.is_ok(), "{ok:?}");
    }

    #[test]
    fn the_size_is_checked_before_parsing() {
        let big = format!("[{}0]", "0,".repeat(MAX_INPUT_BYTES));
        assert_eq!(refusal(&big).0, ViolationCode::InputTooLarge);
        assert_eq!(parse(&raw(r#"{"order_id": "ORD-1"}"#)).unwrap()["order_id"], "ORD-1");
    }
}
