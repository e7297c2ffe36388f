//! JSONata expressions (`"{% ... %}"` in a JSONata state), on the vendored
//! jsonata-core engine. An expression is parsed once, when the definition
//! loads; its syntax tree is plain data, shared by every thread that runs it.
//! At each evaluation only what the expression names is handed to the engine:
//! the `$states` members it reads, the workflow variables it references, and
//! Step Functions' own functions (`$partition`, `$range`, `$hash`, `$random`,
//! `$uuid`, `$parse`) when it calls them.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context as Bindings, Evaluator, EvaluatorError, EvaluatorOptions};
use jsonata_core::value::JValue;
use serde_json::{Map, Value};

use crate::variables::Frame;

/// Whether a string is written as a JSONata expression.
pub fn is_expression(text: &str) -> bool {
    text.len() >= 4 && text.starts_with("{%") && text.ends_with("%}")
}

/// Which members of `$states` an expression reads.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct StatesUse {
    input: bool,
    result: bool,
    error_output: bool,
    /// The context object's members it reads, or all of them.
    context: ContextUse,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
enum ContextUse {
    #[default]
    None,
    /// Only these top-level members (`$states.context.Map...`): the others,
    /// and the execution input inside `Execution`, are not built.
    Members([bool; CONTEXT_MEMBERS.len()]),
    All,
}

const CONTEXT_MEMBERS: [&str; 5] = ["Execution", "StateMachine", "State", "Task", "Map"];

fn context_use(text: &str) -> ContextUse {
    if bare(text, "$states") || bare(text, "$states.context") {
        return ContextUse::All;
    }
    let mut members = [false; CONTEXT_MEMBERS.len()];
    for (i, name) in CONTEXT_MEMBERS.iter().enumerate() {
        members[i] = mentions(text, &format!("$states.context.{name}"));
    }
    if members.iter().any(|m| *m) { ContextUse::Members(members) } else { ContextUse::None }
}

/// A compiled `{% ... %}` expression.
#[derive(Debug, Clone)]
pub struct Expression {
    /// The expression between the delimiters, trimmed, as AWS quotes it in causes.
    text: Arc<str>,
    ast: Arc<AstNode>,
    /// The `$names` it mentions (a superset of the variables it reads).
    names: Arc<[Arc<str>]>,
    states: StatesUse,
}

impl PartialEq for Expression {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// Step Functions' own JSONata functions.
const FUNCTIONS: &[&str] = &["partition", "range", "hash", "random", "uuid", "parse"];

/// The longest array `$range` and `$partition` build (States.ArrayRange's cap).
const MAX_RANGE_ITEMS: usize = 1000;

/// Evaluation guards: a hostile expression ends with an error, never a hang.
const TIMEOUT_MS: u64 = 10_000;
const MAX_SEQUENCE: usize = 1_000_000;

/// What an expression could not give.
#[derive(Debug, Clone, PartialEq)]
pub enum Failed {
    /// The engine's error, with its JSONata code (`T1006: Attempted to invoke a non-function`).
    Threw(String),
    /// Nothing (`undefined`).
    Nothing,
    /// A function or a regular expression: not JSON.
    Unsupported,
}

/// `$states` for one evaluation: what the state has at that point.
pub struct States<'a> {
    pub input: &'a Value,
    pub result: Option<&'a Value>,
    pub error_output: Option<&'a Value>,
    pub context: &'a crate::context::Context<'a>,
}

