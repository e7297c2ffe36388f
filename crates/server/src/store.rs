//! What the server keeps: state machines and the executions of STANDARD ones
//! (EXPRESS executions are not describable in Step Functions either). The
//! database (database.rs) holds them all; memory holds the state machines
//! and the running executions, whose histories are shared with their
//! executors so GetExecutionHistory reads them while they grow.
//!
//! Lock order: the database, then memory. A running execution leaves memory
//! only once the database has its end, so a reader that misses it in memory
//! finds it in the database.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use orderflow_asl::{History, MachineType, StateMachine};
use serde_json::{Value, json};
use tokio::task::AbortHandle;

use crate::database::{Database, Db, ExecutionRow, Place};
use crate::error::ApiError;

#[derive(Debug)]
pub struct MachineRecord {
    /// Its machine_versions row in the database.
    pub version: i64,
    pub arn: String,
    pub name: String,
    pub definition: String,
    pub compiled: Arc<StateMachine>,
    pub role_arn: String,
    pub kind: MachineType,
    /// Unix nanoseconds.
    pub created: i128,
    pub updated: i128,
    pub revision: u64,
    pub logging: Value,
    pub tracing: Value,
}

/// A state machine as the database keeps it (the compiled form is made again when read).
pub struct MachineFields {
    pub arn: String,
    pub name: String,
    pub definition: String,
    pub role_arn: String,
    pub kind: MachineType,
    pub created: i128,
    pub updated: i128,
    pub revision: u64,
    pub logging: Value,
    pub tracing: Value,
}

impl MachineFields {
    fn to_json(&self) -> Value {
        json!({
            "arn": self.arn, "name": self.name, "definition": self.definition, "roleArn": self.role_arn,
            "type": crate::state_machines::type_name(self.kind),
            "created": self.created.to_string(), "updated": self.updated.to_string(),
            "revision": self.revision, "logging": self.logging, "tracing": self.tracing,
        })
    }

