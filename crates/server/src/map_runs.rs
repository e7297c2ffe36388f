//! Map Runs: what a Distributed Map reports of its run and its child
//! executions, kept for DescribeMapRun, ListMapRuns, UpdateMapRun and
//! ListExecutions by `mapRunArn`. A running Map Run lives in memory (its
//! counts and settings); its record reaches the database when it starts
//! and ends. A child execution is written, with its history, when it ends;
//! from then on DescribeExecution and GetExecutionHistory answer for it,
//! as for any execution.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use orderflow_asl::{ChildEnd, ChildStart, History, MapRunSettings, MapRunStart, MapRuns, RedrivenChild};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::database::{EndedChild, ExecutionRow};
use crate::error::{ApiError, ErrorCode};
use crate::store::{MachineRecord, Status};
use crate::{Service, epoch_seconds, offset_of, page_size, paged};

/// Items or child executions by state, as DescribeMapRun counts them.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub pending: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub aborted: u64,
    pub total: u64,
    pub results_written: u64,
}

impl Counts {
    fn shown(&self) -> Value {
        json!({
            "pending": self.pending,
            "running": self.running,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "timedOut": self.timed_out,
            "aborted": self.aborted,
            "total": self.total,
            "resultsWritten": self.results_written,
            "failuresNotRedrivable": 0,
            "pendingRedrive": 0,
        })
    }

    fn ended(&mut self, status: &str, n: u64) {
        self.running = self.running.saturating_sub(n);
        match status {
            "SUCCEEDED" => {
                self.succeeded += n;
                self.results_written += n;
            }
            "FAILED" => self.failed += n,
            "TIMED_OUT" => self.timed_out += n,
            _ => self.aborted += n,
        }
    }
}

/// A Map Run as DescribeMapRun tells it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MapRunRecord {
    pub map_run_arn: String,
    pub execution_arn: String,
    pub state_machine_arn: String,
    pub status: String,
    pub started: i128,
    pub stopped: Option<i128>,
    pub max_concurrency: u64,
    pub tolerated_failure_count: i64,
    pub tolerated_failure_percentage: f64,
    pub items: Counts,
    pub executions: Counts,
    /// Whether UpdateMapRun set the settings (the executor then reads them).
    #[serde(default)]
    pub updated: bool,
    /// Whether the reader has read every item (the totals are final).
    #[serde(default)]
    pub read_all: bool,
    #[serde(default)]
    pub redrive_count: u64,
    #[serde(default)]
    pub redrive_date: Option<i128>,
}

impl MapRunRecord {
    fn shown(&self) -> Value {
        let mut out = json!({
            "mapRunArn": self.map_run_arn,
            "executionArn": self.execution_arn,
            "status": self.status,
            "startDate": epoch_seconds(self.started),
            "maxConcurrency": self.max_concurrency,
            "toleratedFailurePercentage": self.tolerated_failure_percentage,
            "toleratedFailureCount": self.tolerated_failure_count,
            "itemCounts": self.items.shown(),
            "executionCounts": self.executions.shown(),
            "redriveCount": self.redrive_count,
        });
        if let Some(stopped) = self.stopped {
            out["stopDate"] = epoch_seconds(stopped);
        }
        if let Some(redriven) = self.redrive_date {
            out["redriveDate"] = epoch_seconds(redriven);
        }
        out
    }
}

/// The Map Runs running now, by ARN.
#[derive(Default)]
pub struct Live(Mutex<HashMap<String, MapRunRecord>>);

impl Live {
    fn with<T>(&self, arn: &str, f: impl FnOnce(&mut MapRunRecord) -> T) -> Option<T> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get_mut(arn).map(f)
    }
}

/// One execution's Distributed Maps, reporting to the server.
pub(crate) struct Reporter<'s> {
    pub service: &'s Arc<Service>,
    /// The parent's machine record (its version is the children's definition).
    pub machine: &'s MachineRecord,
}

impl Reporter<'_> {
    /// A child started (or redriven) with `items`: executions count those
    /// started; items, those read.
    fn count_started(&self, map_run: &str, items: u64) {
        self.service.map_runs.with(map_run, |r| {
            r.executions.running += 1;
            r.executions.total += 1;
            r.items.running += items;
            if !r.read_all {
                r.items.total += items;
            }
        });
    }
}

