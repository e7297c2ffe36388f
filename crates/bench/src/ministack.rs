//! MiniStack (PyPI, MIT), the emulator `make bench` measures beside: from
//! its own virtualenv (`.venv-ministack`, it pins another botocore), on
//! 127.0.0.1 and a free port, stopped when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::serve_section::{Http, call_json};

/// MiniStack from `.venv-ministack`, on 127.0.0.1 and a free port.
pub struct MiniStack {
    child: Child,
    pub endpoint: String,
}

impl Drop for MiniStack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl MiniStack {
    pub fn start(root: &Path) -> Result<MiniStack, String> {
        let python = root.join(".venv-ministack/bin/python");
        if !python.exists() {
            return Err(format!("{} is missing (make bench installs it)", python.display()));
        }
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let child = Command::new(python)
            .args(["-m", "ministack"])
            .env("BIND_HOST", "127.0.0.1")
            .env("GATEWAY_PORT", port.to_string())
            .env("LOG_LEVEL", "WARNING")
            .env("MINISTACK_ACCOUNT_ID", orderflow_local::ACCOUNT)
            .env("MINISTACK_REGION", orderflow_local::REGION)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start MiniStack: {e}"))?;
        Ok(MiniStack { child, endpoint: format!("http://127.0.0.1:{port}") })
    }

    /// Its process's peak RSS (VmHWM), in MB.
    pub fn peak_rss_mb(&self) -> f64 {
        crate::peak_rss_mb(self.child.id())
    }
}

/// Waits until `endpoint` answers the Step Functions API.
pub async fn ready(client: &Http, endpoint: &str) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..300 {
        match call_json(client, endpoint, "ListStateMachines", &json!({})).await {
            Ok(_) => return Ok(()),
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{endpoint} did not answer within 30 s: {last}"))
}
