//! A Distributed Map: a Map Run whose iterations are child executions, each
//! with its own ARN, context and history. Items come from the ItemReader
//! (S3) page by page, or from the input; ItemSelector shapes each, the
//! ItemBatcher groups them; at most MaxConcurrency children run at once
//! (UpdateMapRun may change it, and the tolerated failures, while it runs);
//! results go to the state's output, or to S3 through the ResultWriter as
//! children end. Only the running children and a page of items are in
//! memory at a time.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use orderflow_value::{Map, Value};

use crate::context::Context;
use crate::error::{Failure, StatesError};
use crate::executor::{
    BoxFuture, Caller, ChildEnd, ChildStart, EXECUTION_TIMED_OUT, Ended, ExecutionStatus, MapRunSettings, MapRunStart,
    MapRuns, ObjectAt, ObjectPart, Run, Services, TaskFailure,
};
use crate::history::{Detail, EventType, Fields, NotedChild};
use crate::items::results::{Outcome, ResultFiles, shaped};
use crate::items::{Format, Reader, Source};
use crate::model::{Distributed, Given, InputType, ItemBatcher, MapSpec, ReaderSource};
use crate::pipeline::{MAX_PAYLOAD_BYTES, Now, Payload, Scope, json_len};
use crate::template::Template;

/// Step Functions runs at most this many child executions of a Map Run at once.
const MAX_DISTRIBUTED_CONCURRENCY: u64 = 10_000;

