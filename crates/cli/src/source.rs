//! What the parsed definition forgets and a person wants: where in the file a
//! finding is (`line:column`), and the order the states were written in.

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};

/// A JSON value whose objects keep their keys in the order written.
#[derive(Debug, Clone, PartialEq)]
pub enum Ordered {
    Object(Vec<(String, Ordered)>),
    Array(Vec<Ordered>),
    Other,
}

impl Ordered {
    pub fn parse(text: &str) -> Option<Ordered> {
        serde_json::from_str(text).ok()
    }

    pub fn get(&self, key: &str) -> Option<&Ordered> {
        match self {
            Ordered::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn keys(&self) -> Vec<&str> {
        match self {
            Ordered::Object(fields) => fields.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    pub fn items(&self) -> &[Ordered] {
        match self {
            Ordered::Array(items) => items,
            _ => &[],
        }
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Ordered>()? {
                    fields.push((k, v));
                }
                Ok(Ordered::Object(fields))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = seq.next_element::<Ordered>()? {
                    items.push(v);
                }
                Ok(Ordered::Array(items))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// The 1-based line and column of a finding's location (`States.A.Retry[0].BackoffRate`)
/// in the definition's text: each name is looked for as a key after the one
/// before it; an index moves past that many entries' keys no further than the
/// name itself. The deepest name found gives the position.
pub fn locate(text: &str, location: &str) -> Option<(usize, usize)> {
    let mut at = 0usize;
    let mut found = None;
    for part in location.split('.') {
        let name = part.split('[').next().unwrap_or(part);
        if name.is_empty() || name.starts_with('(') {
            continue;
        }
        let needle = format!("\"{name}\"");
        let mut from = at;
        // A key is a quoted name followed by a colon.
        let hit = loop {
            let i = text[from..].find(&needle)? + from;
            let rest = text[i + needle.len()..].trim_start();
            if rest.starts_with(':') {
                break i;
            }
            from = i + needle.len();
        };
        at = hit + needle.len();
        found = Some(hit);
    }
    let offset = found?;
    let line = text[..offset].matches('\n').count() + 1;
    let column = offset - text[..offset].rfind('\n').map_or(0, |n| n + 1) + 1;
    Some((line, column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_nested_key() {
        let text = "{\n  \"StartAt\": \"A\",\n  \"States\": {\n    \"A\": {\n      \"Type\": \"Task\",\n      \"Retry\": [{\"BackoffRate\": 0.5}]\n    }\n  }\n}";
        assert_eq!(locate(text, "States.A.Retry[0].BackoffRate"), Some((6, 18)));
        assert_eq!(locate(text, "States.A"), Some((4, 5)));
        assert_eq!(locate(text, "StartAt"), Some((2, 3)));
    }

    #[test]
    fn keeps_the_written_order() {
        let o = Ordered::parse(r#"{"States": {"Z": {}, "A": {}, "M": {}}}"#).unwrap();
        assert_eq!(o.get("States").unwrap().keys(), vec!["Z", "A", "M"]);
    }
}
