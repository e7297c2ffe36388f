//! TestState: one state run once, through the same pipeline an execution
//! uses, with every step's value kept for inspection: the input, after
//! InputPath, after Parameters, the task's result, after ResultSelector, after
//! ResultPath; then the output and the next state. A task can be answered by
//! a mock (its whole result, or an error). Nothing is retried: a matching
//! Retry makes the outcome RETRIABLE, a matching Catch CAUGHT_ERROR, as Step
//! Functions' TestState reports them.

mod context;

use orderflow_value::Value;
use serde::Serialize;

use crate::error::{Failure, StatesError, matches};
use crate::executor::{
    Clock, ExecutionOptions, HttpRequestShown, HttpResponseShown, HttpTrace, Invoker, Parts, Run, Services,
    TaskFailure, TaskMocks, Thread,
};
use crate::model::{Given, Kind, State, Target, Transition};
use crate::pipeline::{Now, Payload, Scope};
use crate::states;

/// The answer a mock gives in place of the task.
#[derive(Debug, Clone, PartialEq)]
pub enum TestMock {
    /// The task's whole result (for `lambda:invoke`, with its `Payload`).
    Result(Value),
    Error {
        error: String,
        cause: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TestStatus {
    Succeeded,
    Failed,
    Retriable,
    CaughtError,
}

/// Each step's value, where the state has that step and got to it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inspection {
    pub input: Option<Value>,
    pub after_input_path: Option<Value>,
    pub after_parameters: Option<Value>,
    /// A JSONata state's Arguments, evaluated.
    pub after_arguments: Option<Value>,
    pub result: Option<Value>,
    pub after_result_selector: Option<Value>,
    pub after_result_path: Option<Value>,
    pub retry_index: Option<usize>,
    pub retry_backoff_seconds: Option<f64>,
    pub catch_index: Option<usize>,
    /// A Map state's items, and each one after its ItemSelector.
    pub after_items_path: Option<Value>,
    pub after_item_selector: Option<Value>,
    /// A Distributed Map's items read at its ReaderConfig's ItemsPointer, and its children's inputs after its ItemBatcher.
    pub after_items_pointer: Option<Value>,
    pub after_item_batcher: Option<Value>,
    pub max_concurrency: Option<u64>,
    pub tolerated_failure_count: Option<i64>,
    pub tolerated_failure_percentage: Option<f64>,
    /// The workflow variables after the state, when there are any.
    pub variables: Option<Value>,
    /// An HTTP Task's request and answer (inspection level TRACE).
    pub request: Option<HttpRequestShown>,
    pub response: Option<HttpResponseShown>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TestOutcome {
    pub status: TestStatus,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub next_state: Option<String>,
    pub inspection: Inspection,
}

struct OneAnswer(TestMock);

impl TaskMocks for OneAnswer {
    fn answer(&self, _state: &str, _invocation: u32) -> Option<Result<Value, TaskFailure>> {
        Some(match &self.0 {
            TestMock::Result(value) => Ok(value.clone()),
            TestMock::Error { error, cause } => Err(TaskFailure { error: error.clone(), cause: cause.clone() }),
        })
    }
}

fn next_of(state: &State) -> Option<String> {
    match &state.transition {
        Transition::Next(Target { name, .. }) => Some(name.clone()),
        Transition::End | Transition::Own => None,
    }
}

/// Why a state cannot be tested as asked, in AWS's words: a bad request, or
/// a definition TestState does not take.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    Request(String),
    Definition(String),
}

impl From<String> for Refused {
    fn from(message: String) -> Refused {
        Refused::Request(message)
    }
}

impl From<&str> for Refused {
    fn from(message: &str) -> Refused {
        Refused::Request(message.to_owned())
    }
}

/// What a TestState call gives besides the state and its input.
pub struct TestSetup {
    pub mock: Option<TestMock>,
    /// The attempts already made (stateConfiguration.retrierRetryCount).
    pub retry_count: u32,
    /// The context object (`$$`) to test with, in place of the one a run would have.
    pub context: Option<Value>,
    /// Workflow variables in scope (TestState's `variables`).
    pub variables: orderflow_value::Map,
    /// A Distributed Map's ItemReader's data, as its source holds it (stateConfiguration.mapItemReaderData).
    pub map_item_reader_data: Option<String>,
    /// How many of a Map's iterations failed (stateConfiguration.mapIterationFailureCount), for its tolerated failure threshold.
    pub map_iteration_failure_count: Option<u32>,
    /// Inspection level TRACE: an HTTP Task's request and answer are kept,
    /// the connection's additions to the request only when `reveal_secrets`.
    pub http_trace: Option<HttpTrace>,
}

/// Runs `state` once on `input`. Err: what cannot be tested (a mock on a
/// state that runs nothing, a Map or Parallel state without one, a callback
/// task without one).
pub async fn test_state(
    state: &State,
    input: Value,
    setup: TestSetup,
    invoker: &dyn Invoker,
    services: Option<&dyn Services>,
    clock: &dyn Clock,
    options: &ExecutionOptions,
) -> Result<TestOutcome, Refused> {
    let TestSetup {
        mock,
        retry_count,
        context,
        variables,
        map_item_reader_data,
        map_iteration_failure_count,
        http_trace,
    } = setup;
    if (map_item_reader_data.is_some() || map_iteration_failure_count.is_some()) && !matches!(state.kind, Kind::Map(_))
    {
        return Err(format!(
            "mapItemReaderData and mapIterationFailureCount configure a Map state, not a {} state",
            state.kind.type_name()
        )
        .into());
    }
    if map_item_reader_data.is_some()
        && !matches!(&state.kind, Kind::Map(spec) if spec.distributed.as_ref().is_some_and(|d| d.reader.is_some()))
    {
        return Err("mapItemReaderData is the data of a Distributed Map's ItemReader; this Map has none".into());
    }
    let runs_something = runs_something(&state.kind);
    if mock.is_some() && !runs_something {
        return Err(format!("State type '{}' is not supported when a mock is specified", state.kind.type_name()).into());
    }
    if matches!(&state.kind, Kind::Task { resource, .. } if resource.waits_for_token()) && mock.is_none() {
        return Err("A .waitForTaskToken task is tested here with a mock (no token is waited for)".into());
    }
    if map_iteration_failure_count.is_some() && mock.is_none() {
        return Err("TestState does not support MapIterationFailureCount when a mock is not specified.".into());
    }
    if matches!(state.kind, Kind::Map(_) | Kind::Parallel { .. }) && mock.is_none() {
        return Err(Refused::Definition(
            "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]"
                .into(),
        ));
    }
    // A mocked result has the shape the state's own result has.
    if let Some(TestMock::Result(result)) = &mock {
        match &state.kind {
            Kind::Map(spec) if spec.distributed.as_ref().is_some_and(|d| d.writer.is_some()) && !result.is_object() => {
                return Err("Mocked result must be a JSON object.".into());
            }
            Kind::Map(spec) if spec.distributed.as_ref().is_some_and(|d| d.writer.is_some()) => {}
            Kind::Map(_) => {
                let Value::Array(items) = result else { return Err("Mocked result must be an array.".into()) };
                if map_iteration_failure_count.is_some_and(|failed| failed as usize > items.len()) {
                    return Err(
                        "Map iteration failure count must be less than or equal to the number of Map iterations".into(),
                    );
                }
            }
            Kind::Parallel { branches } => match result {
                Value::Array(items) if items.len() == branches.len() => {}
                Value::Array(_) => {
                    return Err(
                        "Mocked result must contain the same number of items as number of Parallel branches.".into()
                    );
                }
                _ => return Err("Mocked result must be an array.".into()),
            },
            _ => {}
        }
    }
    if context.is_some() && mock.is_none() {
        return Err("A context can be given only with a mock, as Step Functions requires".into());
    }
    if let Some(problem) = context.as_ref().and_then(|c| context::problem(state, c)) {
        return Err(format!("Invalid Context object provided: {problem}").into());
    }
    let mocks = mock.map(OneAnswer);
    let raw = Payload::measured(std::sync::Arc::new(input));
    let parts = Parts {
        invoker,
        services,
        activities: None,
        mocks: mocks.as_ref().map(|m| m as &dyn TaskMocks),
        map_runs: None,
        tokens: None,
        clock,
    };
    // Its events go to a history nobody reads.
    let mut run = Run::new(parts, options, &raw, Default::default());
    run.facts.given = context.map(std::sync::Arc::new);
    // Without a role, the context object's Execution.RoleArn is null.
    run.facts.role_arn = options.role_arn.clone();
    run.http_trace = http_trace.map(std::sync::Arc::new);
    let thread = Thread::default();
    let vars = crate::variables::Frame::root();
    vars.preset(variables.into_iter().map(|(name, value)| (std::sync::Arc::from(name), value)));
    let scope = Scope {
        run: &run,
        state,
        thread: &thread,
        entered_id: 1,
        entered_time: clock.now_nanos(),
        vars: &vars,
        assigned: Default::default(),
        before_entered: 0,
    };
    let mut seen = Inspection { input: Some((*raw.value).clone()), ..Inspection::default() };
    let map = MapConfig { reader_data: map_item_reader_data.as_deref(), failures: map_iteration_failure_count };
    let flowed = flow(&scope, &raw, retry_count, map, &mut seen).await;
    let snapshot = |vars: &crate::variables::Frame| {
        let all = vars.snapshot();
        (!all.is_empty()).then_some(Value::Object(all))
    };
    seen.variables = snapshot(&vars);
    if let Some(exchange) = run.http_trace.as_ref().and_then(|t| t.exchange.lock().ok()?.take()) {
        seen.request = Some(exchange.request);
        seen.response = exchange.response;
    }
    let ok = |output: Payload, next: Option<String>, seen: Inspection| TestOutcome {
        status: TestStatus::Succeeded,
        output: Some((*output.value).clone()),
        error: None,
        cause: None,
        next_state: next,
        inspection: seen,
    };
    let mut failure = match flowed {
        Ok((output, next)) => return Ok(ok(output, next, seen)),
        Err(f) => f,
    };
    // A state tested alone has no events: its runtime errors do not name
    // the state and the event it entered at, as an execution's do (AWS's TestState).
    if failure.is(StatesError::Runtime) {
        let at = format!(
            "An error occurred while executing the state '{}' (entered at the event id #{}). ",
            state.name, scope.entered_id
        );
        failure.cause = failure.cause.map(|c| c.strip_prefix(&at).map_or(c.clone(), str::to_owned));
    }
    let failed = |f: Failure, seen: Inspection| TestOutcome {
        status: TestStatus::Failed,
        output: None,
        error: (!f.error.is_empty()).then_some(f.error),
        cause: f.cause,
        next_state: None,
        inspection: seen,
    };
    // Runtime errors are caught by nothing, retried by nothing.
    if failure.is(StatesError::Runtime) || !runs_something {
        return Ok(failed(failure, seen));
    }
    if let Some(i) = state.retry.iter().position(|r| matches(&r.error_equals, &failure)) {
        let r = &state.retry[i];
        // The retrier that matched is shown even when its attempts are spent (AWS's inspection).
        seen.retry_index = Some(i);
        if retry_count < r.max_attempts {
            let mut seconds = r.interval_seconds * r.backoff_rate.powi(retry_count.min(1024) as i32);
            if let Some(max) = r.max_delay_seconds {
                seconds = seconds.min(max);
            }
            seen.retry_index = Some(i);
            seen.retry_backoff_seconds = Some(seconds);
            return Ok(TestOutcome { status: TestStatus::Retriable, ..failed(failure, seen) });
        }
    }
    if let Some(i) = state.catch.iter().position(|c| matches(&c.error_equals, &failure)) {
        let catcher = &state.catch[i];
        let error = Payload::measured(std::sync::Arc::new(failure.to_value()));
        seen.catch_index = Some(i);
        // The catcher sees the state's context, its RetryCount included (AWS's TestState).
        let context = scope.context(Some(retry_count));
        let output = if state.jsonata {
            // As a run takes it: the catcher's Assign and Output, `$states.errorOutput` the error.
            let now = Now::input(&raw.value).with_error(&error.value);
            scope.conclude(catcher.assign.as_ref(), catcher.output.as_ref(), now, error.clone(), &context)
        } else {
            scope
                .assign(catcher.assign.as_ref(), &error, &context)
                .and_then(|()| scope.result_path(catcher.result_path.as_ref(), raw, error))
        };
        seen.variables = snapshot(&vars);
        return Ok(match output {
            Ok(output) => TestOutcome {
                status: TestStatus::CaughtError,
                output: Some((*output.value).clone()),
                error: (!failure.error.is_empty()).then_some(failure.error),
                cause: failure.cause,
                next_state: Some(catcher.next.name.clone()),
                inspection: seen,
            },
            Err(f) => failed(f, seen),
        });
    }
    Ok(failed(failure, seen))
}

/// Task, Map and Parallel states run something (a mock may answer them), and
/// only they retry and show a RetryCount.
fn runs_something(kind: &Kind) -> bool {
    matches!(kind, Kind::Task { .. } | Kind::Map(_) | Kind::Parallel { .. })
}

/// TestState's stateConfiguration for a Map state.
#[derive(Clone, Copy)]
struct MapConfig<'c> {
    reader_data: Option<&'c str>,
    failures: Option<u32>,
}