pub(crate) async fn run(
    scope: &Scope<'_, '_>,
    spec: &MapSpec,
    distributed: &Distributed,
    effective: &Payload,
    context: &Context<'_>,
) -> Result<Payload, Failure> {
    let run = scope.run;
    let (source, length) = source(scope, spec, distributed, effective, context)?;
    let max_concurrency = super::map::max_concurrency(scope, spec, effective, context)?;
    // With an ItemReader the length is not known when the Map starts: AWS shows 0.
    run.record(scope.thread, EventType::MapStateStarted, [("length", Detail::Number(length))])?;
    let max_items = match distributed.reader.as_ref().and_then(|r| r.config.max_items.as_ref()) {
        None => None,
        Some(given) => Some(max_items(scope, given, effective, context)?),
    };
    let (tolerated_count, tolerated_percentage) = super::map::tolerance(scope, spec, effective, context)?;
    let batching = match &distributed.batcher {
        Some(batcher) => Some(batching(scope, batcher, effective, context)?),
        None => None,
    };
    let writer = match &distributed.writer {
        Some(writer) => match &writer.arguments {
            Some(arguments) => {
                let arguments = arguments_of(scope, arguments, effective, context)?;
                let bucket = member(&arguments, "Bucket", StatesError::ResultWriterFailed)?;
                let prefix = arguments.get("Prefix").and_then(Value::as_str).unwrap_or_default().to_owned();
                Some((writer, Some((bucket, prefix))))
            }
            None => Some((writer, None)),
        },
        None => None,
    };

    // Who the Map Run and its children are. A redrive goes on with the Map
    // Run the state had (`mapRun:Machine/Label:id`, its label with it).
    let redriven = run.take_redriven_map_run(scope.state);
    let machine_arn = &*run.facts.machine_id;
    let (label, map_run_arn) = match &redriven {
        Some((arn, _)) => {
            let label = arn.rsplit_once(':').and_then(|(head, _)| head.rsplit_once('/')).map(|(_, l)| l.to_owned());
            (label.unwrap_or_default(), arn.clone())
        }
        None => {
            // Without a Label, AWS names the Map Run's children's machine by a UUID.
            let label = distributed.label.clone().unwrap_or_else(|| run.rng.uuid_v4());
            let arn =
                format!("{}/{label}:{}", machine_arn.replacen(":stateMachine:", ":mapRun:", 1), run.rng.uuid_v4());
            (label, arn)
        }
    };
    let redrive_count = redriven.as_ref().map_or(0, |(_, count)| *count);
    let names = Names {
        map_run_arn: map_run_arn.clone(),
        execution_prefix: format!("{}/{label}:", machine_arn.replacen(":stateMachine:", ":execution:", 1)),
        machine_name: format!("{}/{label}", run.facts.machine_name).into(),
        express: distributed.express,
    };
    let map_runs = run.map_runs;
    let mut settings = MapRunSettings {
        max_concurrency,
        tolerated_failure_count: tolerated_count,
        tolerated_failure_percentage: tolerated_percentage,
    };
    if let Some(map_runs) = map_runs {
        map_runs.started(&MapRunStart {
            map_run_arn: map_run_arn.clone(),
            execution_arn: run.facts.id.get().to_string(),
            child_machine_arn: format!("{machine_arn}/{label}"),
            settings,
            started: run.clock.now_nanos(),
            redrive_count,
        });
    }
    let map_run_started = match redrive_count {
        0 => run.record(scope.thread, EventType::MapRunStarted, [("mapRunArn", Detail::Text(map_run_arn.clone()))])?,
        n => run.record(
            scope.thread,
            EventType::MapRunRedriven,
            [("mapRunArn", Detail::Text(map_run_arn.clone())), ("redriveCount", Detail::Number(n))],
        )?,
    };
    // A negative MaxItems fails the Map Run, not the state's evaluation.
    let max_items = max_items.map_or(Ok(None), item_limit);

    let mut files = writer.as_ref().and_then(|(w, to)| {
        to.as_ref().map(|(bucket, prefix)| ResultFiles::new(bucket, prefix, &map_run_arn, w.output_type))
    });
    let sink = Sink { writer: writer.as_ref().map(|(w, _)| *w), files: files.as_mut() };
    let outcome = match max_items {
        Ok(max_items) => {
            let reader = Reader::new(run.services, source, max_items);
            children(scope, spec, effective, &names, reader, batching, &mut settings, sink).await
        }
        Err(f) => Err(f),
    };
    // The results go to S3 whatever the Map Run's end, as AWS writes them.
    let written = match files {
        Some(files) => write(run, files).await.map(Some),
        None => Ok(None),
    };
    let end = |status: &'static str, failure: Option<&Failure>| {
        if let Some(map_runs) = map_runs {
            map_runs.ended(
                &map_run_arn,
                status,
                failure.map(|f| f.error.as_str()),
                failure.and_then(|f| f.cause.as_deref()),
            );
        }
    };
    let collected = match outcome.and_then(|c| written.map(|w| (c, w))) {
        Ok(done) => done,
        Err(failure) => {
            let timed_out = failure.error == EXECUTION_TIMED_OUT;
            end(if timed_out { "ABORTED" } else { "FAILED" }, Some(&failure));
            if !timed_out {
                run.record(scope.thread, EventType::MapRunFailed, map_run_failed(&failure))?;
            }
            return Err(failure);
        }
    };
    end("SUCCEEDED", None);
    run.record(scope.thread, EventType::MapRunSucceeded, [])?;
    run.record_aside(scope.thread, EventType::MapStateSucceeded, [])?;
    // AWS's MapStateExited follows the MapRunStarted.
    scope.thread.set_last(map_run_started);
    let (results, manifest) = collected;
    Ok(match manifest {
        Some((bucket, key)) => {
            let mut details = Map::with_capacity(2);
            details.insert("Bucket", Value::string(bucket));
            details.insert("Key", Value::string(key));
            let mut output = Map::with_capacity(2);
            output.insert("MapRunArn", Value::string(map_run_arn));
            output.insert("ResultWriterDetails", Value::Object(details));
            Payload::measured(Arc::new(Value::Object(output)))
        }
        None => {
            let size = results.iter().map(|r| json_len(r) + 1).sum::<usize>() + 1;
            Payload::new(Value::array(results), size)
        }
    })
}

/// What TestState shows of a Distributed Map's items.
pub(crate) struct TestedItems {
    /// The items, as read (from ItemsPath, or from the ItemReader's data).
    pub items: Vec<Value>,
    /// Each item after ItemSelector, when there is one.
    pub selected: Option<Vec<Value>>,
    /// The children's inputs, when there is an ItemBatcher.
    pub batches: Option<Vec<Value>>,
}

