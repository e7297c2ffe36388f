//! Pass: its Result, or its Parameters, or its input, put at ResultPath; in
//! JSONata, its Output or its input.

use std::sync::Arc;

use orderflow_value::Value;

use crate::error::Failure;
use crate::pipeline::{Now, Payload, Scope};

/// `result`: the state's Result, with its JSON length, as compiled.
pub(crate) fn run(
    scope: &Scope<'_, '_>,
    raw: Payload,
    result: Option<&(Arc<Value>, usize)>,
) -> Result<Payload, Failure> {
    let io = &scope.state.io;
    let context = scope.context(None);
    let value = match (result, &io.parameters) {
        (Some((r, size)), _) => Payload { value: r.clone(), size: *size },
        (None, Some(p)) => {
            let effective = scope.input_path(&raw, &context)?;
            scope.render(p, &effective, &context)?
        }
        (None, None) => scope.input_path(&raw, &context)?,
    };
    scope.assign(scope.state.assign.as_ref(), &value, &context)?;
    let combined = scope.result_path(io.result_path.as_ref(), raw, value)?;
    scope.output_path(combined, &context)
}

pub(crate) fn run_jsonata(scope: &Scope<'_, '_>, raw: Payload) -> Result<Payload, Failure> {
    let context = scope.context(None);
    let state = scope.state;
    let now = Now::input(&raw.value);
    scope.conclude(state.assign.as_ref(), state.io.output.as_ref(), now, raw.clone(), &context)
}