/// The pipeline of one state, keeping each step's value in `seen`.
async fn flow(
    scope: &Scope<'_, '_>,
    raw: &Payload,
    retry_count: u32,
    map: MapConfig<'_>,
    seen: &mut Inspection,
) -> Result<(Payload, Option<String>), Failure> {
    let state = scope.state;
    if state.jsonata {
        return flow_jsonata(scope, raw, retry_count, map, seen).await;
    }
    let io = &state.io;
    let keep = |p: &Payload| Some((*p.value).clone());
    let retries = runs_something(&state.kind).then_some(retry_count);
    let context = scope.context(retries);
    match &state.kind {
        Kind::Fail { error, cause } => {
            // AWS shows a Fail state's input after InputPath.
            if let Ok(effective) = scope.input_path(raw, &context) {
                seen.after_input_path = keep(&effective);
            }
            Err(states::fail::run(scope, &raw.value, error, cause))
        }
        Kind::Succeed => {
            let effective = scope.input_path(raw, &context)?;
            seen.after_input_path = keep(&effective);
            Ok((scope.output_path(effective, &context)?, None))
        }
        Kind::Choice { choices, default, assigns, .. } => {
            let effective = scope.input_path(raw, &context)?;
            seen.after_input_path = keep(&effective);
            let mut chosen = None;
            for (i, (rule, next)) in choices.iter().enumerate() {
                if crate::choice::evaluate(rule, &effective.value, &context).map_err(|e| scope.runtime(e))? {
                    chosen = Some(next);
                    scope.assign(assigns.get(i).and_then(Option::as_ref), &effective, &context)?;
                    break;
                }
            }
            if chosen.is_none() && default.is_some() {
                scope.assign(state.assign.as_ref(), &effective, &context)?;
            }
            let next = chosen.or(default.as_ref()).ok_or_else(|| {
                Failure::new(
                    StatesError::NoChoiceMatched,
                    format!("No Matches! The state '{}' has no choice rule that matches and no Default.", state.name),
                )
            })?;
            Ok((scope.output_path(effective, &context)?, Some(next.name.clone())))
        }
        Kind::Wait(_) | Kind::Pass { .. } | Kind::Task { .. } => {
            let effective = scope.input_path(raw, &context)?;
            // A Pass with a Result shows it as its result, and no input after InputPath (AWS's inspection).
            let fixed = matches!(state.kind, Kind::Pass { result: Some(_) });
            if !fixed {
                seen.after_input_path = keep(&effective);
            }
            let result = match &state.kind {
                Kind::Pass { result: Some((value, size)) } => {
                    let result = Payload { value: value.clone(), size: *size };
                    seen.result = keep(&result);
                    result
                }
                Kind::Wait(_) => effective.clone(),
                _ => {
                    let input = match &io.parameters {
                        Some(p) => scope.render(p, &effective, &context)?,
                        None => effective.clone(),
                    };
                    seen.after_parameters = keep(&input);
                    match &state.kind {
                        Kind::Task { resource, timeout_seconds, heartbeat_seconds } => {
                            let limits = states::task::Limits {
                                timeout: timeout_seconds.as_ref(),
                                heartbeat: heartbeat_seconds.as_ref(),
                                token: None,
                            };
                            let result = task_result(scope, (resource, limits), &effective, input, &context).await?;
                            seen.result = keep(&result);
                            result
                        }
                        _ => input,
                    }
                }
            };
            scope.assign(state.assign.as_ref(), &result, &context)?;
            match &state.kind {
                Kind::Wait(_) => Ok((scope.output_path(result, &context)?, next_of(state))),
                Kind::Pass { .. } => {
                    // A Pass has no ResultSelector; AWS shows its result there all the same.
                    seen.after_result_selector = keep(&result);
                    let combined = scope.result_path(io.result_path.as_ref(), raw.clone(), result)?;
                    seen.after_result_path = keep(&combined);
                    Ok((scope.output_path(combined, &context)?, next_of(state)))
                }
                _ => settle(scope, raw, result, &context, seen),
            }
        }
        Kind::Map(spec) => {
            let effective = scope.input_path(raw, &context)?;
            seen.after_input_path = keep(&effective);
            let total = match &spec.distributed {
                Some(distributed) => {
                    let tested = states::distributed_map::test_items(
                        scope,
                        spec,
                        distributed,
                        &effective,
                        &context,
                        map.reader_data,
                    )
                    .await?;
                    let total = tested.items.len();
                    let items = Value::array(tested.items);
                    match &distributed.reader {
                        Some(reader) if reader.config.items_pointer.is_some() => seen.after_items_pointer = Some(items),
                        Some(_) => {}
                        None => seen.after_items_path = Some(items),
                    }
                    seen.after_item_selector = tested.selected.map(Value::array);
                    seen.after_item_batcher = tested.batches.map(Value::array);
                    total
                }
                None => inline_items(scope, spec, &effective, retries, seen)?,
            };
            map_settings(scope, spec, &effective, &context, seen)?;
            given_failures(map.failures, || Ok(total as u64), seen)?;
            // A Map's mocked result is not shown as such (AWS's inspection).
            let result = mocked(scope)?;
            settle(scope, raw, result, &context, seen)
        }
        Kind::Parallel { .. } => {
            // AWS shows neither a Parallel's input after InputPath nor its mocked result.
            let effective = scope.input_path(raw, &context)?;
            if let Some(p) = &io.parameters {
                let input = scope.render(p, &effective, &context)?;
                seen.after_parameters = keep(&input);
            }
            let result = mocked(scope)?;
            settle(scope, raw, result, &context, seen)
        }
    }
}