/// A Distributed Map's items as TestState reads them: with an ItemReader,
/// from `data` (the source's content as stored, TestState's
/// `mapItemReaderData`: an object's JSON, JSON Lines or CSV, or a listing's
/// objects as a JSON array), read as the ReaderConfig says; then through
/// ItemSelector and ItemBatcher as a Map Run takes them.
pub(crate) async fn test_items(
    scope: &Scope<'_, '_>,
    spec: &MapSpec,
    distributed: &Distributed,
    effective: &Payload,
    context: &Context<'_>,
    data: Option<&str>,
) -> Result<TestedItems, Failure> {
    let given = GivenObject(data.unwrap_or_default().as_bytes().to_vec());
    let (source, max) = match &distributed.reader {
        None => (source(scope, spec, distributed, effective, context)?.0, None),
        Some(reader) => {
            let Some(data) = data else {
                return Err(Failure::new(
                    StatesError::ItemReaderFailed,
                    "TestState reads a Distributed Map's items from stateConfiguration.mapItemReaderData.",
                ));
            };
            let source = match reader.source {
                ReaderSource::ListObjectsV2 if !reader.config.load_and_flatten => match orderflow_value::parse(data) {
                    Ok(Value::Array(objects)) => Source::Given(Arc::unwrap_or_clone(objects).into_iter()),
                    _ => {
                        return Err(Failure::new(
                            StatesError::ItemReaderFailed,
                            "The mapItemReaderData of a listing is a JSON array of its objects.",
                        ));
                    }
                },
                _ if reader.config.manifest.is_some() => {
                    return Err(Failure::new(
                        StatesError::ItemReaderFailed,
                        "TestState reads a manifest's items from stateConfiguration.mapItemReaderData as one data file: \
                         give a ReaderConfig without ManifestType (InputType CSV, JSONL or PARQUET) and the file's content.",
                    ));
                }
                _ => {
                    let format = Format::of(&reader.config).ok_or_else(|| {
                        Failure::new(StatesError::ItemReaderFailed, "The ReaderConfig has no InputType.")
                    })?;
                    Source::object(ObjectAt::new("mapItemReaderData", "mapItemReaderData"), format)
                }
            };
            let max = match &reader.config.max_items {
                None => None,
                Some(given) => item_limit(max_items(scope, given, effective, context)?)?,
            };
            (source, max)
        }
    };
    let mut reader = Reader::new(Some(&given), source, max);
    let mut items = Vec::new();
    while let Some(item) = reader.next().await? {
        items.push(item);
    }
    let mut tested = TestedItems { items, selected: None, batches: None };
    let batching = match &distributed.batcher {
        Some(batcher) => Some(batching(scope, batcher, effective, context)?),
        None => None,
    };
    let mut shaped = tested.items.clone();
    if let Some(selector) = &spec.item_selector {
        shaped = inputs(scope, effective, shaped, Some(selector), None).await?;
        tested.selected = Some(shaped.clone());
    }
    if batching.is_some() {
        tested.batches = Some(inputs(scope, effective, shaped, None, batching).await?);
    }
    Ok(tested)
}

/// `items` as children's inputs: through `selector`, grouped by `batching`.
async fn inputs(
    scope: &Scope<'_, '_>,
    effective: &Payload,
    items: Vec<Value>,
    selector: Option<&Template>,
    batching: Option<Batching>,
) -> Result<Vec<Value>, Failure> {
    let mut reader = Reader::new(None, Source::Given(items.into_iter()), None);
    let mut batches = Batches { reader: &mut reader, selector, effective, batching, held: None, index: 0 };
    let mut out = Vec::new();
    while let Some((input, _)) = batches.next(scope).await? {
        out.push(Arc::unwrap_or_clone(input.value));
    }
    Ok(out)
}

/// One object's content, as given: what TestState reads in place of S3.
struct GivenObject(Vec<u8>);

impl Services for GivenObject {
    fn call<'a>(
        &'a self,
        task: &'a crate::model::ServiceTask,
        _parameters: &'a Value,
        _caller: Caller<'a>,
    ) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        Box::pin(std::future::ready(Err(TaskFailure {
            error: "States.Runtime".into(),
            cause: format!("{}:{} is not called while testing items", task.resource_type, task.resource),
        })))
    }

    fn get_object<'a>(
        &'a self,
        _object: &'a ObjectAt,
        range: Option<(u64, u64)>,
    ) -> BoxFuture<'a, Result<ObjectPart, TaskFailure>> {
        let size = self.0.len() as u64;
        let (from, to) = range.unwrap_or((0, size.saturating_sub(1)));
        let body = if from >= size { Vec::new() } else { self.0[from as usize..=(to.min(size - 1)) as usize].to_vec() };
        Box::pin(std::future::ready(Ok(ObjectPart { body, size })))
    }
}

