//! TestState: one state run once, through the same pipeline an execution
//! uses, with every step's value kept for inspection: the input, after
//! InputPath, after Parameters, the task's result, after ResultSelector, after
//! ResultPath; then the output and the next state. A task can be answered by
//! a mock (its whole result, or an error). Nothing is retried: a matching
//! Retry makes the outcome RETRIABLE, a matching Catch CAUGHT_ERROR, as Step
//! Functions' TestState reports them.

use serde::Serialize;
use serde_json::Value;

use crate::error::{Failure, StatesError, matches};
use crate::executor::{Clock, ExecutionOptions, Invoker, Parts, Run, TaskFailure, TaskMocks, Thread};
use crate::model::{Kind, State, Target, Transition};
use crate::pipeline::{Payload, Scope};
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
    pub result: Option<Value>,
    pub after_result_selector: Option<Value>,
    pub after_result_path: Option<Value>,
    pub retry_index: Option<usize>,
    pub retry_backoff_seconds: Option<f64>,
    pub catch_index: Option<usize>,
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

/// Runs `state` once on `input`. `retry_count` is the attempts
/// already made (stateConfiguration.retrierRetryCount). Err: what cannot be
/// tested (a mock on a state other than a Task, a Map or Parallel state).
pub async fn test_state(
    state: &State,
    input: Value,
    mock: Option<TestMock>,
    retry_count: u32,
    invoker: &dyn Invoker,
    clock: &dyn Clock,
    options: &ExecutionOptions,
) -> Result<TestOutcome, String> {
    if mock.is_some() && !matches!(state.kind, Kind::Task { .. }) {
        return Err("A mock can only be given for a Task state here".into());
    }
    if matches!(state.kind, Kind::Task { resource: crate::model::Resource::LambdaInvokeCallback, .. }) && mock.is_none()
    {
        return Err("A .waitForTaskToken task is tested here with a mock (no token is waited for)".into());
    }
    if matches!(state.kind, Kind::Map(_) | Kind::Parallel { .. }) {
        return Err("orderflow's TestState does not run Map or Parallel states yet".into());
    }
    let mocks = mock.map(OneAnswer);
    let raw = Payload::measured(std::sync::Arc::new(input));
    let parts = Parts { invoker, mocks: mocks.as_ref().map(|m| m as &dyn TaskMocks), tokens: None, clock };
    // Its events go to a history nobody reads.
    let run = Run::new(parts, options, &raw, Default::default());
    let thread = Thread::default();
    let scope = Scope { run: &run, state, thread: &thread, entered_id: 1, entered_time: clock.now_nanos() };
    let mut seen = Inspection { input: Some((*raw.value).clone()), ..Inspection::default() };
    let flowed = flow(&scope, &raw, retry_count, &mut seen).await;
    let ok = |output: Payload, next: Option<String>, seen: Inspection| TestOutcome {
        status: TestStatus::Succeeded,
        output: Some((*output.value).clone()),
        error: None,
        cause: None,
        next_state: next,
        inspection: seen,
    };
    let failure = match flowed {
        Ok((output, next)) => return Ok(ok(output, next, seen)),
        Err(f) => f,
    };
    let failed = |f: Failure, seen: Inspection| TestOutcome {
        status: TestStatus::Failed,
        output: None,
        error: (!f.error.is_empty()).then_some(f.error),
        cause: f.cause,
        next_state: None,
        inspection: seen,
    };
    // Runtime errors are caught by nothing, retried by nothing.
    if failure.is(StatesError::Runtime) || !matches!(state.kind, Kind::Task { .. }) {
        return Ok(failed(failure, seen));
    }
    if let Some(i) = state.retry.iter().position(|r| matches(&r.error_equals, &failure.error)) {
        let r = &state.retry[i];
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
    if let Some(i) = state.catch.iter().position(|c| matches(&c.error_equals, &failure.error)) {
        let catcher = &state.catch[i];
        let error = Payload::measured(std::sync::Arc::new(failure.to_value()));
        seen.catch_index = Some(i);
        return Ok(match scope.result_path(catcher.result_path.as_ref(), raw, error) {
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

/// The pipeline of one state, keeping each step's value in `seen`.
async fn flow(
    scope: &Scope<'_, '_>,
    raw: &Payload,
    retry_count: u32,
    seen: &mut Inspection,
) -> Result<(Payload, Option<String>), Failure> {
    let state = scope.state;
    let io = &state.io;
    let keep = |p: &Payload| Some((*p.value).clone());
    let retries = matches!(state.kind, Kind::Task { .. }).then_some(retry_count);
    let context = scope.context(retries);
    match &state.kind {
        Kind::Fail { error, cause } => Err(states::fail::run(scope, &raw.value, error, cause)),
        Kind::Succeed => {
            let effective = scope.input_path(raw, &context)?;
            seen.after_input_path = keep(&effective);
            Ok((scope.output_path(effective, &context)?, None))
        }
        Kind::Choice { choices, default } => {
            let effective = scope.input_path(raw, &context)?;
            seen.after_input_path = keep(&effective);
            let mut chosen = None;
            for (rule, next) in choices {
                if crate::choice::evaluate(rule, &effective.value, &context).map_err(|e| scope.runtime(e))? {
                    chosen = Some(next);
                    break;
                }
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
            seen.after_input_path = keep(&effective);
            let result = match &state.kind {
                Kind::Pass { result: Some((value, size)) } => Payload { value: value.clone(), size: *size },
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
                            let result =
                                states::task::run(scope, resource, limits, &effective.value, input, &context).await?;
                            seen.result = keep(&result);
                            result
                        }
                        _ => input,
                    }
                }
            };
            let selected = match (&state.kind, &io.result_selector) {
                (Kind::Task { .. }, Some(selector)) => {
                    let selected = scope.render(selector, &result, &context)?;
                    seen.after_result_selector = keep(&selected);
                    selected
                }
                _ => result,
            };
            let combined = match &state.kind {
                Kind::Wait(_) => selected,
                _ => {
                    let combined = scope.result_path(io.result_path.as_ref(), raw.clone(), selected)?;
                    seen.after_result_path = keep(&combined);
                    combined
                }
            };
            Ok((scope.output_path(combined, &context)?, next_of(state)))
        }
        Kind::Map(_) | Kind::Parallel { .. } => Err(Failure::new(StatesError::Runtime, "not testable here")),
    }
}