impl MapRuns for Reporter<'_> {
    fn started(&self, run: &MapRunStart) {
        // The database is let go before the record is stored.
        let before =
            if run.redrive_count > 0 { self.service.store.db().map_run(&run.map_run_arn).ok().flatten() } else { None };
        if let Some(before) = before {
            // Redriven: what succeeded before stays counted; the rest runs again.
            let kept = |c: &Counts| Counts {
                succeeded: c.succeeded,
                results_written: c.results_written,
                total: c.succeeded,
                ..Counts::default()
            };
            let record = MapRunRecord {
                status: "RUNNING".into(),
                stopped: None,
                items: kept(&before.items),
                executions: kept(&before.executions),
                updated: false,
                read_all: false,
                redrive_count: run.redrive_count,
                redrive_date: Some(run.started),
                ..before
            };
            store(self.service, &record);
            self.service
                .map_runs
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(record.map_run_arn.clone(), record);
            return;
        }
        let record = MapRunRecord {
            map_run_arn: run.map_run_arn.clone(),
            execution_arn: run.execution_arn.clone(),
            state_machine_arn: run.child_machine_arn.clone(),
            status: "RUNNING".into(),
            started: run.started,
            stopped: None,
            max_concurrency: run.settings.max_concurrency,
            tolerated_failure_count: run.settings.tolerated_failure_count.unwrap_or(0),
            tolerated_failure_percentage: run.settings.tolerated_failure_percentage.unwrap_or(0.0),
            items: Counts::default(),
            executions: Counts::default(),
            updated: false,
            read_all: false,
            redrive_count: 0,
            redrive_date: None,
        };
        store(self.service, &record);
        self.service.map_runs.0.lock().unwrap_or_else(|p| p.into_inner()).insert(record.map_run_arn.clone(), record);
    }

    fn child_started(&self, map_run: &str, child: &ChildStart) -> Option<Arc<History>> {
        self.count_started(map_run, child.items);
        // EXPRESS children are counted, not kept.
        if child.express {
            return None;
        }
        let machine_arn = self.service.map_runs.with(map_run, |r| r.state_machine_arn.clone()).unwrap_or_default();
        let history = Arc::new(History::default());
        self.service.children.lock().unwrap_or_else(|p| p.into_inner()).insert(
            child.arn.clone(),
            Running {
                name: child.name.clone(),
                input: child.input.to_string(),
                started: child.started,
                history: history.clone(),
                map_run: map_run.to_owned(),
                machine_arn,
                version: self.machine.version,
                items: child.items,
                redrive_count: 0,
                redriven: None,
            },
        );
        Some(history)
    }

    fn child_redriven(&self, map_run: &str, child: &ChildStart) -> Option<RedrivenChild> {
        // The child's row and history as it ended (stored first if it waits to be).
        store_ended(self.service);
        let (row, events) = {
            let mut db = self.service.store.db();
            let row = db.execution(&child.arn).ok().flatten()?;
            let events = db.events(row.seq, 0, usize::MAX, false).ok()?;
            (row, events)
        };
        if row.status == Status::Succeeded || row.status == Status::Running {
            return None;
        }
        self.count_started(map_run, child.items);
        let history = Arc::new(History::continuing(events, Vec::new()));
        let redrive_count = row.redrive_count + 1;
        self.service.children.lock().unwrap_or_else(|p| p.into_inner()).insert(
            child.arn.clone(),
            Running {
                name: row.name,
                input: row.input,
                started: row.started,
                history: history.clone(),
                map_run: map_run.to_owned(),
                machine_arn: row.machine_arn,
                version: row.version,
                items: child.items,
                redrive_count,
                redriven: Some(child.started),
            },
        );
        Some(RedrivenChild { history, redrive_count, started: row.started })
    }

    fn child_ended(&self, map_run: &str, child: &ChildEnd) {
        let machine_arn = self.service.map_runs.with(map_run, |r| {
            r.executions.ended(child.status, 1);
            r.items.ended(child.status, child.items);
            r.state_machine_arn.clone()
        });
        let running = self.service.children.lock().unwrap_or_else(|p| p.into_inner()).remove(&child.arn);
        let (Some(running), Some(machine_arn)) = (running, machine_arn) else { return };
        // Stored with others, in one transaction: one per child costs more than the child.

        let row = ExecutionRow {
            seq: 0,
            arn: child.arn.clone(),
            machine_arn,
            version: self.machine.version,
            name: running.name,
            status: Status::parse(child.status).unwrap_or(Status::Aborted),
            input: running.input,
            output: child.output.as_ref().map(|o| o.to_string()),
            error: child.error.clone(),
            cause: child.cause.clone(),
            started: running.started,
            stopped: Some(child.stopped),
            redrive_count: running.redrive_count,
            redriven: running.redriven,
        };
        let ended =
            EndedChild { row, map_run: map_run.to_owned(), items: child.items, events: running.history.events() };
        let full = {
            let mut pending = self.service.ended_children.0.lock().unwrap_or_else(|p| p.into_inner());
            pending.push(ended);
            pending.len() >= STORED_TOGETHER
        };
        if full {
            store_ended(self.service);
        }
    }

    fn items_read(&self, map_run: &str, total: u64) {
        self.service.map_runs.with(map_run, |r| {
            r.items.total = total;
            r.read_all = true;
        });
    }

    fn ended(&self, map_run: &str, status: &'static str, _error: Option<&str>, _cause: Option<&str>) {
        // Its children are stored before the Map Run is.
        store_ended(self.service);
        let now = self.service.clock.now_nanos();
        let record = self.service.map_runs.0.lock().unwrap_or_else(|p| p.into_inner()).remove(map_run);
        if let Some(mut record) = record {
            record.status = status.into();
            record.stopped = Some(now);
            store(self.service, &record);
        }
    }

    fn settings(&self, map_run: &str) -> Option<MapRunSettings> {
        self.service.map_runs.with(map_run, |r| {
            r.updated.then_some(MapRunSettings {
                max_concurrency: r.max_concurrency,
                tolerated_failure_count: Some(r.tolerated_failure_count),
                tolerated_failure_percentage: Some(r.tolerated_failure_percentage),
            })
        })?
    }
}