/// Where the items come from, and the length MapStateStarted shows. With
/// an ItemReader, ItemsPath has no effect (AWS reads none).
fn source(
    scope: &Scope<'_, '_>,
    spec: &MapSpec,
    distributed: &Distributed,
    effective: &Payload,
    context: &Context<'_>,
) -> Result<(Source, u64), Failure> {
    let Some(reader) = &distributed.reader else {
        let items = Arc::unwrap_or_clone(super::map::items(scope, spec, effective, context)?);
        let length = items.len() as u64;
        return Ok((Source::Given(items.into_iter()), length));
    };
    let arguments = arguments_of(scope, &reader.arguments, effective, context)?;
    let bucket = member(&arguments, "Bucket", StatesError::ItemReaderFailed)?;
    let source = match reader.source {
        ReaderSource::GetObject => {
            let key = member(&arguments, "Key", StatesError::ItemReaderFailed)?;
            let format = Format::of(&reader.config)
                .ok_or_else(|| Failure::new(StatesError::ItemReaderFailed, "The ReaderConfig has no InputType."))?;
            if format.input_type == InputType::Parquet && arguments.get("VersionId").is_some() {
                // AWS: "The VersionId field is not supported for InputType=Parquet."
                return Err(Failure::new(
                    StatesError::ItemReaderFailed,
                    "The VersionId field is not supported for InputType PARQUET.",
                ));
            }
            let optional = |name: &str| arguments.get(name).and_then(Value::as_str).map(str::to_owned);
            let object = ObjectAt {
                bucket,
                key,
                version_id: optional("VersionId"),
                expected_bucket_owner: optional("ExpectedBucketOwner"),
            };
            match reader.config.manifest {
                Some(kind) => Source::Manifest { object, kind, format },
                None => Source::object(object, format),
            }
        }
        ReaderSource::ListObjectsV2 => Source::listing(
            bucket,
            arguments.get("Prefix").and_then(Value::as_str).unwrap_or_default().to_owned(),
            if reader.config.load_and_flatten { Format::of(&reader.config) } else { None },
        ),
    };
    Ok((source, 0))
}

/// MaxItems given literally, by path or by expression: an integer (a
/// string that reads as one too), checked for sign when the Map Run starts.
fn max_items(
    scope: &Scope<'_, '_>,
    given: &Given<u64>,
    effective: &Payload,
    context: &Context<'_>,
) -> Result<i64, Failure> {
    let integer = |v: &Value| v.as_i64().or_else(|| v.as_str().and_then(|t| t.trim().parse().ok()));
    match given {
        Given::Value(n) => Ok(*n as i64),
        Given::Expr(e) => {
            let now = Now::input(&effective.value);
            let v = scope.expr_such("MaxItems", e, "integer", &|v| integer(v).is_some(), now, context)?;
            Ok(integer(&v).unwrap_or(0))
        }
        Given::Path(p) => {
            let v = scope.select_field(p, &effective.value, context)?;
            integer(&v).ok_or_else(|| {
                scope.runtime(format!(
                    "The MaxItemsPath field refers to value \"{}\" which is not a valid integer: {}",
                    super::wait::shown(&v),
                    p.text()
                ))
            })
        }
    }
}

/// The most items a reader hands out, from MaxItems as read: 0 is no limit; a negative one fails the Map Run.
fn item_limit(max_items: i64) -> Result<Option<u64>, Failure> {
    match max_items {
        n if n < 0 => Err(Failure::new(StatesError::ItemReaderFailed, "field MaxItems must be positive")),
        0 => Ok(None),
        n => Ok(Some(n as u64)),
    }
}

/// A reader's or writer's Parameters (JSONPath) or Arguments (JSONata), rendered.
fn arguments_of(
    scope: &Scope<'_, '_>,
    template: &Template,
    effective: &Payload,
    context: &Context<'_>,
) -> Result<Value, Failure> {
    let rendered = if scope.state.jsonata {
        scope.render_jsonata(template, Now::input(&effective.value), context)?
    } else {
        scope.render(template, effective, context)?
    };
    Ok(Arc::unwrap_or_clone(rendered.value))
}

fn member(arguments: &Value, name: &str, error: StatesError) -> Result<String, Failure> {
    match arguments.get(name) {
        Some(Value::String(text)) => Ok(text.to_string()),
        _ => Err(Failure::new(error, format!("The field '{name}' must be given as a string."))),
    }
}

