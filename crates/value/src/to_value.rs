//! Any `Serialize` type straight into a [`Value`], as `serde_json::to_value`
//! makes a `serde_json::Value`, with no `serde_json::Value` between: fields
//! keep the order they are serialized in, and a number written through
//! serde_json's `arbitrary_precision` token (a `serde_json::Number`, a
//! `rust_decimal` with that feature, a [`Number`]) keeps its text.

use std::fmt;

use serde::ser::{self, Serialize};

use crate::{Map, Number, Str, Value};

/// serde_json's name for a number written as its text, and for raw JSON text.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";
const RAW_TOKEN: &str = "$serde_json::private::RawValue";

/// Why a value could not be made: a map key that is not text, a number
/// token that is not a number, or the type's own error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerializeError(String);

impl fmt::Display for SerializeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SerializeError {}

impl ser::Error for SerializeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        SerializeError(message.to_string())
    }
}

/// `value` as a [`Value`]. As serde_json: a float that is not finite is
/// `null`; map keys are strings (integers, chars and bools written as their text).
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, SerializeError> {
    value.serialize(ValueSerializer)
}

struct ValueSerializer;

/// Integers as numbers of their decimal text.
macro_rules! integer_values {
    ($($method:ident $t:ty),*) => {$(
        fn $method(self, v: $t) -> Result<Value> {
            Ok(Value::from(v))
        }
    )*};
}

