//! Task: a Lambda function, through the optimized `lambda:invoke`
//! integration (its result wrapped in `Payload`) or by its ARN (the result
//! as it is), with TimeoutSeconds, and the Task*/LambdaFunction* events AWS
//! records for each.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use orderflow_value::{Map, Value};

use crate::context::Context;
use crate::envelope::{complete_envelope, envelope_len};
use crate::error::{Failure, StatesError};
use crate::executor::{Caller, TaskFailure};
use crate::history::{Detail, EventType, Fields, Integration, Moved};
use crate::model::{Given, Resource, Selection, ServiceTask, function_name};
use crate::pipeline::{MAX_PAYLOAD_BYTES, Payload, Scope, json_len_against};
use crate::states::wait::shown;
use crate::template::Template;

/// The two event families: `Task*` for integrations, `LambdaFunction*` for a function ARN.
/// An event's type and where its details sit (None: it has none).
type Event = EventType;

struct Events {
    scheduled: Event,
    started: Event,
    succeeded: Event,
    failed: Event,
    timed_out: Event,
    /// The integration the Task* events name first; none for a function ARN.
    integration: Option<Integration>,
    /// The answer is a Lambda function's, wrapped as `lambda:invoke` wraps it.
    envelope: bool,
}

const TASK: Events = Events {
    scheduled: EventType::TaskScheduled,
    started: EventType::TaskStarted,
    succeeded: EventType::TaskSucceeded,
    failed: EventType::TaskFailed,
    timed_out: EventType::TaskTimedOut,
    integration: Some(Integration::LambdaInvoke),
    envelope: true,
};

const CALLBACK: Events = Events { integration: Some(Integration::LambdaCallback), ..TASK };

const FUNCTION: Events = Events {
    scheduled: EventType::LambdaFunctionScheduled,
    started: EventType::LambdaFunctionStarted,
    succeeded: EventType::LambdaFunctionSucceeded,
    failed: EventType::LambdaFunctionFailed,
    timed_out: EventType::LambdaFunctionTimedOut,
    integration: None,
    envelope: false,
};

impl Events {
    /// Another service's Task* events: its names first, its answer as it is.
    fn service(task: &Arc<ServiceTask>) -> Events {
        Events { integration: Some(Integration::Service(task.clone())), envelope: false, ..TASK }
    }

    /// `resourceType`/`resource` first, for the Task* events.
    fn details<const N: usize>(&self, rest: [(&'static str, Detail); N]) -> Fields {
        let mut d = match &self.integration {
            Some(integration) => Fields::integration(integration.clone()),
            None => Fields::default(),
        };
        for (name, detail) in rest {
            d.push(name, detail);
        }
        d
    }
}

/// A task's time limits and, for a callback task, its token.
pub(crate) struct Limits<'a> {
    pub timeout: Option<&'a Given<u64>>,
    pub heartbeat: Option<&'a Given<u64>>,
    pub token: Option<&'a str>,
}

fn seconds(
    scope: &Scope<'_, '_>,
    given: Option<&Given<u64>>,
    field: &str,
    effective: &Arc<Value>,
    context: &Context<'_>,
) -> Result<Option<u64>, Failure> {
    match given {
        None => Ok(None),
        Some(Given::Value(s)) => Ok(Some(*s)),
        Some(Given::Path(p)) => {
            let value = scope.select_field(p, effective, context)?;
            Ok(Some(value.as_u64().filter(|s| *s > 0).ok_or_else(|| {
                scope.runtime(format!(
                    "The {field} field refers to value \"{}\" which is not a valid integer: {}",
                    shown(&value),
                    p.text()
                ))
            })?))
        }
        Some(Given::Expr(expr)) => {
            // The JSONata field is named without its "Path".
            let field = field.trim_end_matches("Path");
            let positive = |v: &Value| v.as_u64().is_some_and(|s| s > 0);
            let now = crate::pipeline::Now::input(effective);
            let value = scope.expr_such(field, expr, "positive integer", &positive, now, context)?;
            Ok(value.as_u64())
        }
    }
}

/// A Task's Parameters, as its call and its history read them.
pub(crate) enum Parameters<'x> {
    Rendered(Arc<Value>),
    /// A lambda:invoke object template that only selects from the state's
    /// effective input, whose paths were all found there: the function is
    /// handed its Payload where it lies in that input, and the history fills
    /// the template when it is read. Nothing is copied per execution.
    Selecting(&'x Arc<Template>, Arc<Value>),
}

impl Parameters<'_> {
    /// Whether a state's Parameters can be left to select when read.
    pub fn can_select(resource: &Resource, template: &Template) -> bool {
        matches!(resource, Resource::LambdaInvoke | Resource::LambdaInvokeCallback)
            && matches!(template, Template::Object(_))
            && template.selects_input_only()
    }