/// A positive count given literally, by path or by expression.
fn count(
    scope: &Scope<'_, '_>,
    given: &Given<u64>,
    field: &str,
    effective: &Payload,
    context: &Context<'_>,
) -> Result<u64, Failure> {
    let positive = |v: &Value| v.as_u64().filter(|n| *n > 0).or_else(|| v.as_str().and_then(|t| t.parse().ok()));
    match given {
        Given::Value(n) => Ok(*n),
        Given::Expr(e) => {
            let now = Now::input(&effective.value);
            let v = scope.expr_such(field, e, "integer", &|v| positive(v).is_some(), now, context)?;
            Ok(positive(&v).unwrap_or(1))
        }
        Given::Path(p) => {
            let v = scope.select_field(p, &effective.value, context)?;
            positive(&v).ok_or_else(|| {
                scope.runtime(format!(
                    "The {field}Path field refers to value \"{}\" which is not a valid positive integer: {}",
                    super::wait::shown(&v),
                    p.text()
                ))
            })
        }
    }
}

/// An ItemBatcher's limits and its BatchInput, read once.
struct Batching {
    max_items: Option<u64>,
    max_bytes: Option<u64>,
    batch_input: Option<Value>,
}

fn batching(
    scope: &Scope<'_, '_>,
    batcher: &ItemBatcher,
    effective: &Payload,
    context: &Context<'_>,
) -> Result<Batching, Failure> {
    let read = |g: &Option<Given<u64>>, field: &str| match g {
        None => Ok(None),
        Some(g) => count(scope, g, field, effective, context).map(Some),
    };
    Ok(Batching {
        max_items: read(&batcher.max_items, "MaxItemsPerBatch")?,
        max_bytes: read(&batcher.max_bytes, "MaxInputBytesPerBatch")?,
        batch_input: match &batcher.batch_input {
            None => None,
            Some(t) => Some(arguments_of(scope, t, effective, context)?),
        },
    })
}

/// Who the Map Run's children are.
struct Names {
    map_run_arn: String,
    execution_prefix: String,
    machine_name: Arc<str>,
    express: bool,
}

/// What a child left: its position, its items and how it ended.
struct Finished {
    index: usize,
    items: u64,
    name: String,
    arn: String,
    input: Arc<Value>,
    started: i128,
    stopped: i128,
    ended: Ended,
}

/// Reports a child stopped before its end (its Map Run failed or was stopped) as ABORTED.
struct AbortOnDrop<'m> {
    map_runs: Option<&'m dyn MapRuns>,
    map_run_arn: &'m str,
    arn: String,
    items: u64,
    armed: bool,
    clock: &'m dyn crate::executor::Clock,
    /// Notes the aborted child for a redrive.
    noted: Option<Box<dyn FnOnce() + Send + 'm>>,
}

impl Drop for AbortOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed
            && let Some(note) = self.noted.take()
        {
            note();
        }
        if self.armed
            && let Some(map_runs) = self.map_runs
        {
            map_runs.child_ended(
                self.map_run_arn,
                &ChildEnd {
                    arn: std::mem::take(&mut self.arn),
                    status: "ABORTED",
                    output: None,
                    error: None,
                    cause: None,
                    items: self.items,
                    stopped: self.clock.now_nanos(),
                },
            );
        }
    }
}

/// Where the children's results go: into the output, shaped by a
/// WriterConfig when there is one, or into the ResultWriter's files.
struct Sink<'w> {
    writer: Option<&'w crate::model::ResultWriter>,
    files: Option<&'w mut ResultFiles>,
}

impl Sink<'_> {
    /// Keeps one child's result; the size it adds to the output.
    async fn take(
        &mut self,
        run: &Run<'_>,
        outcome: Outcome,
        finished: &Finished,
        names: &Names,
        results: &mut Vec<Value>,
    ) -> Result<usize, Failure> {
        let Some(writer) = self.writer else {
            let value = match &finished.ended.output {
                Some(output) => Arc::unwrap_or_clone(output.clone()),
                None => Failure::of(finished.ended.error.clone().unwrap_or_default(), finished.ended.cause.clone())
                    .to_value(),
            };
            let size = json_len(&value) + 1;
            results.push(value);
            return Ok(size);
        };
        let mut size = 0;
        for shaped in shaped(writer.transformation, record(finished, names), finished.ended.output.as_deref()) {
            match self.files.as_deref_mut() {
                Some(files) => {
                    if let Some(file) = files.add(outcome, &shaped) {
                        put(run, files.bucket(), file).await?;
                    }
                }
                None => {
                    size += json_len(&shaped) + 1;
                    results.push(shaped);
                }
            }
        }
        Ok(size)
    }
}