/// Ended children are stored this many at a time, or sooner when their
/// Map Run ends or the service flushes.
const STORED_TOGETHER: usize = 256;

/// Children that have ended and are not stored yet.
#[derive(Default)]
pub struct Ended(Mutex<Vec<EndedChild>>);

/// Stores the children that have ended, in one transaction.
pub(crate) fn store_ended(service: &Service) -> usize {
    let ended = std::mem::take(&mut *service.ended_children.0.lock().unwrap_or_else(|p| p.into_inner()));
    if ended.is_empty() {
        return 0;
    }
    if let Err(e) = service.store.db().insert_children(&ended) {
        eprintln!("orderflow serve: {} child execution(s) were not stored: {e}", ended.len());
    }
    ended.len()
}

/// A child execution while it runs.
pub struct Running {
    name: String,
    input: String,
    started: i128,
    history: Arc<History>,
    map_run: String,
    /// The children's machine (`Parent/Label`), and the parent's version it runs.
    machine_arn: String,
    version: i64,
    items: u64,
    /// Redriven in place: its redrive number and when.
    redrive_count: u64,
    redriven: Option<i128>,
}

impl Running {
    /// The child as a RUNNING execution row (it has no row in the database yet).
    fn row(&self, arn: &str) -> ExecutionRow {
        ExecutionRow {
            seq: 0,
            arn: arn.to_owned(),
            machine_arn: self.machine_arn.clone(),
            version: self.version,
            name: self.name.clone(),
            status: Status::Running,
            input: self.input.clone(),
            output: None,
            error: None,
            cause: None,
            started: self.started,
            stopped: None,
            redrive_count: self.redrive_count,
            redriven: self.redriven,
        }
    }
}

/// A Map Run's child while it runs: its row, its Map Run and its history so far.
pub(crate) fn running_child(service: &Service, arn: &str) -> Option<(ExecutionRow, String, Arc<History>)> {
    let children = service.children.lock().unwrap_or_else(|p| p.into_inner());
    let child = children.get(arn)?;
    Some((child.row(arn), child.map_run.clone(), child.history.clone()))
}

/// A Map Run's children running now, newest first, each with its item count.
pub(crate) fn running_children(service: &Service, map_run: &str) -> Vec<(ExecutionRow, u64)> {
    let children = service.children.lock().unwrap_or_else(|p| p.into_inner());
    let mut running: Vec<(ExecutionRow, u64)> =
        children.iter().filter(|(_, c)| c.map_run == map_run).map(|(arn, c)| (c.row(arn), c.items)).collect();
    running.sort_by(|a, b| b.0.started.cmp(&a.0.started).then_with(|| b.0.arn.cmp(&a.0.arn)));
    running
}

