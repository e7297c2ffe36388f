//! The `States.*` intrinsic functions of the JSONPath query language: a
//! `"key.$"` value is parsed once, when the definition loads, into a call
//! tree whose function, arity and literal arguments are already checked;
//! evaluation then only reads paths and computes.

use std::borrow::Cow;
use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use orderflow_value::{Number, Value};

use crate::path::Path;
use crate::rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intrinsic {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

/// AWS's caps on intrinsic inputs.
const MAX_RANGE_ITEMS: usize = 1000;
const MAX_TEXT_CHARS: usize = 10_000;

impl Intrinsic {
    fn from_name(name: &str) -> Option<Intrinsic> {
        use Intrinsic::*;
        Some(match name {
            "States.Format" => Format,
            "States.StringToJson" => StringToJson,
            "States.JsonToString" => JsonToString,
            "States.Array" => Array,
            "States.ArrayPartition" => ArrayPartition,
            "States.ArrayContains" => ArrayContains,
            "States.ArrayRange" => ArrayRange,
            "States.ArrayGetItem" => ArrayGetItem,
            "States.ArrayLength" => ArrayLength,
            "States.ArrayUnique" => ArrayUnique,
            "States.Base64Encode" => Base64Encode,
            "States.Base64Decode" => Base64Decode,
            "States.Hash" => Hash,
            "States.JsonMerge" => JsonMerge,
            "States.MathRandom" => MathRandom,
            "States.MathAdd" => MathAdd,
            "States.StringSplit" => StringSplit,
            "States.UUID" => Uuid,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        use Intrinsic::*;
        match self {
            Format => "States.Format",
            StringToJson => "States.StringToJson",
            JsonToString => "States.JsonToString",
            Array => "States.Array",
            ArrayPartition => "States.ArrayPartition",
            ArrayContains => "States.ArrayContains",
            ArrayRange => "States.ArrayRange",
            ArrayGetItem => "States.ArrayGetItem",
            ArrayLength => "States.ArrayLength",
            ArrayUnique => "States.ArrayUnique",
            Base64Encode => "States.Base64Encode",
            Base64Decode => "States.Base64Decode",
            Hash => "States.Hash",
            JsonMerge => "States.JsonMerge",
            MathRandom => "States.MathRandom",
            MathAdd => "States.MathAdd",
            StringSplit => "States.StringSplit",
            Uuid => "States.UUID",
        }
    }

    /// How many arguments the function takes.
    fn arity(self) -> (usize, usize) {
        use Intrinsic::*;
        match self {
            Format => (1, usize::MAX),
            Array => (0, usize::MAX),
            Uuid => (0, 0),
            StringToJson | JsonToString | ArrayLength | ArrayUnique | Base64Encode | Base64Decode => (1, 1),
            ArrayPartition | ArrayContains | ArrayGetItem | Hash | MathAdd | StringSplit => (2, 2),
            MathRandom => (2, 3),
            ArrayRange | JsonMerge => (3, 3),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Literal(Value),
    Path(Path),
    Call(Call),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub function: Intrinsic,
    pub args: Vec<Arg>,
}

pub fn is_call(text: &str) -> bool {
    text.starts_with("States.")
}

impl Call {
    pub fn parse(text: &str) -> Result<Call, String> {
        let mut p = Parser { s: text.as_bytes(), i: 0, text, depth: 0 };
        let call = p.call()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("unexpected text after the call in {text:?}"));
        }
        Ok(call)
    }
}

/// Nesting deeper than this is refused at load: evaluation recurses.
const MAX_NESTING: usize = 32;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    text: &'a str,
    depth: usize,
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
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.err("intrinsic calls nested too deeply"));
        }
        self.ws();
        let start = self.i;
        while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'.') {
            self.i += 1;
        }
        let name = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
        let function = Intrinsic::from_name(name).ok_or_else(|| format!("{name:?} is not an intrinsic function"))?;
        self.ws();
        if self.s.get(self.i) != Some(&b'(') {
            return Err(self.err("expected ("));
        }
        self.i += 1;
        let mut args = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b')') {
            self.i += 1;
        } else {
            loop {
                args.push(self.arg()?);
                self.ws();
                match self.s.get(self.i) {
                    Some(b',') => self.i += 1,
                    Some(b')') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(self.err("expected , or )")),
                }
            }
        }
        let (min, max) = function.arity();
        if args.len() < min || args.len() > max {
            let wanted = match (min, max) {
                (a, b) if a == b => format!("{a}"),
                (a, usize::MAX) => format!("at least {a}"),
                (a, b) => format!("{a} to {b}"),
            };
            return Err(format!("{} takes {wanted} arguments, not {}", function.name(), args.len()));
        }
        check_literals(function, &args)?;
        self.depth -= 1;
        Ok(Call { function, args })
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
                            return Ok(Arg::Literal(Value::string(out)));
                        }
                        Some(b'\\') => {
                            // \' \{ \} \\ keep the escaped character; Format sees \{ as literal.
                            // Nothing else may be escaped (AWS refuses \" as it does any other).
                            let next = *self.s.get(self.i + 1).ok_or_else(|| self.err("dangling escape"))?;
                            if !matches!(next, b'\'' | b'{' | b'}' | b'\\') {
                                return Err(self.err("illegal escape"));
                            }
                            if next == b'{' || next == b'}' {
                                out.push('\\');
                            }
                            let c = self.text[self.i + 1..].chars().next().unwrap_or_default();
                            out.push(c);
                            self.i += 1 + c.len_utf8();
                        }
                        Some(_) => {
                            let c = self.text[self.i..].chars().next().unwrap_or_default();
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
                Ok(Arg::Path(Path::parse(self.text[start..self.i].trim())?))
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
                orderflow_value::parse(token)
                    .ok()
                    .filter(|v| v.is_number() || v.is_boolean() || v.is_null())
                    .map(Arg::Literal)
                    .ok_or_else(|| format!("{token:?} is not a string, number, boolean, null, path or call"))
            }
        }
    }
}