impl Expression {
    /// Compiles `"{% ... %}"`; Err: the engine's syntax error.
    pub fn compile(written: &str) -> Result<Expression, String> {
        let inner = written.strip_prefix("{%").and_then(|s| s.strip_suffix("%}")).unwrap_or(written).trim();
        if inner.is_empty() {
            return Err("is an empty JSONata expression".into());
        }
        let ast = jsonata_core::parser::parse(inner).map_err(|e| format!("is not a valid JSONata expression: {e}"))?;
        let names = dollar_names(inner);
        let states = StatesUse {
            input: mentions(inner, "$states.input") || bare(inner, "$states"),
            result: mentions(inner, "$states.result") || bare(inner, "$states"),
            error_output: mentions(inner, "$states.errorOutput") || bare(inner, "$states"),
            context: context_use(inner),
        };
        let names: Vec<Arc<str>> = names.into_iter().filter(|n| n != "states").map(Arc::from).collect();
        Ok(Expression { text: inner.into(), ast: Arc::new(ast), names: names.into(), states })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The workflow variables the expression may read.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|n| &**n).filter(|n| !FUNCTIONS.contains(n))
    }

    /// Evaluates the expression: `Ok(value)` or what it could not give.
    pub fn evaluate(&self, states: &States<'_>, vars: &Frame, rng: &crate::rng::Rng) -> Result<Value, Failed> {
        let mut bindings = Bindings::new();
        let used = self.states;
        if used != StatesUse::default() {
            let mut members: Vec<(String, JValue)> = Vec::with_capacity(4);
            if used.input {
                members.push(("input".into(), to_jvalue(states.input)));
            }
            if let Some(result) = states.result.filter(|_| used.result) {
                members.push(("result".into(), to_jvalue(result)));
            }
            if let Some(error) = states.error_output.filter(|_| used.error_output) {
                members.push(("errorOutput".into(), to_jvalue(error)));
            }
            match used.context {
                ContextUse::None => {}
                ContextUse::All => members.push(("context".into(), to_jvalue(states.context.value()))),
                ContextUse::Members(wanted) => {
                    let context = CONTEXT_MEMBERS
                        .iter()
                        .zip(wanted)
                        .filter(|(_, wanted)| *wanted)
                        .filter_map(|(name, _)| Some((name.to_string(), to_jvalue(&states.context.member(name)?))))
                        .collect();
                    members.push(("context".into(), JValue::Object(Rc::new(context))));
                }
            }
            bindings.bind("states".into(), JValue::Object(Rc::new(members.into_iter().collect())));
        }
        for name in self.names.iter() {
            if let Some(value) = vars.get(name) {
                bindings.bind(name.to_string(), to_jvalue(&value));
            }
        }
        let options = EvaluatorOptions {
            timeout_ms: Some(TIMEOUT_MS),
            max_sequence_length: Some(MAX_SEQUENCE),
            ..Default::default()
        };
        let mut evaluator = Evaluator::with_options(bindings, options);
        for name in self.names.iter().filter(|n| FUNCTIONS.contains(&&***n)) {
            register(&mut evaluator, name, rng.next_u64());
        }
        let result = evaluator.evaluate(&self.ast, &JValue::Null).map_err(|e| Failed::Threw(message(&e)))?;
        from_jvalue(&result)
    }
}

fn message(e: &EvaluatorError) -> String {
    e.message().to_owned()
}

