//! Succeed: InputPath and OutputPath, then the machine (or branch) ends.

use std::sync::Arc;

use serde_json::Value;

use crate::error::Failure;
use crate::pipeline::Scope;

pub(crate) fn run(scope: &Scope<'_, '_>, raw: &Arc<Value>) -> Result<Arc<Value>, Failure> {
    let context = scope.context(None);
    let effective = scope.input_path(raw, &context)?;
    scope.output_path(effective, &context)
}
