//! The executor's JSON value.
//!
//! - Children are shared: an array or object is an `Arc`, so selecting a
//!   subtree, merging a result into an input (ResultPath) or filling a
//!   template shares what it does not change instead of copying it; a
//!   change copies only the one level it touches, and only when shared
//!   (`Arc::make_mut`).
//! - Object keys keep the document's order, as AWS keeps them; equality of
//!   objects does not depend on it.
//! - A number keeps its exact text, inline up to 23 bytes (every `i64`,
//!   `u64` and shortest `f64`), so an amount never passes through a float
//!   and copying a number allocates nothing.
//! - Conversion happens only at the edges: [`parse`] reads JSON text,
//!   [`Value::to_json`] and `Display` write it (as serde_json writes it), and
//!   `bridge` converts to and from `serde_json::Value` for the crates that
//!   speak it.
#![forbid(unsafe_code)]

mod bridge;
mod map;
mod number;
mod parse;
mod serde_impl;
mod to_value;
mod write;

use std::fmt;
use std::sync::Arc;

pub use map::Map;
pub use number::{Number, NumberError};
pub use parse::{MAX_DEPTH, ParseError, parse, parse_bytes};
pub use smol_str::SmolStr as Str;
/// Builds a [`Str`] inline while it fits, as short texts do.
pub use smol_str::SmolStrBuilder as StrBuilder;
pub use to_value::{SerializeError, to_value};
pub use write::write_string;

/// A JSON array: shared, copied on write.
pub type Array = Arc<Vec<Value>>;

/// A JSON value. Cloning is cheap at every size: strings and numbers are
/// inline or shared, arrays and objects are shared.
#[derive(Clone, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(Str),
    Array(Array),
    Object(Map),
}

impl Value {
    /// An array value from its items.
    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Arc::new(items))
    }

    /// A string value.
    pub fn string(text: impl Into<Str>) -> Value {
        Value::String(text.into())
    }

    /// An empty object.
    pub fn object() -> Value {
        Value::Object(Map::new())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    pub fn is_boolean(&self) -> bool {
        matches!(self, Value::Bool(_))
    }
    pub fn is_number(&self) -> bool {
        matches!(self, Value::Number(_))
    }
    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }
    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }
    pub fn is_i64(&self) -> bool {
        matches!(self, Value::Number(n) if n.is_i64())
    }
    pub fn is_u64(&self) -> bool {
        matches!(self, Value::Number(n) if n.is_u64())
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().and_then(Number::as_f64)
    }
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }
    pub fn as_u64(&self) -> Option<u64> {
        self.as_number().and_then(Number::as_u64)
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }
    /// The string itself, to keep by a clone (a copy of its inline bytes or
    /// one more reference to its shared text) rather than copy its text anew.
    pub fn as_shared_str(&self) -> Option<&Str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }
    /// The array's items to change, copied first if they are shared.
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Array(items) => Some(Arc::make_mut(items)),
            _ => None,
        }
    }
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }
    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// An object's member or an array's item; `None` for anything else.
    pub fn get<I: Index>(&self, index: I) -> Option<&Value> {
        index.index_into(self)
    }
    /// The same, to change (the level is copied first if shared).
    pub fn get_mut<I: Index>(&mut self, index: I) -> Option<&mut Value> {
        index.index_into_mut(self)
    }

    /// Takes the value out, leaving `null`.
    pub fn take(&mut self) -> Value {
        std::mem::take(self)
    }

    /// The compact JSON text, as serde_json writes it.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(64);
        write::compact(self, &mut out);
        out
    }

    /// The JSON text indented by two spaces, as serde_json's pretty printer writes it.
    pub fn to_json_pretty(&self) -> String {
        let mut out = String::with_capacity(64);
        write::pretty(self, &mut out, 0);
        out
    }

    /// The JSON type's name: null, boolean, number, string, array or object.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

/// What a value can be indexed by: a member name or an array position.
pub trait Index {
    fn index_into<'v>(&self, value: &'v Value) -> Option<&'v Value>;
    fn index_into_mut<'v>(&self, value: &'v mut Value) -> Option<&'v mut Value>;
}

impl Index for usize {
    fn index_into<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        value.as_array()?.get(*self)
    }
    fn index_into_mut<'v>(&self, value: &'v mut Value) -> Option<&'v mut Value> {
        value.as_array_mut()?.get_mut(*self)
    }
}