    /// Where it lies: a name written in the definition is not copied per call.
    fn function_name(&self) -> Option<Cow<'_, str>> {
        fn text(value: Cow<'_, Value>) -> Option<Cow<'_, str>> {
            match value {
                Cow::Borrowed(Value::String(name)) => Some(Cow::Borrowed(name.as_str())),
                Cow::Owned(Value::String(name)) => Some(Cow::Owned(name.to_string())),
                _ => None,
            }
        }
        match self {
            Parameters::Rendered(value) => text(Cow::Borrowed(value.get("FunctionName")?)),
            Parameters::Selecting(template, input) => match template.field("FunctionName")? {
                Template::Literal(name, _) => text(Cow::Borrowed(name)),
                Template::Path { path, .. } => text(path.select(input).ok()?),
                _ => None,
            },
        }
    }

    /// Whether lambda:invoke asks for the log's tail (`"LogType": "Tail"`).
    fn log_tail(&self) -> bool {
        let tail = |v: &Value| v.as_str() == Some("Tail");
        match self {
            Parameters::Rendered(value) => value.get("LogType").is_some_and(tail),
            Parameters::Selecting(template, input) => match template.field("LogType") {
                Some(Template::Literal(value, _)) => tail(value),
                Some(Template::Path { path, .. }) => path.select(input).ok().is_some_and(|v| tail(&v)),
                _ => false,
            },
        }
    }

    /// The lambda:invoke `Payload` (`empty` when there is none).
    fn payload<'s>(&'s self, empty: &'s Value) -> Cow<'s, Value> {
        match self {
            Parameters::Rendered(value) => Cow::Borrowed(value.get("Payload").unwrap_or(empty)),
            Parameters::Selecting(template, input) => match template.field("Payload") {
                None => Cow::Borrowed(empty),
                Some(Template::Literal(value, _)) => Cow::Borrowed(value),
                Some(Template::Path { path, .. }) => path.select(input).unwrap_or(Cow::Owned(Value::Null)),
                Some(inner) => Cow::Owned(inner.fill_from(input)),
            },
        }
    }

    fn whole(&self) -> Arc<Value> {
        match self {
            Parameters::Rendered(value) => value.clone(),
            Parameters::Selecting(template, input) => Arc::new(template.fill_from(input)),
        }
    }

    /// The parameters as TaskScheduled shows them.
    fn shown(&self) -> Detail {
        match self {
            Parameters::Rendered(value) => Detail::Json(value.clone()),
            Parameters::Selecting(template, input) => Detail::Filled(Arc::clone(template), input.clone()),
        }
    }
}

/// A task's result: whole, or already through the state's ResultSelector.
pub(crate) enum Answer {
    Whole(Payload),
    Selected(Payload),
}