/// What a position takes, for literal arguments checked at load.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Any,
    String,
    Number,
    Array,
    Object,
    Boolean,
}

impl Intrinsic {
    fn kinds(self) -> &'static [Kind] {
        use Intrinsic::*;
        use Kind as K;
        match self {
            Format | StringToJson | Base64Encode | Base64Decode => &[K::String],
            StringSplit => &[K::String, K::String],
            JsonToString | Array | Uuid => &[],
            ArrayPartition | ArrayGetItem => &[K::Array, K::Number],
            ArrayContains => &[K::Array, K::Any],
            ArrayRange => &[K::Number, K::Number, K::Number],
            ArrayLength | ArrayUnique => &[K::Array],
            Hash => &[K::Any, K::String],
            JsonMerge => &[K::Object, K::Object, K::Boolean],
            MathRandom => &[K::Number, K::Number, K::Number],
            MathAdd => &[K::Number, K::Number],
        }
    }
}

/// A literal argument of the wrong kind, or a bad constant, is a definition
/// error: it could never succeed.
fn check_literals(function: Intrinsic, args: &[Arg]) -> Result<(), String> {
    let name = function.name();
    for (i, (arg, kind)) in args.iter().zip(function.kinds()).enumerate() {
        let Arg::Literal(value) = arg else { continue };
        let ok = match kind {
            Kind::Any => true,
            Kind::String => value.is_string(),
            Kind::Number => value.is_number(),
            // The intrinsic syntax has no array or object literals.
            Kind::Array | Kind::Object => false,
            Kind::Boolean => value.is_boolean(),
        };
        if !ok {
            return Err(format!("argument {} of {name} cannot be the literal {value}", i + 1));
        }
    }
    if let (Intrinsic::Hash, Some(Arg::Literal(Value::String(algorithm)))) = (function, args.get(1))
        && !["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"].contains(&algorithm.as_str())
    {
        return Err(format!("{name}: unknown algorithm {algorithm:?} (MD5, SHA-1, SHA-256, SHA-384, SHA-512)"));
    }
    if let (Intrinsic::JsonMerge, Some(Arg::Literal(deep))) = (function, args.get(2))
        && *deep != Value::Bool(false)
    {
        return Err(format!("{name}: only the shallow merge (false) exists"));
    }
    Ok(())
}

/// A path argument that selected nothing: the caller words the error.
#[derive(Debug)]
pub enum CallError {
    Path { path: String, detail: String },
    Failed(String),
}

impl From<String> for CallError {
    fn from(message: String) -> Self {
        CallError::Failed(message)
    }
}

impl From<&str> for CallError {
    fn from(message: &str) -> Self {
        CallError::Failed(message.to_owned())
    }
}

