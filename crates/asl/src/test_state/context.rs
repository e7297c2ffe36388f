//! A context object given to TestState (`context`), checked as AWS checks
//! it before the state runs. The given object is then the whole context
//! object (`$$`, `$states.context`): nothing of the run's is added to it.
//!
//! Its sections are `Execution`, `State`, `StateMachine`, and `Task` for a
//! Task that waits (`.sync`, `.waitForTaskToken`); `Map` cannot be given.
//! Each section takes only the fields a run's has, with their types.

use orderflow_value::Value;

use crate::model::{Kind, State};

/// A field's type in the context object.
#[derive(Clone, Copy)]
enum Type {
    String,
    Integer,
    Any,
}

/// The fields of each section that can be given.
fn fields(section: &str) -> &'static [(&'static str, Type)] {
    match section {
        "Execution" => &[
            ("Id", Type::String),
            ("Input", Type::Any),
            ("Name", Type::String),
            ("RoleArn", Type::String),
            ("StartTime", Type::String),
            ("RedriveCount", Type::Integer),
            ("RedriveTime", Type::String),
        ],
        "State" => &[("EnteredTime", Type::String), ("Name", Type::String), ("RetryCount", Type::Integer)],
        "StateMachine" => &[("Id", Type::String), ("Name", Type::String)],
        "Task" => &[("Token", Type::String)],
        _ => &[],
    }
}

/// AWS's reason for refusing `context` as the context of `state`, after
/// `Invalid Context object provided: `.
pub fn problem(state: &State, context: &Value) -> Option<String> {
    let Value::Object(sections) = context else { return Some("The context object must be a JSON object".into()) };
    let waits = matches!(&state.kind, Kind::Task { resource, .. }
        if resource.waits_for_token()
            || matches!(resource, crate::model::Resource::Service(task) if task.pattern.is_sync()));
    for (section, given) in sections.iter() {
        match section.as_str() {
            "Map" => return Some("'Map' field is not supported when mocking a Context object".into()),
            "Task" if !waits => {
                return Some(
                    "Context object contains 'Task' when state is not a Task state with a '.sync' or '.waitForTaskToken' service integration pattern"
                        .into(),
                );
            }
            "Execution" | "State" | "StateMachine" | "Task" => {}
            other => return Some(format!("Field '{other}' is not allowed")),
        }
        let Value::Object(given) = given else { return Some(format!("{section} must be an object")) };
        let allowed = fields(section.as_str());
        for (field, value) in given.iter() {
            let Some((_, kind)) = allowed.iter().find(|(name, _)| *name == field.as_str()) else {
                return Some(format!("Field '{field}' is not allowed"));
            };
            let wrong = match kind {
                Type::String => (!value.is_string()).then_some("a string"),
                Type::Integer => value.as_u64().is_none().then_some("an integer"),
                Type::Any => None,
            };
            if let Some(what) = wrong {
                return Some(format!("{section}.{field} must be {what}"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use orderflow_value::json;

    use super::*;

    fn state(definition: Value) -> State {
        let machine = crate::compile::parse_unchecked(&json!({"StartAt": "S", "States": {"S": definition}})).unwrap();
        machine.states.into_iter().next().unwrap()
    }

    #[test]
    fn each_refusal_in_aws_words() {
        let task = state(json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}));
        let waiting = state(
            json!({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": true}),
        );
        let cases = [
            (json!({"Execution": {"Id": 1}}), Some("Execution.Id must be a string")),
            (json!({"State": {"RetryCount": "0"}}), Some("State.RetryCount must be an integer")),
            (json!({"Map": {}}), Some("'Map' field is not supported when mocking a Context object")),
            (json!({"Execution": {"pokemon": "squirtle"}}), Some("Field 'pokemon' is not allowed")),
            (json!({"Pokedex": {}}), Some("Field 'Pokedex' is not allowed")),
            (json!({"State": []}), Some("State must be an object")),
            (json!({}), None),
            (json!({"Execution": {}, "State": {}, "StateMachine": {}}), None),
            (json!({"Execution": {"Input": [1], "Name": "n"}, "State": {"RetryCount": 2}}), None),
        ];
        for (context, expected) in cases {
            assert_eq!(problem(&task, &context).as_deref(), expected, "{context}");
        }
        let token = json!({"Task": {"Token": "abc"}});
        assert!(problem(&task, &token).unwrap().starts_with("Context object contains 'Task' when state is not"));
        assert_eq!(problem(&waiting, &token), None);
    }
}