impl Index for str {
    fn index_into<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        value.as_object()?.get(self)
    }
    fn index_into_mut<'v>(&self, value: &'v mut Value) -> Option<&'v mut Value> {
        value.as_object_mut()?.get_mut(self)
    }
}

impl<T: Index + ?Sized> Index for &T {
    fn index_into<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        (**self).index_into(value)
    }
    fn index_into_mut<'v>(&self, value: &'v mut Value) -> Option<&'v mut Value> {
        (**self).index_into_mut(value)
    }
}

impl Index for Str {
    fn index_into<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.as_str().index_into(value)
    }
    fn index_into_mut<'v>(&self, value: &'v mut Value) -> Option<&'v mut Value> {
        self.as_str().index_into_mut(value)
    }
}

impl Index for String {
    fn index_into<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.as_str().index_into(value)
    }
    fn index_into_mut<'v>(&self, value: &'v mut Value) -> Option<&'v mut Value> {
        self.as_str().index_into_mut(value)
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => Arc::ptr_eq(a, b) || a == b,
            (Value::Object(a), Value::Object(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl fmt::Display for Value {
    /// The compact JSON text; `{:#}` indents it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() { f.write_str(&self.to_json_pretty()) } else { f.write_str(&self.to_json()) }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(Str::new(s))
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(Str::from(s))
    }
}
impl From<Str> for Value {
    fn from(s: Str) -> Value {
        Value::String(s)
    }
}
impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}
impl From<Map> for Value {
    fn from(map: Map) -> Value {
        Value::Object(map)
    }
}
impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::array(items)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

macro_rules! from_integer {
    ($($t:ty)*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                Value::Number(Number::from(n))
            }
        }
    )*};
}
from_integer!(i8 i16 i32 i64 isize u8 u16 u32 u64 usize);

impl FromIterator<Value> for Value {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Value {
        Value::array(iter.into_iter().collect())
    }
}

impl<K: Into<Str>> FromIterator<(K, Value)> for Value {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Value {
        Value::Object(iter.into_iter().collect())
    }
}

/// A value written as JSON in Rust, as serde_json's `json!` writes it
/// (the value is built through serde_json, then converted: for tests and
/// constants, not for hot paths).
#[macro_export]
macro_rules! json {
    ($($json:tt)+) => {
        $crate::Value::from(::serde_json::json!($($json)+))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_is_four_words() {
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }

    #[test]
    fn objects_equal_whatever_their_order() {
        let a = parse(r#"{"a":1,"b":[true,null]}"#).unwrap();
        let b = parse(r#"{"b":[true,null],"a":1}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_json(), r#"{"a":1,"b":[true,null]}"#);
        assert_eq!(b.to_json(), r#"{"b":[true,null],"a":1}"#);
        assert_ne!(a, parse(r#"{"a":1,"b":[true]}"#).unwrap());
        assert_ne!(a, parse(r#"{"a":1,"c":[true,null]}"#).unwrap());
    }

    #[test]
    fn numbers_equal_by_text() {
        assert_ne!(parse("1").unwrap(), parse("1.0").unwrap());
        assert_eq!(parse("1.50").unwrap(), parse("1.50").unwrap());
    }

    #[test]
    fn a_change_copies_only_the_shared_level() {
        let doc = parse(r#"{"a":{"deep":[1,2,3]},"b":2}"#).unwrap();
        let mut changed = doc.clone();
        changed.as_object_mut().unwrap().insert("b", Value::from(3));
        assert_eq!(doc.get("b"), Some(&Value::from(2)));
        assert_eq!(changed.get("b"), Some(&Value::from(3)));
        let (Some(Value::Object(before)), Some(Value::Object(after))) = (doc.get("a"), changed.get("a")) else {
            panic!("members");
        };
        assert!(before.ptr_eq(after), "the unchanged member is shared, not copied");
    }

    #[test]
    fn get_by_name_and_position() {
        let doc = json!({"a": [10, {"b": "x"}]});
        assert_eq!(doc.get("a").and_then(|a| a.get(1)).and_then(|b| b.get("b")), Some(&Value::from("x")));
        assert_eq!(doc.get("z"), None);
        assert_eq!(doc.get(0), None);
    }
}
