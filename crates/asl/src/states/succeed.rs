//! Succeed: InputPath and OutputPath, then the machine (or branch) ends.

use crate::error::Failure;
use crate::pipeline::{Payload, Scope};

pub(crate) fn run(scope: &Scope<'_, '_>, raw: &Payload) -> Result<Payload, Failure> {
    let context = scope.context(None);
    let effective = scope.input_path(raw, &context)?;
    scope.output_path(effective, &context)
}
