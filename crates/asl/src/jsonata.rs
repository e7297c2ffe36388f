//! JSONata expressions (`"{% ... %}"` in a JSONata state), on the vendored
//! jsonata-core engine. An expression is parsed once, when the definition
//! loads; its syntax tree is plain data, shared by every thread that runs it.
//! At each evaluation only what the expression names is handed to the engine:
//! the `$states` members it reads, the workflow variables it references, and
//! Step Functions' own functions (`$partition`, `$range`, `$hash`, `$random`,
//! `$uuid`, `$parse`) when it calls them.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context as Bindings, Evaluator, EvaluatorError, EvaluatorOptions};
use jsonata_core::value::JValue;
use orderflow_value::{Map, Value};

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

/// Where a plain path expression starts.
#[derive(Debug, Clone, PartialEq)]
enum Start {
    Input,
    Result,
    ErrorOutput,
    Context,
    Variable(Arc<str>),
}

/// An expression that is only a path of plain field names from `$states.x`
/// or a variable (`$states.input.order.id`, `$limit.max`), read straight from
/// the executor's JSON as the engine would read it.
#[derive(Debug, Clone, PartialEq)]
struct PlainPath {
    start: Start,
    fields: Box<[String]>,
}

impl PlainPath {
    fn parse(text: &str) -> Option<PlainPath> {
        let rest = text.strip_prefix('$')?;
        let mut parts = rest.split('.');
        let plain = |p: &str| {
            p.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        let first = parts.next()?;
        if !plain(first) {
            return None;
        }
        let start = if first == "states" {
            match parts.next()? {
                "input" => Start::Input,
                "result" => Start::Result,
                "errorOutput" => Start::ErrorOutput,
                "context" => Start::Context,
                _ => return None,
            }
        } else {
            Start::Variable(first.into())
        };
        let fields: Vec<String> = parts.map(str::to_owned).collect();
        fields.iter().all(|f| plain(f)).then(|| PlainPath { start, fields: fields.into() })
    }

    /// The value, `Err(Nothing)` when a field is missing, or `None` when
    /// the engine must decide (an array on the way, whose items a JSONata
    /// path maps over; a variable not set, which may name a function).
    fn read(&self, env: &Env<'_>) -> Option<Result<Value, Failed>> {
        let s = &env.states;
        let walk = |root: &Value, fields: &[String]| -> Option<Result<Value, Failed>> {
            let mut at = root;
            for field in fields {
                match at {
                    Value::Object(map) => match map.get(field) {
                        Some(next) => at = next,
                        None => return Some(Err(Failed::Nothing)),
                    },
                    Value::Array(_) => return None,
                    _ => return Some(Err(Failed::Nothing)),
                }
            }
            Some(Ok(as_jsonata(at)))
        };
        match &self.start {
            Start::Input => walk(s.input, &self.fields),
            Start::Result => s.result.map_or(Some(Err(Failed::Nothing)), |r| walk(r, &self.fields)),
            Start::ErrorOutput => s.error_output.map_or(Some(Err(Failed::Nothing)), |e| walk(e, &self.fields)),
            Start::Context => match self.fields.first() {
                Some(member) if CONTEXT_MEMBERS.contains(&member.as_str()) => match s.context.member(member) {
                    Some(value) => walk(&value, &self.fields[1..]),
                    None => Some(Err(Failed::Nothing)),
                },
                _ => walk(s.context.value(), &self.fields),
            },
            Start::Variable(name) => walk(&*env.vars.get(name)?, &self.fields),
        }
    }
}

/// A JSON value as it comes out of the engine: numbers as JavaScript's
/// doubles write them (`1.0` is `1`), the rest as it is.
fn as_jsonata(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.is_i64() && n.as_i64().is_some_and(|i| i.unsigned_abs() < 1 << 53) => value.clone(),
        Value::Number(n) => number(n.as_f64().unwrap_or(f64::NAN)),
        Value::Array(items) => Value::array(items.iter().map(as_jsonata).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), as_jsonata(v))).collect()),
        other => other.clone(),
    }
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
    plain: Option<Box<PlainPath>>,
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
    pub input: &'a Arc<Value>,
    pub result: Option<&'a Arc<Value>>,
    pub error_output: Option<&'a Arc<Value>>,
    pub context: &'a crate::context::Context<'a>,
}