fn mentions(text: &str, what: &str) -> bool {
    text.match_indices(what)
        .any(|(i, _)| !text[i + what.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
}

/// `what` itself, not one of its members (`$states` alone binds every member).
fn bare(text: &str, what: &str) -> bool {
    text.match_indices(what)
        .any(|(i, _)| !text[i + what.len()..].starts_with(|c: char| c == '.' || c.is_ascii_alphanumeric() || c == '_'))
}

/// The `$name` tokens of an expression outside its string literals.
fn dollar_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut quote: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(q) => {
                if c == '\\' {
                    chars.next();
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '$' => {
                let rest = &text[i + 1..];
                let len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
                if len > 0 && !names.iter().any(|n| n == &rest[..len]) {
                    names.push(rest[..len].to_owned());
                }
            }
            None => {}
        }
    }
    names
}

fn error(text: impl Into<String>) -> EvaluatorError {
    EvaluatorError::EvaluationError(text.into())
}

fn number_arg(args: &[JValue], i: usize, function: &str, what: &str) -> Result<f64, EvaluatorError> {
    match args.get(i) {
        Some(JValue::Number(n)) => Ok(*n),
        _ => Err(error(format!("The ${function} function's {what} must be a number"))),
    }
}

fn integer_arg(args: &[JValue], i: usize, function: &str, what: &str) -> Result<i64, EvaluatorError> {
    let n = number_arg(args, i, function, what)?;
    if n.fract() != 0.0 || n.abs() > 9.007_199_254_740_991e15 {
        return Err(error(format!("The ${function} function's {what} must be an integer")));
    }
    Ok(n as i64)
}

/// Registers one of Step Functions' functions. `seed` starts the generator
/// `$random()` and `$uuid()` draw from in this evaluation.
fn register(evaluator: &mut Evaluator, name: &str, seed: u64) {
    let state = Cell::new(seed.max(1));
    let next = move || {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let registered = match name {
        "partition" => evaluator.register_fn("partition", |args: &[JValue]| {
            let Some(items) = args.first().and_then(JValue::as_array) else {
                return Err(error("The $partition function's first argument must be an array"));
            };
            let size = integer_arg(args, 1, "partition", "chunk size")?;
            if size <= 0 {
                return Err(error("The $partition function's chunk size must be a positive integer"));
            }
            let chunks = items.chunks(size as usize).map(|c| JValue::array(c.to_vec())).collect();
            Ok(JValue::array(chunks))
        }),
        "range" => evaluator.register_fn("range", |args: &[JValue]| {
            let start = integer_arg(args, 0, "range", "start")?;
            let end = integer_arg(args, 1, "range", "end")?;
            let step = integer_arg(args, 2, "range", "step")?;
            if step == 0 {
                return Err(error("The $range function's step cannot be 0"));
            }
            let count = if (end - start).signum() * step.signum() < 0 { 0 } else { (end - start) / step + 1 };
            if count as usize > MAX_RANGE_ITEMS {
                return Err(error(format!("The $range function cannot make more than {MAX_RANGE_ITEMS} items")));
            }
            Ok(JValue::array((0..count).map(|i| JValue::Number((start + i * step) as f64)).collect()))
        }),
        "hash" => evaluator.register_fn("hash", |args: &[JValue]| {
            let data = match args.first() {
                Some(JValue::String(s)) => s.to_string(),
                Some(other) => from_jvalue(other).map(|v| v.to_string()).unwrap_or_default(),
                None => return Err(error("The $hash function needs a value and an algorithm")),
            };
            let algorithm = args.get(1).and_then(JValue::as_str).unwrap_or_default();
            crate::intrinsics::digest(algorithm, &data).map(JValue::from).ok_or_else(|| {
                error(format!(
                    "The $hash function's algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512, not '{algorithm}'"
                ))
            })
        }),
        "random" => evaluator.register_fn_override("random", move |args: &[JValue]| {
            let draw = match args.first() {
                None | Some(JValue::Undefined) => next(),
                Some(JValue::Number(seed)) => seeded(seed.to_bits()),
                Some(_) => return Err(error("The $random function's seed must be a number")),
            };
            Ok(JValue::Number((draw >> 11) as f64 / (1u64 << 53) as f64))
        }),
        "uuid" => {
            let rng = crate::rng::Rng::new(seed);
            evaluator.register_fn("uuid", move |_: &[JValue]| Ok(JValue::from(rng.uuid_v4())))
        }
        _ => evaluator.register_fn("parse", |args: &[JValue]| {
            let Some(text) = args.first().and_then(JValue::as_str) else {
                return Err(error("The $parse function's argument must be a string"));
            };
            let value: Value =
                serde_json::from_str(text).map_err(|e| error(format!("The $parse function's argument is not JSON: {e}")))?;
            Ok(to_jvalue(&value))
        }),
    };
    debug_assert!(registered.is_ok(), "{name} collides with a JSONata built-in");
}

/// SplitMix64: one draw from a seed.
fn seeded(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub fn to_jvalue(value: &Value) -> JValue {
    match value {
        Value::Null => JValue::Null,
        Value::Bool(b) => JValue::Bool(*b),
        Value::Number(n) => JValue::Number(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => JValue::string(s.as_str()),
        Value::Array(items) => JValue::array(items.iter().map(to_jvalue).collect()),
        Value::Object(map) => JValue::Object(Rc::new(map.iter().map(|(k, v)| (k.clone(), to_jvalue(v))).collect())),
    }
}

/// A JSONata value as JSON; a function (or anything else not JSON) is `Unsupported`.
pub fn from_jvalue(value: &JValue) -> Result<Value, Failed> {
    Ok(match value {
        JValue::Undefined => return Err(Failed::Nothing),
        JValue::Null => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => number(*n),
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                match from_jvalue(item) {
                    Ok(v) => out.push(v),
                    // An undefined member of a sequence is no member at all.
                    Err(Failed::Nothing) => {}
                    Err(e) => return Err(e),
                }
            }
            Value::Array(out)
        }
        JValue::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map.iter() {
                match from_jvalue(v) {
                    Ok(v) => {
                        out.insert(k.clone(), v);
                    }
                    // JSON.stringify drops an undefined member.
                    Err(Failed::Nothing) => {}
                    Err(e) => return Err(e),
                }
            }
            Value::Object(out)
        }
        _ => return Err(Failed::Unsupported),
    })
}

/// A number as JavaScript writes it in JSON: integral values without a fraction.
fn number(n: f64) -> Value {
    if !n.is_finite() {
        return Value::Null;
    }
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        return Value::from(n as i64);
    }
    if n.fract() == 0.0
        && n.abs() < 1e21
        && let Ok(v) = serde_json::from_str(&format!("{n:.0}"))
    {
        return v;
    }
    serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
}

/// The JSONata type name of a JSON value, as AWS's causes give it.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_outside_strings_are_found() {
        assert_eq!(dollar_names("$a + $states.input.x & '$not' & \"$no\" & $b_2"), ["a", "states", "b_2"]);
    }

    #[test]
    fn numbers_come_back_as_javascript_writes_them() {
        assert_eq!(number(7.0).to_string(), "7");
        assert_eq!(number(-0.0).to_string(), "0");
        assert_eq!(number(1.5).to_string(), "1.5");
        assert_eq!(number(1e20).to_string(), "100000000000000000000");
    }

    #[test]
    fn states_members_are_told_apart() {
        let e = Expression::compile("{% $states.input.a + $states.inputs %}").unwrap();
        assert!(e.states.input && !e.states.result && e.states.context == ContextUse::None);
        let e = Expression::compile("{% $keys($states) %}").unwrap();
        assert!(e.states.input && e.states.result && e.states.error_output && e.states.context == ContextUse::All);
        let e = Expression::compile("{% $states.context.Map.Item.Value %}").unwrap();
        assert_eq!(e.states.context, ContextUse::Members([false, false, false, false, true]));
    }
}
