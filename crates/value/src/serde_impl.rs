//! serde for [`Value`] and [`Number`], so a value sits in a serde type (an
//! API request, a test file) as it would as a `serde_json::Value`. A number
//! goes through serde_json's `arbitrary_precision` token, as serde_json's own
//! numbers do in this workspace, so its exact text is written and read back.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::{Map, Number, Str, Value};

/// serde_json's name for a number written as its text.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct(NUMBER_TOKEN, 1)?;
        s.serialize_field(NUMBER_TOKEN, self.as_str())?;
        s.end()
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => n.serialize(serializer),
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => serializer.collect_seq(items.iter()),
            Value::Object(map) => serializer.collect_map(map.iter().map(|(k, v)| (k.as_str(), v))),
        }
    }
}

impl Serialize for Map {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter().map(|(k, v)| (k.as_str(), v)))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        Number::from_f64(f).map(Value::Number).ok_or_else(|| E::custom("a JSON number cannot be NaN or infinite"))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::from(s))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::from(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        let mut first = true;
        while let Some(name) = access.next_key::<Str>()? {
            if first && name == NUMBER_TOKEN {
                let text: std::borrow::Cow<'de, str> = access.next_value()?;
                return Number::from_text(&text).map(Value::Number).map_err(de::Error::custom);
            }
            first = false;
            let value = access.next_value()?;
            map.insert(name, value);
        }
        Ok(Value::Object(map))
    }
}

impl<'de> Deserialize<'de> for Map {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Map, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Object(map) => Ok(map),
            other => Err(de::Error::custom(format_args!("expected a JSON object, found {}", other.type_name()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn through_serde_json_exactly() {
        let text = r#"{"z":[1.50,-0,1e+400,18446744073709551616,"s",null,true],"a":{}}"#;
        let ours: Value = serde_json::from_str(text).unwrap();
        assert_eq!(ours.to_json(), text);
        assert_eq!(serde_json::to_string(&ours).unwrap(), text);
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Holder {
            input: Value,
        }
        let held: Holder = serde_json::from_str(&format!(r#"{{"input":{text}}}"#)).unwrap();
        assert_eq!(held.input, ours);
        assert_eq!(serde_json::to_string(&held).unwrap(), format!(r#"{{"input":{text}}}"#));
    }
}