/// The tested Task's result: its resource called (or mocked) with
/// `parameters`, before any ResultSelector (TestState shows it so).
async fn task_result(
    scope: &Scope<'_, '_>,
    (resource, limits): (&crate::model::Resource, states::task::Limits<'_>),
    effective: &Payload,
    parameters: Payload,
    context: &crate::context::Context<'_>,
) -> Result<Payload, Failure> {
    let parameters = states::task::Parameters::Rendered(parameters.value);
    let answer = states::task::run(scope, resource, limits, &effective.value, parameters, None, context).await?;
    let (states::task::Answer::Whole(result) | states::task::Answer::Selected(result)) = answer;
    Ok(result)
}

/// A JSONata state's pipeline, as a run takes it: its Arguments (kept in
/// `seen`), the task's result or the mock's, then its Assign and Output (or
/// the Choice rule's). A Wait does not wait here.
async fn flow_jsonata(
    scope: &Scope<'_, '_>,
    raw: &Payload,
    retry_count: u32,
    map: MapConfig<'_>,
    seen: &mut Inspection,
) -> Result<(Payload, Option<String>), Failure> {
    let state = scope.state;
    let keep = |p: &Payload| Some((*p.value).clone());
    let retries = runs_something(&state.kind).then_some(retry_count);
    let context = scope.context(retries);
    let now = Now::input(&raw.value);
    let conclude = |result: Payload, now: Now<'_>| {
        scope.conclude(state.assign.as_ref(), state.io.output.as_ref(), now, result, &context)
    };
    let arguments = |seen: &mut Inspection| -> Result<Payload, Failure> {
        let arguments = match &state.io.parameters {
            Some(p) => scope.render_jsonata(p, now, &context)?,
            None => raw.clone(),
        };
        if state.io.parameters.is_some() {
            seen.after_arguments = keep(&arguments);
        }
        Ok(arguments)
    };
    match &state.kind {
        Kind::Fail { error, cause } => Err(states::fail::run(scope, &raw.value, error, cause)),
        Kind::Succeed => Ok((conclude(raw.clone(), now)?, None)),
        Kind::Pass { .. } | Kind::Wait(_) => Ok((conclude(raw.clone(), now)?, next_of(state))),
        Kind::Choice { choices, default, assigns, outputs } => {
            let mut chosen = None;
            for (i, (rule, next)) in choices.iter().enumerate() {
                let holds = match rule {
                    crate::choice::Rule::Condition(expr) => {
                        scope.expr_of_type("Condition", expr, "boolean", now, &context)?.as_bool().unwrap_or(false)
                    }
                    crate::choice::Rule::Constant(b) => *b,
                    _ => false,
                };
                if holds {
                    chosen = Some((i, next));
                    break;
                }
            }
            let (assign, output) = match chosen {
                Some((i, _)) => (assigns.get(i).and_then(Option::as_ref), outputs.get(i).and_then(Option::as_ref)),
                None => (state.assign.as_ref(), state.io.output.as_ref()),
            };
            let next = chosen.map(|(_, next)| next).or(default.as_ref()).ok_or_else(|| {
                Failure::new(
                    StatesError::NoChoiceMatched,
                    format!("No Matches! The state '{}' has no choice rule that matches and no Default.", state.name),
                )
            })?;
            Ok((scope.conclude(assign, output, now, raw.clone(), &context)?, Some(next.name.clone())))
        }
        Kind::Task { resource, timeout_seconds, heartbeat_seconds } => {
            let arguments = arguments(seen)?;
            let limits = states::task::Limits {
                timeout: timeout_seconds.as_ref(),
                heartbeat: heartbeat_seconds.as_ref(),
                token: None,
            };
            let result = task_result(scope, (resource, limits), raw, arguments, &context).await?;
            seen.result = keep(&result);
            let now = now.with_result(&result.value);
            Ok((conclude(result.clone(), now)?, next_of(state)))
        }
        Kind::Map(_) | Kind::Parallel { .. } => {
            // AWS shows only their input, and a Map's concurrency and tolerated failures.
            if let Some(p) = &state.io.parameters {
                scope.render_jsonata(p, now, &context)?;
            }
            if let Kind::Map(spec) = &state.kind {
                let number = |field: &str, expr: &crate::jsonata::Expression| scope.expr(field, expr, now, &context);
                seen.max_concurrency = match &spec.max_concurrency {
                    Given::Value(n) => Some(*n),
                    Given::Expr(e) => number("MaxConcurrency", e)?.as_u64(),
                    Given::Path(_) => None,
                };
                seen.tolerated_failure_count = match &spec.tolerated_failure_count {
                    Some(Given::Value(n)) => Some(*n),
                    Some(Given::Expr(e)) => number("ToleratedFailureCount", e)?.as_i64(),
                    _ => None,
                };
                seen.tolerated_failure_percentage = match &spec.tolerated_failure_percentage {
                    Some(Given::Value(n)) => Some(*n),
                    Some(Given::Expr(e)) => number("ToleratedFailurePercentage", e)?.as_f64(),
                    _ => None,
                };
                let total = || Ok(states::map::items(scope, spec, raw, &context)?.len() as u64);
                given_failures(map.failures, total, seen)?;
            }
            let result = mocked(scope)?;
            let now = now.with_result(&result.value);
            Ok((conclude(result.clone(), now)?, next_of(state)))
        }
    }
}

