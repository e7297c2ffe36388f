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
use crate::store_error::StoreError;
use crate::versions::Qualifier;

/// A revision of a state machine, compiled.
#[derive(Debug)]
pub struct MachineRecord {
    /// Its machine_versions row in the database.
    pub version: i64,
    pub compiled: Arc<StateMachine>,
    pub fields: MachineFields,
}

/// A revision's fields read as the record's own (`machine.arn`).
impl std::ops::Deref for MachineRecord {
    type Target = MachineFields;

    fn deref(&self) -> &MachineFields {
        &self.fields
    }
}

/// A state machine as the database keeps it (the compiled form is made again when read).
#[derive(Debug)]
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
        MachineRecord { version, compiled, fields: self }
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
    /// How many events and notes the database has.
    pub fn saved(&self) -> (usize, usize) {
        (self.saved_events, self.saved_notes)
    }

    /// Forgets that what was given since `saved` was written: it was not.
    pub fn unsave(&mut self, saved: (usize, usize)) {
        (self.saved_events, self.saved_notes) = saved;
    }

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
    /// Published versions and aliases of state machines, by ARN.
    pub qualifiers: BTreeMap<String, Qualifier>,
}

/// Compiles a stored definition again (it was checked when it was stored).
pub type Compile = fn(&str) -> Option<StateMachine>;

pub struct Store {
    database: Database,
    memory: Mutex<Memory>,
    compile: Compile,
}

/// A stored revision of a state machine (`record`, its JSON), compiled again.
fn revive(version: i64, record: &Value, compile: Compile) -> Result<Arc<MachineRecord>, StoreError> {
    let fields = MachineFields::from_json(record).ok_or(StoreError::LacksMember)?;
    let compiled = compile(&fields.definition).ok_or_else(|| StoreError::NoLongerLoads { arn: fields.arn.clone() })?;
    Ok(Arc::new(fields.compiled(version, Arc::new(compiled))))
}

impl Store {
    /// Opens the database and reads its state machines back.
    pub fn open(place: &Place, compile: Compile) -> Result<Store, StoreError> {
        let database = Database::open(place)?;
        let mut memory = Memory::default();
        for (version, record) in database.lock().machines()? {
            let machine = revive(version, &record, compile)?;
            memory.versions.insert(version, machine.clone());
            memory.machines.insert(machine.arn.clone(), machine);
        }
        for (arn, record) in database.lock().qualifiers()? {
            let qualifier = serde_json::from_str(&record).map_err(StoreError::json("a stored version or alias"))?;
            memory.qualifiers.insert(arn, qualifier);
        }
        Ok(Store { database, memory: Mutex::new(memory), compile })
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
        let version = db.save_machine(&fields.arn, &fields.to_json())?;
        let machine = Arc::new(fields.compiled(version, compiled));
        let mut memory = self.memory();
        memory.versions.insert(version, machine.clone());
        memory.machines.insert(machine.arn.clone(), machine.clone());
        Ok(machine)
    }

    /// Stores a version or an alias, new or changed.
    pub fn save_qualifier(&self, arn: &str, qualifier: Qualifier) -> Result<(), ApiError> {
        let machine = match &qualifier {
            Qualifier::Version(v) => v.machine.clone(),
            Qualifier::Alias(a) => a.machine.clone(),
        };
        let record = serde_json::to_string(&qualifier).map_err(ApiError::internal)?;
        self.db().save_qualifier(arn, &machine, &record)?;
        self.memory().qualifiers.insert(arn.to_owned(), qualifier);
        Ok(())
    }

    pub fn delete_qualifier(&self, arn: &str) -> Result<(), ApiError> {
        self.db().delete_qualifier(arn)?;
        self.memory().qualifiers.remove(arn);
        Ok(())
    }

    pub fn delete_machine(&self, arn: &str) -> Result<(), ApiError> {
        let mut db = self.db();
        db.delete_machine(arn)?;
        self.memory().machines.remove(arn);
        Ok(())
    }

    /// The revision of a state machine an execution ran on.
    pub fn version(&self, db: &mut Db<'_>, id: i64) -> Result<Arc<MachineRecord>, StoreError> {
        if let Some(found) = self.memory().versions.get(&id) {
            return Ok(found.clone());
        }
        let record = db.machine_version(id)?.ok_or(StoreError::NoRevision { id })?;
        let machine = revive(id, &record, self.compile)?;
        self.memory().versions.insert(id, machine.clone());
        Ok(machine)
    }

    /// Writes what running executions added to their histories since the
    /// last flush; gives how many events it wrote.
    pub fn flush(&self) -> Result<usize, StoreError> {
        let mut db = self.db();
        let pending: Vec<_> = {
            let mut memory = self.memory();
            memory
                .running
                .iter_mut()
                .filter(|(_, live)| {
                    live.history.len() > live.saved_events || live.history.notes_len() > live.saved_notes
                })
                .map(|(arn, live)| (arn.clone(), live.row.seq, live.saved(), live.unsaved()))
                .collect()
        };
        let mut written = 0;
        for (i, (_, seq, _, (events, first, notes))) in pending.iter().enumerate() {
            if let Err(e) = db.save_execution(None, *seq, events, (*first, notes)) {
                // This one and those after it are written again by the next flush.
                let mut memory = self.memory();
                for (arn, _, before, _) in &pending[i..] {
                    if let Some(live) = memory.running.get_mut(arn) {
                        live.unsave(*before);
                    }
                }
                return Err(e);
            }
            written += events.len();
        }
        Ok(written)
    }
}
