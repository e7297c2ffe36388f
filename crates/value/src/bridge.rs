//! Conversion to and from `serde_json::Value`, for the crates that speak
//! it (the order steps, test fixtures): a copy, so only at the edges.

use std::str::FromStr;

use crate::{Map, Number, Value};

impl From<serde_json::Value> for Value {
    fn from(value: serde_json::Value) -> Value {
        match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(number_from(&n)),
            serde_json::Value::String(s) => Value::from(s),
            serde_json::Value::Array(items) => Value::array(items.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(map) => {
                let mut out = Map::with_capacity(map.len());
                for (k, v) in map {
                    out.insert(k, Value::from(v));
                }
                Value::Object(out)
            }
        }
    }
}

impl From<&serde_json::Value> for Value {
    fn from(value: &serde_json::Value) -> Value {
        match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(number_from(n)),
            serde_json::Value::String(s) => Value::from(s.as_str()),
            serde_json::Value::Array(items) => Value::array(items.iter().map(Value::from).collect()),
            serde_json::Value::Object(map) => {
                let mut out = Map::with_capacity(map.len());
                for (k, v) in map {
                    out.insert(k.as_str(), Value::from(v));
                }
                Value::Object(out)
            }
        }
    }
}

/// serde_json's number, with the workspace's arbitrary_precision, is its text.
fn number_from(n: &serde_json::Number) -> Number {
    let text = n.to_string();
    Number::from_text(&text).unwrap_or_else(|_| Number::from(0))
}

impl From<&Value> for serde_json::Value {
    fn from(value: &Value) -> serde_json::Value {
        match value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => {
                serde_json::Number::from_str(n.as_str()).map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Array(items) => serde_json::Value::Array(items.iter().map(serde_json::Value::from).collect()),
            Value::Object(map) => serde_json::Value::Object(
                map.iter().map(|(k, v)| (k.to_string(), serde_json::Value::from(v))).collect(),
            ),
        }
    }
}

impl From<Value> for serde_json::Value {
    fn from(value: Value) -> serde_json::Value {
        serde_json::Value::from(&value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_numbers_exact() {
        let text = r#"{"a":[1.50,-0,1e+400,123456789012345678901234567890],"b":{"c":"d"},"e":null,"f":true}"#;
        let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
        let ours = Value::from(&theirs);
        assert_eq!(ours, crate::parse(text).unwrap());
        assert_eq!(serde_json::Value::from(&ours), theirs);
        assert_eq!(ours.get("a").unwrap().to_json(), "[1.50,-0,1e+400,123456789012345678901234567890]");
    }
}