#[allow(clippy::too_many_arguments)]
async fn children(
    scope: &Scope<'_, '_>,
    spec: &MapSpec,
    effective: &Payload,
    names: &Names,
    mut reader: Reader<'_>,
    batching: Option<Batching>,
    settings: &mut MapRunSettings,
    mut sink: Sink<'_>,
) -> Result<Vec<Value>, Failure> {
    let run = scope.run;
    let done = run.take_done(scope.state);
    let done = &done;
    // STANDARD children before a redrive: those that succeeded are shown as
    // they were, those that did not are redriven in place.
    let before = run.take_children(scope.state);
    let before = &before;
    let entered = scope.entered_id;
    let map_runs = run.map_runs;
    let child = |index: usize, input: Payload, items: u64| async move {
        let noted = before.get(&index).filter(|_| !names.express);
        let again = noted.filter(|c| c.failed);
        let name = noted.map_or_else(|| run.rng.uuid_v4(), |c| c.name.to_string());
        let arn = format!("{}{name}", names.execution_prefix);
        let started = run.clock.now_nanos();
        if let Some(output) = done.get(&index) {
            // Succeeded before a redrive: not run again, shown as it was (and
            // noted again for a later redrive).
            let (started, stopped) = noted.map_or((started, started), |c| (c.started, c.stopped));
            match noted {
                Some(child) => run.note_child(entered, scope.state, index, output, child.clone()),
                None => run.note(entered, scope.state, index, output),
            }
            let ended =
                Ended { status: ExecutionStatus::Succeeded, output: Some(output.clone()), error: None, cause: None };
            return Finished { index, items, name, arn, input: input.value, started, stopped, ended };
        }
        let start = ChildStart {
            arn: arn.clone(),
            name: name.clone(),
            input: input.value.clone(),
            items,
            express: names.express,
            started,
        };
        let redriven = again.and_then(|_| map_runs?.child_redriven(&names.map_run_arn, &start));
        let (history, redrive) = match redriven {
            Some(r) => (Some(r.history), Some((r.redrive_count, r.started))),
            None => (map_runs.and_then(|m| m.child_started(&names.map_run_arn, &start)), None),
        };
        let started = redrive.map_or(started, |(_, first)| first);
        let noted: Option<Box<dyn FnOnce() + Send + '_>> = if names.express {
            None
        } else {
            let name: Arc<str> = Arc::from(name.as_str());
            Some(Box::new(move || {
                let child = NotedChild { name, started, stopped: run.clock.now_nanos(), failed: true };
                run.note_child(entered, scope.state, index, &Arc::new(Value::Null), child)
            }))
        };
        let mut guard = AbortOnDrop {
            map_runs,
            map_run_arn: &names.map_run_arn,
            arn: arn.clone(),
            items,
            armed: true,
            clock: run.clock,
            // An aborted STANDARD child is redriven by a later redrive too.
            noted,
        };
        let vars = run.inner_frame(scope.vars);
        let me = crate::executor::Child {
            name: name.clone(),
            arn: arn.clone(),
            machine_name: names.machine_name.clone(),
            express: names.express,
            history,
            redrive,
        };
        let ended = run.run_child(&spec.processor, input.clone(), me, &vars).await;
        guard.armed = false;
        let stopped = run.clock.now_nanos();
        if let Some(map_runs) = map_runs {
            map_runs.child_ended(
                &names.map_run_arn,
                &ChildEnd {
                    arn: arn.clone(),
                    status: status_name(ended.status),
                    output: ended.output.clone(),
                    error: ended.error.clone(),
                    cause: ended.cause.clone(),
                    items,
                    stopped,
                },
            );
        }
        if names.express {
            if let Some(output) = &ended.output {
                run.note(entered, scope.state, index, output);
            }
        } else {
            let child = NotedChild { name: Arc::from(name.as_str()), started, stopped, failed: ended.output.is_none() };
            let output = ended.output.clone().unwrap_or_else(|| Arc::new(Value::Null));
            run.note_child(entered, scope.state, index, &output, child);
        }
        Finished { index, items, name, arn, input: input.value, started, stopped, ended }
    };
    let mut batches = Batches {
        reader: &mut reader,
        batching,
        held: None,
        index: 0,
        selector: spec.item_selector.as_ref(),
        effective,
    };
    let mut running = FuturesOrdered::new();
    let mut exhausted = false;
    let mut next_index = 0usize;
    let mut results = Vec::new();
    let mut size = 2usize;
    let (mut failed_items, mut total_items) = (0u64, 0u64);
    loop {
        if let Some(now) = map_runs.and_then(|m| m.settings(&names.map_run_arn)) {
            *settings = now;
        }
        let limit = match settings.max_concurrency {
            0 => MAX_DISTRIBUTED_CONCURRENCY,
            n => n.min(MAX_DISTRIBUTED_CONCURRENCY),
        } as usize;
        while !exhausted && running.len() < limit {
            match batches.next(scope).await? {
                Some((input, items)) => {
                    running.push_back(child(next_index, input, items));
                    next_index += 1;
                }
                None => {
                    exhausted = true;
                    if let Some(map_runs) = map_runs {
                        map_runs.items_read(&names.map_run_arn, batches.reader.count());
                    }
                }
            }
        }
        let Some(finished) = running.next().await else { break };
        total_items += finished.items;
        let status = finished.ended.status;
        if status == ExecutionStatus::TimedOut {
            // The parent's own deadline passed: the parent times out, not the child.
            run.check_deadline()?;
        }
        match &finished.ended.output {
            Some(_) => size += sink.take(run, Outcome::Succeeded, &finished, names, &mut results).await?,
            None => {
                failed_items += finished.items;
                let tolerant =
                    settings.tolerated_failure_count.is_some() || settings.tolerated_failure_percentage.is_some();
                if !tolerant {
                    return Err(Failure::of(
                        finished.ended.error.clone().unwrap_or_default(),
                        finished.ended.cause.clone(),
                    ));
                }
                let total = exhausted.then(|| batches.reader.count().max(total_items));
                let (count, percentage) = (settings.tolerated_failure_count, settings.tolerated_failure_percentage);
                if super::map::over_tolerance(failed_items, total, count, percentage) {
                    return Err(super::map::tolerance_exceeded());
                }
                size += sink.take(run, Outcome::Failed, &finished, names, &mut results).await?;
            }
        }
        if size > MAX_PAYLOAD_BYTES && sink.files.is_none() {
            return Err(Failure::new(
                StatesError::DataLimitExceeded,
                format!(
                    "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                    scope.state.name
                ),
            ));
        }
        let _ = finished.index;
    }
    Ok(results)
}