impl Call {
    /// Evaluates the call; `doc` resolves each path argument to the input or
    /// the context object.
    /// Arguments are borrowed where they can be: a literal from the
    /// definition, a path's value from the input.
    pub fn evaluate<'a>(
        &'a self,
        resolve: &dyn Fn(&'a Path) -> Result<Cow<'a, Value>, CallError>,
        rng: &Rng,
    ) -> Result<Value, CallError> {
        // A plain loop: the iterator adapters' `collect` into a Result moved
        // each argument twice more.
        let mut args: Args<'a> = Args::new();
        for a in &self.args {
            args.push(match a {
                Arg::Literal(v) => Cow::Borrowed(v),
                Arg::Path(p) => resolve(p)?,
                Arg::Call(c) => Cow::Owned(c.evaluate(resolve, rng)?),
            });
        }
        apply(self.function, args, rng).map_err(CallError::Failed)
    }
}

/// Up to four arguments stay on the stack.
type Args<'a> = smallvec::SmallVec<[Cow<'a, Value>; 4]>;

fn apply(function: Intrinsic, args: Args<'_>, rng: &Rng) -> Result<Value, String> {
    let name = function.name();
    let string = |i: usize| -> Result<&str, String> {
        args[i].as_str().ok_or_else(|| format!("argument {} of {name} must be a string", i + 1))
    };
    let array = |args: &[Cow<'_, Value>], i: usize| -> Result<Vec<Value>, String> {
        match args[i].as_ref() {
            Value::Array(_) => match args[i].clone().into_owned() {
                Value::Array(items) => Ok(std::sync::Arc::unwrap_or_clone(items)),
                _ => unreachable!("matched an array"),
            },
            _ => Err(format!("argument {} of {name} must be an array", i + 1)),
        }
    };
    let items = |args: &[Cow<'_, Value>], i: usize| -> Result<usize, String> {
        args[i].as_array().map(Vec::len).ok_or_else(|| format!("argument {} of {name} must be an array", i + 1))
    };
    let integer = |args: &[Cow<'_, Value>], i: usize| {
        args[i].as_i64().ok_or_else(|| format!("argument {} of {name} must be an integer", i + 1))
    };
    // Step Functions rounds the operands of the Math functions half up
    // (Java's Math.round): 1.5 → 2, −1.5 → −1.
    let rounded = |args: &[Cow<'_, Value>], i: usize| -> Result<i64, String> {
        let n = args[i].as_number().ok_or_else(|| format!("argument {} of {name} must be a number", i + 1))?;
        match n.as_i64() {
            Some(v) => Ok(v),
            None => {
                let f = n.as_f64().filter(|f| f.is_finite()).ok_or_else(|| format!("{name}: not a finite number"))?;
                let r = (f + 0.5).floor();
                if r.abs() >= 9.2e18 {
                    return Err(format!("{name}: the operand is out of range"));
                }
                Ok(r as i64)
            }
        }
    };
    let capped = |text: &str| -> Result<(), String> {
        if text.chars().count() > MAX_TEXT_CHARS {
            Err(format!("{name}: the input is longer than {MAX_TEXT_CHARS} characters"))
        } else {
            Ok(())
        }
    };
    use Intrinsic::*;
    match function {
        Format => {
            let template = string(0)?;
            let mut out = orderflow_value::StrBuilder::new();
            let mut values = args[1..].iter();
            // The text between the special characters is copied a run at a time.
            let mut rest = template;
            while let Some(at) = rest.find(['\\', '{']) {
                out.push_str(&rest[..at]);
                let mut tail = rest[at..].chars();
                match tail.next() {
                    Some('\\') => out.push(tail.next().unwrap_or('\\')),
                    _ if tail.as_str().starts_with('}') => {
                        tail.next();
                        let v = values.next().ok_or("States.Format has more {} than arguments")?;
                        java_text(v, &mut out);
                    }
                    _ => out.push('{'),
                }
                rest = tail.as_str();
            }
            out.push_str(rest);
            if values.next().is_some() {
                return Err("States.Format has more arguments than {}".into());
            }
            Ok(Value::String(out.finish()))
        }
        StringToJson => {
            let text = string(0)?;
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            orderflow_value::parse(text).map_err(|e| format!("States.StringToJson: {e}"))
        }
        JsonToString => Ok(Value::string(args[0].to_json())),
        Array => Ok(Value::array(args.into_iter().map(Cow::into_owned).collect())),
        ArrayPartition => {
            let size = integer(&args, 1)?;
            if size <= 0 {
                return Err("States.ArrayPartition: the chunk size must be positive".into());
            }
            items(&args, 0)?;
            let list = args[0].as_array().map(Vec::as_slice).unwrap_or_default();
            Ok(Value::array(list.chunks(size as usize).map(|c| Value::array(c.to_vec())).collect()))
        }
        ArrayContains => {
            items(&args, 0)?;
            Ok(Value::Bool(args[0].as_array().is_some_and(|list| list.contains(&args[1]))))
        }
        ArrayRange => {
            let (start, end, step) = (integer(&args, 0)?, integer(&args, 1)?, integer(&args, 2)?);
            if step == 0 {
                return Err("States.ArrayRange: the step must not be 0".into());
            }
            let count = (i128::from(end) - i128::from(start)) / i128::from(step) + 1;
            if count > MAX_RANGE_ITEMS as i128 {
                return Err(format!("States.ArrayRange: at most {MAX_RANGE_ITEMS} items"));
            }
            let out: Vec<Value> =
                (0..count.max(0)).map(|k| Value::from((i128::from(start) + k * i128::from(step)) as i64)).collect();
            Ok(Value::array(out))
        }
        ArrayGetItem => {
            let index = integer(&args, 1)?;
            items(&args, 0)?;
            usize::try_from(index)
                .ok()
                .and_then(|i| args[0].as_array().and_then(|list| list.get(i)).cloned())
                .ok_or_else(|| format!("States.ArrayGetItem: index {index} is out of range"))
        }
        ArrayLength => Ok(Value::from(items(&args, 0)?)),
        ArrayUnique => {
            // Linear in the items: each is keyed by its canonical JSON text.
            let mut seen = HashSet::new();
            let list = array(&args, 0)?;
            Ok(Value::array(list.into_iter().filter(|v| seen.insert(v.to_string())).collect()))
        }
        Base64Encode => {
            let text = string(0)?;
            capped(text)?;
            Ok(Value::string(BASE64.encode(text)))
        }
        Base64Decode => {
            let text = string(0)?;
            capped(text)?;
            let bytes = BASE64.decode(text).map_err(|e| format!("States.Base64Decode: {e}"))?;
            String::from_utf8(bytes).map(Value::string).map_err(|_| "States.Base64Decode: not UTF-8 text".into())
        }
        Hash => {
            let data = match args[0].as_ref() {
                Value::String(s) => s.to_string(),
                other => other.to_string(),
            };
            capped(&data)?;
            let algorithm = string(1)?;
            digest(algorithm, &data).map(Value::string).ok_or_else(|| {
                format!("States.Hash: unknown algorithm {algorithm:?} (MD5, SHA-1, SHA-256, SHA-384, SHA-512)")
            })
        }
        JsonMerge => {
            if *args[2] != Value::Bool(false) {
                return Err("States.JsonMerge: only the shallow merge (false) exists".into());
            }
            let mut args = args.into_iter().map(Cow::into_owned);
            let (Some(Value::Object(mut a)), Some(Value::Object(b))) = (args.next(), args.next()) else {
                return Err("States.JsonMerge merges two objects".into());
            };
            a.extend(b);
            Ok(Value::Object(a))
        }
        MathRandom => {
            let (start, end) = (rounded(&args, 0)?, rounded(&args, 1)?);
            if end <= start {
                return Err("States.MathRandom: the end must be greater than the start".into());
            }
            let draw = if args.len() == 3 { Rng::new(rounded(&args, 2)? as u64).next_u64() } else { rng.next_u64() };
            let span = (i128::from(end) - i128::from(start)) as u128;
            Ok(Value::from((i128::from(start) + (u128::from(draw) % span) as i128) as i64))
        }
        MathAdd => {
            let sum = rounded(&args, 0)?.checked_add(rounded(&args, 1)?).ok_or("States.MathAdd overflowed")?;
            Ok(Value::Number(Number::from(sum)))
        }
        StringSplit => {
            let (text, delimiters) = (string(0)?, string(1)?);
            let parts: Vec<Value> = match delimiters.as_bytes() {
                // One ASCII delimiter (the common case) is found by a byte search.
                [one] if one.is_ascii() => {
                    text.split(char::from(*one)).filter(|s| !s.is_empty()).map(Value::from).collect()
                }
                _ => text.split(|c| delimiters.contains(c)).filter(|s| !s.is_empty()).map(Value::from).collect(),
            };
            Ok(Value::array(parts))
        }
        Uuid => Ok(Value::string(rng.uuid_v4())),
    }
}

