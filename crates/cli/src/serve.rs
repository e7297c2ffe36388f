//! `orderflow serve`'s pieces: the project's own state machine as the server
//! creates it at start, and a MockConfigFile's test cases as the server asks
//! for them (`#TestCase` after a state machine's ARN).

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use orderflow_asl::{TaskFailure, TaskMocks};
use orderflow_definition::Template;
use orderflow_server::MockCases;
use orderflow_value::Value;

use crate::mock_config::MockConfig;

/// The test cases of a MockConfigFile, each handed out on its own.
pub struct FileMocks(pub Arc<MockConfig>);

struct CaseOf {
    config: Arc<MockConfig>,
    machine: String,
    case: String,
}

impl TaskMocks for CaseOf {
    fn answer(&self, state: &str, invocation: u32) -> Option<Result<Value, TaskFailure>> {
        self.config.case(&self.machine, &self.case)?.answer(state, invocation)
    }
}

impl MockCases for FileMocks {
    fn case(&self, machine: &str, case: &str) -> Option<Arc<dyn TaskMocks>> {
        self.0.case(machine, case)?;
        Some(Arc::new(CaseOf { config: self.0.clone(), machine: machine.to_owned(), case: case.to_owned() }))
    }
}

/// A MockConfigFile, refused with the place of its first bad entry.
pub fn read_mock_config(path: &Path) -> Result<MockConfig, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let value = orderflow_value::parse(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    MockConfig::parse(&value).map_err(|e| format!("{}: {e}", path.display()))
}

/// The state machine's name as the template deploys it with its parameters'
/// values, the given ones or else their defaults (`orderflow-${Stage}-orders`
/// → `orderflow-dev-orders`).
pub fn deployed_name(template: &Template, logical_id: &str) -> String {
    let name = template.resource(logical_id).and_then(|r| r.get("Properties")).and_then(|p| p.get("Name"));
    let text = match name {
        Some(serde_norway::Value::String(s)) => s.clone(),
        Some(serde_norway::Value::Tagged(tagged)) if tagged.tag == "Sub" => match &tagged.value {
            serde_norway::Value::String(s) => s.clone(),
            _ => return logical_id.to_owned(),
        },
        _ => return logical_id.to_owned(),
    };
    let mut out = text;
    for (parameter, value) in template.parameter_values().unwrap_or_default() {
        out = out.replace(&format!("${{{parameter}}}"), &value);
    }
    if out.contains("${") || orderflow_server::check_name(&out).is_err() { logical_id.to_owned() } else { out }
}

/// `orderflow serve` as a process of its own, on a free loopback port, with
/// its state in `state_dir` and its tasks sent to a Lambda endpoint that is
/// not there (for machines that call no Lambda): for tests and benchmarks.
/// Killed when dropped.
pub struct ServeProcess {
    pub child: Child,
    /// `http://127.0.0.1:<port>`, read off the server's first line.
    pub endpoint: String,
}

impl ServeProcess {
    /// Starts `program` (an orderflow binary) in `dir`, the workspace its definition is read from.
    pub fn start(program: &Path, dir: &Path, state_dir: &Path) -> std::io::Result<ServeProcess> {
        ServeProcess::start_with(program, dir, state_dir, &[])
    }

    /// [`ServeProcess::start`] with more arguments (`--aws-endpoint URL`).
    pub fn start_with(program: &Path, dir: &Path, state_dir: &Path, more: &[&str]) -> std::io::Result<ServeProcess> {
        let mut child = Command::new(program)
            .args(["serve", "--port", "0", "--lambda-endpoint", "http://127.0.0.1:9", "--state-dir"])
            .arg(state_dir)
            .args(more)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut lines = std::io::BufReader::new(child.stdout.take().expect("a piped stdout")).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let Some(endpoint) = first.split_whitespace().find(|w| w.starts_with("http://127.0.0.1:")) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other(format!("orderflow serve printed no address: {first:?}")));
        };
        let endpoint = endpoint.to_owned();
        // The rest of its output, read so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(ServeProcess { child, endpoint })
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