async fn put(run: &Run<'_>, bucket: &str, file: crate::items::results::File) -> Result<(), Failure> {
    let s3 = run
        .services
        .ok_or_else(|| Failure::new(StatesError::ResultWriterFailed, "No S3 endpoint answers this execution."))?;
    s3.put_object(bucket, &file.key, file.body)
        .await
        .map_err(|f| Failure::new(StatesError::ResultWriterFailed, f.cause))
}

/// Writes the files left and the manifest: the manifest's bucket and key.
async fn write(run: &Run<'_>, files: ResultFiles) -> Result<(String, String), Failure> {
    let bucket = files.bucket().to_owned();
    let (rest, manifest) = files.finish();
    for file in rest {
        put(run, &bucket, file).await?;
    }
    let key = manifest.key.clone();
    put(run, &bucket, manifest).await?;
    Ok((bucket, key))
}

fn status_name(status: ExecutionStatus) -> &'static str {
    match status {
        ExecutionStatus::Succeeded => "SUCCEEDED",
        ExecutionStatus::Failed => "FAILED",
        ExecutionStatus::TimedOut => "TIMED_OUT",
    }
}

/// A child's whole result, as the ResultWriter writes it with Transformation NONE.
fn record(finished: &Finished, names: &Names) -> Value {
    let date = |nanos: i128| Value::string(crate::context::shown_time(nanos));
    let included = || {
        let mut d = Map::with_capacity(1);
        d.insert("Included", Value::from(true));
        Value::Object(d)
    };
    let machine_arn = names.execution_prefix.replacen(":execution:", ":stateMachine:", 1);
    let machine_arn = machine_arn.trim_end_matches(':');
    let mut r = Map::with_capacity(14);
    if let Some(cause) = &finished.ended.cause {
        r.insert("Cause", Value::string(cause.as_str()));
    }
    if let Some(error) = &finished.ended.error {
        r.insert("Error", Value::string(error.as_str()));
    }
    r.insert("ExecutionArn", Value::string(finished.arn.as_str()));
    r.insert("Input", Value::string(finished.input.to_json()));
    r.insert("InputDetails", included());
    r.insert("Name", Value::string(finished.name.as_str()));
    if let Some(output) = &finished.ended.output {
        r.insert("Output", Value::string(output.to_json()));
        r.insert("OutputDetails", included());
    }
    r.insert("RedriveCount", Value::from(0u64));
    r.insert("RedriveStatus", Value::string("NOT_REDRIVABLE"));
    r.insert(
        "RedriveStatusReason",
        Value::string(format!("Execution is {} and cannot be redriven", status_name(finished.ended.status))),
    );
    r.insert("StartDate", date(finished.started));
    r.insert("StateMachineArn", Value::string(machine_arn));
    r.insert("Status", Value::string(status_name(finished.ended.status)));
    r.insert("StopDate", date(finished.stopped));
    Value::Object(r)
}