/// An inline Map's items and each after its ItemSelector, into `seen`: how many there are.
fn inline_items(
    scope: &Scope<'_, '_>,
    spec: &crate::model::MapSpec,
    effective: &Payload,
    retries: Option<u32>,
    seen: &mut Inspection,
) -> Result<usize, Failure> {
    let context = scope.context(retries);
    let items = match scope.select_field(&spec.items_path, &effective.value, &context)? {
        Value::Array(items) => items,
        // TestState's words (AWS's): the path as it reads its document, a
        // context path (`$$.Execution.Input`) shown from the context object's root.
        _ => {
            let text = spec.items_path.text();
            let shown = text.strip_prefix('$').filter(|rest| rest.starts_with('$')).unwrap_or(text);
            return Err(scope.runtime(format!("Reference path \"{shown}\" must point to array.")));
        }
    };
    if let Some(selector) = &spec.item_selector {
        let mut selected = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let item_context = scope.item_context(retries, Some((index, item)));
            selected.push((*scope.render(selector, effective, &item_context)?.value).clone());
        }
        seen.after_item_selector = Some(Value::array(selected));
    }
    let total = items.len();
    seen.after_items_path = Some(Value::Array(items));
    Ok(total)
}

/// The failed iterations given (stateConfiguration.mapIterationFailureCount)
/// against the Map's tolerated failure threshold, as AWS weighs them: only a
/// Map that declares a threshold (ToleratedFailureCount or
/// ToleratedFailurePercentage) fails for them; without one the mocked
/// result stands.
fn given_failures(
    failed: Option<u32>,
    total: impl FnOnce() -> Result<u64, Failure>,
    seen: &Inspection,
) -> Result<(), Failure> {
    let (count, percentage) = (seen.tolerated_failure_count, seen.tolerated_failure_percentage);
    let Some(failed) = failed.filter(|f| *f > 0 && (count.is_some() || percentage.is_some())) else { return Ok(()) };
    if states::map::over_tolerance(failed.into(), Some(total()?), count, percentage) {
        return Err(states::map::tolerance_exceeded());
    }
    Ok(())
}

