//! StartExecution, StartSyncExecution, DescribeExecution,
//! DescribeStateMachineForExecution, ListExecutions, GetExecutionHistory,
//! StopExecution.

use std::sync::Arc;

use orderflow_asl::history::{Detail, Fields};
use orderflow_asl::{Execution, ExecutionOptions, ExecutionStatus, Executor, History, MachineType, Redrive, TaskMocks};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::names::{check_name, execution_arn, state_machine_arn};
use crate::state_machines::find;
use crate::store::{ExecutionRecord, MachineRecord, Status};
use crate::{Service, epoch_seconds, page};

/// Step Functions' quota on an execution's input.
pub(crate) const MAX_INPUT_BYTES: usize = 256 * 1024;

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

fn input_of(input: Option<String>) -> Result<(String, Value), ApiError> {
    let text = input.unwrap_or_else(|| "{}".to_owned());
    if text.len() > MAX_INPUT_BYTES {
        return Err(ApiError::new(
            "InvalidExecutionInput",
            format!(
                "Invalid State Machine Execution Input: the input is {} bytes; the quota is {MAX_INPUT_BYTES}",
                text.len()
            ),
        ));
    }
    let value = serde_json::from_str(&text)
        .map_err(|e| ApiError::new("InvalidExecutionInput", format!("Invalid State Machine Execution Input: '{e}'")))?;
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
            "StateMachineDoesNotExist",
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
    input: Value,
    history: Arc<History>,
    mocks: Option<Arc<dyn TaskMocks>>,
    redrive: Option<Redrive>,
}

/// Runs an execution to its end on the current task.
async fn run(service: &Arc<Service>, machine: &MachineRecord, arn: &str, launch: Launch) -> Execution {
    let Launch { name, input, history, mocks, redrive } = launch;
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
    };
    let executor = Executor::new(&machine.compiled, service.invoker.as_ref(), service.clock.as_ref(), options)
        .with_history(history)
        .with_task_tokens(&service.tokens);
    match &mocks {
        Some(mocks) => executor.with_mocks(mocks.as_ref()).run(input).await,
        None => executor.run(input).await,
    }
}

fn finish(service: &Service, arn: &str, execution: &Execution) {
    let mut inner = service.store.lock();
    if let Some(record) = inner.executions.get_mut(arn)
        && record.status == Status::Running
    {
        record.status = status_of(execution);
        record.output = execution.output.as_ref().map(|o| o.to_string());
        record.error = execution.error.clone();
        record.cause = execution.cause.clone();
        record.stopped = Some(service.clock.now_nanos());
        record.task = None;
    }
}

pub fn start(service: &Arc<Service>, r: Start) -> Result<Value, ApiError> {
    let _ = (&r.trace_header, &r.included_data);
    let (_, case) = state_machine_arn(&r.state_machine_arn)?;
    let machine = find(service, &r.state_machine_arn)?;
    let name = r.name.unwrap_or_else(|| service.ids.uuid_v4());
    check_name(&name)?;
    let (text, input) = input_of(r.input)?;
    let mocks = mocks_for(service, &machine, case)?;
    let (region, account) = (&service.config.region, &service.config.account);
    let now = service.clock.now_nanos();
    let history = Arc::new(History::default());
    let arn = match machine.kind {
        MachineType::Standard => {
            let arn = format!("arn:aws:states:{region}:{account}:execution:{}:{name}", machine.name);
            let mut inner = service.store.lock();
            if let Some(existing) = inner.executions.get(&arn) {
                // Idempotent while it runs with the same input, as Step Functions is.
                if existing.status == Status::Running && existing.input == text {
                    return Ok(json!({"executionArn": arn, "startDate": epoch_seconds(existing.started)}));
                }
                return Err(ApiError::new("ExecutionAlreadyExists", format!("Execution Already Exists: '{arn}'")));
            }
            inner.executions.insert(
                arn.clone(),
                ExecutionRecord {
                    arn: arn.clone(),
                    name: name.clone(),
                    machine: machine.clone(),
                    status: Status::Running,
                    input: text,
                    output: None,
                    error: None,
                    cause: None,
                    started: now,
                    stopped: None,
                    history: history.clone(),
                    task: None,
                    redrive_count: 0,
                    redriven: None,
                },
            );
            inner.started.push(arn.clone());
            arn
        }
        MachineType::Express => {
            format!("arn:aws:states:{region}:{account}:express:{}:{name}:{}", machine.name, service.ids.uuid_v4())
        }
    };
    let task = {
        let (service, arn) = (service.clone(), arn.clone());
        tokio::spawn(async move {
            let launch = Launch { name, input, history, mocks, redrive: None };
            let execution = run(&service, &machine, &arn, launch).await;
            finish(&service, &arn, &execution);
        })
    };
    if let Some(record) = service.store.lock().executions.get_mut(&arn)
        && record.status == Status::Running
    {
        record.task = Some(task.abort_handle());
    }
    Ok(json!({"executionArn": arn, "startDate": epoch_seconds(now)}))
}

