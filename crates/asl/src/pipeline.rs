//! The one input/output pipeline every state runs through, written once:
//! InputPath → Parameters → (the state's work) → ResultSelector → ResultPath
//! → OutputPath, each step with AWS's error and cause. Values flow as shared
//! references; a copy is made only where a step builds a new value. Each
//! value carries an upper bound of its JSON length, derived step by step, so
//! the 256 KiB quota is counted exactly only when a bound passes it.

use std::borrow::Cow;
use std::sync::Arc;

use orderflow_value::{Map, Value};

use crate::context::{Context, StateFacts};
use crate::error::{Failure, StatesError};
use crate::executor::{Run, Thread};
use crate::history::EventType;
use crate::intrinsics::{Call, CallError};
use crate::jsonata::{Env, Expression, Failed, States};
use crate::model::State;
use crate::path::{Missing, Path, ReferencePath, Root};
use crate::template::Template;

/// The Step Functions payload quota, for inputs and outputs between states.
pub use orderflow_local::quotas::MAX_PAYLOAD_BYTES;

/// A value passed between states, with an upper bound of its JSON length.
#[derive(Debug, Clone)]
pub(crate) struct Payload {
    pub value: Arc<Value>,
    pub size: usize,
}

impl Payload {
    /// A value bounded from its strings' lengths, and counted exactly only
    /// when that bound passes the quota: then its size is exact.
    pub fn measured(value: Arc<Value>) -> Payload {
        let size = json_len_against(&*value, MAX_PAYLOAD_BYTES);
        Payload { value, size }
    }

    pub fn new(value: Value, size: usize) -> Payload {
        Payload { value: Arc::new(value), size }
    }

    fn empty_object() -> Payload {
        Payload::new(Value::Object(Map::new()), 2)
    }
}

/// What the context object can add to a bound beyond the execution input and
/// the Map item: ids, names and times.
const CONTEXT_EXTRA: usize = 4096;

/// One state's run: where its events go and how its errors are worded.
pub(crate) struct Scope<'r, 'a> {
    pub run: &'r Run<'a>,
    pub state: &'r State,
    pub thread: &'r Thread,
    pub entered_id: u64,
    /// Unix nanoseconds.
    pub entered_time: i128,
    /// The workflow variables in scope.
    pub vars: &'r Arc<crate::variables::Frame>,
    /// What the state's Assign (or its matched Choice rule's, or its
    /// catcher's) set, for its StateExited event.
    pub assigned: std::sync::OnceLock<crate::variables::Assigned>,
    /// The event before the state's StateEntered (AWS links an
    /// EvaluationFailed event to it).
    pub before_entered: u64,
}

/// What `$states` holds at one point of a JSONata state.
#[derive(Clone, Copy)]
pub(crate) struct Now<'x> {
    pub input: &'x Arc<Value>,
    pub result: Option<&'x Arc<Value>>,
    pub error_output: Option<&'x Arc<Value>>,
}

