//! Fail: the execution (or branch) fails with its Error and Cause, given
//! literally, by a path into the input, or by an intrinsic call.

use std::borrow::Cow;

use serde_json::Value;

use crate::error::{Failure, StatesError};
use crate::model::Text;
use crate::pipeline::Scope;

pub(crate) fn run(scope: &Scope<'_, '_>, raw: &Value, error: &Option<Text>, cause: &Option<Text>) -> Failure {
    let context = scope.context(None);
    let pick = |text: &Option<Text>, field: &str| -> Result<Option<String>, Failure> {
        let value = match text {
            None => return Ok(None),
            Some(Text::Literal(l)) => return Ok(Some(l.clone())),
            Some(Text::Path(p)) => scope.select(p, raw, &context).map(Cow::into_owned).map_err(|_| {
                scope.runtime(format!(
                    "The JSONPath '{}' specified for the field '{field}' could not be found in the input '{raw}'",
                    p.text()
                ))
            })?,
            Some(Text::Call(call)) => {
                let resolve = |p: &crate::path::Path| {
                    scope
                        .select(p, raw, &context)
                        .map_err(|m| crate::intrinsics::CallError::Path { path: p.text().to_owned(), detail: m.detail })
                };
                call.evaluate(&resolve, &scope.run.rng).map_err(|e| match e {
                    crate::intrinsics::CallError::Path { path, .. } => scope.runtime(format!(
                        "The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{raw}'"
                    )),
                    crate::intrinsics::CallError::Failed(m) => Failure::new(StatesError::IntrinsicFailure, m),
                })?
            }
        };
        match value {
            Value::String(s) => Ok(Some(s)),
            other => {
                Err(scope.runtime(format!("The value of the field '{field}' must be a string, but was '{other}'")))
            }
        }
    };
    let error = match pick(error, "ErrorPath") {
        Ok(e) => e,
        Err(f) => return f,
    };
    let cause = match pick(cause, "CausePath") {
        Ok(c) => c,
        Err(f) => return f,
    };
    Failure { error: error.unwrap_or_default(), cause }
}