    fn from_json(value: &Value) -> Option<MachineFields> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let nanos = |key: &str| text(key).and_then(|t| t.parse::<i128>().ok());
        Some(MachineFields {
            arn: text("arn")?,
            name: text("name")?,
            definition: text("definition")?,
            role_arn: text("roleArn")?,
            kind: if text("type")? == "EXPRESS" { MachineType::Express } else { MachineType::Standard },
            created: nanos("created")?,
            updated: nanos("updated")?,
            revision: value.get("revision")?.as_u64()?,
            logging: value.get("logging")?.clone(),
            tracing: value.get("tracing")?.clone(),
        })
    }

    fn compiled(self, version: i64, compiled: Arc<StateMachine>) -> MachineRecord {
        MachineRecord {
            version,
            arn: self.arn,
            name: self.name,
            definition: self.definition,
            compiled,
            role_arn: self.role_arn,
            kind: self.kind,
            created: self.created,
            updated: self.updated,
            revision: self.revision,
            logging: self.logging,
            tracing: self.tracing,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "RUNNING",
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
            Status::Aborted => "ABORTED",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        [Status::Running, Status::Succeeded, Status::Failed, Status::TimedOut, Status::Aborted]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A running execution.
#[derive(Debug)]
pub struct Live {
    pub row: ExecutionRow,
    /// The state machine as it was when the execution started.
    pub machine: Arc<MachineRecord>,
    pub history: Arc<History>,
    pub task: Option<AbortHandle>,
    /// Events and notes the database has.
    pub saved_events: usize,
    pub saved_notes: usize,
}

impl Live {
    /// What the database does not have yet: (events, first note's position, notes), marked saved.
    pub fn unsaved(&mut self) -> (Vec<orderflow_asl::HistoryEvent>, usize, Vec<orderflow_asl::history::Note>) {
        let len = self.history.len();
        let events = self.history.events_from(self.saved_events, len.saturating_sub(self.saved_events));
        self.saved_events = len;
        let first = self.saved_notes;
        let notes = self.history.notes_from(first);
        self.saved_notes += notes.len();
        (events, first, notes)
    }
}

#[derive(Debug, Default)]
pub struct Memory {
    /// By ARN.
    pub machines: BTreeMap<String, Arc<MachineRecord>>,
    /// Running executions by ARN.
    pub running: BTreeMap<String, Live>,
    /// Revisions of state machines read back for executions, by version id.
    versions: HashMap<i64, Arc<MachineRecord>>,
}

pub struct Store {
    database: Database,
    memory: Mutex<Memory>,
}

/// The store's own failures (a full disk, say) are the service's.
pub(crate) fn internal(message: String) -> ApiError {
    ApiError::internal(message)
}

impl Store {
    /// Opens the database and reads its state machines back.
    pub fn open(place: &Place, compile: impl Fn(&str) -> Option<StateMachine>) -> Result<Store, String> {
        let database = Database::open(place)?;
        let mut memory = Memory::default();
        for (version, record) in database.lock().machines()? {
            let fields = MachineFields::from_json(&record).ok_or("a stored state machine lacks a member")?;
            let compiled = compile(&fields.definition)
                .ok_or_else(|| format!("the stored state machine {} no longer loads", fields.arn))?;
            let machine = Arc::new(fields.compiled(version, Arc::new(compiled)));
            memory.versions.insert(version, machine.clone());
            memory.machines.insert(machine.arn.clone(), machine);
        }
        Ok(Store { database, memory: Mutex::new(memory) })
    }

    pub fn memory(&self) -> MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn db(&self) -> Db<'_> {
        self.database.lock()
    }

    /// Stores a new revision of a state machine and makes it current.
    pub fn save_machine(
        &self,
        fields: MachineFields,
        compiled: Arc<StateMachine>,
    ) -> Result<Arc<MachineRecord>, ApiError> {
        let mut db = self.db();
        let version = db.save_machine(&fields.arn, &fields.to_json()).map_err(internal)?;
        let machine = Arc::new(fields.compiled(version, compiled));
        let mut memory = self.memory();
        memory.versions.insert(version, machine.clone());
        memory.machines.insert(machine.arn.clone(), machine.clone());
        Ok(machine)
    }

    pub fn delete_machine(&self, arn: &str) -> Result<(), ApiError> {
        let mut db = self.db();
        db.delete_machine(arn).map_err(internal)?;
        self.memory().machines.remove(arn);
        Ok(())
    }

    /// The revision of a state machine an execution ran on.
    pub fn version(
        &self,
        db: &mut Db<'_>,
        id: i64,
        compile: impl Fn(&str) -> Option<StateMachine>,
    ) -> Result<Arc<MachineRecord>, ApiError> {
        if let Some(found) = self.memory().versions.get(&id) {
            return Ok(found.clone());
        }
        let record = db
            .machine_version(id)
            .map_err(internal)?
            .ok_or_else(|| ApiError::internal(format!("the state database has no state machine revision {id}")))?;
        let fields = MachineFields::from_json(&record)
            .ok_or_else(|| ApiError::internal("a stored state machine lacks a member".into()))?;
        let compiled = compile(&fields.definition)
            .ok_or_else(|| ApiError::internal(format!("the stored state machine {} no longer loads", fields.arn)))?;
        let machine = Arc::new(fields.compiled(id, Arc::new(compiled)));
        self.memory().versions.insert(id, machine.clone());
        Ok(machine)
    }

    /// Writes what running executions added to their histories since the
    /// last flush; gives how many events it wrote.
    pub fn flush(&self) -> Result<usize, String> {
        let mut db = self.db();
        let pending: Vec<_> = {
            let mut memory = self.memory();
            memory
                .running
                .values_mut()
                .filter(|live| live.history.len() > live.saved_events || live.history.notes_len() > live.saved_notes)
                .map(|live| (live.row.seq, live.unsaved()))
                .collect()
        };
        let mut written = 0;
        for (seq, (events, first, notes)) in pending {
            if let Err(e) = db.save_execution(None, seq, &events, (first, &notes)) {
                // Written again by the next flush.
                let mut memory = self.memory();
                if let Some(live) = memory.running.values_mut().find(|live| live.row.seq == seq) {
                    live.saved_events = live.saved_events.min(events.first().map_or(usize::MAX, |e| e.id as usize - 1));
                    live.saved_notes = live.saved_notes.min(first);
                }
                return Err(e);
            }
            written += events.len();
        }
        Ok(written)
    }
}
