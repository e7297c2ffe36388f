//! The `States.*` intrinsic functions of the JSONPath query language, parsed
//! from a `"key.$"` value and evaluated against the state's input and the
//! context object.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Number, Value};

use crate::path;
use crate::rng::Rng;

#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Literal(Value),
    Path(String),
    Call(Call),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: String,
    pub args: Vec<Arg>,
}

const FUNCTIONS: &[&str] = &[
    "States.Format",
    "States.StringToJson",
    "States.JsonToString",
    "States.Array",
    "States.ArrayPartition",
    "States.ArrayContains",
    "States.ArrayRange",
    "States.ArrayGetItem",
    "States.ArrayLength",
    "States.ArrayUnique",
    "States.Base64Encode",
    "States.Base64Decode",
    "States.Hash",
    "States.JsonMerge",
    "States.MathRandom",
    "States.MathAdd",
    "States.StringSplit",
    "States.UUID",
];

pub fn is_call(text: &str) -> bool {
    text.starts_with("States.")
}

pub fn parse(text: &str) -> Result<Call, String> {
    let mut p = Parser { s: text.as_bytes(), i: 0, text };
    let call = p.call()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected text after the call in {text:?}"));
    }
    Ok(call)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn err(&self, what: &str) -> String {
        format!("{what} at position {} of {:?}", self.i, self.text)
    }

    fn call(&mut self) -> Result<Call, String> {
        self.ws();
        let start = self.i;
        while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'.') {
            self.i += 1;
        }
        let name = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default().to_owned();
        if !FUNCTIONS.contains(&name.as_str()) {
            return Err(format!("{name:?} is not an intrinsic function"));
        }
        self.ws();
        if self.s.get(self.i) != Some(&b'(') {
            return Err(self.err("expected ("));
        }
        self.i += 1;
        let mut args = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b')') {
            self.i += 1;
            return Ok(Call { name, args });
        }
        loop {
            args.push(self.arg()?);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b')') => {
                    self.i += 1;
                    return Ok(Call { name, args });
                }
                _ => return Err(self.err("expected , or )")),
            }
        }
    }

    fn arg(&mut self) -> Result<Arg, String> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'\'') => {
                self.i += 1;
                let mut out = String::new();
                loop {
                    match self.s.get(self.i) {
                        None => return Err(self.err("unterminated string")),
                        Some(b'\'') => {
                            self.i += 1;
                            return Ok(Arg::Literal(Value::String(out)));
                        }
                        Some(b'\\') => {
                            // \' \{ \} \\ keep the escaped character; Format sees \{ as literal.
                            let next = *self.s.get(self.i + 1).ok_or_else(|| self.err("dangling escape"))?;
                            if next == b'{' || next == b'}' {
                                out.push('\\');
                            }
                            out.push(char::from(next));
                            self.i += 2;
                        }
                        Some(_) => {
                            let rest = &self.text[self.i..];
                            let c = rest.chars().next().unwrap_or_default();
                            out.push(c);
                            self.i += c.len_utf8();
                        }
                    }
                }
            }
            Some(b'$') => {
                let start = self.i;
                let mut depth = 0i32;
                let mut quote = None;
                while let Some(&c) = self.s.get(self.i) {
                    match (quote, c) {
                        (Some(q), c) if c == q => quote = None,
                        (Some(_), _) => {}
                        (None, b'\'' | b'"') => quote = Some(c),
                        (None, b'[' | b'(') => depth += 1,
                        (None, b']') => depth -= 1,
                        (None, b')') if depth > 0 => depth -= 1,
                        (None, b',' | b')') if depth == 0 => break,
                        _ => {}
                    }
                    self.i += 1;
                }
                let p = self.text[start..self.i].trim().to_owned();
                path::check_path(&p)?;
                Ok(Arg::Path(p))
            }
            Some(b'S') => Ok(Arg::Call(self.call()?)),
            _ => {
                let start = self.i;
                while let Some(&c) = self.s.get(self.i) {
                    if c == b',' || c == b')' || c.is_ascii_whitespace() {
                        break;
                    }
                    self.i += 1;
                }
                let token = &self.text[start..self.i];
                serde_json::from_str::<Value>(token)
                    .ok()
                    .filter(|v| v.is_number() || v.is_boolean() || v.is_null())
                    .map(Arg::Literal)
                    .ok_or_else(|| format!("{token:?} is not a string, number, boolean, null, path or call"))
            }
        }
    }
}

/// What evaluation needs besides the arguments.
pub struct Env<'a> {
    pub input: &'a Value,
    pub context: &'a Value,
    pub rng: &'a Rng,
}