/// Runs the task. With `selector` (a ResultSelector that
/// [moves](crate::model::Io::result_selection)), the answer is selected
/// by moving out of the result, which the history keeps the rest of.
pub(crate) async fn run(
    scope: &Scope<'_, '_>,
    resource: &Resource,
    limits: Limits<'_>,
    effective: &Arc<Value>,
    parameters: Parameters<'_>,
    selector: Option<(&Arc<Template>, Selection)>,
    context: &Context<'_>,
) -> Result<Answer, Failure> {
    let run = scope.run;
    let timeout = seconds(scope, limits.timeout, "TimeoutSecondsPath", effective, context)?;
    let heartbeat = seconds(scope, limits.heartbeat, "HeartbeatSecondsPath", effective, context)?;
    if let Resource::Activity(arn) = resource {
        let token = limits.token.unwrap_or_default();
        let times = super::activity::Times { timeout, heartbeat };
        return super::activity::run(scope, arn, token, parameters.whole(), times).await.map(Answer::Whole);
    }
    let no_payload = Value::Object(Map::new());
    // A function ARN and another service are handed the whole Parameters,
    // which then never select.
    let whole = match resource {
        Resource::Function(_) | Resource::Service(_) => Some(parameters.whole()),
        _ => None,
    };
    let service_events;
    let (events, function, payload, who) = match (resource, &whole) {
        (Resource::Function(arn), Some(whole)) => {
            (&FUNCTION, Cow::Borrowed(arn.as_str()), Cow::Borrowed(&**whole), arn.as_str())
        }
        (Resource::Service(task), Some(whole)) => {
            service_events = Events::service(task);
            (&service_events, Cow::Borrowed(""), Cow::Borrowed(&**whole), &*task.resource_type)
        }
        _ => {
            let name = parameters
                .function_name()
                .ok_or_else(|| scope.runtime("The lambda:invoke Parameters need a FunctionName string."))?;
            let events = if matches!(resource, Resource::LambdaInvokeCallback) { &CALLBACK } else { &TASK };
            (events, name, parameters.payload(&no_payload), "lambda")
        }
    };
    let tail = matches!(resource, Resource::LambdaInvoke | Resource::LambdaInvokeCallback) && parameters.log_tail();
    // The function's log tail, when the invoker gives one.
    let log = std::sync::Mutex::new(None::<String>);
    let mut scheduled = match (resource, &whole) {
        (Resource::Function(_), Some(input)) => events.details([
            ("resource", Detail::Text(function.clone().into_owned())),
            ("input", Detail::Payload(input.clone())),
        ]),
        _ => events.details([("region", Detail::Shared(run.region.clone())), ("parameters", parameters.shown())]),
    };
    if let Some(seconds) = timeout {
        scheduled.push("timeoutInSeconds", Detail::Number(seconds));
    }
    if let (Some(seconds), Resource::Service(_)) = (heartbeat, resource) {
        scheduled.push("heartbeatInSeconds", Detail::Number(seconds));
    }
    let emit = |kind: Event, details: Fields| run.record(scope.thread, kind, details);
    emit(events.scheduled, scheduled)?;
    emit(events.started, events.details([]))?;
    // A mocked answer is the task's whole result: nothing wraps it, and no token is waited for.
    let mocked = run.mocks.and_then(|m| m.answer(&scope.state.name, run.next_invocation(&scope.state.name)));
    let called = mocked.is_none();
    let wrap = events.envelope && called;
    // A job's start, as TaskSubmitted shows it (a full history fails the task at its end anyway).
    let submitted = |answer: Value| {
        let _ = run.record(
            scope.thread,
            CALLBACK_SUBMITTED,
            events.details([("output", Detail::Payload(Arc::new(answer)))]),
        );
    };
    let call: crate::executor::BoxFuture<'_, Result<Value, TaskFailure>> = match (mocked, resource) {
        (Some(answer), _) => Box::pin(std::future::ready(answer)),
        (None, Resource::Service(task)) => match run.services {
            Some(services) => {
                let caller = Caller { execution_arn: run.facts.id.get(), state_machine_arn: &run.facts.machine_id };
                if task.pattern.is_sync() {
                    services.run_job(task, &payload, caller, &submitted)
                } else if let Some(trace) = &run.http_trace {
                    services.call_traced(task, &payload, caller, trace)
                } else {
                    services.call(task, &payload, caller)
                }
            }
            None => Box::pin(std::future::ready(Err(TaskFailure {
                error: StatesError::Runtime.name().to_owned(),
                cause: format!(
                    "Nothing here calls AWS services: run the state machine with `orderflow run` or `orderflow serve`, or mock the task ({}:{})",
                    task.resource_type, task.resource
                ),
            }))),
        },
        (None, _) if tail => Box::pin(async {
            let (answer, tail) = run.invoker.invoke_tail(function_name(&function), &payload).await?;
            *log.lock().unwrap_or_else(|p| p.into_inner()) = tail;
            Ok(answer)
        }),
        (None, _) => run.invoker.invoke(function_name(&function), &payload),
    };
    let answer = match timeout {
        Some(seconds) => match tokio::time::timeout(Duration::from_secs(seconds), call).await {
            Ok(answer) => answer,
            Err(_) => {
                let f = Failure::timed_out(StatesError::Timeout);
                emit(events.timed_out, events.details([("error", Detail::Text(f.error.clone()))]))?;
                return Err(f);
            }
        },
        None => call.await,
    };
    match answer {
        Ok(output) => {
            // A selector that reads only the function's answer leaves the
            // rest of the envelope to be built when the history is read.
            let log = log.into_inner().unwrap_or_else(|p| p.into_inner());
            let later = wrap
                && log.is_none()
                && limits.token.is_none()
                && matches!(selector, Some((_, Selection::MovesFromPayload)));
            let (output, envelope) = if wrap {
                let mut answer = Map::new();
                answer.insert("Payload", output);
                let request_id = run.rng.uuid_v4();
                if later {
                    (Value::Object(answer), Some(request_id.into_boxed_str()))
                } else {
                    complete_envelope(&mut answer, request_id, log.as_deref());
                    (Value::Object(answer), None)
                }
            } else {
                (output, None)
            };
            let output = match (limits.token, called) {
                // A callback task's function was invoked: now its token decides.
                (Some(token), true) => {
                    emit(CALLBACK_SUBMITTED, events.details([("output", Detail::Payload(Arc::new(output)))]))?;
                    let overall = timeout.map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
                    let waited = super::callback::wait_for_token(run, token, overall, heartbeat).await;
                    if let Some(tokens) = run.tokens {
                        tokens.close(token);
                    }
                    match waited {
                        Ok(Ok(result)) => result,
                        Ok(Err(TaskFailure { error, cause })) => {
                            let f = Failure::of(error, Some(cause));
                            emit(events.failed, failure_details(events, &f))?;
                            return Err(f);
                        }
                        Err(which) => {
                            let f = Failure::timed_out(which);
                            emit(events.timed_out, events.details([("error", Detail::Text(f.error.clone()))]))?;
                            return Err(f);
                        }
                    }
                }
                _ => output,
            };
            // What comes back from outside is bounded from its strings'
            // lengths, and counted exactly only when that bound passes the quota.
            let envelope_size = envelope.as_deref().map_or(0, envelope_len);
            let size = json_len_against(&output, MAX_PAYLOAD_BYTES.saturating_sub(envelope_size)) + envelope_size;
            if size > MAX_PAYLOAD_BYTES {
                let f = scope.too_large(who);
                emit(events.failed, failure_details(events, &f))?;
                return Err(f);
            }
            let mut output = Payload { value: Arc::new(output), size };
            if let Some((selector, _)) = selector
                && let Some(whole) = Arc::get_mut(&mut output.value)
                && let Some((selected, size)) = selector.fill_by_moving(whole, output.size)
            {
                let selected = Arc::new(selected);
                let (rest, selector) = (output.value, selector.clone());
                let shown = Detail::Moved(Box::new(Moved { rest, selector, selected: selected.clone(), envelope }));
                emit(events.succeeded, events.details([("output", shown)]))?;
                return Ok(Answer::Selected(Payload { value: selected, size }));
            }
            if let Some(request_id) = envelope
                && let Some(Value::Object(answer)) = Arc::get_mut(&mut output.value)
            {
                // A path selected nothing: the selector fails on the whole result, as copying does.
                complete_envelope(answer, request_id.into(), None);
            }
            emit(events.succeeded, events.details([("output", Detail::Payload(output.value.clone()))]))?;
            Ok(Answer::Whole(output))
        }
        Err(TaskFailure { error, cause }) => {
            // lambda:invoke passes a function's error document on as compact
            // JSON, its members in the function's order; with the function's
            // ARN as the Resource its bytes pass as they are.
            let cause = match resource {
                Resource::LambdaInvoke | Resource::LambdaInvokeCallback if called => compact_document(cause),
                _ => cause,
            };
            let f = Failure::of(error, Some(cause));
            emit(events.failed, failure_details(events, &f))?;
            Err(f)
        }
    }
}

/// A JSON object's text without spaces, its members in their order; other text as it is.
fn compact_document(cause: String) -> String {
    match orderflow_value::parse(&cause) {
        Ok(document @ Value::Object(_)) => document.to_string(),
        _ => cause,
    }
}

const CALLBACK_SUBMITTED: Event = EventType::TaskSubmitted;

fn failure_details(events: &Events, f: &Failure) -> Fields {
    let mut d = events.details([("error", Detail::Text(f.error.clone()))]);
    if let Some(cause) = &f.cause {
        d.push("cause", Detail::Text(cause.clone()));
    }
    d
}
