//! StartExecution, StartSyncExecution, DescribeExecution,
//! DescribeStateMachineForExecution, ListExecutions, GetExecutionHistory,
//! StopExecution.

use std::sync::Arc;

use orderflow_asl::history::{Detail, EventType, Fields, Note, NotedChild};
use orderflow_asl::{
    Execution, ExecutionOptions, ExecutionStatus, Executor, History, HistoryEvent, MachineType, Redrive, RestartPoint,
    TaskMocks,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::database::{ExecutionRow, Through};
use crate::error::{ApiError, ErrorCode};
use crate::names::{check_name, execution_arn, state_machine_arn};
use crate::state_machines::find;
use crate::store::{Live, MachineRecord, Status};
use crate::versions::{self, Resolved};
use crate::{Service, epoch_seconds, epoch_seconds_f64, offset_of, page_size, paged};

/// Step Functions' quota on an execution's input.
pub(crate) use orderflow_local::quotas::MAX_PAYLOAD_BYTES as MAX_INPUT_BYTES;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Start {
    state_machine_arn: String,
    name: Option<String>,
    input: Option<String>,
    trace_header: Option<String>,
    included_data: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ByArn {
    execution_arn: String,
    included_data: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct List {
    state_machine_arn: Option<String>,
    status_filter: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    map_run_arn: Option<String>,
    redrive_filter: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HistoryRequest {
    execution_arn: String,
    max_results: Option<i64>,
    reverse_order: Option<bool>,
    next_token: Option<String>,
    include_execution_data: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RedriveRequest {
    execution_arn: String,
    client_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stop {
    execution_arn: String,
    error: Option<String>,
    cause: Option<String>,
}

fn input_of(input: Option<String>) -> Result<(String, orderflow_value::Value), ApiError> {
    let text = input.unwrap_or_else(|| "{}".to_owned());
    if text.len() > MAX_INPUT_BYTES {
        return Err(ApiError::new(
            ErrorCode::InvalidExecutionInput,
            format!(
                "Invalid State Machine Execution Input: the input is {} bytes; the quota is {MAX_INPUT_BYTES}",
                text.len()
            ),
        ));
    }
    let value = orderflow_value::parse(&text).map_err(|e| {
        ApiError::new(ErrorCode::InvalidExecutionInput, format!("Invalid State Machine Execution Input: '{e}'"))
    })?;
    Ok((text, value))
}

/// The mocked task answers for `#TestCase`, when the ARN names one.
fn mocks_for(
    service: &Service,
    machine: &MachineRecord,
    case: Option<&str>,
) -> Result<Option<Arc<dyn TaskMocks>>, ApiError> {
    let Some(case) = case else { return Ok(None) };
    let found = service.mocks.as_ref().and_then(|m| m.case(&machine.name, case));
    found.map(Some).ok_or_else(|| {
        ApiError::new(
            ErrorCode::StateMachineDoesNotExist,
            format!(
                "State Machine Does Not Exist: test case '{case}' of '{}' is in no mock configuration",
                machine.name
            ),
        )
    })
}

fn status_of(execution: &Execution) -> Status {
    match execution.status {
        ExecutionStatus::Succeeded => Status::Succeeded,
        ExecutionStatus::Failed => Status::Failed,
        ExecutionStatus::TimedOut => Status::TimedOut,
    }
}

/// What one run of an execution starts with.
struct Launch {
    name: String,
    input: orderflow_value::Value,
    history: Arc<History>,
    mocks: Option<Arc<dyn TaskMocks>>,
    redrive: Option<Redrive>,
    /// Unix nanoseconds, when the execution started before this run.
    started_at: Option<i128>,
}

/// Runs an execution to its end on the current task.
async fn run(service: &Arc<Service>, machine: &MachineRecord, arn: &str, launch: Launch) -> Execution {
    let Launch { name, input, history, mocks, redrive, started_at } = launch;
    let options = ExecutionOptions {
        name: name.as_str().into(),
        state_machine_name: machine.name.as_str().into(),
        region: service.config.region.as_str().into(),
        account: service.config.account.as_str().into(),
        machine_type: machine.kind,
        seed: service.ids.next_u64(),
        execution_arn: Some(arn.into()),
        role_arn: Some(machine.role_arn.as_str().into()),
        redrive,
        started_at,
    };
    let mut executor = Executor::new(&machine.compiled, service.invoker.as_ref(), service.clock.as_ref(), options)
        .with_history(history)
        .with_task_tokens(&service.tokens);
    if machine.kind == MachineType::Express {
        // Not kept: no API describes an EXPRESS execution or returns its history.
        executor = executor.without_history();
    }
    // Child executions run here; other service Tasks go to the server's services.
    let services = crate::child_executions::WithChildren { service, others: service.services() };
    let map_runs = crate::map_runs::Reporter { service, machine };
    executor = executor.with_services(&services).with_activities(&service.activities).with_map_runs(&map_runs);
    match &mocks {
        Some(mocks) => executor.with_mocks(mocks.as_ref()).run(input).await,
        None => executor.run(input).await,
    }
}

/// Writes a running execution's end (or its events so far, while `ended`
/// is false) to the database, and lets it go from memory once written.
fn save(service: &Service, arn: &str, end: impl FnOnce(&mut Live)) -> Result<(), ApiError> {
    let mut db = service.store.db();
    let (row, seq, before, (events, first, notes)) = {
        let mut memory = service.store.memory();
        let Some(live) = memory.running.get_mut(arn) else { return Ok(()) };
        end(live);
        (live.row.clone(), live.row.seq, live.saved(), live.unsaved())
    };
    let saved = db.save_execution(Some(&row), seq, &events, (first, &notes)).map_err(ApiError::internal);
    let mut memory = service.store.memory();
    match &saved {
        // Written: a finished execution is the database's alone from now on.
        Ok(()) if row.status != Status::Running => {
            memory.running.remove(arn);
        }
        Ok(()) => {}
        // Not written: it stays in memory, its events to be written again.
        Err(_) => {
            if let Some(live) = memory.running.get_mut(arn) {
                live.unsave(before);
            }
        }
    }
    saved
}

fn finish(service: &Service, arn: &str, execution: &Execution) {
    let now = service.clock.now_nanos();
    let saved = save(service, arn, |live| {
        if live.row.status == Status::Running {
            let row = &mut live.row;
            row.status = status_of(execution);
            row.output = execution.output.as_ref().map(|o| o.to_json());
            row.error = execution.error.clone();
            row.cause = execution.cause.clone();
            row.stopped = Some(now);
            live.task = None;
        }
    });
    if let Err(e) = saved {
        // Kept in memory, RUNNING in the database: a restart runs it again.
        eprintln!("orderflow serve: the end of {arn} was not stored: {e}");
    }
}

/// Starts a run of a STANDARD execution that memory holds, on its own task.
fn spawn(service: &Arc<Service>, machine: Arc<MachineRecord>, arn: String, launch: Launch) -> JoinHandle<Execution> {
    let task = {
        let (service, arn) = (service.clone(), arn.clone());
        tokio::spawn(async move {
            let execution = run(&service, &machine, &arn, launch).await;
            finish(&service, &arn, &execution);
            execution
        })
    };
    if let Some(live) = service.store.memory().running.get_mut(&arn)
        && live.row.status == Status::Running
    {
        live.task = Some(task.abort_handle());
    }
    task
}

pub fn start(service: &Arc<Service>, r: Start) -> Result<Value, ApiError> {
    begin(service, r).map(|(started, _)| started)
}

/// An execution started as StartExecution starts it, and its end awaited
/// here: what StartExecution answers, and the execution as it ended (None
/// when StopExecution ended it, or when the start found it already running).
pub async fn start_and_wait(service: &Arc<Service>, r: Start) -> Result<(Value, Option<Execution>), ApiError> {
    let (started, task) = begin(service, r)?;
    let execution = match task {
        Some(task) => task.await.ok(),
        None => None,
    };
    Ok((started, execution))
}

/// Starts an execution; its task, unless it was running already.
fn begin(service: &Arc<Service>, r: Start) -> Result<(Value, Option<JoinHandle<Execution>>), ApiError> {
    let _ = (&r.trace_header, &r.included_data);
    let (_, case) = state_machine_arn(&r.state_machine_arn)?;
    let Resolved { machine, version_arn, alias_arn } = versions::resolve(service, &r.state_machine_arn)?;
    let name = r.name.unwrap_or_else(|| service.ids.uuid_v4());
    check_name(&name)?;
    let (text, input) = input_of(r.input)?;
    let mocks = mocks_for(service, &machine, case)?;
    let (region, account) = (&service.config.region, &service.config.account);
    let now = service.clock.now_nanos();
    let history =
        Arc::new(if machine.kind == MachineType::Standard { History::keeping_notes() } else { History::default() });
    let arn = match machine.kind {
        MachineType::Standard => {
            let arn = format!("arn:aws:states:{region}:{account}:execution:{}:{name}", machine.name);
            let mut row = ExecutionRow {
                seq: 0,
                arn: arn.clone(),
                machine_arn: machine.arn.clone(),
                version: machine.version,
                name: name.clone(),
                status: Status::Running,
                input: text,
                output: None,
                error: None,
                cause: None,
                started: now,
                stopped: None,
                redrive_count: 0,
                redriven: None,
            };
            let mut db = service.store.db();
            match db.insert_execution(&row)? {
                Err(existing) => {
                    // Idempotent while it runs with the same input, as Step Functions is.
                    if existing.status == Status::Running && existing.input == row.input {
                        return Ok((json!({"executionArn": arn, "startDate": epoch_seconds(existing.started)}), None));
                    }
                    return Err(ApiError::new(
                        ErrorCode::ExecutionAlreadyExists,
                        format!("Execution Already Exists: '{arn}'"),
                    ));
                }
                Ok(seq) => row.seq = seq,
            }
            if version_arn.is_some() {
                db.qualify_execution(row.seq, version_arn.as_deref(), alias_arn.as_deref())?;
            }
            let live = Live {
                row,
                machine: machine.clone(),
                history: history.clone(),
                task: None,
                saved_events: 0,
                saved_notes: 0,
            };
            service.store.memory().running.insert(arn.clone(), live);
            arn
        }
        MachineType::Express => {
            format!("arn:aws:states:{region}:{account}:express:{}:{name}:{}", machine.name, service.ids.uuid_v4())
        }
    };
    let launch = Launch { name, input, history, mocks, redrive: None, started_at: None };
    let task = if machine.kind == MachineType::Express {
        // Not kept: EXPRESS executions are not describable.
        let (service, arn) = (service.clone(), arn.clone());
        tokio::spawn(async move { run(&service, &machine, &arn, launch).await })
    } else {
        spawn(service, machine, arn.clone(), launch)
    };
    Ok((json!({"executionArn": arn, "startDate": epoch_seconds(now)}), Some(task)))
}

/// StartSyncExecution's answer, typed: written straight to its text (the
/// hot path of `serve`), or turned into a JSON value for in-process callers.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncExecution {
    execution_arn: String,
    state_machine_arn: String,
    name: String,
    start_date: f64,
    stop_date: f64,
    status: &'static str,
    input: String,
    input_details: Included,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_details: Option<Included>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<String>,
    billing_details: BillingDetails,
}

#[derive(Serialize)]
struct Included {
    included: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BillingDetails {
    #[serde(rename = "billedMemoryUsedInMB")]
    billed_memory_used: u64,
    billed_duration_in_milliseconds: u64,
}

pub async fn start_sync(service: &Arc<Service>, r: Start) -> Result<SyncExecution, ApiError> {
    let _ = (&r.trace_header, &r.included_data);
    let (_, case) = state_machine_arn(&r.state_machine_arn)?;
    let machine = versions::resolve(service, &r.state_machine_arn)?.machine;
    if machine.kind != MachineType::Express {
        return Err(ApiError::new(
            ErrorCode::StateMachineTypeNotSupported,
            "This operation is not supported by this type of state machine: StartSyncExecution runs EXPRESS state machines only",
        ));
    }
    let name = r.name.unwrap_or_else(|| service.ids.uuid_v4());
    check_name(&name)?;
    let (text, input) = input_of(r.input)?;
    let mocks = mocks_for(service, &machine, case)?;
    let arn = format!(
        "arn:aws:states:{}:{}:express:{}:{name}:{}",
        service.config.region,
        service.config.account,
        machine.name,
        service.ids.uuid_v4()
    );
    let started = service.clock.now_nanos();
    let history = Arc::new(History::default());
    let launch = Launch { name: name.clone(), input, history, mocks, redrive: None, started_at: None };
    let execution = run(service, &machine, &arn, launch).await;
    let stopped = service.clock.now_nanos();
    let output = execution.output.as_ref().map(|o| o.to_json());
    Ok(SyncExecution {
        execution_arn: arn,
        state_machine_arn: machine.arn.clone(),
        name,
        start_date: epoch_seconds_f64(started),
        stop_date: epoch_seconds_f64(stopped),
        status: status_of(&execution).as_str(),
        input: text,
        input_details: Included { included: true },
        output_details: output.as_ref().map(|_| Included { included: true }),
        output,
        error: execution.error,
        cause: execution.cause,
        billing_details: BillingDetails {
            billed_memory_used: 64,
            billed_duration_in_milliseconds: ((stopped - started) / 1_000_000).max(100) as u64,
        },
    })
}

/// An execution's output, error and cause, where it has them.
fn with_outcome(out: &mut Value, output: Option<&str>, error: Option<&str>, cause: Option<&str>) {
    if let Some(output) = output {
        out["output"] = Value::String(output.to_owned());
        out["outputDetails"] = json!({"included": true});
    }
    if let Some(error) = error {
        out["error"] = Value::String(error.to_owned());
    }
    if let Some(cause) = cause {
        out["cause"] = Value::String(cause.to_owned());
    }
}

fn not_found(arn: &str) -> ApiError {
    ApiError::new(ErrorCode::ExecutionDoesNotExist, format!("Execution Does Not Exist: '{arn}'"))
}

/// An execution as the API shows it, wherever it is.
struct Found {
    row: ExecutionRow,
    machine: Arc<MachineRecord>,
    /// The history of a running execution; the database has the others'.
    history: Option<Arc<History>>,
    /// The Map Run of a child running now.
    map_run: Option<String>,
}

fn lookup(service: &Service, arn: &str) -> Result<Found, ApiError> {
    execution_arn(arn)?;
    if let Some(live) = service.store.memory().running.get(arn) {
        return Ok(Found {
            row: live.row.clone(),
            machine: live.machine.clone(),
            history: Some(live.history.clone()),
            map_run: None,
        });
    }
    let mut db = service.store.db();
    let row = db.execution(arn)?.ok_or_else(|| not_found(arn))?;
    let machine = service.store.version(&mut db, row.version)?;
    Ok(Found { row, machine, history: None, map_run: None })
}

/// As `lookup`, and a Map Run's child while it runs too (for describing and its history).
fn lookup_seen(service: &Service, arn: &str) -> Result<Found, ApiError> {
    execution_arn(arn)?;
    if let Some((row, map_run, history)) = crate::map_runs::running_child(service, arn) {
        let machine = service.store.version(&mut service.store.db(), row.version)?;
        return Ok(Found { row, machine, history: Some(history), map_run: Some(map_run) });
    }
    lookup(service, arn)
}

pub fn describe(service: &Arc<Service>, r: ByArn) -> Result<Value, ApiError> {
    let _ = r.included_data;
    let Found { row: e, machine, map_run, .. } = lookup_seen(service, &r.execution_arn)?;
    // A Map Run's child names its Map Run and the children's machine (`Parent/Label`).
    let map_run = match map_run {
        Some(running) => Some(running),
        None if e.machine_arn != machine.arn => service.store.db().map_run_of(e.seq)?,
        None => None,
    };
    let mut out = json!({
        "executionArn": e.arn,
        "stateMachineArn": e.machine_arn,
        "name": e.name,
        "status": e.status.as_str(),
        "startDate": epoch_seconds(e.started),
        "input": e.input,
        "inputDetails": {"included": true},
        "redriveCount": e.redrive_count,
        "redriveStatus": redrive_status(e.status),
    });
    if let Some(stopped) = e.stopped {
        out["stopDate"] = epoch_seconds(stopped);
    }
    if let Some(redriven) = e.redriven {
        out["redriveDate"] = epoch_seconds(redriven);
    }
    if let Some(map_run) = map_run {
        out["mapRunArn"] = json!(map_run);
        out["redriveStatus"] = json!("NOT_REDRIVABLE");
    }
    // Started through a version or an alias: both named.
    let Through { version, alias } = service.store.db().execution_qualifiers(e.seq)?;
    if let Some(version) = version {
        out["stateMachineVersionArn"] = json!(version);
    }
    if let Some(alias) = alias {
        out["stateMachineAliasArn"] = json!(alias);
    }
    with_outcome(&mut out, e.output.as_deref(), e.error.as_deref(), e.cause.as_deref());
    Ok(out)
}

pub fn describe_machine(service: &Arc<Service>, r: ByArn) -> Result<Value, ApiError> {
    let _ = r.included_data;
    let m = lookup(service, &r.execution_arn)?.machine;
    Ok(json!({
        "stateMachineArn": m.arn,
        "name": m.name,
        "definition": m.definition,
        "roleArn": m.role_arn,
        "updateDate": epoch_seconds(m.updated),
        "loggingConfiguration": m.logging,
        "tracingConfiguration": m.tracing,
        "revisionId": m.revision.to_string(),
    }))
}

/// An execution as ListExecutions lists it: its row, its Map Run and item
/// count when it is a Map Run's child, the version and alias it ran through.
type Listed = (ExecutionRow, Option<(String, u64)>, Through);

pub fn list(service: &Arc<Service>, r: List) -> Result<Value, ApiError> {
    let _ = &r.redrive_filter;
    let status = match r.status_filter.as_deref() {
        None => None,
        Some(text) => Some(Status::parse(text).ok_or_else(|| {
            ApiError::validation(format!("1 validation error detected: Value '{text}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]"))
        })?),
    };
    let size = page_size(r.max_results)?;
    let offset = offset_of(r.next_token.as_deref())?;
    // Each row, with its Map Run and item count when it is a Map Run's child.
    let rows: Vec<Listed> = match (r.state_machine_arn, r.map_run_arn) {
        (Some(_), Some(_)) => {
            return Err(ApiError::validation("Only one of stateMachineArn and mapRunArn can be given"));
        }
        (None, None) => return Err(ApiError::validation("Must provide a StateMachine ARN or MapRun ARN")),
        (None, Some(map_run)) => {
            crate::map_runs::describe(
                service,
                serde_json::from_value(json!({"mapRunArn": map_run}))
                    .map_err(|e| ApiError::validation(e.to_string()))?,
            )?;
            // Those running now (newest), then those that ended.
            let running: Vec<(ExecutionRow, u64)> = match status {
                Some(s) if s != Status::Running => Vec::new(),
                _ => crate::map_runs::running_children(service, &map_run),
            };
            let skipped = offset.min(running.len());
            // A child redriven in place runs again: its stored row is not listed beside it.
            let again: std::collections::HashSet<String> = running.iter().map(|(row, _)| row.arn.clone()).collect();
            let mut children: Vec<(ExecutionRow, u64)> = running.into_iter().skip(offset).take(size + 1).collect();
            if children.len() < size + 1 {
                let wanted = size + 1 - children.len();
                let stored = service.store.db().children(&map_run, status, offset - skipped, wanted)?;
                children.extend(stored.into_iter().filter(|(row, _)| !again.contains(&row.arn)));
            }
            children.into_iter().map(|(row, items)| (row, Some((map_run.clone(), items)), Through::default())).collect()
        }
        (Some(machine_arn), None) => {
            // A version's or an alias's ARN lists the executions started through it.
            let (machine, through) = match versions::target(&machine_arn)? {
                versions::Target::Machine(_) => (find(service, &machine_arn)?, None),
                versions::Target::Version { machine, arn, .. } | versions::Target::Alias { machine, arn, .. } => {
                    (find(service, machine)?, Some(arn))
                }
            };
            if machine.kind == MachineType::Express {
                return Err(ApiError::new(
                    ErrorCode::StateMachineTypeNotSupported,
                    "This operation is not supported by this type of state machine: EXPRESS executions are not listed",
                ));
            }
            service
                .store
                .db()
                .list(&machine.arn, through, status, offset, size + 1)?
                .into_iter()
                .map(|(row, through)| (row, None, through))
                .collect()
        }
    };
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(e, child, Through { version, alias })| {
            let mut item = json!({
                "executionArn": e.arn,
                "stateMachineArn": e.machine_arn,
                "name": e.name,
                "status": e.status.as_str(),
                "startDate": epoch_seconds(e.started),
                "redriveCount": e.redrive_count,
            });
            if let Some(version) = version {
                item["stateMachineVersionArn"] = json!(version);
            }
            if let Some(alias) = alias {
                item["stateMachineAliasArn"] = json!(alias);
            }
            if let Some(stopped) = e.stopped {
                item["stopDate"] = epoch_seconds(stopped);
            }
            // A Map Run's child shows its Map Run and how many items it was given.
            if let Some((map_run, items)) = child {
                item["mapRunArn"] = json!(map_run);
                item["itemCount"] = json!(items);
            }
            item
        })
        .collect();
    Ok(paged("executions", items, offset, size))
}

fn shown_event(e: HistoryEvent, with_data: bool) -> Value {
    let mut event = json!({
        "timestamp": epoch_seconds(e.at_nanos),
        "type": e.kind,
        "id": e.id,
        "previousEventId": e.previous_event_id,
    });
    for (key, mut details) in e.details {
        if !with_data && let Some(body) = details.as_object_mut() {
            for field in ["input", "inputDetails", "output", "outputDetails"] {
                body.remove(field);
            }
        }
        event[key.as_str()] = Value::from(details);
    }
    event
}

pub fn history(service: &Arc<Service>, r: HistoryRequest) -> Result<Value, ApiError> {
    let found = lookup_seen(service, &r.execution_arn)?;
    let with_data = r.include_execution_data.unwrap_or(true);
    let reverse = r.reverse_order.unwrap_or(false);
    let size = page_size(r.max_results)?;
    let offset = offset_of(r.next_token.as_deref())?;
    let events = match &found.history {
        Some(history) => {
            let total = history.len();
            if reverse {
                let end = total.saturating_sub(offset);
                let start = end.saturating_sub(size + 1);
                let mut events = history.events_from(start, end - start);
                events.reverse();
                events
            } else {
                history.events_from(offset, size + 1)
            }
        }
        None => service.store.db().events(found.row.seq, offset, size + 1, reverse)?,
    };
    let events = events.into_iter().map(|e| shown_event(e, with_data)).collect();
    Ok(paged("events", events, offset, size))
}

pub fn stop(service: &Arc<Service>, r: Stop) -> Result<Value, ApiError> {
    let now = service.clock.now_nanos();
    let found = lookup(service, &r.execution_arn)?;
    if found.row.status == Status::Running {
        save(service, &r.execution_arn, |live| {
            if live.row.status != Status::Running {
                return;
            }
            if let Some(task) = live.task.take() {
                task.abort();
            }
            let mut details = Fields::default();
            if let Some(error) = &r.error {
                details.push("error", Detail::Text(error.clone()));
            }
            if let Some(cause) = &r.cause {
                details.push("cause", Detail::Text(cause.clone()));
            }
            let last = live.history.len() as u64;
            live.history.force(now, EventType::ExecutionAborted, last, details);
            let row = &mut live.row;
            row.status = Status::Aborted;
            row.error = r.error.clone();
            row.cause = r.cause.clone();
            row.stopped = Some(now);
        })?;
    }
    // A task waiting on a token is over with its execution.
    service.tokens.close_execution(&r.execution_arn);
    let stopped = lookup(service, &r.execution_arn)?.row.stopped.unwrap_or(now);
    Ok(json!({"stopDate": epoch_seconds(stopped)}))
}

fn redrive_status(status: Status) -> &'static str {
    match status {
        Status::Failed | Status::TimedOut | Status::Aborted => "REDRIVABLE",
        _ => "NOT_REDRIVABLE",
    }
}

/// Every stored event and note of an execution.
fn stored_history(
    db: &mut crate::database::Db<'_>,
    seq: i64,
) -> Result<(Vec<HistoryEvent>, Vec<Note>), crate::StoreError> {
    Ok((db.events(seq, 0, usize::MAX, false)?, db.notes(seq)?))
}

/// The iterations or branches of `state` that succeeded in its attempt
/// entered at event `entered`, the latest output of each.
fn done_in(notes: &[Note], state: &str, entered: u64) -> Vec<(usize, Arc<orderflow_value::Value>)> {
    let mut done = std::collections::BTreeMap::new();
    for note in notes.iter().filter(|n| n.entered == entered && *n.state == *state) {
        match &note.child {
            Some(child) if child.failed => done.remove(&note.index),
            _ => done.insert(note.index, note.output.clone()),
        };
    }
    done.into_iter().collect()
}

/// The STANDARD children of the Distributed Map `state` in its attempt
/// entered at event `entered`, by index, the latest of each: a redrive shows
/// the succeeded ones as they were and redrives the others in place.
fn children_in(notes: &[Note], state: &str, entered: u64) -> Vec<(usize, NotedChild)> {
    let mut children = std::collections::BTreeMap::new();
    for note in notes.iter().filter(|n| n.entered == entered && *n.state == *state) {
        if let Some(child) = &note.child {
            children.insert(note.index, child.clone());
        }
    }
    children.into_iter().collect()
}

pub fn redrive(service: &Arc<Service>, r: RedriveRequest) -> Result<Value, ApiError> {
    let _ = &r.client_token;
    execution_arn(&r.execution_arn)?;
    let now = service.clock.now_nanos();
    let mut db = service.store.db();
    if service.store.memory().running.contains_key(&r.execution_arn) {
        return Err(ApiError::new(
            ErrorCode::ExecutionNotRedrivable,
            "Execution Not Redrivable: the execution is RUNNING",
        ));
    }
    let mut row = db.execution(&r.execution_arn)?.ok_or_else(|| not_found(&r.execution_arn))?;
    if redrive_status(row.status) != "REDRIVABLE" {
        return Err(ApiError::new(
            ErrorCode::ExecutionNotRedrivable,
            format!("Execution Not Redrivable: the execution is {}", row.status.as_str()),
        ));
    }
    let machine = service.store.version(&mut db, row.version)?;
    let (events, notes) = stored_history(&mut db, row.seq)?;
    let from = RestartPoint::last_entered(&machine.compiled, &events).ok_or_else(|| {
        ApiError::new(ErrorCode::ExecutionNotRedrivable, "Execution Not Redrivable: it never entered a state")
    })?;
    let done = from.entered.map(|e| done_in(&notes, &from.state, e.id)).unwrap_or_default();
    let children = from.entered.map(|e| children_in(&notes, &from.state, e.id)).unwrap_or_default();
    let input = orderflow_value::parse(&row.input).unwrap_or_default();
    row.redrive_count += 1;
    row.redriven = Some(now);
    row.status = Status::Running;
    row.stopped = None;
    row.output = None;
    row.error = None;
    row.cause = None;
    db.save_execution(Some(&row), row.seq, &[], (0, &[]))?;
    let redrive = Redrive { from, count: row.redrive_count, resumed: false, done, children };
    let (arn, launch) = running_again(service, row, &machine, (events, notes), input, redrive);
    drop(db);
    drop(spawn(service, machine, arn, launch));
    Ok(json!({"redriveDate": epoch_seconds(now)}))
}

/// An execution the database has, running again in memory from its stored
/// history (a redrive, or a restart of the server): its ARN and its run.
fn running_again(
    service: &Service,
    row: ExecutionRow,
    machine: &Arc<MachineRecord>,
    (events, notes): (Vec<HistoryEvent>, Vec<Note>),
    input: orderflow_value::Value,
    redrive: Redrive,
) -> (String, Launch) {
    let (saved_events, saved_notes) = (events.len(), notes.len());
    let history = Arc::new(History::continuing(events, notes));
    let (arn, name, started) = (row.arn.clone(), row.name.clone(), row.started);
    let live = Live { row, machine: machine.clone(), history: history.clone(), task: None, saved_events, saved_notes };
    service.store.memory().running.insert(arn.clone(), live);
    (arn, Launch { name, input, history, mocks: None, redrive: Some(redrive), started_at: Some(started) })
}

/// Goes on with every execution the database has as RUNNING (the server
/// stopped while they ran), each from the last state it entered; gives how
/// many. Executions started with a `#TestCase` go on without its mocks.
pub fn resume(service: &Arc<Service>) -> Result<usize, crate::StoreError> {
    let mut db = service.store.db();
    let rows = db.running()?;
    let mut launches = Vec::new();
    for row in rows {
        let machine = service.store.version(&mut db, row.version)?;
        let (events, notes) = stored_history(&mut db, row.seq)?;
        let input = orderflow_value::parse(&row.input).unwrap_or_default();
        let from = RestartPoint::last_entered(&machine.compiled, &events)
            .unwrap_or_else(|| RestartPoint::start(&machine.compiled, Arc::new(input.clone())));
        let done = from.entered.map(|e| done_in(&notes, &from.state, e.id)).unwrap_or_default();
        let children = from.entered.map(|e| children_in(&notes, &from.state, e.id)).unwrap_or_default();
        let redrive = Redrive { from, count: row.redrive_count, resumed: true, done, children };
        let (arn, launch) = running_again(service, row, &machine, (events, notes), input, redrive);
        launches.push((machine, arn, launch));
    }
    drop(db);
    let count = launches.len();
    for (machine, arn, launch) in launches {
        drop(spawn(service, machine, arn, launch));
    }
    Ok(count)
}
