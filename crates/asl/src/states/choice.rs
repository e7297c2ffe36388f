//! Choice: the first rule that holds names the next state, else Default.
//! A JSONata rule is a `Condition` expression, with its own Assign and Output.

use crate::choice::{self, Rule};
use crate::error::{Failure, StatesError};
use crate::model::{Target, UNRESOLVED};
use crate::pipeline::{Now, Payload, Scope};
use crate::template::Template;

pub(crate) fn run(
    scope: &Scope<'_, '_>,
    raw: &Payload,
    choices: &[(Rule, Target)],
    default: Option<&Target>,
    assigns: &[Option<Template>],
    outputs: &[Option<Template>],
) -> Result<(usize, Payload), Failure> {
    let context = scope.context(None);
    let effective = scope.input_path(raw, &context)?;
    let now = Now::input(&raw.value);
    let mut chosen = None;
    for (i, (rule, next)) in choices.iter().enumerate() {
        let holds = match rule {
            Rule::Condition(expr) => {
                scope.expr_of_type("Condition", expr, "boolean", now, &context)?.as_bool().unwrap_or(false)
            }
            Rule::Constant(b) => *b,
            rule => choice::evaluate(rule, &effective.value, &context).map_err(|e| scope.runtime(e))?,
        };
        if holds {
            scope.run.took(scope.state, "Choices", i, "");
            chosen = Some((i, next));
            break;
        }
    }
    if chosen.is_none() && default.is_some() {
        scope.run.took(scope.state, "Default", 0, "");
    }
    // The matched rule's Assign and Output; the state's own are for its Default.
    let (assign, output) = match chosen {
        Some((i, _)) => (assigns.get(i).and_then(Option::as_ref), outputs.get(i).and_then(Option::as_ref)),
        None => (scope.state.assign.as_ref(), scope.state.io.output.as_ref()),
    };
    let next = chosen.map(|(_, next)| next).or(default).ok_or_else(|| {
        Failure::new(
            StatesError::NoChoiceMatched,
            format!("No Matches! The state '{}' has no choice rule that matches and no Default.", scope.state.name),
        )
    })?;
    if next.index == UNRESOLVED {
        return Err(Failure::new(StatesError::Runtime, "a Choice names a state that does not exist"));
    }
    let output = if scope.state.jsonata {
        scope.conclude(assign, output, now, raw.clone(), &context)?
    } else {
        scope.assign(assign, &effective, &context)?;
        scope.output_path(effective, &context)?
    };
    Ok((next.index, output))
}