thread_local! {
    /// The payloads converted last on this thread, by identity: a state's
    /// input is read by its Arguments, Assign and Output, and a Map's by
    /// every item's ItemSelector. A `Weak` keeps the allocation (so no other
    /// value can take its address) but not the value.
    static CONVERTED: RefCell<Vec<(std::sync::Weak<Value>, JValue)>> = const { RefCell::new(Vec::new()) };
}

/// How many converted payloads a thread keeps.
const CONVERTED_KEPT: usize = 4;

/// `value` in the engine's form, converted once while it is among the last few.
fn converted(value: &Arc<Value>) -> JValue {
    CONVERTED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(i) = cache.iter().position(|(w, _)| w.as_ptr() == Arc::as_ptr(value) && w.strong_count() > 0) {
            let hit = cache.remove(i);
            let jvalue = hit.1.clone();
            cache.insert(0, hit);
            return jvalue;
        }
        let jvalue = to_jvalue(value);
        cache.truncate(CONVERTED_KEPT - 1);
        cache.insert(0, (Arc::downgrade(value), jvalue.clone()));
        jvalue
    })
}

/// What the expressions of one template (or one field) read, each converted
/// to the engine's values at most once, however many expressions read it.
pub struct Env<'a> {
    states: States<'a>,
    vars: &'a Frame,
    input: OnceCell<JValue>,
    result: OnceCell<Option<JValue>>,
    error_output: OnceCell<Option<JValue>>,
    context_all: OnceCell<JValue>,
    context: [OnceCell<Option<JValue>>; CONTEXT_MEMBERS.len()],
    variables: RefCell<Vec<(Arc<str>, Option<JValue>)>>,
}

impl<'a> Env<'a> {
    pub fn new(states: States<'a>, vars: &'a Frame) -> Env<'a> {
        Env {
            states,
            vars,
            input: OnceCell::new(),
            result: OnceCell::new(),
            error_output: OnceCell::new(),
            context_all: OnceCell::new(),
            context: Default::default(),
            variables: RefCell::default(),
        }
    }

    fn variable(&self, name: &Arc<str>) -> Option<JValue> {
        if let Some((_, value)) = self.variables.borrow().iter().find(|(n, _)| n == name) {
            return value.clone();
        }
        let value = self.vars.get(name).map(|v| converted(&v));
        self.variables.borrow_mut().push((name.clone(), value.clone()));
        value
    }

    /// `$states` with the members `used` names.
    fn states(&self, used: StatesUse) -> JValue {
        let s = &self.states;
        let mut members: Vec<(String, JValue)> = Vec::with_capacity(4);
        if used.input {
            members.push(("input".into(), self.input.get_or_init(|| converted(s.input)).clone()));
        }
        if used.result
            && let Some(result) = self.result.get_or_init(|| s.result.map(converted))
        {
            members.push(("result".into(), result.clone()));
        }
        if used.error_output
            && let Some(error) = self.error_output.get_or_init(|| s.error_output.map(converted))
        {
            members.push(("errorOutput".into(), error.clone()));
        }
        match used.context {
            ContextUse::None => {}
            ContextUse::All => {
                let all = self.context_all.get_or_init(|| to_jvalue(s.context.value()));
                members.push(("context".into(), all.clone()));
            }
            ContextUse::Members(wanted) => {
                let context = CONTEXT_MEMBERS
                    .iter()
                    .zip(wanted)
                    .zip(&self.context)
                    .filter(|((_, wanted), _)| *wanted)
                    .filter_map(|((name, _), cell)| {
                        let member = cell.get_or_init(|| s.context.member(name).map(|m| to_jvalue(&m)));
                        Some((name.to_string(), member.clone()?))
                    })
                    .collect();
                members.push(("context".into(), JValue::Object(Rc::new(context))));
            }
        }
        JValue::Object(Rc::new(members.into_iter().collect()))
    }
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
        let plain = PlainPath::parse(inner).map(Box::new);
        Ok(Expression { text: inner.into(), ast: Arc::new(ast), names: names.into(), states, plain })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Evaluates the expression: `Ok(value)` or what it could not give.
    pub fn evaluate(&self, env: &Env<'_>, rng: &crate::rng::Rng) -> Result<Value, Failed> {
        if let Some(read) = self.plain.as_ref().and_then(|p| p.read(env)) {
            return read;
        }
        if self.names.iter().any(|n| &**n == "random" || &**n == "uuid") {
            DRAWS.with(|draws| draws.reseed(rng.next_u64()));
        }
        let mut bound: Vec<(String, JValue)> = Vec::with_capacity(self.names.len() + 1);
        if self.states != StatesUse::default() {
            bound.push(("states".into(), env.states(self.states)));
        }
        for name in self.names.iter().filter(|n| !FUNCTIONS.contains(&&***n)) {
            if let Some(value) = env.variable(name) {
                bound.push((name.to_string(), value));
            }
        }
        let result = with_evaluator(|evaluator| {
            let context = evaluator.context_mut();
            for (name, value) in &bound {
                context.bind(name.clone(), value.clone());
            }
            let result = evaluator.evaluate(&self.ast, &JValue::Null);
            let context = evaluator.context_mut();
            for (name, _) in &bound {
                context.unbind(name);
            }
            result
        });
        from_jvalue(&result.map_err(|e| Failed::Threw(message(&e)))?)
    }
}