/// A value as Step Functions' Java renders it in States.Format: strings bare,
/// objects as `{a=1, b=[]}`, arrays as `[1, 2]`.
fn java_text(value: &Value, out: &mut orderflow_value::StrBuilder) {
    match value {
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                java_text(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                java_text(v, out);
            }
            out.push('}');
        }
        Value::Number(n) => out.push_str(n.as_str()),
        other => out.push_str(&other.to_string()),
    }
}

/// The hex digest of `data` by one of the algorithms States.Hash and
/// JSONata's `$hash` name; None for another name.
pub(crate) fn digest(algorithm: &str, data: &str) -> Option<String> {
    use sha2::Digest;
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    Some(match algorithm {
        "MD5" => hex(&md5::Md5::digest(data.as_bytes())),
        "SHA-1" => hex(&sha1::Sha1::digest(data.as_bytes())),
        "SHA-256" => hex(&sha2::Sha256::digest(data.as_bytes())),
        "SHA-384" => hex(&sha2::Sha384::digest(data.as_bytes())),
        "SHA-512" => hex(&sha2::Sha512::digest(data.as_bytes())),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use orderflow_value::json;

    use super::*;

    fn run(text: &str) -> Result<Value, String> {
        let call = Call::parse(text)?;
        call.evaluate(&|_| Err(CallError::Failed("no paths here".into())), &Rng::new(7)).map_err(|e| match e {
            CallError::Failed(m) => m,
            CallError::Path { path, .. } => path,
        })
    }

    #[test]
    fn arity_and_literal_kinds_are_checked_at_load() {
        assert!(Call::parse("States.MathAdd(1)").unwrap_err().contains("takes 2 arguments"));
        assert!(Call::parse("States.MathAdd('a', 1)").unwrap_err().contains("cannot be the literal \"a\""));
        assert!(Call::parse("States.ArrayLength('abc')").unwrap_err().contains("argument 1"));
        assert!(Call::parse("States.Hash('x', 'SHA-3')").unwrap_err().contains("unknown algorithm"));
        assert!(Call::parse("States.JsonMerge($.a, $.b, true)").unwrap_err().contains("shallow"));
        assert!(Call::parse("States.Nope(1)").unwrap_err().contains("not an intrinsic"));
        assert!(Call::parse("States.Format('{}', $.a)").is_ok());
    }

    #[test]
    fn format_fills_placeholders_and_keeps_escaped_braces() {
        assert_eq!(run(r"States.Format('a{}b{}c', 1, 'x')"), Ok(json!("a1bxc")));
        assert_eq!(run(r"States.Format('\{\} {}', 2)"), Ok(json!("{} 2")));
        assert_eq!(run(r"States.Format('{}\\', 1)"), Ok(json!(r"1\")));
        assert_eq!(run(r"States.Format('{ {}', 3)"), Ok(json!("{ 3")));
        assert_eq!(run(r"States.Format('é{}✓', 'ü')"), Ok(json!("éü✓")));
        assert!(run(r"States.Format('{}{}', 1)").unwrap_err().contains("more {} than arguments"));
        assert!(run(r"States.Format('{}', 1, 2)").unwrap_err().contains("more arguments than {}"));
    }

    #[test]
    fn string_split_splits_at_any_delimiter_and_drops_empty_parts() {
        assert_eq!(run("States.StringSplit('a,b,,c', ',')"), Ok(json!(["a", "b", "c"])));
        assert_eq!(run("States.StringSplit('a-b+c', '+-')"), Ok(json!(["a", "b", "c"])));
        assert_eq!(run("States.StringSplit('aébéc', 'é')"), Ok(json!(["a", "b", "c"])));
        assert_eq!(run("States.StringSplit('', ',')"), Ok(json!([])));
    }

    #[test]
    fn math_functions_round_half_up_as_aws_does() {
        assert_eq!(run("States.MathAdd(1.49, 1.5)"), Ok(json!(3)));
        assert_eq!(run("States.MathAdd(-1.5, 0)"), Ok(json!(-1)));
        assert_eq!(run("States.MathAdd(-2.5, 0)"), Ok(json!(-2)));
        let r = run("States.MathRandom(0.6, 3.4)").unwrap().as_i64().unwrap();
        assert!((1..3).contains(&r), "{r}");
    }
}
