//! What every part of orderflow agrees on about the AWS it stands in for,
//! defined once: the local region and account that ARNs name, Step
//! Functions' quotas, and the root of this checkout. No dependencies, so the
//! executor, the emulator, the order domain and the tools can all use it.
#![forbid(unsafe_code)]

use std::path::PathBuf;

/// The region of the local AWS: the executor's ARNs, the API server's, moto's.
pub const REGION: &str = "us-east-1";

/// The account of the local AWS (the account id AWS's documentation uses).
pub const ACCOUNT: &str = "123456789012";

/// Step Functions' quotas.
pub mod quotas {
    /// The largest input, output or task result passed between states, and
    /// the largest execution input, as JSON text (256 KiB).
    pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
    /// The largest set of variables one `Assign` sets, as JSON text (256 KiB).
    pub const MAX_ASSIGN_BYTES: usize = 256 * 1024;
    /// The most all the variables of an execution may hold at once (10 MiB).
    pub const MAX_STORED_VARIABLE_BYTES: usize = 10 * 1024 * 1024;
    /// The largest state machine definition (1 MiB, a hard quota).
    pub const MAX_DEFINITION_BYTES: usize = 1024 * 1024;
    /// The most events one execution's history holds.
    pub const MAX_HISTORY_EVENTS: usize = 25_000;
}

/// The root of this checkout (where the workspace's Cargo.toml is), as
/// built: for tests, benches and tools inside the workspace. Every member
/// crate sits two folders below it.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_workspace_root_holds_the_workspace_manifest() {
        let manifest = std::fs::read_to_string(super::workspace_root().join("Cargo.toml")).unwrap();
        assert!(manifest.lines().any(|l| l.trim() == "[workspace]"));
    }
}
