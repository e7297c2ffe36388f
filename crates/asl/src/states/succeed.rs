//! Succeed: InputPath and OutputPath (in JSONata, its Output), then the
//! machine (or branch) ends.

use crate::error::Failure;
use crate::pipeline::{Now, Payload, Scope};

pub(crate) fn run(scope: &Scope<'_, '_>, raw: &Payload) -> Result<Payload, Failure> {
    let context = scope.context(None);
    if scope.state.jsonata {
        return scope.conclude(None, scope.state.io.output.as_ref(), Now::input(&raw.value), raw.clone(), &context);
    }
    let effective = scope.input_path(raw, &context)?;
    scope.output_path(effective, &context)
}