/// A Map's MaxConcurrency and tolerated failure threshold, into `seen`.
fn map_settings(
    scope: &Scope<'_, '_>,
    spec: &crate::model::MapSpec,
    effective: &Payload,
    context: &crate::context::Context<'_>,
    seen: &mut Inspection,
) -> Result<(), Failure> {
    let read = |p: &crate::path::Path| scope.select_field(p, &effective.value, context);
    seen.max_concurrency = match &spec.max_concurrency {
        Given::Value(n) => Some(*n),
        Given::Path(p) => read(p)?.as_u64(),
        // JSONata states are refused before they run.
        Given::Expr(_) => None,
    };
    seen.tolerated_failure_count = match &spec.tolerated_failure_count {
        None => None,
        Some(Given::Value(n)) => Some(*n),
        Some(Given::Path(p)) => read(p)?.as_i64(),
        Some(Given::Expr(_)) => None,
    };
    seen.tolerated_failure_percentage = match &spec.tolerated_failure_percentage {
        None => None,
        Some(Given::Value(n)) => Some(*n),
        Some(Given::Path(p)) => read(p)?.as_f64(),
        Some(Given::Expr(_)) => None,
    };
    Ok(())
}

/// A Map or Parallel state's mocked result, or its mocked error.
fn mocked(scope: &Scope<'_, '_>) -> Result<Payload, Failure> {
    match scope.run.mocks.and_then(|m| m.answer(&scope.state.name, 0)) {
        Some(Ok(value)) => Ok(Payload::measured(std::sync::Arc::new(value))),
        Some(Err(TaskFailure { error, cause })) => Err(Failure::of(error, Some(cause))),
        None => Err(Failure::new(StatesError::Runtime, "the state's mock gave no answer")),
    }
}

/// A result through ResultSelector, ResultPath and OutputPath.
fn settle(
    scope: &Scope<'_, '_>,
    raw: &Payload,
    result: Payload,
    context: &crate::context::Context<'_>,
    seen: &mut Inspection,
) -> Result<(Payload, Option<String>), Failure> {
    let io = &scope.state.io;
    let keep = |p: &Payload| Some((*p.value).clone());
    if !matches!(scope.state.kind, Kind::Task { .. }) {
        // A Task's Assign was read in the flow, on the same result.
        scope.assign(scope.state.assign.as_ref(), &result, context)?;
    }
    let selected = match &io.result_selector {
        Some(selector) => scope.render(selector, &result, context)?,
        None => result,
    };
    // AWS shows it with or without a ResultSelector.
    seen.after_result_selector = keep(&selected);
    let combined = scope.result_path(io.result_path.as_ref(), raw.clone(), selected)?;
    seen.after_result_path = keep(&combined);
    Ok((scope.output_path(combined, context)?, next_of(scope.state)))
}