impl<'x> Now<'x> {
    pub fn input(input: &'x Arc<Value>) -> Now<'x> {
        Now { input, result: None, error_output: None }
    }

    pub fn with_result(self, result: &'x Arc<Value>) -> Now<'x> {
        Now { result: Some(result), ..self }
    }

    pub fn with_error(self, error_output: &'x Arc<Value>) -> Now<'x> {
        Now { error_output: Some(error_output), ..self }
    }
}

impl<'r, 'a> Scope<'r, 'a> {
    pub fn context(&self, retry_count: Option<u32>) -> Context<'_> {
        self.item_context(retry_count, None)
    }

    pub fn item_context<'s>(&'s self, retry_count: Option<u32>, item: Option<(usize, &'s Value)>) -> Context<'s> {
        Context::new(
            &self.run.facts,
            StateFacts {
                name: &self.state.name,
                entered_time: self.entered_time,
                retry_count,
                item,
                task_token: None,
                vars: Some(self.vars),
            },
        )
    }

    /// The context of a callback task's attempt: with `$$.Task.Token`.
    pub fn task_context<'s>(&'s self, retry_count: u32, token: &'s str) -> Context<'s> {
        Context::new(
            &self.run.facts,
            StateFacts {
                name: &self.state.name,
                entered_time: self.entered_time,
                retry_count: Some(retry_count),
                item: None,
                task_token: Some(token),
                vars: Some(self.vars),
            },
        )
    }

    /// A States.Runtime failure in AWS's words.
    pub fn runtime(&self, detail: impl std::fmt::Display) -> Failure {
        Failure::new(
            StatesError::Runtime,
            format!(
                "An error occurred while executing the state '{}' (entered at the event id #{}). {detail}",
                self.state.name, self.entered_id
            ),
        )
    }

    /// What `path` selects from `input`, or from the context object for `$$` paths.
    pub fn select<'x>(
        &self,
        path: &Path,
        input: &'x Value,
        context: &'x Context<'_>,
    ) -> Result<Cow<'x, Value>, Missing> {
        match path.root() {
            Root::Input => path.select(input),
            Root::Context => context.select(path),
            Root::Variable => context.select_variable(path),
        }
    }

    /// A path field read for the state itself: a missing value is AWS's "Invalid path".
    pub fn select_field(&self, path: &Path, input: &Value, context: &Context<'_>) -> Result<Value, Failure> {
        self.select(path, input, context)
            .map(Cow::into_owned)
            .map_err(|m| self.runtime(format!("Invalid path '{}' : {}", path.text(), m.detail)))
    }

    /// A bound for what a definite path selects from a document bounded by
    /// `size`: its text is part of the document's. (An indefinite path's
    /// matches may overlap, so their array is counted exactly.)
    fn bound(&self, path: &Path, size: usize, selected: &Value) -> usize {
        match path.root() {
            _ if !path.is_definite() => json_len(selected),
            Root::Input => size,
            Root::Context => self.run.facts.input_size + size + CONTEXT_EXTRA,
            Root::Variable => json_len(selected),
        }
    }

    /// A path applied to a payload: the selected value, its bound the payload's.
    fn apply(&self, path: &Option<Path>, payload: Payload, context: &Context<'_>) -> Result<Payload, Failure> {
        match path {
            None => Ok(Payload::empty_object()),
            Some(p) if p.is_root() => Ok(payload),
            Some(p) => {
                let value = self.select_field(p, &payload.value, context)?;
                let size = self.bound(p, payload.size, &value);
                Ok(Payload::new(value, size))
            }
        }
    }

    pub fn input_path(&self, raw: &Payload, context: &Context<'_>) -> Result<Payload, Failure> {
        self.apply(&self.state.io.input_path, raw.clone(), context)
    }

    pub fn output_path(&self, value: Payload, context: &Context<'_>) -> Result<Payload, Failure> {
        self.apply(&self.state.io.output_path, value, context)
    }

    /// What a `"field.$"` path selects; nothing selected is AWS's error for the field.
    pub fn field_path<'x>(
        &self,
        field: &str,
        path: &Path,
        input: &'x Value,
        context: &'x Context<'_>,
    ) -> Result<Cow<'x, Value>, Failure> {
        self.select(path, input, context).map_err(|m| match path.root() {
            Root::Variable => self.runtime(format!(
                "The JSONPath '{}' specified for the field '{field}' could not be found: {}",
                path.text(),
                m.detail
            )),
            _ => self.missing_in_field(path.text(), field, input),
        })
    }

    /// The value of an intrinsic call written in `field`.
    pub fn field_call(&self, field: &str, call: &Call, input: &Value, context: &Context<'_>) -> Result<Value, Failure> {
        let resolve = |p: &Path| {
            self.select(p, input, context).map_err(|m| CallError::Path { path: p.text().to_owned(), detail: m.detail })
        };
        call.evaluate(&resolve, &self.run.rng).map_err(|e| match e {
            CallError::Path { path, .. } => self.missing_in_field(&path, field, input),
            CallError::Failed(message) => Failure::new(StatesError::IntrinsicFailure, message),
        })
    }

    fn missing_in_field(&self, path: &str, field: &str, input: &Value) -> Failure {
        self.runtime(format!(
            "The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{input}'"
        ))
    }

    /// Fills a template (Parameters, ResultSelector, ItemSelector) from `input`.
    pub fn render(&self, template: &Template, input: &Payload, context: &Context<'_>) -> Result<Payload, Failure> {
        let (value, size) = template.render(&mut |leaf| match leaf {
            Template::Path { field, path } => {
                let value = self.field_path(field, path, &input.value, context)?;
                let size = self.bound(path, input.size, &value);
                Ok((value.into_owned(), size))
            }
            Template::Call { field, call } => {
                let value = self.field_call(field, call, &input.value, context)?;
                // A bound, not the length: strings are not read for escapes
                // unless the bound passes the quota.
                let size = json_len_against(&value, MAX_PAYLOAD_BYTES);
                Ok((value, size))
            }
            _ => Ok((Value::Null, 4)),
        })?;
        Ok(Payload::new(value, size))
    }

    /// Finds every path of a template that only selects from `input`,
    /// failing where `render` would fail, without copying what they select.
    pub fn find_paths(&self, template: &Template, input: &Payload, context: &Context<'_>) -> Result<(), Failure> {
        template.leaves(&mut |leaf| match leaf {
            Template::Path { field, path } => self.field_path(field, path, &input.value, context).map(drop),
            _ => Ok(()),
        })
    }

    /// Sets the variables of an Assign, `$` being `value`: every value is read
    /// first, then all are set at once; they show in the StateExited event.
    #[inline]
    pub fn assign(&self, template: Option<&Template>, value: &Payload, context: &Context<'_>) -> Result<(), Failure> {
        match template {
            None => Ok(()),
            Some(template) => self.assign_now(template, value, context),
        }
    }

    fn assign_now(&self, template: &Template, value: &Payload, context: &Context<'_>) -> Result<(), Failure> {
        let rendered = self.render(template, value, context)?;
        self.commit(rendered)
    }

    /// Sets the variables of a rendered Assign.
    fn commit(&self, rendered: Payload) -> Result<(), Failure> {
        let Value::Object(map) = Arc::unwrap_or_clone(rendered.value) else { return Ok(()) };
        if map.is_empty() {
            return Ok(());
        }
        let assigned: Vec<(Arc<str>, Arc<Value>, usize)> = map
            .into_iter()
            .map(|(name, value)| {
                let size = json_len(&value) + name.len();
                (Arc::from(name), Arc::new(value), size)
            })
            .collect();
        self.vars.assign(&assigned).map_err(|e| self.runtime(e))?;
        let shown: crate::variables::Assigned = assigned.into_iter().map(|(name, value, _)| (name, value)).collect();
        // A state assigns once: by itself, by its matched Choice rule, or by its catcher.
        let _ = self.assigned.set(shown);
        Ok(())
    }

    /// The state's input with `result` put at `path`; `None` keeps the input.
    pub fn result_path(&self, path: Option<&ReferencePath>, raw: Payload, result: Payload) -> Result<Payload, Failure> {
        match path {
            None => Ok(raw),
            Some(p) if p.is_root() => Ok(result),
            Some(p) => {
                // The objects created on the way cost at most their keys and braces.
                let size = raw.size + result.size + p.text().len() * 6 + 16;
                let mut target = Arc::unwrap_or_clone(raw.value);
                match p.put(&mut target, Arc::unwrap_or_clone(result.value)) {
                    Ok(()) => Ok(Payload::new(target, size)),
                    Err(_) => Err(Failure::new(
                        StatesError::ResultPathMatchFailure,
                        format!("Unable to apply ReferencePath {} to input '{target}'", p.text()),
                    )),
                }
            }
        }
    }

    /// A JSONata expression's value; its failure is AWS's
    /// States.QueryEvaluationError, recorded as an EvaluationFailed event.
    pub fn expr(&self, field: &str, expr: &Expression, now: Now<'_>, context: &Context<'_>) -> Result<Value, Failure> {
        self.expr_in(field, expr, &self.env(now, context))
    }

    fn env<'x>(&'x self, now: Now<'x>, context: &'x Context<'x>) -> Env<'x> {
        let states = States { input: now.input, result: now.result, error_output: now.error_output, context };
        Env::new(states, self.vars)
    }

    fn expr_in(&self, field: &str, expr: &Expression, env: &Env<'_>) -> Result<Value, Failure> {
        expr.evaluate(env, &self.run.rng).map_err(|failed| {
            let text = expr.text();
            let what = match failed {
                Failed::Threw(message) => format!("threw an error during evaluation. {message}"),
                Failed::Nothing => "returned nothing (undefined).".to_owned(),
                Failed::Unsupported => "returned an unsupported result type.".to_owned(),
            };
            self.query_failed(
                Some(field),
                format!("The JSONata expression '{text}' specified for the field '{field}' {what}"),
            )
        })
    }

    /// An expression's value that must be of one JSON type (`expected`, as JSONata names it).
    pub fn expr_of_type(
        &self,
        field: &str,
        expr: &Expression,
        expected: &str,
        now: Now<'_>,
        context: &Context<'_>,
    ) -> Result<Value, Failure> {
        self.expr_such(field, expr, expected, &|v| v.type_name() == expected, now, context)
    }

    /// An expression's value that must pass `ok` (`expected` says what it must be).
    pub fn expr_such(
        &self,
        field: &str,
        expr: &Expression,
        expected: &str,
        ok: &dyn Fn(&Value) -> bool,
        now: Now<'_>,
        context: &Context<'_>,
    ) -> Result<Value, Failure> {
        let value = self.expr(field, expr, now, context)?;
        if ok(&value) {
            return Ok(value);
        }
        let kind = value.type_name();
        Err(self.query_failed(
            Some(field),
            format!(
                "The JSONata expression '{}' specified for the field '{field}' returned an unexpected result type. Expected '{expected}', but was '{kind}' for value: {value}",
                expr.text()
            ),
        ))
    }

    /// States.QueryEvaluationError in AWS's words, with its EvaluationFailed
    /// event (`location`: the field, when AWS names one).
    pub fn query_failed(&self, location: Option<&str>, detail: impl std::fmt::Display) -> Failure {
        let mut failure = self.runtime(detail);
        failure.error = StatesError::QueryEvaluationError.name().to_owned();
        let mut details = crate::history::Fields::default();
        details.push("error", crate::history::Detail::Text(failure.error.clone()));
        details.push("cause", crate::history::Detail::Text(failure.cause.clone().unwrap_or_default()));
        if let Some(location) = location {
            details.push("location", crate::history::Detail::Text(location.to_owned()));
        }
        details.push("state", crate::history::Detail::Shared(self.state.name.clone()));
        // AWS links the event to the one before the state's entry, but for a Wait to the entry itself.
        let previous = match self.state.kind {
            crate::model::Kind::Wait(_) => self.entered_id,
            _ => self.before_entered,
        };
        // A full history fails the execution on the next event anyway.
        let _ = self.run.record_after(self.thread, previous, EventType::EvaluationFailed, details);
        failure
    }

    /// Fills a JSONata template (Arguments, Output, Items, ItemSelector, Assign).
    pub fn render_jsonata(&self, template: &Template, now: Now<'_>, context: &Context<'_>) -> Result<Payload, Failure> {
        let env = self.env(now, context);
        let (value, size) = template.render(&mut |leaf| match leaf {
            Template::Expr { field, expr } => {
                let value = self.expr_in(field, expr, &env)?;
                let size = json_len(&value);
                Ok((value, size))
            }
            _ => Ok((Value::Null, 4)),
        })?;
        Ok(Payload::new(value, size))
    }

    /// The end of a JSONata state: its Assign and Output read the same
    /// `$states` and the variables as they were; then the variables are set.
    /// Without Output, the output is `default` (the result, or the input).
    pub fn conclude(
        &self,
        assign: Option<&Template>,
        output: Option<&Template>,
        now: Now<'_>,
        default: Payload,
        context: &Context<'_>,
    ) -> Result<Payload, Failure> {
        let assigned = match assign {
            Some(template) => Some(self.render_jsonata(template, now, context)?),
            None => None,
        };
        let output = match output {
            Some(template) => self.render_jsonata(template, now, context)?,
            None => default,
        };
        if let Some(rendered) = assigned {
            self.commit(rendered)?;
        }
        Ok(output)
    }

    /// States.DataLimitExceeded when `payload` is over the quota. The length
    /// is counted only when the bound passes the quota; then it is exact.
    pub fn check_size(&self, payload: &mut Payload, who: &str) -> Result<(), Failure> {
        if payload.size > MAX_PAYLOAD_BYTES {
            payload.size = json_len(&*payload.value);
            if payload.size > MAX_PAYLOAD_BYTES {
                return Err(self.too_large(who));
            }
        }
        Ok(())
    }

    /// States.DataLimitExceeded for what `who` returned.
    pub fn too_large(&self, who: &str) -> Failure {
        Failure::new(
            StatesError::DataLimitExceeded,
            format!(
                "The state/task '{who}' returned a result with a size exceeding the maximum number of bytes service limit."
            ),
        )
    }
}

/// The length of a value's compact JSON text, counted without writing it.
pub use orderflow_json_len::{json_len, json_len_against};
