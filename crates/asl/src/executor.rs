//! Runs a parsed state machine with the semantics of the Step Functions
//! documentation, recording a GetExecutionHistory-shaped history.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::choice;
use crate::history::{History, HistoryEvent, details};
use crate::intrinsics::Env;
use crate::model::{Catcher, Kind, Resource, Retrier, State, StateMachine, Transition, WaitFor, function_name};
use crate::path;
use crate::rng::Rng;
use crate::template;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The Step Functions payload quota, for inputs and outputs between states.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// A failed task, as Step Functions sees it: for a Lambda function's error the
/// `error` is its `errorType` and the `cause` Lambda's error document as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskFailure {
    pub error: String,
    pub cause: String,
}

impl TaskFailure {
    /// The failure of a Lambda function that returned `errorType`/`errorMessage`.
    pub fn function_error(error_type: &str, error_message: &str) -> TaskFailure {
        TaskFailure {
            error: error_type.to_owned(),
            cause: json!({"errorMessage": error_message, "errorType": error_type}).to_string(),
        }
    }
}

/// Where Task states send their work: in-process handlers, a Lambda Invoke
/// API endpoint, or a test double.
pub trait Invoker: Send + Sync {
    fn invoke<'a>(&'a self, function: &'a str, payload: Value) -> BoxFuture<'a, Result<Value, TaskFailure>>;
}

/// Time, for timestamps, Wait states and retry intervals.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()>;
}

/// Wall-clock time: Wait states and retry intervals really wait.
#[derive(Debug, Default)]
pub struct RealClock;

impl Clock for RealClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Time that moves only when something waits, and then at once: a Wait of
/// an hour takes no time, and the history still says an hour passed.
#[derive(Debug)]
pub struct VirtualClock(Mutex<OffsetDateTime>);

impl VirtualClock {
    pub fn starting_at(now: OffsetDateTime) -> VirtualClock {
        VirtualClock(Mutex::new(now))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OffsetDateTime> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        VirtualClock::starting_at(OffsetDateTime::now_utc())
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> OffsetDateTime {
        *self.lock()
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        *self.lock() += duration;
        Box::pin(std::future::ready(()))
    }
}

#[derive(Debug, Clone)]
pub struct ExecutionOptions {
    pub name: String,
    pub state_machine_name: String,
    pub region: String,
    pub account: String,
    /// Seeds retry jitter, States.MathRandom and States.UUID.
    pub seed: u64,
}

impl Default for ExecutionOptions {
    fn default() -> Self {
        ExecutionOptions {
            name: "local".into(),
            state_machine_name: "local".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            seed: 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Succeeded,
    Failed,
    TimedOut,
}

/// A finished execution, as DescribeExecution and GetExecutionHistory tell it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub execution_arn: String,
    pub status: ExecutionStatus,
    pub input: Value,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub history: Vec<HistoryEvent>,
    /// Every Retry and Catch entry that acted, in order: for coverage checks.
    pub rules_taken: Vec<RuleTaken>,
}

/// A Retry or Catch entry that acted on an error.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleTaken {
    pub state: String,
    /// `Retry` or `Catch`.
    pub list: &'static str,
    pub index: usize,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq)]
struct Failure {
    error: String,
    cause: String,
}

fn failure(error: &str, cause: impl Into<String>) -> Failure {
    Failure { error: error.to_owned(), cause: cause.into() }
}

/// States.Runtime: not retried, not caught, fails the execution.
fn runtime(cause: impl Into<String>) -> Failure {
    failure("States.Runtime", cause)
}

fn timestamp(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

pub struct Executor<'a> {
    machine: &'a StateMachine,
    invoker: &'a dyn Invoker,
    clock: &'a dyn Clock,
    options: ExecutionOptions,
}

impl<'a> Executor<'a> {
    pub fn new(
        machine: &'a StateMachine,
        invoker: &'a dyn Invoker,
        clock: &'a dyn Clock,
        options: ExecutionOptions,
    ) -> Self {
        Executor { machine, invoker, clock, options }
    }