fn store(service: &Service, record: &MapRunRecord) {
    if let Err(e) = service.store.db().save_map_run(record) {
        eprintln!("orderflow serve: the Map Run {} was not stored: {e}", record.map_run_arn);
    }
}

fn not_found(arn: &str) -> ApiError {
    ApiError::new(ErrorCode::ResourceNotFound, format!("Map Run does not exist: '{arn}'"))
}

/// A Map Run, running or ended.
fn find(service: &Service, arn: &str) -> Result<MapRunRecord, ApiError> {
    if let Some(live) = service.map_runs.with(arn, |r| r.clone()) {
        return Ok(live);
    }
    service.store.db().map_run(arn)?.ok_or_else(|| not_found(arn))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Describe {
    map_run_arn: String,
}

pub fn describe(service: &Arc<Service>, r: Describe) -> Result<Value, ApiError> {
    Ok(find(service, &r.map_run_arn)?.shown())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct List {
    execution_arn: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub fn list(service: &Arc<Service>, r: List) -> Result<Value, ApiError> {
    // The execution must exist.
    let running = service.store.memory().running.contains_key(&r.execution_arn);
    if !running && service.store.db().execution(&r.execution_arn)?.is_none() {
        return Err(ApiError::new(
            ErrorCode::ExecutionDoesNotExist,
            format!("Execution Does Not Exist: '{}'", r.execution_arn),
        ));
    }
    let size = page_size(r.max_results)?;
    let offset = offset_of(r.next_token.as_deref())?;
    let mut runs = service.store.db().map_runs_of(&r.execution_arn)?;
    // The live records are newer than the database's.
    for run in &mut runs {
        if let Some(live) = service.map_runs.with(&run.map_run_arn, |l| l.clone()) {
            *run = live;
        }
    }
    let items = runs
        .into_iter()
        .skip(offset)
        .take(size + 1)
        .map(|run| {
            let mut item = json!({
                "executionArn": run.execution_arn,
                "mapRunArn": run.map_run_arn,
                "stateMachineArn": run.state_machine_arn,
                "startDate": epoch_seconds(run.started),
            });
            if let Some(stopped) = run.stopped {
                item["stopDate"] = epoch_seconds(stopped);
            }
            item
        })
        .collect();
    Ok(paged("mapRuns", items, offset, size))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Update {
    map_run_arn: String,
    max_concurrency: Option<i64>,
    tolerated_failure_percentage: Option<f64>,
    tolerated_failure_count: Option<i64>,
}

pub fn update(service: &Arc<Service>, r: Update) -> Result<Value, ApiError> {
    if r.max_concurrency.is_none() && r.tolerated_failure_percentage.is_none() && r.tolerated_failure_count.is_none() {
        return Err(ApiError::validation(
            "at least one of maxConcurrency, toleratedFailurePercentage and toleratedFailureCount must be given",
        ));
    }
    if let Some(n) = r.max_concurrency
        && !(0..=10_000).contains(&n)
    {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{n}' at 'maxConcurrency' failed to satisfy constraint: Member must have value between 0 and 10000"
        )));
    }
    if let Some(p) = r.tolerated_failure_percentage
        && !(0.0..=100.0).contains(&p)
    {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{p}' at 'toleratedFailurePercentage' failed to satisfy constraint: Member must have value between 0 and 100"
        )));
    }
    if let Some(c) = r.tolerated_failure_count
        && c < 0
    {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{c}' at 'toleratedFailureCount' failed to satisfy constraint: Member must have value greater than or equal to 0"
        )));
    }
    let updated = service.map_runs.with(&r.map_run_arn, |run| {
        if let Some(n) = r.max_concurrency {
            run.max_concurrency = n as u64;
        }
        if let Some(p) = r.tolerated_failure_percentage {
            run.tolerated_failure_percentage = p;
        }
        if let Some(c) = r.tolerated_failure_count {
            run.tolerated_failure_count = c;
        }
        run.updated = true;
    });
    match updated {
        Some(()) => Ok(json!({})),
        None => {
            find(service, &r.map_run_arn)?;
            Err(ApiError::validation(format!("Map Run '{}' has ended and cannot be updated", r.map_run_arn)))
        }
    }
}