/// Child inputs: each item shaped by ItemSelector, grouped by the ItemBatcher.
struct Batches<'b, 'r> {
    reader: &'b mut Reader<'r>,
    selector: Option<&'b Template>,
    /// The Map state's input, `$` of a JSONPath ItemSelector.
    effective: &'b Payload,
    batching: Option<Batching>,
    /// An item read for a batch it would not fit, kept for the next.
    held: Option<Value>,
    index: usize,
}

impl Batches<'_, '_> {
    /// The next child's input and how many items it holds.
    async fn next(&mut self, scope: &Scope<'_, '_>) -> Result<Option<(Payload, u64)>, Failure> {
        let Some(batching) = &self.batching else {
            return match self.item(scope).await? {
                Some(item) => Ok(Some((item, 1))),
                None => Ok(None),
            };
        };
        let (max_items, max_bytes) = (batching.max_items, batching.max_bytes);
        let batch_input = batching.batch_input.clone();
        let mut items = Vec::new();
        let mut size = batch_input.as_ref().map_or(0, |b| json_len(b) + 14) + 12;
        loop {
            if max_items.is_some_and(|max| items.len() as u64 >= max) {
                break;
            }
            let item = match self.held.take() {
                Some(item) => item,
                None => match self.item(scope).await? {
                    Some(item) => Arc::unwrap_or_clone(item.value),
                    None => break,
                },
            };
            let len = json_len(&item) + 1;
            if let Some(max) = max_bytes
                && !items.is_empty()
                && (size + len) as u64 > max
            {
                self.held = Some(item);
                break;
            }
            size += len;
            items.push(item);
        }
        if items.is_empty() {
            return Ok(None);
        }
        let count = items.len() as u64;
        let mut batch = Map::with_capacity(2);
        if let Some(input) = batch_input {
            batch.insert("BatchInput", input);
        }
        batch.insert("Items", Value::array(items));
        Ok(Some((Payload::new(Value::Object(batch), size), count)))
    }

    /// The next item, shaped by ItemSelector with `$$.Map.Item` in its context.
    async fn item(&mut self, scope: &Scope<'_, '_>) -> Result<Option<Payload>, Failure> {
        let Some(item) = self.reader.next().await? else { return Ok(None) };
        let index = self.index;
        self.index += 1;
        Ok(Some(match self.selector {
            Some(selector) => {
                let context = scope.item_context(None, Some((index, &item)));
                if scope.state.jsonata {
                    scope.render_jsonata(selector, Now::input(&self.effective.value), &context)?
                } else {
                    scope.render(selector, self.effective, &context)?
                }
            }
            None => Payload::measured(Arc::new(item)),
        }))
    }
}

/// A Map Run's failure, as MapRunFailed shows it.
fn map_run_failed(failure: &Failure) -> Fields {
    let mut details = Fields::default();
    details.push("error", Detail::Text(failure.error.clone()));
    if let Some(cause) = &failure.cause {
        details.push("cause", Detail::Text(cause.clone()));
    }
    details
}