pub fn evaluate(call: &Call, env: &Env<'_>) -> Result<Value, String> {
    let args: Vec<Value> = call
        .args
        .iter()
        .map(|a| match a {
            Arg::Literal(v) => Ok(v.clone()),
            Arg::Path(p) => path::select(p, env.input, env.context),
            Arg::Call(c) => evaluate(c, env),
        })
        .collect::<Result<_, _>>()?;
    let name = call.name.as_str();
    let arity = |n: std::ops::RangeInclusive<usize>| {
        if n.contains(&args.len()) {
            Ok(())
        } else {
            Err(format!("{name} takes {} to {} arguments, not {}", n.start(), n.end(), args.len()))
        }
    };
    let string = |i: usize| args[i].as_str().ok_or_else(|| format!("argument {} of {name} must be a string", i + 1));
    let array = |i: usize| args[i].as_array().ok_or_else(|| format!("argument {} of {name} must be an array", i + 1));
    let integer = |i: usize| args[i].as_i64().ok_or_else(|| format!("argument {} of {name} must be an integer", i + 1));
    match name {
        "States.Format" => {
            if args.is_empty() {
                return Err("States.Format needs a template".into());
            }
            let template = string(0)?;
            let mut out = String::new();
            let mut values = args[1..].iter();
            let mut chars = template.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.push(chars.next().unwrap_or('\\')),
                    '{' if chars.peek() == Some(&'}') => {
                        chars.next();
                        let v = values.next().ok_or("States.Format has more {} than arguments")?;
                        match v {
                            Value::String(s) => out.push_str(s),
                            Value::Array(_) | Value::Object(_) => {
                                return Err("States.Format formats only strings, numbers, booleans and null".into());
                            }
                            other => out.push_str(&other.to_string()),
                        }
                    }
                    c => out.push(c),
                }
            }
            if values.next().is_some() {
                return Err("States.Format has more arguments than {}".into());
            }
            Ok(Value::String(out))
        }
        "States.StringToJson" => {
            arity(1..=1)?;
            serde_json::from_str(string(0)?).map_err(|e| format!("States.StringToJson: {e}"))
        }
        "States.JsonToString" => {
            arity(1..=1)?;
            Ok(Value::String(args[0].to_string()))
        }
        "States.Array" => Ok(Value::Array(args)),
        "States.ArrayPartition" => {
            arity(2..=2)?;
            let size = integer(1)?;
            if size <= 0 {
                return Err("States.ArrayPartition: the chunk size must be positive".into());
            }
            Ok(Value::Array(array(0)?.chunks(size as usize).map(|c| Value::Array(c.to_vec())).collect()))
        }
        "States.ArrayContains" => {
            arity(2..=2)?;
            Ok(Value::Bool(array(0)?.contains(&args[1])))
        }
        "States.ArrayRange" => {
            arity(3..=3)?;
            let (start, end, step) = (integer(0)?, integer(1)?, integer(2)?);
            if step == 0 {
                return Err("States.ArrayRange: the step must not be 0".into());
            }
            let mut out = Vec::new();
            let mut n = start;
            while (step > 0 && n <= end) || (step < 0 && n >= end) {
                out.push(Value::from(n));
                if out.len() > 1000 {
                    return Err("States.ArrayRange: at most 1000 items".into());
                }
                n += step;
            }
            Ok(Value::Array(out))
        }
        "States.ArrayGetItem" => {
            arity(2..=2)?;
            let index = integer(1)?;
            usize::try_from(index)
                .ok()
                .and_then(|i| array(0).ok()?.get(i).cloned())
                .ok_or_else(|| format!("States.ArrayGetItem: index {index} is out of range"))
        }
        "States.ArrayLength" => {
            arity(1..=1)?;
            Ok(Value::from(array(0)?.len()))
        }
        "States.ArrayUnique" => {
            arity(1..=1)?;
            let mut out: Vec<Value> = Vec::new();
            for v in array(0)? {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Ok(Value::Array(out))
        }
        "States.Base64Encode" => {
            arity(1..=1)?;
            Ok(Value::String(BASE64.encode(string(0)?)))
        }
        "States.Base64Decode" => {
            arity(1..=1)?;
            let bytes = BASE64.decode(string(0)?).map_err(|e| format!("States.Base64Decode: {e}"))?;
            String::from_utf8(bytes).map(Value::String).map_err(|_| "States.Base64Decode: not UTF-8 text".into())
        }
        "States.Hash" => {
            arity(2..=2)?;
            let data = match &args[0] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            use sha2::Digest;
            let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
            let digest = match string(1)? {
                "MD5" => hex(&md5::Md5::digest(data.as_bytes())),
                "SHA-1" => hex(&sha1::Sha1::digest(data.as_bytes())),
                "SHA-256" => hex(&sha2::Sha256::digest(data.as_bytes())),
                "SHA-384" => hex(&sha2::Sha384::digest(data.as_bytes())),
                "SHA-512" => hex(&sha2::Sha512::digest(data.as_bytes())),
                other => {
                    return Err(format!(
                        "States.Hash: unknown algorithm {other:?} (MD5, SHA-1, SHA-256, SHA-384, SHA-512)"
                    ));
                }
            };
            Ok(Value::String(digest))
        }
        "States.JsonMerge" => {
            arity(3..=3)?;
            if args[2] != Value::Bool(false) {
                return Err("States.JsonMerge: only the shallow merge (false) exists".into());
            }
            let (Some(a), Some(b)) = (args[0].as_object(), args[1].as_object()) else {
                return Err("States.JsonMerge merges two objects".into());
            };
            let mut out: Map<String, Value> = a.clone();
            out.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
            Ok(Value::Object(out))
        }
        "States.MathRandom" => {
            arity(2..=3)?;
            let (start, end) = (integer(0)?, integer(1)?);
            if end <= start {
                return Err("States.MathRandom: the end must be greater than the start".into());
            }
            let draw = if args.len() == 3 { Rng::new(integer(2)? as u64).next_u64() } else { env.rng.next_u64() };
            Ok(Value::from(start + (draw % (end - start) as u64) as i64))
        }
        "States.MathAdd" => {
            arity(2..=2)?;
            let sum = integer(0)?.checked_add(integer(1)?).ok_or("States.MathAdd overflowed")?;
            Ok(Value::Number(Number::from(sum)))
        }
        "States.StringSplit" => {
            arity(2..=2)?;
            let delimiters: Vec<char> = string(1)?.chars().collect();
            Ok(Value::Array(
                string(0)?
                    .split(|c| delimiters.contains(&c))
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            ))
        }
        "States.UUID" => {
            arity(0..=0)?;
            Ok(Value::String(env.rng.uuid_v4()))
        }
        other => Err(format!("{other} is not an intrinsic function")),
    }
}
