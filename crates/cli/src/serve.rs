//! `orderflow serve`'s pieces: the project's own state machine as the server
//! creates it at start, and a MockConfigFile's test cases as the server asks
//! for them (`#TestCase` after a state machine's ARN).

use std::path::Path;
use std::sync::Arc;

use orderflow_asl::{TaskFailure, TaskMocks};
use orderflow_definition::Template;
use orderflow_server::MockCases;
use serde_json::Value;

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
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    MockConfig::parse(&value).map_err(|e| format!("{}: {e}", path.display()))
}

/// The state machine's name as the template deploys it with its parameters'
/// defaults (`orderflow-${Stage}-orders` → `orderflow-dev-orders`).
pub fn deployed_name(template_path: &Path, logical_id: &str) -> String {
    let Ok(template) = Template::load(template_path) else { return logical_id.to_owned() };
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
    for (parameter, default) in template.parameter_defaults() {
        out = out.replace(&format!("${{{parameter}}}"), &default);
    }
    if out.contains("${") || orderflow_server::check_name(&out).is_err() { logical_id.to_owned() } else { out }
}
