//! Choice: the first rule that holds names the next state, else Default.

use crate::choice::{self, Rule};
use crate::error::{Failure, StatesError};
use crate::model::{Target, UNRESOLVED};
use crate::pipeline::{Payload, Scope};

pub(crate) fn run(
    scope: &Scope<'_, '_>,
    raw: &Payload,
    choices: &[(Rule, Target)],
    default: Option<&Target>,
    assigns: &[Option<crate::template::Template>],
) -> Result<(usize, Payload), Failure> {
    let context = scope.context(None);
    let effective = scope.input_path(raw, &context)?;
    let mut chosen = None;
    for (i, (rule, next)) in choices.iter().enumerate() {
        if choice::evaluate(rule, &effective.value, &context).map_err(|e| scope.runtime(e))? {
            scope.run.took(scope.state, "Choices", i, "");
            chosen = Some(next);
            // The matched rule's Assign; the state's own is for its Default.
            scope.assign(assigns.get(i).and_then(Option::as_ref), &effective, &context)?;
            break;
        }
    }
    if chosen.is_none() && default.is_some() {
        scope.assign(scope.state.assign.as_ref(), &effective, &context)?;
    }
    if chosen.is_none() && default.is_some() {
        scope.run.took(scope.state, "Default", 0, "");
    }
    let next = chosen.or(default).ok_or_else(|| {
        Failure::new(
            StatesError::NoChoiceMatched,
            format!("No Matches! The state '{}' has no choice rule that matches and no Default.", scope.state.name),
        )
    })?;
    if next.index == UNRESOLVED {
        return Err(Failure::new(StatesError::Runtime, "a Choice names a state that does not exist"));
    }
    let output = scope.output_path(effective, &context)?;
    Ok((next.index, output))
}