    pub async fn run(&self, input: Value) -> Execution {
        let o = &self.options;
        let machine_arn = format!("arn:aws:states:{}:{}:stateMachine:{}", o.region, o.account, o.state_machine_name);
        let execution_arn =
            format!("arn:aws:states:{}:{}:execution:{}:{}", o.region, o.account, o.state_machine_name, o.name);
        let start = self.clock.now();
        let run = Run {
            invoker: self.invoker,
            clock: self.clock,
            history: History::default(),
            rng: Rng::new(o.seed),
            region: o.region.clone(),
            context: json!({
                "Execution": {
                    "Id": execution_arn,
                    "Input": input,
                    "Name": o.name,
                    "RoleArn": format!("arn:aws:iam::{}:role/local-execution-role", o.account),
                    "StartTime": timestamp(start),
                },
                "StateMachine": {"Id": machine_arn, "Name": o.state_machine_name},
            }),
            deadline: self.machine.timeout_seconds.map(|s| start + Duration::from_secs(s)),
            rules_taken: Mutex::new(Vec::new()),
        };
        run.record(
            "ExecutionStarted",
            0,
            json!({"input": input.to_string(), "inputDetails": {"truncated": false}, "roleArn": run.context["Execution"]["RoleArn"]}),
        );
        let outcome = run.machine(self.machine, input.clone()).await;
        let last = run.history.events().last().map_or(0, |e| e.id);
        let (status, output, error, cause) = match outcome {
            Ok(output) => {
                run.record(
                    "ExecutionSucceeded",
                    last,
                    json!({"output": output.to_string(), "outputDetails": {"truncated": false}}),
                );
                (ExecutionStatus::Succeeded, Some(output), None, None)
            }
            Err(f) if f.error == EXECUTION_TIMED_OUT => {
                run.record("ExecutionTimedOut", last, json!({"error": "States.Timeout", "cause": f.cause}));
                (ExecutionStatus::TimedOut, None, Some("States.Timeout".to_owned()), Some(f.cause))
            }
            Err(f) => {
                run.record("ExecutionFailed", last, json!({"error": f.error, "cause": f.cause}));
                (ExecutionStatus::Failed, None, Some(f.error), Some(f.cause))
            }
        };
        let rules_taken = run.rules_taken.into_inner().unwrap_or_else(|p| p.into_inner());
        Execution { execution_arn, status, input, output, error, cause, history: run.history.events(), rules_taken }
    }
}

/// Internal marker for the whole execution running past its TimeoutSeconds.
const EXECUTION_TIMED_OUT: &str = "orderflow.ExecutionTimedOut";

enum Step {
    Next(String, Value),
    End(Value),
}

struct Run<'a> {
    invoker: &'a dyn Invoker,
    clock: &'a dyn Clock,
    history: History,
    rng: Rng,
    region: String,
    context: Value,
    deadline: Option<OffsetDateTime>,
    rules_taken: Mutex<Vec<RuleTaken>>,
}

