//! The server's durable part, in one SQLite database (a file under
//! `--state-dir`, or in memory with `--ephemeral`): state machines with every
//! revision an execution ran on, STANDARD executions, and their history
//! events. Running executions also live in memory (store.rs); their events
//! reach the database as they happen (a flush every few hundred
//! milliseconds, and at the end), so a restart loses at most that much.
//!
//! One connection under one lock: the server's writes are small, and WAL
//! without a sync per commit keeps each under a hundred microseconds.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use orderflow_asl::HistoryEvent;
use orderflow_asl::history::Note;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::store::Status;
use crate::store_error::StoreError;

/// Where the database is.
#[derive(Debug, Clone)]
pub enum Place {
    /// `<dir>/orderflow.sqlite3`, made if missing.
    Dir(PathBuf),
    /// Gone when the server stops.
    Memory,
}

/// The file's name under `--state-dir`.
pub const FILE_NAME: &str = "orderflow.sqlite3";

/// This schema's number; a database from another refuses to open rather
/// than be misread.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
-- Every revision of every state machine, so an execution's machine is the one it started on.
CREATE TABLE IF NOT EXISTS machine_versions (
    id INTEGER PRIMARY KEY,
    arn TEXT NOT NULL,
    record TEXT NOT NULL
);
-- Activities: each one's ARN, name and creation time (Unix nanoseconds).
CREATE TABLE IF NOT EXISTS activities (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created INTEGER NOT NULL
) WITHOUT ROWID;
-- The current revision of each state machine that exists.
CREATE TABLE IF NOT EXISTS machines (
    arn TEXT PRIMARY KEY,
    version INTEGER NOT NULL REFERENCES machine_versions (id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS executions (
    seq INTEGER PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    machine_arn TEXT NOT NULL,
    version INTEGER NOT NULL REFERENCES machine_versions (id),
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    started INTEGER NOT NULL,
    stopped INTEGER,
    redrive_count INTEGER NOT NULL DEFAULT 0,
    redriven INTEGER
);
CREATE INDEX IF NOT EXISTS executions_of_machine ON executions (machine_arn, seq);
CREATE INDEX IF NOT EXISTS executions_of_machine_by_status ON executions (machine_arn, status, seq);
CREATE INDEX IF NOT EXISTS running_executions ON executions (status) WHERE status = 'RUNNING';
-- Distributed Maps' runs: each one's record as DescribeMapRun tells it (JSON).
CREATE TABLE IF NOT EXISTS map_runs (
    arn TEXT PRIMARY KEY,
    execution TEXT NOT NULL,
    started INTEGER NOT NULL,
    record TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS map_runs_of_execution ON map_runs (execution, started);
-- A Map Run's child executions (rows of executions).
CREATE TABLE IF NOT EXISTS map_run_children (
    map_run TEXT NOT NULL,
    execution INTEGER NOT NULL,
    -- The items the child execution was given (a batch's, or 1).
    items INTEGER NOT NULL,
    PRIMARY KEY (map_run, execution)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS map_run_children_by_execution ON map_run_children (execution);
CREATE TABLE IF NOT EXISTS events (
    execution INTEGER NOT NULL,
    id INTEGER NOT NULL,
    at INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (execution, id)
) WITHOUT ROWID;
-- Published versions (<machine ARN>:<n>) and aliases (<machine ARN>:<name>) of state
-- machines: each one's record (JSON). A deleted version's record stays, so its number is not used again.
CREATE TABLE IF NOT EXISTS qualifiers (
    arn TEXT PRIMARY KEY,
    machine TEXT NOT NULL,
    record TEXT NOT NULL
) WITHOUT ROWID;
-- The version and alias ARNs an execution was started on.
CREATE TABLE IF NOT EXISTS execution_qualifiers (
    execution INTEGER PRIMARY KEY,
    version_arn TEXT,
    alias_arn TEXT
);
-- What a redrive needs and no event shows (orderflow_asl::history::Note), in order.
CREATE TABLE IF NOT EXISTS notes (
    execution INTEGER NOT NULL,
    position INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (execution, position)
) WITHOUT ROWID;
";

/// The version and alias ARNs an execution was started through, when it was.
#[derive(Debug, Clone, Default)]
pub struct Through {
    pub version: Option<String>,
    pub alias: Option<String>,
}

/// An execution as the database keeps it.
#[derive(Debug, Clone)]
pub struct ExecutionRow {
    pub seq: i64,
    pub arn: String,
    pub machine_arn: String,
    /// The machine_versions row it runs on.
    pub version: i64,
    pub name: String,
    pub status: Status,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// Unix nanoseconds.
    pub started: i128,
    pub stopped: Option<i128>,
    pub redrive_count: u64,
    pub redriven: Option<i128>,
}

pub struct Database(Mutex<Connection>);

fn nanos(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A Map Run's child execution that has ended, to be stored with its history.
pub struct EndedChild {
    pub row: ExecutionRow,
    pub map_run: String,
    /// The items it was given.
    pub items: u64,
    pub events: Vec<HistoryEvent>,
}

const EXECUTION_COLUMNS: &str = "seq, arn, machine_arn, version, name, status, input, output, error, cause, started, stopped, redrive_count, redriven";

fn execution_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ExecutionRow> {
    let status: String = row.get(5)?;
    Ok(ExecutionRow {
        seq: row.get(0)?,
        arn: row.get(1)?,
        machine_arn: row.get(2)?,
        version: row.get(3)?,
        name: row.get(4)?,
        status: Status::parse(&status).unwrap_or(Status::Failed),
        input: row.get(6)?,
        output: row.get(7)?,
        error: row.get(8)?,
        cause: row.get(9)?,
        started: i128::from(row.get::<_, i64>(10)?),
        stopped: row.get::<_, Option<i64>>(11)?.map(i128::from),
        redrive_count: row.get::<_, i64>(12)?.max(0) as u64,
        redriven: row.get::<_, Option<i64>>(13)?.map(i128::from),
    })
}

impl Database {
    pub fn open(place: &Place) -> Result<Database, StoreError> {
        let connection = match place {
            Place::Memory => Connection::open_in_memory().map_err(StoreError::sqlite("cannot open in memory"))?,
            Place::Dir(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder { dir: dir.clone(), source })?;
                let path = dir.join(FILE_NAME);
                Connection::open(&path).map_err(StoreError::sqlite(format!("cannot open {}", path.display())))?
            }
        };
        Database::prepare(connection, place)
    }

    fn prepare(connection: Connection, place: &Place) -> Result<Database, StoreError> {
        let where_ = match place {
            Place::Dir(dir) => dir.join(FILE_NAME).display().to_string(),
            Place::Memory => "in memory".to_owned(),
        };
        connection
            .busy_timeout(std::time::Duration::from_millis(0))
            .map_err(StoreError::sqlite("cannot set the busy timeout"))?;
        // One server per database: it holds the file's lock from the start,
        // and another `serve` on the same directory is refused.
        let pragmas = match place {
            Place::Dir(_) => "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; BEGIN EXCLUSIVE; COMMIT;",
            Place::Memory => "",
        };
        connection
            .execute_batch(&format!("{pragmas} PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"))
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                    StoreError::InUse { place: where_.clone() }
                }
                _ => StoreError::sqlite(format!("{where_} cannot be opened for writing"))(e),
            })?;
        connection.execute_batch(SCHEMA).map_err(StoreError::sqlite("cannot make the tables"))?;
        let version: Option<i64> = connection
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| r.get(0))
            .optional()
            .map_err(StoreError::sqlite("cannot read the schema version"))?;
        match version {
            None => {
                connection
                    .execute("INSERT INTO meta (key, value) VALUES ('schema', ?1)", [SCHEMA_VERSION])
                    .map_err(StoreError::sqlite("cannot write the schema version"))?;
            }
            Some(SCHEMA_VERSION) => {}
            Some(other) => {
                return Err(StoreError::Schema { place: where_, found: other, reads: SCHEMA_VERSION });
            }
        }
        Ok(Database(Mutex::new(connection)))
    }

    pub fn lock(&self) -> Db<'_> {
        Db(self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Writes an execution's events, each at its id.
fn write_events(db: &Connection, seq: i64, events: &[HistoryEvent]) -> Result<(), StoreError> {
    let mut insert = db
        .prepare_cached("INSERT OR REPLACE INTO events (execution, id, at, body) VALUES (?1, ?2, ?3, ?4)")
        .map_err(StoreError::sqlite("cannot store events"))?;
    for event in events {
        let body = serde_json::to_string(event).map_err(StoreError::json("an event is not JSON"))?;
        insert
            .execute(params![seq, event.id as i64, nanos(event.at_nanos), body])
            .map_err(StoreError::sqlite("cannot store an event"))?;
    }
    Ok(())
}

/// The database, held: every call on it is one statement or one transaction.
pub struct Db<'a>(MutexGuard<'a, Connection>);

impl Db<'_> {
    /// Stores a revision of a state machine (its `record` JSON) and makes it current; gives its id.
    pub fn save_machine(&mut self, arn: &str, record: &Value) -> Result<i64, StoreError> {
        let tx = self.0.transaction().map_err(StoreError::sqlite("cannot begin"))?;
        tx.execute("INSERT INTO machine_versions (arn, record) VALUES (?1, ?2)", params![arn, record.to_string()])
            .map_err(StoreError::sqlite("cannot store a state machine"))?;
        let id = tx.last_insert_rowid();
        tx.execute("INSERT OR REPLACE INTO machines (arn, version) VALUES (?1, ?2)", params![arn, id])
            .map_err(StoreError::sqlite("cannot store a state machine"))?;
        tx.commit().map_err(StoreError::sqlite("cannot commit"))?;
        Ok(id)
    }

    /// Stores an activity (a second store of the same ARN changes nothing).
    pub fn save_activity(&mut self, arn: &str, name: &str, created: i128) -> Result<(), StoreError> {
        self.0
            .execute(
                "INSERT OR IGNORE INTO activities (arn, name, created) VALUES (?1, ?2, ?3)",
                params![arn, name, created as i64],
            )
            .map_err(StoreError::sqlite("cannot store an activity"))?;
        Ok(())
    }

    pub fn delete_activity(&mut self, arn: &str) -> Result<(), StoreError> {
        self.0.execute("DELETE FROM activities WHERE arn = ?1", [arn]).map_err(StoreError::sqlite("cannot delete"))?;
        Ok(())
    }

    /// Every activity: (ARN, name, creation time).
    pub fn activities(&mut self) -> Result<Vec<(String, String, i128)>, StoreError> {
        let mut statement = self
            .0
            .prepare("SELECT arn, name, created FROM activities ORDER BY arn")
            .map_err(StoreError::sqlite("cannot read the activities"))?;
        let rows = statement
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, i128::from(r.get::<_, i64>(2)?))))
            .map_err(StoreError::sqlite("cannot read the activities"))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::sqlite("cannot read an activity"))
    }

    pub fn delete_machine(&mut self, arn: &str) -> Result<(), StoreError> {
        self.0.execute("DELETE FROM machines WHERE arn = ?1", [arn]).map_err(StoreError::sqlite("cannot delete"))?;
        Ok(())
    }

    /// Stores a version's or an alias's record, new or changed.
    pub fn save_qualifier(&mut self, arn: &str, machine: &str, record: &str) -> Result<(), StoreError> {
        self.0
            .prepare_cached("INSERT OR REPLACE INTO qualifiers (arn, machine, record) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![arn, machine, record]))
            .map_err(StoreError::sqlite("cannot store a version or alias"))?;
        Ok(())
    }

    pub fn delete_qualifier(&mut self, arn: &str) -> Result<(), StoreError> {
        self.0.execute("DELETE FROM qualifiers WHERE arn = ?1", [arn]).map_err(StoreError::sqlite("cannot delete"))?;
        Ok(())
    }

    /// Every version's and alias's record: (ARN, record JSON).
    pub fn qualifiers(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        let mut statement = self
            .0
            .prepare("SELECT arn, record FROM qualifiers ORDER BY arn")
            .map_err(StoreError::sqlite("cannot read the versions and aliases"))?;
        let rows = statement
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(StoreError::sqlite("cannot read the versions and aliases"))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::sqlite("cannot read a version or alias"))
    }

    /// Notes the version and alias ARNs execution `seq` was started on.
    pub fn qualify_execution(
        &mut self,
        seq: i64,
        version: Option<&str>,
        alias: Option<&str>,
    ) -> Result<(), StoreError> {
        self.0
            .prepare_cached(
                "INSERT OR REPLACE INTO execution_qualifiers (execution, version_arn, alias_arn) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![seq, version, alias]))
            .map_err(StoreError::sqlite("cannot store an execution's version"))?;
        Ok(())
    }

    /// The version and alias ARNs execution `seq` was started on.
    pub fn execution_qualifiers(&mut self, seq: i64) -> Result<Through, StoreError> {
        self.0
            .prepare_cached("SELECT version_arn, alias_arn FROM execution_qualifiers WHERE execution = ?1")
            .and_then(|mut s| s.query_row([seq], |r| Ok(Through { version: r.get(0)?, alias: r.get(1)? })).optional())
            .map(Option::unwrap_or_default)
            .map_err(StoreError::sqlite("cannot read an execution's version"))
    }

    /// The current revision of every state machine: (version id, record JSON).
    pub fn machines(&mut self) -> Result<Vec<(i64, Value)>, StoreError> {
        let mut statement = self
            .0
            .prepare("SELECT v.id, v.record FROM machines m JOIN machine_versions v ON v.id = m.version ORDER BY m.arn")
            .map_err(StoreError::sqlite("cannot read the state machines"))?;
        let rows = statement
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(StoreError::sqlite("cannot read the state machines"))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, text) = row.map_err(StoreError::sqlite("cannot read a state machine"))?;
            out.push((
                id,
                serde_json::from_str(&text).map_err(StoreError::json("a stored state machine is not JSON"))?,
            ));
        }
        Ok(out)
    }

    pub fn machine_version(&mut self, id: i64) -> Result<Option<Value>, StoreError> {
        let text: Option<String> = self
            .0
            .prepare_cached("SELECT record FROM machine_versions WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
            .map_err(StoreError::sqlite("cannot read a state machine"))?;
        text.map(|t| serde_json::from_str(&t).map_err(StoreError::json("a stored state machine is not JSON")))
            .transpose()
    }

    /// Adds an execution, or gives the one that has its ARN.
    pub fn insert_execution(&mut self, row: &ExecutionRow) -> Result<Result<i64, ExecutionRow>, StoreError> {
        if let Some(existing) = self.execution(&row.arn)? {
            return Ok(Err(existing));
        }
        self.0
            .prepare_cached(
                "INSERT INTO executions (arn, machine_arn, version, name, status, input, started, redrive_count)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    row.arn,
                    row.machine_arn,
                    row.version,
                    row.name,
                    row.status.as_str(),
                    row.input,
                    nanos(row.started)
                ])
            })
            .map_err(StoreError::sqlite("cannot store an execution"))?;
        Ok(Ok(self.0.last_insert_rowid()))
    }

    pub fn execution(&mut self, arn: &str) -> Result<Option<ExecutionRow>, StoreError> {
        self.0
            .prepare_cached(&format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE arn = ?1"))
            .and_then(|mut s| s.query_row([arn], execution_row).optional())
            .map_err(StoreError::sqlite("cannot read an execution"))
    }

    pub fn running(&mut self) -> Result<Vec<ExecutionRow>, StoreError> {
        let mut statement = self
            .0
            .prepare(&format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE status = 'RUNNING' ORDER BY seq"))
            .map_err(StoreError::sqlite("cannot read the running executions"))?;
        let rows = statement.query_map([], execution_row).map_err(StoreError::sqlite("cannot read executions"))?;
        rows.collect::<Result<_, _>>().map_err(StoreError::sqlite("cannot read an execution"))
    }

    /// Writes an execution's status and outcome (when given), its events (each at its id) and
    /// its notes from position `notes.0`, in one transaction.
    pub fn save_execution(
        &mut self,
        row: Option<&ExecutionRow>,
        seq: i64,
        events: &[HistoryEvent],
        notes: (usize, &[Note]),
    ) -> Result<(), StoreError> {
        let tx = self.0.transaction().map_err(StoreError::sqlite("cannot begin"))?;
        {
            let (first, notes) = notes;
            let mut insert = tx
                .prepare_cached("INSERT OR REPLACE INTO notes (execution, position, body) VALUES (?1, ?2, ?3)")
                .map_err(StoreError::sqlite("cannot store notes"))?;
            for (i, note) in notes.iter().enumerate() {
                let body = serde_json::to_string(note).map_err(StoreError::json("a note is not JSON"))?;
                insert
                    .execute(params![seq, (first + i) as i64, body])
                    .map_err(StoreError::sqlite("cannot store a note"))?;
            }
        }
        {
            write_events(&tx, seq, events)?;
            if let Some(row) = row {
                tx.prepare_cached(
                    "UPDATE executions SET status = ?2, output = ?3, error = ?4, cause = ?5, stopped = ?6,
                     redrive_count = ?7, redriven = ?8 WHERE seq = ?1",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        seq,
                        row.status.as_str(),
                        row.output,
                        row.error,
                        row.cause,
                        row.stopped.map(nanos),
                        row.redrive_count as i64,
                        row.redriven.map(nanos)
                    ])
                })
                .map_err(StoreError::sqlite("cannot store an execution"))?;
            }
        }
        tx.commit().map_err(StoreError::sqlite("cannot commit"))
    }

    /// Writes a Map Run's record, new or changed.
    pub fn save_map_run(&mut self, record: &crate::map_runs::MapRunRecord) -> Result<(), StoreError> {
        let body = serde_json::to_string(record).map_err(StoreError::json("a Map Run is not JSON"))?;
        self.0
            .prepare_cached("INSERT OR REPLACE INTO map_runs (arn, execution, started, record) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| s.execute(params![record.map_run_arn, record.execution_arn, nanos(record.started), body]))
            .map_err(StoreError::sqlite("cannot store a Map Run"))?;
        Ok(())
    }

    pub fn map_run(&mut self, arn: &str) -> Result<Option<crate::map_runs::MapRunRecord>, StoreError> {
        let body: Option<String> = self
            .0
            .prepare_cached("SELECT record FROM map_runs WHERE arn = ?1")
            .and_then(|mut s| s.query_row([arn], |r| r.get(0)).optional())
            .map_err(StoreError::sqlite("cannot read a Map Run"))?;
        body.map(|b| serde_json::from_str(&b).map_err(StoreError::json("a stored Map Run is not readable"))).transpose()
    }

    /// An execution's Map Runs, newest first.
    pub fn map_runs_of(&mut self, execution: &str) -> Result<Vec<crate::map_runs::MapRunRecord>, StoreError> {
        let mut statement = self
            .0
            .prepare_cached("SELECT record FROM map_runs WHERE execution = ?1 ORDER BY started DESC")
            .map_err(StoreError::sqlite("cannot read Map Runs"))?;
        let bodies: Vec<String> = statement
            .query_map([execution], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(StoreError::sqlite("cannot read Map Runs"))?;
        bodies
            .iter()
            .map(|b| serde_json::from_str(b).map_err(StoreError::json("a stored Map Run is not readable")))
            .collect()
    }

    /// Adds Map Runs' ended child executions with their histories, in one
    /// transaction (a child already stored is left as it is).
    pub fn insert_children(&mut self, children: &[EndedChild]) -> Result<(), StoreError> {
        let tx = self.0.transaction().map_err(StoreError::sqlite("cannot begin"))?;
        {
            let failed = |e| StoreError::sqlite("cannot store a child execution")(e);
            let mut execution = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO executions (arn, machine_arn, version, name, status, input, output, error,
                     cause, started, stopped, redrive_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0)",
                )
                .map_err(failed)?;
            let mut of_map_run = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO map_run_children (map_run, execution, items) VALUES (?1, ?2, ?3)",
                )
                .map_err(failed)?;
            for child in children {
                let row = &child.row;
                let added = execution
                    .execute(params![
                        row.arn,
                        row.machine_arn,
                        row.version,
                        row.name,
                        row.status.as_str(),
                        row.input,
                        row.output,
                        row.error,
                        row.cause,
                        nanos(row.started),
                        row.stopped.map(nanos)
                    ])
                    .map_err(failed)?;
                let seq = if added == 1 {
                    tx.last_insert_rowid()
                } else if row.redrive_count > 0 {
                    // A child redriven in place: its row goes on, its events after the earlier ones.
                    tx.prepare_cached(
                        "UPDATE executions SET status = ?2, output = ?3, error = ?4, cause = ?5, stopped = ?6,
                         redrive_count = ?7, redriven = ?8 WHERE arn = ?1 RETURNING seq",
                    )
                    .and_then(|mut s| {
                        s.query_row(
                            params![
                                row.arn,
                                row.status.as_str(),
                                row.output,
                                row.error,
                                row.cause,
                                row.stopped.map(nanos),
                                row.redrive_count.min(i64::MAX as u64) as i64,
                                row.redriven.map(nanos)
                            ],
                            |r| r.get::<_, i64>(0),
                        )
                    })
                    .map_err(failed)?
                } else {
                    continue;
                };
                let items = child.items.min(i64::MAX as u64) as i64;
                of_map_run.execute(params![child.map_run, seq, items]).map_err(failed)?;
                write_events(&tx, seq, &child.events)?;
            }
        }
        tx.commit().map_err(StoreError::sqlite("cannot commit"))
    }

    /// The Map Run an execution is a child of.
    pub fn map_run_of(&mut self, seq: i64) -> Result<Option<String>, StoreError> {
        self.0
            .prepare_cached("SELECT map_run FROM map_run_children WHERE execution = ?1")
            .and_then(|mut s| s.query_row([seq], |r| r.get(0)).optional())
            .map_err(StoreError::sqlite("cannot read a child execution's Map Run"))
    }

    /// A page of a Map Run's child executions, newest first, each with its item count.
    pub fn children(
        &mut self,
        map_run: &str,
        status: Option<Status>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(ExecutionRow, u64)>, StoreError> {
        let (limit, offset) = (limit.min(i64::MAX as usize) as i64, offset.min(i64::MAX as usize) as i64);
        let columns = EXECUTION_COLUMNS.split(", ").map(|c| format!("e.{c}")).collect::<Vec<_>>().join(", ");
        let status = status.map(|s| s.as_str()).unwrap_or("");
        self.0
            .prepare_cached(&format!(
                "SELECT {columns}, c.items FROM map_run_children c JOIN executions e ON e.seq = c.execution
                 WHERE c.map_run = ?1 AND (?2 = '' OR e.status = ?2) ORDER BY e.seq DESC LIMIT ?3 OFFSET ?4"
            ))
            .and_then(|mut s| {
                let items_at = EXECUTION_COLUMNS.split(", ").count();
                s.query_map(params![map_run, status, limit, offset], |r| {
                    Ok((execution_row(r)?, r.get::<_, i64>(items_at)?.max(0) as u64))
                })?
                .collect()
            })
            .map_err(StoreError::sqlite("cannot list a Map Run's executions"))
    }

    /// A page of a state machine's executions, newest first: at most `limit` from the `offset`th.
    /// A page of a state machine's executions, newest first, each with the
    /// version and alias ARNs it was started through; only those started
    /// through `through` (a version's or an alias's ARN) when given.
    pub fn list(
        &mut self,
        machine_arn: &str,
        through: Option<&str>,
        status: Option<Status>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<(ExecutionRow, Through)>, StoreError> {
        let (limit, offset) = (limit.min(i64::MAX as usize) as i64, offset.min(i64::MAX as usize) as i64);
        let columns = EXECUTION_COLUMNS.split(", ").map(|c| format!("e.{c}")).collect::<Vec<_>>().join(", ");
        let status = status.map(|s| s.as_str()).unwrap_or("");
        let through = through.unwrap_or("");
        let at = EXECUTION_COLUMNS.split(", ").count();
        self.0
            .prepare_cached(&format!(
                "SELECT {columns}, q.version_arn, q.alias_arn FROM executions e
                 LEFT JOIN execution_qualifiers q ON q.execution = e.seq
                 WHERE e.machine_arn = ?1 AND (?2 = '' OR e.status = ?2)
                   AND (?3 = '' OR q.version_arn = ?3 OR q.alias_arn = ?3)
                 ORDER BY e.seq DESC LIMIT ?4 OFFSET ?5"
            ))
            .and_then(|mut s| {
                s.query_map(params![machine_arn, status, through, limit, offset], |r| {
                    Ok((execution_row(r)?, Through { version: r.get(at)?, alias: r.get(at + 1)? }))
                })?
                .collect()
            })
            .map_err(StoreError::sqlite("cannot list executions"))
    }

    /// Every note of an execution, in order.
    pub fn notes(&mut self, seq: i64) -> Result<Vec<Note>, StoreError> {
        let mut statement = self
            .0
            .prepare_cached("SELECT body FROM notes WHERE execution = ?1 ORDER BY position")
            .map_err(StoreError::sqlite("cannot read notes"))?;
        let rows =
            statement.query_map([seq], |r| r.get::<_, String>(0)).map_err(StoreError::sqlite("cannot read notes"))?;
        let mut out = Vec::new();
        for row in rows {
            let body = row.map_err(StoreError::sqlite("cannot read a note"))?;
            out.push(serde_json::from_str(&body).map_err(StoreError::json("a stored note is not a note"))?);
        }
        Ok(out)
    }

    /// At most `limit` events from the `offset`th, oldest first or newest first.
    pub fn events(
        &mut self,
        seq: i64,
        offset: usize,
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<HistoryEvent>, StoreError> {
        let order = if reverse { "DESC" } else { "ASC" };
        let (limit, offset) = (limit.min(i64::MAX as usize) as i64, offset.min(i64::MAX as usize) as i64);
        let mut statement = self
            .0
            .prepare_cached(&format!(
                "SELECT at, body FROM events WHERE execution = ?1 ORDER BY id {order} LIMIT ?2 OFFSET ?3"
            ))
            .map_err(StoreError::sqlite("cannot read events"))?;
        let rows = statement
            .query_map(params![seq, limit, offset], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(StoreError::sqlite("cannot read events"))?;
        let mut out = Vec::new();
        for row in rows {
            let (at, body) = row.map_err(StoreError::sqlite("cannot read an event"))?;
            let mut event: HistoryEvent =
                serde_json::from_str(&body).map_err(StoreError::json("a stored event is not an event"))?;
            event.at_nanos = i128::from(at);
            out.push(event);
        }
        Ok(out)
    }
}
