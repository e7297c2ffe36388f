//! Fail: the execution (or branch) fails with its Error and Cause, given
//! literally, by a path into the input, or by an intrinsic call.

use std::sync::Arc;

use orderflow_value::Value;

use crate::error::Failure;
use crate::model::Text;
use crate::pipeline::{Now, Scope};

pub(crate) fn run(scope: &Scope<'_, '_>, raw: &Arc<Value>, error: &Option<Text>, cause: &Option<Text>) -> Failure {
    let context = scope.context(None);
    let pick = |text: &Option<Text>, field: &str| -> Result<Option<String>, Failure> {
        let value = match text {
            None => return Ok(None),
            Some(Text::Literal(l)) => return Ok(Some(l.clone())),
            Some(Text::Path(p)) => scope.field_path(field, p, raw, &context)?.into_owned(),
            Some(Text::Call(call)) => scope.field_call(field, call, raw, &context)?,
            Some(Text::Expr(expr)) => scope.expr(field, expr, Now::input(raw), &context)?,
        };
        match value {
            Value::String(s) => Ok(Some(s.to_string())),
            other => {
                Err(scope.runtime(format!("The value of the field '{field}' must be a string, but was '{other}'")))
            }
        }
    };
    // JSONata names the field itself; JSONPath its ...Path.
    let (error_field, cause_field) = if scope.state.jsonata { ("Error", "Cause") } else { ("ErrorPath", "CausePath") };
    let error = match pick(error, error_field) {
        Ok(e) => e,
        Err(f) => return f,
    };
    let cause = match pick(cause, cause_field) {
        Ok(c) => c,
        Err(f) => return f,
    };
    Failure::of(error.unwrap_or_default(), cause)
}