thread_local! {
    /// The evaluator of this thread, with Step Functions' functions registered.
    static EVALUATOR: RefCell<Option<Evaluator>> = const { RefCell::new(None) };
    /// Where `$random()` and `$uuid()` draw from in the running evaluation.
    static DRAWS: crate::rng::Rng = const { crate::rng::Rng::new(1) };
}

/// Runs `f` on this thread's evaluator; one that failed is not reused.
fn with_evaluator<T>(f: impl FnOnce(&mut Evaluator) -> Result<T, EvaluatorError>) -> Result<T, EvaluatorError> {
    EVALUATOR.with(|cell| {
        let Ok(mut slot) = cell.try_borrow_mut() else {
            // Only a re-entrant call finds it borrowed: it gets an evaluator of its own.
            return f(&mut new_evaluator());
        };
        let evaluator = slot.get_or_insert_with(new_evaluator);
        let result = f(evaluator);
        if result.is_err() {
            *slot = None;
        }
        result
    })
}

fn new_evaluator() -> Evaluator {
    let options = EvaluatorOptions {
        timeout_ms: Some(TIMEOUT_MS),
        max_sequence_length: Some(MAX_SEQUENCE),
        ..Default::default()
    };
    let mut evaluator = Evaluator::with_options(Bindings::new(), options);
    for name in FUNCTIONS {
        register(&mut evaluator, name);
    }
    evaluator
}