impl Run<'_> {
    fn took(&self, state: &State, list: &'static str, index: usize, error: &str) {
        let taken = RuleTaken { state: state.name.clone(), list, index, error: error.to_owned() };
        self.rules_taken.lock().unwrap_or_else(|p| p.into_inner()).push(taken);
    }

    fn record(&self, kind: &str, previous: u64, body: Value) -> u64 {
        let body = if body.is_null() { Value::Null } else { details(kind, body) };
        self.history.record(self.clock.now(), kind, previous, body)
    }

    fn last_id(&self) -> u64 {
        self.history.events().last().map_or(0, |e| e.id)
    }

    fn context_for(&self, state: &str, entered: OffsetDateTime, retry_count: u32) -> Value {
        let mut context = self.context.clone();
        context["State"] = json!({"Name": state, "EnteredTime": timestamp(entered), "RetryCount": retry_count});
        context
    }

    fn check_deadline(&self) -> Result<(), Failure> {
        match self.deadline {
            Some(deadline) if self.clock.now() >= deadline => {
                Err(failure(EXECUTION_TIMED_OUT, "the execution ran past the state machine's TimeoutSeconds"))
            }
            _ => Ok(()),
        }
    }

    fn machine<'b>(&'b self, machine: &'b StateMachine, input: Value) -> BoxFuture<'b, Result<Value, Failure>> {
        Box::pin(async move {
            let mut name = machine.start_at.clone();
            let mut input = input;
            loop {
                self.check_deadline()?;
                let state = machine.states.get(&name).ok_or_else(|| runtime(format!("no state named {name:?}")))?;
                match self.state(state, input).await? {
                    Step::Next(next, output) => {
                        name = next;
                        input = output;
                    }
                    Step::End(output) => return Ok(output),
                }
            }
        })
    }

    fn input_path(&self, state: &State, raw: &Value, context: &Value) -> Result<Value, Failure> {
        match &state.io.input_path {
            None => Ok(json!({})),
            Some(p) => path::select(p, raw, context).map_err(|e| runtime(format!("InputPath of {}: {e}", state.name))),
        }
    }

    fn output_path(&self, state: &State, value: Value, context: &Value) -> Result<Value, Failure> {
        match &state.io.output_path {
            None => Ok(json!({})),
            Some(p) if p == "$" => Ok(value),
            Some(p) => {
                path::select(p, &value, context).map_err(|e| runtime(format!("OutputPath of {}: {e}", state.name)))
            }
        }
    }

    fn result_path(
        &self,
        state: &State,
        target: Option<&String>,
        raw: &Value,
        result: Value,
    ) -> Result<Value, Failure> {
        match target {
            None => Ok(raw.clone()),
            Some(p) => path::put(raw.clone(), p, result)
                .map_err(|e| failure("States.ResultPathMatchFailure", format!("{}: {e}", state.name))),
        }
    }

    fn render(&self, template_value: &Value, input: &Value, context: &Value) -> Result<Value, Failure> {
        let env = Env { input, context, rng: &self.rng };
        template::render(template_value, &env).map_err(|e| failure(e.error, e.cause))
    }

    fn exit(&self, state: &State, output: &Value) {
        let kind = format!("{}StateExited", state.kind.type_name());
        self.record(
            &kind,
            self.last_id(),
            json!({"name": state.name, "output": output.to_string(), "outputDetails": {"truncated": false}}),
        );
    }

    fn next(&self, state: &State, output: Value) -> Step {
        self.exit(state, &output);
        match &state.transition {
            Transition::Next(next) => Step::Next(next.clone(), output),
            Transition::End | Transition::Own => Step::End(output),
        }
    }

    async fn state(&self, state: &State, raw: Value) -> Result<Step, Failure> {
        let entered = self.clock.now();
        let kind = state.kind.type_name();
        self.record(
            &format!("{kind}StateEntered"),
            self.last_id(),
            json!({"name": state.name, "input": raw.to_string(), "inputDetails": {"truncated": false}}),
        );
        let context = self.context_for(&state.name, entered, 0);
        match &state.kind {
            Kind::Fail { error, error_path, cause, cause_path } => {
                let pick = |literal: &Option<String>, path: &Option<String>| -> Result<String, Failure> {
                    match (literal, path) {
                        (Some(l), _) => Ok(l.clone()),
                        (None, Some(p)) => match path::select(p, &raw, &context) {
                            Ok(Value::String(s)) => Ok(s),
                            Ok(_) => Err(runtime(format!("{p} in {} must select a string", state.name))),
                            Err(e) => Err(runtime(e)),
                        },
                        (None, None) => Ok(String::new()),
                    }
                };
                Err(Failure { error: pick(error, error_path)?, cause: pick(cause, cause_path)? })
            }
            Kind::Succeed => {
                let effective = self.input_path(state, &raw, &context)?;
                Ok(Step::End(self.finish_without_result(state, effective, &context)?))
            }
            Kind::Choice { choices, default } => {
                let effective = self.input_path(state, &raw, &context)?;
                let mut chosen = None;
                for (rule, next) in choices {
                    if choice::evaluate(rule, &effective, &context).map_err(runtime)? {
                        chosen = Some(next.clone());
                        break;
                    }
                }
                let next = chosen.or_else(|| default.clone()).ok_or_else(|| {
                    failure(
                        "States.NoChoiceMatched",
                        format!("no choice rule of {} matched, and it has no Default", state.name),
                    )
                })?;
                let output = self.finish_without_result(state, effective, &context)?;
                Ok(Step::Next(next, output))
            }
            Kind::Wait(wait) => {
                let effective = self.input_path(state, &raw, &context)?;
                let until = |text: &str| {
                    choice::parse_timestamp(text)
                        .ok_or_else(|| runtime(format!("{text:?} is not an RFC 3339 timestamp")))
                };
                let duration = match wait {
                    WaitFor::Seconds(s) => Duration::from_secs(*s),
                    WaitFor::SecondsPath(p) => {
                        let v = path::select(p, &effective, &context).map_err(runtime)?;
                        Duration::from_secs(
                            v.as_u64().ok_or_else(|| runtime(format!("{p} must select a non-negative integer")))?,
                        )
                    }
                    WaitFor::Timestamp(t) => positive_duration(until(t)? - self.clock.now()),
                    WaitFor::TimestampPath(p) => {
                        let v = path::select(p, &effective, &context).map_err(runtime)?;
                        let text = v.as_str().ok_or_else(|| runtime(format!("{p} must select a timestamp string")))?;
                        positive_duration(until(text)? - self.clock.now())
                    }
                };
                if let Some(deadline) = self.deadline
                    && self.clock.now() + duration > deadline
                {
                    self.clock.sleep(positive_duration(deadline - self.clock.now())).await;
                    return Err(failure(
                        EXECUTION_TIMED_OUT,
                        "the execution ran past the state machine's TimeoutSeconds",
                    ));
                }
                self.clock.sleep(duration).await;
                let output = self.output_path(state, effective, &context)?;
                Ok(self.next(state, output))
            }
            Kind::Pass { result } => {
                let effective = self.input_path(state, &raw, &context)?;
                let value = match (result, &state.io.parameters) {
                    (Some(r), _) => r.clone(),
                    (None, Some(p)) => self.render(p, &effective, &context)?,
                    (None, None) => effective,
                };
                let combined = self.result_path(state, state.io.result_path.as_ref(), &raw, value)?;
                let output = self.output_path(state, combined, &context)?;
                Ok(self.next(state, output))
            }
            Kind::Task { .. } | Kind::Parallel { .. } | Kind::Map { .. } => {
                self.with_retries(state, raw, entered).await
            }
        }
    }

    fn finish_without_result(&self, state: &State, effective: Value, context: &Value) -> Result<Value, Failure> {
        let output = self.output_path(state, effective, context)?;
        self.exit(state, &output);
        Ok(output)
    }

    async fn with_retries(&self, state: &State, raw: Value, entered: OffsetDateTime) -> Result<Step, Failure> {
        let mut attempts = vec![0u32; state.retry.len()];
        let mut retry_count = 0u32;
        loop {
            let context = self.context_for(&state.name, entered, retry_count);
            let outcome = async {
                let effective = self.input_path(state, &raw, &context)?;
                let input = match (&state.kind, &state.io.parameters) {
                    (Kind::Map { .. }, _) | (_, None) => effective,
                    (_, Some(p)) => self.render(p, &effective, &context)?,
                };
                let result = match &state.kind {
                    Kind::Task { resource, timeout_seconds } => {
                        self.task(state, resource, *timeout_seconds, input).await?
                    }
                    Kind::Parallel { branches } => self.parallel(branches, input).await?,
                    Kind::Map { .. } => self.map(state, input, &context).await?,
                    _ => unreachable!("only Task, Parallel and Map are retried"),
                };
                let selected = match &state.io.result_selector {
                    Some(selector) => self.render(selector, &result, &context)?,
                    None => result,
                };
                let combined = self.result_path(state, state.io.result_path.as_ref(), &raw, selected)?;
                self.output_path(state, combined, &context)
            }
            .await;
            let f = match outcome {
                Ok(output) => return Ok(self.next(state, output)),
                Err(f) if f.error == "States.Runtime" || f.error == EXECUTION_TIMED_OUT => return Err(f),
                Err(f) => f,
            };
            if let Some(i) = state.retry.iter().position(|r| matches(&r.error_equals, &f.error))
                && attempts[i] < state.retry[i].max_attempts
            {
                self.took(state, "Retry", i, &f.error);
                let delay = self.retry_delay(&state.retry[i], attempts[i]);
                attempts[i] += 1;
                retry_count += 1;
                self.clock.sleep(delay).await;
                self.check_deadline()?;
                continue;
            }
            return match state.catch.iter().position(|c| matches(&c.error_equals, &f.error)) {
                Some(i) => {
                    self.took(state, "Catch", i, &f.error);
                    self.caught(state, &state.catch[i], &raw, f)
                }
                None => Err(f),
            };
        }
    }

    fn caught(&self, state: &State, catcher: &Catcher, raw: &Value, f: Failure) -> Result<Step, Failure> {
        let error_output = json!({"Error": f.error, "Cause": f.cause});
        let output = self.result_path(state, catcher.result_path.as_ref(), raw, error_output)?;
        self.exit(state, &output);
        Ok(Step::Next(catcher.next.clone(), output))
    }

    fn retry_delay(&self, retrier: &Retrier, attempt: u32) -> Duration {
        let mut seconds = retrier.interval_seconds * retrier.backoff_rate.powi(attempt as i32);
        if let Some(max) = retrier.max_delay_seconds {
            seconds = seconds.min(max);
        }
        if retrier.full_jitter {
            seconds *= self.rng.next_f64();
        }
        Duration::from_secs_f64(seconds.max(0.0))
    }

    async fn task(
        &self,
        state: &State,
        resource: &Resource,
        timeout: Option<u64>,
        input: Value,
    ) -> Result<Value, Failure> {
        let (function, payload, wrapped, prefix, resource_field) = match resource {
            Resource::LambdaInvoke => {
                let name = input
                    .get("FunctionName")
                    .and_then(Value::as_str)
                    .ok_or_else(|| runtime(format!("{}: lambda:invoke needs Parameters.FunctionName", state.name)))?
                    .to_owned();
                let payload = input.get("Payload").cloned().unwrap_or_else(|| json!({}));
                (name, payload, true, "Task", "invoke")
            }
            Resource::Function(arn) => (arn.clone(), input.clone(), false, "LambdaFunction", ""),
        };
        let schedule = if wrapped {
            json!({"resourceType": "lambda", "resource": resource_field, "region": self.region,
                   "parameters": input.to_string(), "timeoutInSeconds": timeout})
        } else {
            json!({"resource": function, "input": payload.to_string(), "timeoutInSeconds": timeout})
        };
        let scheduled = self.record(&format!("{prefix}Scheduled"), self.last_id(), schedule);
        let kind_details = |extra: Value| -> Value {
            let mut d = if wrapped { json!({"resourceType": "lambda", "resource": resource_field}) } else { json!({}) };
            if let (Some(d), Some(extra)) = (d.as_object_mut(), extra.as_object()) {
                d.extend(extra.clone());
            }
            d
        };
        self.record(&format!("{prefix}Started"), scheduled, kind_details(Value::Null));
        let call = self.invoker.invoke(function_name(&function), payload);
        let result = match timeout {
            Some(seconds) => match tokio::time::timeout(Duration::from_secs(seconds), call).await {
                Ok(r) => r,
                Err(_) => {
                    let f = failure("States.Timeout", format!("the task did not finish within {seconds} seconds"));
                    self.record(
                        &format!("{prefix}TimedOut"),
                        self.last_id(),
                        kind_details(json!({"error": f.error, "cause": f.cause})),
                    );
                    return Err(f);
                }
            },
            None => call.await,
        };
        match result {
            Ok(output) => {
                let output = if wrapped {
                    json!({
                        "ExecutedVersion": "$LATEST",
                        "Payload": output,
                        "SdkHttpMetadata": {"HttpStatusCode": 200},
                        "SdkResponseMetadata": {"RequestId": self.rng.uuid_v4()},
                        "StatusCode": 200,
                    })
                } else {
                    output
                };
                let text = output.to_string();
                if text.len() > MAX_PAYLOAD_BYTES {
                    let f = failure(
                        "States.DataLimitExceeded",
                        format!("the task's output is {} bytes; the limit is {MAX_PAYLOAD_BYTES}", text.len()),
                    );
                    self.record(
                        &format!("{prefix}Failed"),
                        self.last_id(),
                        kind_details(json!({"error": f.error, "cause": f.cause})),
                    );
                    return Err(f);
                }
                self.record(
                    &format!("{prefix}Succeeded"),
                    self.last_id(),
                    kind_details(json!({"output": text, "outputDetails": {"truncated": false}})),
                );
                Ok(output)
            }
            Err(TaskFailure { error, cause }) => {
                self.record(
                    &format!("{prefix}Failed"),
                    self.last_id(),
                    kind_details(json!({"error": error, "cause": cause})),
                );
                Err(Failure { error, cause })
            }
        }
    }

    async fn parallel(&self, branches: &[StateMachine], input: Value) -> Result<Value, Failure> {
        self.record("ParallelStateStarted", self.last_id(), Value::Null);
        let runs = branches.iter().map(|branch| self.machine(branch, input.clone()));
        let outcomes = futures_util::future::join_all(runs).await;
        let mut outputs = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            match outcome {
                Ok(output) => outputs.push(output),
                Err(f) => {
                    self.record("ParallelStateFailed", self.last_id(), json!({"error": f.error, "cause": f.cause}));
                    return Err(f);
                }
            }
        }
        self.record("ParallelStateSucceeded", self.last_id(), Value::Null);
        Ok(Value::Array(outputs))
    }

    async fn map(&self, state: &State, effective: Value, context: &Value) -> Result<Value, Failure> {
        let Kind::Map {
            processor,
            items_path,
            item_selector,
            max_concurrency,
            tolerated_failure_count,
            tolerated_failure_percentage,
        } = &state.kind
        else {
            return Err(runtime("not a Map state"));
        };
        let items = match path::select(items_path, &effective, context).map_err(runtime)? {
            Value::Array(items) => items,
            _ => return Err(runtime(format!("ItemsPath {items_path} of {} must select an array", state.name))),
        };
        self.record("MapStateStarted", self.last_id(), json!({"length": items.len()}));
        let mut inputs = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            inputs.push(match item_selector {
                Some(selector) => {
                    let mut item_context = context.clone();
                    item_context["Map"] = json!({"Item": {"Index": index, "Value": item}});
                    self.render(selector, &effective, &item_context)?
                }
                None => item.clone(),
            });
        }
        let limit = if *max_concurrency == 0 { inputs.len().max(1) } else { *max_concurrency as usize };
        let iterations = futures_util::stream::iter(inputs.into_iter().enumerate().map(|(index, input)| async move {
            self.record("MapIterationStarted", self.last_id(), json!({"name": state.name, "index": index}));
            let outcome = self.machine(processor, input).await;
            let kind = if outcome.is_ok() { "MapIterationSucceeded" } else { "MapIterationFailed" };
            self.record(kind, self.last_id(), json!({"name": state.name, "index": index}));
            outcome
        }))
        .buffered(limit)
        .collect::<Vec<_>>()
        .await;
        let total = iterations.len();
        let failed: Vec<&Failure> = iterations.iter().filter_map(|r| r.as_ref().err()).collect();
        let tolerant = tolerated_failure_count.is_some() || tolerated_failure_percentage.is_some();
        if let Some(first) = failed.first() {
            let over_count = tolerated_failure_count.is_none_or(|c| failed.len() as u64 > c);
            let over_percentage =
                tolerated_failure_percentage.is_none_or(|p| failed.len() as f64 * 100.0 / total as f64 > p);
            if !tolerant || (over_count && over_percentage) {
                let f = if tolerant {
                    failure(
                        "States.ExceedToleratedFailureThreshold",
                        format!("{} of {total} iterations failed, more than {} tolerates", failed.len(), state.name),
                    )
                } else {
                    (*first).clone()
                };
                self.record("MapStateFailed", self.last_id(), Value::Null);
                return Err(f);
            }
        }
        self.record("MapStateSucceeded", self.last_id(), Value::Null);
        Ok(Value::Array(
            iterations.into_iter().map(|r| r.unwrap_or_else(|f| json!({"Error": f.error, "Cause": f.cause}))).collect(),
        ))
    }
}

fn positive_duration(d: time::Duration) -> Duration {
    Duration::try_from(d).unwrap_or(Duration::ZERO)
}

/// Whether a retrier's or catcher's ErrorEquals covers `error`.
pub fn matches(error_equals: &[String], error: &str) -> bool {
    error_equals.iter().any(|e| match e.as_str() {
        // States.Runtime is never retried or caught.
        _ if error == "States.Runtime" => false,
        "States.ALL" => true,
        // A wildcard for every error but a timeout.
        "States.TaskFailed" => error != "States.Timeout",
        name => name == error,
    })
}