type Result<T, E = SerializeError> = std::result::Result<T, E>;

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = SerializeError;
    type SerializeSeq = Items;
    type SerializeTuple = Items;
    type SerializeTupleStruct = Items;
    type SerializeTupleVariant = Variant<Items>;
    type SerializeMap = Members;
    type SerializeStruct = Struct;
    type SerializeStructVariant = Variant<Members>;

    fn serialize_bool(self, v: bool) -> Result<Value> {
        Ok(Value::Bool(v))
    }
    integer_values!(serialize_i8 i8, serialize_i16 i16, serialize_i32 i32, serialize_i64 i64,
        serialize_u8 u8, serialize_u16 u16, serialize_u32 u32, serialize_u64 u64);
    fn serialize_i128(self, v: i128) -> Result<Value> {
        Number::from_text(&v.to_string()).map(Value::Number).map_err(|e| SerializeError(e.to_string()))
    }
    fn serialize_u128(self, v: u128) -> Result<Value> {
        Number::from_text(&v.to_string()).map(Value::Number).map_err(|e| SerializeError(e.to_string()))
    }
    fn serialize_f32(self, v: f32) -> Result<Value> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Value> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn serialize_char(self, v: char) -> Result<Value> {
        let mut buf = [0; 4];
        Ok(Value::string(&*v.encode_utf8(&mut buf)))
    }
    fn serialize_str(self, v: &str) -> Result<Value> {
        Ok(Value::string(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value> {
        Ok(Value::array(v.iter().map(|&b| Value::from(b)).collect()))
    }
    fn serialize_none(self) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<Value> {
        Ok(Value::string(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<Value> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value> {
        Ok(Value::Object(Map::from_unique(vec![(Str::new_static(variant), to_value(value)?)])))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Items> {
        Ok(Items(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<Items> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Items> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Items>> {
        Ok(Variant { name: variant, inner: Items(Vec::with_capacity(len)) })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Members> {
        Ok(Members { map: Map::with_capacity(len.unwrap_or(0)), key: None })
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Struct> {
        Ok(match name {
            NUMBER_TOKEN => Struct::Number(None),
            RAW_TOKEN => Struct::Raw(None),
            _ => Struct::Fields(Vec::with_capacity(len)),
        })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Members>> {
        Ok(Variant { name: variant, inner: Members { map: Map::with_capacity(len), key: None } })
    }
}

struct Items(Vec<Value>);

impl ser::SerializeSeq for Items {
    type Ok = Value;
    type Error = SerializeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.0.push(to_value(value)?);
        Ok(())
    }
    fn end(self) -> Result<Value> {
        Ok(Value::array(self.0))
    }
}

impl ser::SerializeTuple for Items {
    type Ok = Value;
    type Error = SerializeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for Items {
    type Ok = Value;
    type Error = SerializeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value> {
        ser::SerializeSeq::end(self)
    }
}

struct Members {
    map: Map,
    key: Option<Str>,
}

impl Members {
    /// A struct's field: its name is the program's own text, shared rather than copied.
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        self.map.insert(Str::new_static(key), to_value(value)?);
        Ok(())
    }
}

impl ser::SerializeMap for Members {
    type Ok = Value;
    type Error = SerializeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self.key.take().ok_or_else(|| SerializeError("a map value came before its key".into()))?;
        self.map.insert(key, to_value(value)?);
        Ok(())
    }
    fn end(self) -> Result<Value> {
        Ok(Value::Object(self.map))
    }
}

/// A struct's fields; or the text of serde_json's number or raw-JSON token.
enum Struct {
    /// A struct's fields in order, made a map at its end.
    Fields(Vec<(Str, Value)>),
    Number(Option<Value>),
    Raw(Option<Value>),
}

impl ser::SerializeStruct for Struct {
    type Ok = Value;
    type Error = SerializeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        match self {
            Struct::Fields(fields) => {
                // The name is the program's own text: shared, not copied.
                fields.push((Str::new_static(key), to_value(value)?));
                Ok(())
            }
            Struct::Number(slot) => {
                let text = to_value(value)?;
                let text = text.as_str().ok_or_else(|| SerializeError("a number token without its text".into()))?;
                let number = Number::from_text(text).map_err(|e| SerializeError(format!("{e}: {text}")))?;
                *slot = Some(Value::Number(number));
                Ok(())
            }
            Struct::Raw(slot) => {
                let text = to_value(value)?;
                let text = text.as_str().ok_or_else(|| SerializeError("a raw JSON token without its text".into()))?;
                *slot = Some(crate::parse(text).map_err(|e| SerializeError(e.to_string()))?);
                Ok(())
            }
        }
    }
    fn end(self) -> Result<Value> {
        match self {
            Struct::Fields(fields) => Ok(Value::Object(Map::from_list(fields))),
            Struct::Number(Some(value)) | Struct::Raw(Some(value)) => Ok(value),
            Struct::Number(None) | Struct::Raw(None) => Err(SerializeError("an empty serde_json token".into())),
        }
    }
}

/// An enum variant's content, put under the variant's name.
struct Variant<T> {
    name: &'static str,
    inner: T,
}

impl ser::SerializeTupleVariant for Variant<Items> {
    type Ok = Value;
    type Error = SerializeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(&mut self.inner, value)
    }
    fn end(self) -> Result<Value> {
        let items = ser::SerializeSeq::end(self.inner)?;
        Ok(Value::Object(Map::from_unique(vec![(Str::new_static(self.name), items)])))
    }
}

impl ser::SerializeStructVariant for Variant<Members> {
    type Ok = Value;
    type Error = SerializeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        self.inner.field(key, value)
    }
    fn end(self) -> Result<Value> {
        Ok(Value::Object(Map::from_unique(vec![(Str::new_static(self.name), Value::Object(self.inner.map))])))
    }
}

/// Integer keys as their decimal text.
macro_rules! integer_keys {
    ($($method:ident $t:ty),*) => {$(
        fn $method(self, v: $t) -> Result<Str> {
            Ok(Str::new(v.to_string()))
        }
    )*};
}

/// A map key: text, or an integer, char or bool written as its text (as serde_json keys them).
struct KeySerializer;

impl ser::Serializer for KeySerializer {
    type Ok = Str;
    type Error = SerializeError;
    type SerializeSeq = ser::Impossible<Str, SerializeError>;
    type SerializeTuple = ser::Impossible<Str, SerializeError>;
    type SerializeTupleStruct = ser::Impossible<Str, SerializeError>;
    type SerializeTupleVariant = ser::Impossible<Str, SerializeError>;
    type SerializeMap = ser::Impossible<Str, SerializeError>;
    type SerializeStruct = ser::Impossible<Str, SerializeError>;
    type SerializeStructVariant = ser::Impossible<Str, SerializeError>;

    fn serialize_str(self, v: &str) -> Result<Str> {
        Ok(Str::new(v))
    }
    fn serialize_char(self, v: char) -> Result<Str> {
        Ok(Str::new(v.encode_utf8(&mut [0; 4])))
    }
    fn serialize_bool(self, v: bool) -> Result<Str> {
        Ok(Str::new(if v { "true" } else { "false" }))
    }
    integer_keys!(serialize_i8 i8, serialize_i16 i16, serialize_i32 i32, serialize_i64 i64,
        serialize_u8 u8, serialize_u16 u16, serialize_u32 u32, serialize_u64 u64);
    fn serialize_f32(self, _: f32) -> Result<Str> {
        Err(not_a_key())
    }
    fn serialize_f64(self, _: f64) -> Result<Str> {
        Err(not_a_key())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Str> {
        Err(not_a_key())
    }
    fn serialize_none(self) -> Result<Str> {
        Err(not_a_key())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Str> {
        Err(not_a_key())
    }
    fn serialize_unit(self) -> Result<Str> {
        Err(not_a_key())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Str> {
        Err(not_a_key())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<Str> {
        Ok(Str::new_static(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<Str> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Str> {
        Err(not_a_key())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(not_a_key())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(not_a_key())
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct> {
        Err(not_a_key())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(not_a_key())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(not_a_key())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(not_a_key())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(not_a_key())
    }
}

fn not_a_key() -> SerializeError {
    SerializeError("key must be a string".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Order<'a> {
        zeta_first: &'a str,
        amount: serde_json::Number,
        lines: Vec<(u8, Option<f64>)>,
        kind: Kind,
        by_id: BTreeMap<u32, bool>,
        #[serde(flatten)]
        extra: BTreeMap<&'a str, Shape>,
        raw: Box<serde_json::value::RawValue>,
    }

    #[derive(Serialize)]
    enum Kind {
        Retail,
    }

    #[derive(Serialize)]
    enum Shape {
        Dot(i8),
        Line(i8, i8),
        Box { w: u64, h: i128 },
    }

    #[test]
    fn the_same_as_serde_json_makes_with_fields_in_their_order() {
        let order = Order {
            zeta_first: "é\"",
            amount: serde_json::Number::from_string_unchecked("12.50".into()),
            lines: vec![(1, Some(2.5)), (2, None), (3, Some(f64::NAN))],
            kind: Kind::Retail,
            by_id: [(7, true)].into(),
            extra: [("a", Shape::Dot(-1)), ("b", Shape::Line(1, 2)), ("c", Shape::Box { w: u64::MAX, h: -5 })].into(),
            raw: serde_json::value::RawValue::from_string(r#"{"y": 1.0, "x": [true]}"#.into()).unwrap(),
        };
        let ours = to_value(&order).unwrap();
        let theirs = Value::from(serde_json::to_value(&order).unwrap());
        assert_eq!(ours, theirs);
        assert_eq!(
            ours.to_json(),
            r#"{"zetaFirst":"é\"","amount":12.50,"lines":[[1,2.5],[2,null],[3,null]],"kind":"Retail","byId":{"7":true},"a":{"Dot":-1},"b":{"Line":[1,2]},"c":{"Box":{"w":18446744073709551615,"h":-5}},"raw":{"y":1.0,"x":[true]}}"#
        );
    }

    #[test]
    fn a_key_that_is_not_text_is_an_error() {
        let map: BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        assert_eq!(to_value(&map).unwrap_err().to_string(), "key must be a string");
    }
}