pub async fn start_sync(service: &Arc<Service>, r: Start) -> Result<Value, ApiError> {
    let _ = (&r.trace_header, &r.included_data);
    let (_, case) = state_machine_arn(&r.state_machine_arn)?;
    let machine = find(service, &r.state_machine_arn)?;
    if machine.kind != MachineType::Express {
        return Err(ApiError::new(
            "StateMachineTypeNotSupported",
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
    let launch = Launch { name: name.clone(), input, history: Arc::new(History::default()), mocks, redrive: None };
    let execution = run(service, &machine, &arn, launch).await;
    let stopped = service.clock.now_nanos();
    let mut out = json!({
        "executionArn": arn,
        "stateMachineArn": machine.arn,
        "name": name,
        "startDate": epoch_seconds(started),
        "stopDate": epoch_seconds(stopped),
        "status": status_of(&execution).as_str(),
        "input": text,
        "inputDetails": {"included": true},
        "billingDetails": {
            "billedMemoryUsedInMB": 64,
            "billedDurationInMilliseconds": ((stopped - started) / 1_000_000).max(100) as u64,
        },
    });
    let output = execution.output.as_ref().map(|o| o.to_string());
    with_outcome(&mut out, output.as_deref(), execution.error.as_deref(), execution.cause.as_deref());
    Ok(out)
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
    ApiError::new("ExecutionDoesNotExist", format!("Execution Does Not Exist: '{arn}'"))
}

fn with_record<T>(service: &Service, arn: &str, f: impl FnOnce(&mut ExecutionRecord) -> T) -> Result<T, ApiError> {
    execution_arn(arn)?;
    let mut inner = service.store.lock();
    inner.executions.get_mut(arn).map(f).ok_or_else(|| not_found(arn))
}

pub fn describe(service: &Arc<Service>, r: ByArn) -> Result<Value, ApiError> {
    let _ = r.included_data;
    with_record(service, &r.execution_arn, |e| {
        let mut out = json!({
            "executionArn": e.arn,
            "stateMachineArn": e.machine.arn,
            "name": e.name,
            "status": e.status.as_str(),
            "startDate": epoch_seconds(e.started),
            "input": e.input,
            "inputDetails": {"included": true},
            "redriveCount": e.redrive_count,
            "redriveStatus": redrive_status(e),
        });
        if let Some(stopped) = e.stopped {
            out["stopDate"] = epoch_seconds(stopped);
        }
        if let Some(redriven) = e.redriven {
            out["redriveDate"] = epoch_seconds(redriven);
        }
        with_outcome(&mut out, e.output.as_deref(), e.error.as_deref(), e.cause.as_deref());
        out
    })
}

pub fn describe_machine(service: &Arc<Service>, r: ByArn) -> Result<Value, ApiError> {
    let _ = r.included_data;
    with_record(service, &r.execution_arn, |e| {
        let m = &e.machine;
        json!({
            "stateMachineArn": m.arn,
            "name": m.name,
            "definition": m.definition,
            "roleArn": m.role_arn,
            "updateDate": epoch_seconds(m.updated),
            "loggingConfiguration": m.logging,
            "tracingConfiguration": m.tracing,
            "revisionId": m.revision.to_string(),
        })
    })
}

pub fn list(service: &Arc<Service>, r: List) -> Result<Value, ApiError> {
    let _ = &r.redrive_filter;
    if r.map_run_arn.is_some() {
        return Err(ApiError::validation("orderflow serve keeps no Map Runs: list by stateMachineArn"));
    }
    let Some(machine_arn) = r.state_machine_arn else {
        return Err(ApiError::validation("Must provide a StateMachine ARN or MapRun ARN"));
    };
    let machine = find(service, &machine_arn)?;
    if machine.kind == MachineType::Express {
        return Err(ApiError::new(
            "StateMachineTypeNotSupported",
            "This operation is not supported by this type of state machine: EXPRESS executions are not listed",
        ));
    }
    let status = match r.status_filter.as_deref() {
        None => None,
        Some(text) => Some(Status::parse(text).ok_or_else(|| {
            ApiError::validation(format!("1 validation error detected: Value '{text}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]"))
        })?),
    };
    let inner = service.store.lock();
    let items: Vec<Value> = inner
        .started
        .iter()
        .rev()
        .filter_map(|arn| inner.executions.get(arn))
        .filter(|e| e.machine.arn == machine.arn && status.is_none_or(|s| s == e.status))
        .map(|e| {
            let mut item = json!({
                "executionArn": e.arn,
                "stateMachineArn": e.machine.arn,
                "name": e.name,
                "status": e.status.as_str(),
                "startDate": epoch_seconds(e.started),
                "redriveCount": e.redrive_count,
            });
            if let Some(stopped) = e.stopped {
                item["stopDate"] = epoch_seconds(stopped);
            }
            item
        })
        .collect();
    drop(inner);
    page("executions", items, r.max_results, r.next_token.as_deref())
}

pub fn history(service: &Arc<Service>, r: HistoryRequest) -> Result<Value, ApiError> {
    let history = with_record(service, &r.execution_arn, |e| e.history.clone())?;
    let with_data = r.include_execution_data.unwrap_or(true);
    let mut events: Vec<Value> = history
        .events()
        .into_iter()
        .map(|e| {
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
                event[key] = details;
            }
            event
        })
        .collect();
    if r.reverse_order.unwrap_or(false) {
        events.reverse();
    }
    page("events", events, r.max_results, r.next_token.as_deref())
}

pub fn stop(service: &Arc<Service>, r: Stop) -> Result<Value, ApiError> {
    let now = service.clock.now_nanos();
    let stopped = with_record(service, &r.execution_arn, |e| {
        if e.status == Status::Running {
            if let Some(task) = e.task.take() {
                task.abort();
            }
            let mut details = Fields::default();
            if let Some(error) = &r.error {
                details.push("error", Detail::Text(error.clone()));
            }
            if let Some(cause) = &r.cause {
                details.push("cause", Detail::Text(cause.clone()));
            }
            let last = e.history.len() as u64;
            e.history.force(now, "ExecutionAborted", last, Some("executionAbortedEventDetails"), details);
            e.status = Status::Aborted;
            e.error = r.error.clone();
            e.cause = r.cause.clone();
            e.stopped = Some(now);
        }
        json!({"stopDate": epoch_seconds(e.stopped.unwrap_or(now))})
    })?;
    // A task waiting on a token is over with its execution.
    service.tokens.close_execution(&r.execution_arn);
    Ok(stopped)
}

fn redrive_status(e: &ExecutionRecord) -> &'static str {
    match e.status {
        Status::Failed | Status::TimedOut | Status::Aborted => "REDRIVABLE",
        _ => "NOT_REDRIVABLE",
    }
}

/// Where an execution that did not finish starts again: the last top-level
/// state it entered, with the input it entered with (state names are unique
/// across a machine, so the name tells a top-level state).
fn restart_point(e: &ExecutionRecord) -> Option<(Arc<str>, Arc<Value>)> {
    let top: Vec<&str> = e.machine.compiled.states.iter().map(|s| &*s.name).collect();
    e.history.events().into_iter().rev().find_map(|event| {
        if !event.kind.ends_with("StateEntered") {
            return None;
        }
        let details = event.details()?;
        let name = details.get("name")?.as_str()?;
        if !top.contains(&name) {
            return None;
        }
        let input: Value = serde_json::from_str(details.get("input")?.as_str()?).ok()?;
        Some((Arc::from(name), Arc::new(input)))
    })
}

pub fn redrive(service: &Arc<Service>, r: RedriveRequest) -> Result<Value, ApiError> {
    let _ = &r.client_token;
    execution_arn(&r.execution_arn)?;
    let now = service.clock.now_nanos();
    let (machine, name, input, history, redrive) = {
        let mut inner = service.store.lock();
        let e = inner.executions.get_mut(&r.execution_arn).ok_or_else(|| not_found(&r.execution_arn))?;
        if redrive_status(e) != "REDRIVABLE" {
            return Err(ApiError::new(
                "ExecutionNotRedrivable",
                format!("Execution Not Redrivable: the execution is {}", e.status.as_str()),
            ));
        }
        let (state, state_input) = restart_point(e).ok_or_else(|| {
            ApiError::new("ExecutionNotRedrivable", "Execution Not Redrivable: it never entered a state")
        })?;
        let input: Value = serde_json::from_str(&e.input).unwrap_or(Value::Null);
        e.redrive_count += 1;
        e.redriven = Some(now);
        e.status = Status::Running;
        e.stopped = None;
        e.output = None;
        e.error = None;
        e.cause = None;
        let redrive = Redrive { state, input: state_input, count: e.redrive_count };
        (e.machine.clone(), e.name.clone(), input, e.history.clone(), redrive)
    };
    let arn = r.execution_arn.clone();
    let task = {
        let service = service.clone();
        let arn = arn.clone();
        tokio::spawn(async move {
            let launch = Launch { name, input, history, mocks: None, redrive: Some(redrive) };
            let execution = run(&service, &machine, &arn, launch).await;
            finish(&service, &arn, &execution);
        })
    };
    if let Some(record) = service.store.lock().executions.get_mut(&arn)
        && record.status == Status::Running
    {
        record.task = Some(task.abort_handle());
    }
    Ok(json!({"redriveDate": epoch_seconds(now)}))
}