/// The next draw of the running evaluation's generator.
fn next_draw() -> u64 {
    DRAWS.with(crate::rng::Rng::next_u64)
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

/// Registers one of Step Functions' functions.
fn register(evaluator: &mut Evaluator, name: &str) {
    let registered = match name {
        "partition" => evaluator.register_fn("partition", |args: &[JValue]| {
            // JSONata's rule for an array parameter: a single value (a
            // sequence of one, as `items[price > 10]` gives) is an array of it.
            let single;
            let items: &[JValue] = match args.first() {
                Some(JValue::Array(items)) => items,
                None | Some(JValue::Undefined) => {
                    return Err(error("The $partition function's first argument must be an array"));
                }
                Some(value) => {
                    single = [value.clone()];
                    &single
                }
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
        "random" => evaluator.register_fn_override("random", |args: &[JValue]| {
            let draw = match args.first() {
                None | Some(JValue::Undefined) => next_draw(),
                Some(JValue::Number(seed)) => seeded(seed.to_bits()),
                Some(_) => return Err(error("The $random function's seed must be a number")),
            };
            Ok(JValue::Number((draw >> 11) as f64 / (1u64 << 53) as f64))
        }),
        "uuid" => evaluator.register_fn("uuid", |_: &[JValue]| {
            Ok(JValue::from(DRAWS.with(crate::rng::Rng::uuid_v4)))
        }),
        _ => evaluator.register_fn("parse", |args: &[JValue]| {
            let Some(text) = args.first().and_then(JValue::as_str) else {
                return Err(error("The $parse function's argument must be a string"));
            };
            let value: Value =
                orderflow_value::parse(text).map_err(|e| error(format!("The $parse function's argument is not JSON: {e}")))?;
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
        Value::Object(map) => JValue::Object(Rc::new(map.iter().map(|(k, v)| (k.to_string(), to_jvalue(v))).collect())),
    }
}

/// A JSONata value as JSON; a function (or anything else not JSON) is `Unsupported`.
pub fn from_jvalue(value: &JValue) -> Result<Value, Failed> {
    Ok(match value {
        JValue::Undefined => return Err(Failed::Nothing),
        JValue::Null => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => number(*n),
        JValue::String(s) => Value::from(&**s),
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
            Value::array(out)
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
        && let Ok(v) = orderflow_value::parse(&format!("{n:.0}"))
    {
        return v;
    }
    orderflow_value::Number::from_f64(n).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_outside_strings_are_found() {
        assert_eq!(dollar_names("$a + $states.input.x & '$not' & \"$no\" & $b_2"), ["a", "states", "b_2"]);
    }

    /// The plain-path reading gives what the engine gives, or leaves it to the engine.
    #[test]
    fn plain_paths_read_as_the_engine_does() {
        use crate::context::{Context, ExecutionFacts, StateFacts};
        let input = Arc::new(orderflow_value::json!({
            "a": {"b": [1, 2.5, 3.0], "c": null, "d": "x", "e": {"f": 1.50}},
            "list": [{"k": 1}, {"k": 2}],
            "one": [{"k": 7}],
            "big": 12345678901234567890u64,
            "n": 2.0
        }));
        let facts = ExecutionFacts {
            id: crate::arn::ExecutionArn::given("id"),
            input: input.clone(),
            input_size: 0,
            name: "n".into(),
            role_arn: Some("r".into()),
            start_time: 0,
            redrive_count: Some(0),
            machine_id: "m".into(),
            machine_name: "mn".into(),
            given: None,
        };
        let item = orderflow_value::json!({"v": 1.0});
        let state = StateFacts {
            name: "S",
            entered_time: 0,
            retry_count: None,
            item: Some((3, &item)),
            task_token: None,
            vars: None,
        };
        let context = Context::new(&facts, state);
        let vars = Frame::root();
        vars.preset([(Arc::from("v"), orderflow_value::json!({"w": [1], "x": 4.0}))]);
        let env = Env::new(States { input: &input, result: None, error_output: None, context: &context }, &vars);
        let rng = crate::rng::Rng::new(1);
        let mut plain = 0;
        for text in [
            "$states.input",
            "$states.input.a",
            "$states.input.a.b",
            "$states.input.a.c",
            "$states.input.a.d",
            "$states.input.a.e.f",
            "$states.input.a.missing",
            "$states.input.a.d.x",
            "$states.input.list.k",
            "$states.input.one.k",
            "$states.input.big",
            "$states.input.n",
            "$states.result",
            "$states.result.x",
            "$states.context.Map.Item.Value.v",
            "$states.context.Map.Item.Index",
            "$states.context.State.Name",
            "$states.context.Execution.Input.n",
            "$v",
            "$v.w",
            "$v.x",
            "$v.nope",
            "$nope",
        ] {
            let e = Expression::compile(&format!("{{% {text} %}}")).unwrap();
            let engine = Expression { plain: None, ..e.clone() }.evaluate(&env, &rng);
            if let Some(read) = e.plain.as_ref().and_then(|p| p.read(&env)) {
                plain += 1;
                assert_eq!(read, engine, "{text}");
            }
        }
        assert!(plain >= 18, "only {plain} read as plain paths");
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
