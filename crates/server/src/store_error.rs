//! What can go wrong with the server's state: its SQLite database, its
//! folder, and what it reads back. The API answers these as InternalFailure
//! (HTTP 500); `orderflow serve` reports them and stops.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the state database: {doing}: {source}")]
    Sqlite { doing: String, source: rusqlite::Error },
    #[error("cannot make {}: {source}", dir.display())]
    Folder { dir: PathBuf, source: std::io::Error },
    #[error("{place} is in use by another orderflow serve")]
    InUse { place: String },
    #[error(
        "{place} has schema version {found}; this orderflow reads version {reads} (use another --state-dir, or --ephemeral)"
    )]
    Schema { place: String, found: i64, reads: i64 },
    /// A stored record (state machine, event, note) that does not read back,
    /// or a record that does not write as JSON.
    #[error("{what}: {source}")]
    Json { what: &'static str, source: serde_json::Error },
    #[error("a stored state machine lacks a member")]
    LacksMember,
    #[error("the stored state machine {arn} no longer loads")]
    NoLongerLoads { arn: String },
    #[error("the state database has no state machine revision {id}")]
    NoRevision { id: i64 },
}

impl StoreError {
    /// A failed SQLite call while `doing` something.
    pub(crate) fn sqlite(doing: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> StoreError {
        let doing = doing.into();
        move |source| StoreError::Sqlite { doing, source }
    }

    /// A record that does not read back, or write, as JSON.
    pub(crate) fn json(what: &'static str) -> impl FnOnce(serde_json::Error) -> StoreError {
        move |source| StoreError::Json { what, source }
    }
}
