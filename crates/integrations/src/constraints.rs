//! A request checked against its service model as AWS's front end checks it,
//! before the service sees it: required members, the lengths of strings and
//! lists, the ranges of numbers, enum values. The message is AWS's:
//! `1 validation error detected: Value 'n…' at 'name' failed to satisfy
//! constraint: Member must have length less than or equal to 80`, with a
//! sensitive member's value left out (`Value at 'input'`), a member measured
//! in bytes said so (`Member must have size less than or equal to 262144
//! bytes in UTF-8 encoding`), several violations joined by `; `.

use crate::model::{Member, Model, Shape};

/// A request's JSON as this check reads it: the executor's value, or
/// serde_json's (the API server's requests, checked without a copy).
pub trait Json {
    fn member(&self, name: &str) -> Option<&Self>;
    fn view(&self) -> View<'_, Self>;
}

/// What a JSON value is, for the constraints.
pub enum View<'a, J: ?Sized> {
    Null,
    Bool(bool),
    /// The number's text and value.
    Number(String, Option<f64>),
    String(&'a str),
    Array(Vec<&'a J>),
    Object,
}

/// Both value types read alike.
macro_rules! json_of {
    ($ty:ty, $($value:ident)::+) => {
        impl Json for $ty {
            fn member(&self, name: &str) -> Option<&Self> {
                self.get(name)
            }

            fn view(&self) -> View<'_, Self> {
                use $($value)::+ as Value;
                match self {
                    Value::Null => View::Null,
                    Value::Bool(b) => View::Bool(*b),
                    Value::Number(n) => View::Number(n.to_string(), n.as_f64()),
                    Value::String(s) => View::String(s),
                    Value::Array(items) => View::Array(items.iter().collect()),
                    Value::Object(_) => View::Object,
                }
            }
        }
    };
}

json_of!(orderflow_value::Value, orderflow_value::Value);
json_of!(serde_json::Value, serde_json::Value);

/// AWS's ValidationException message for `request`, the input of
/// `operation`; None when it satisfies the model.
pub fn violations<J: Json + ?Sized>(model: &Model, operation: &str, request: &J) -> Option<String> {
    let input = model.operation(operation)?.input()?;
    let shape = model.shape(input)?;
    let mut found = Vec::new();
    structure(model, shape, request, "", &mut found);
    match found.len() {
        0 => None,
        1 => Some(format!("1 validation error detected: {}", found[0])),
        n => Some(format!("{n} validation errors detected: {}", found.join("; "))),
    }
}

fn structure<J: Json + ?Sized>(model: &Model, shape: Shape<'_>, value: &J, path: &str, found: &mut Vec<String>) {
    let required: Vec<&str> = shape.required().collect();
    for member in shape.members() {
        let at = if path.is_empty() { member.name.to_owned() } else { format!("{path}.{}", member.name) };
        match value.member(member.wire_name()) {
            Some(v) if !matches!(v.view(), View::Null) => {
                if let Some(target) = model.target(member) {
                    check(model, member, target, v, &at, found);
                }
            }
            _ => {
                if required.contains(&member.name) {
                    found.push(format!("Value null at '{at}' failed to satisfy constraint: Member must not be null"));
                }
            }
        }
    }
}

fn check<J: Json + ?Sized>(
    model: &Model,
    member: Member<'_>,
    shape: Shape<'_>,
    value: &J,
    at: &str,
    found: &mut Vec<String>,
) {
    let view = value.view();
    let shown = match &view {
        _ if shape.is_sensitive() => "Value".to_owned(),
        View::String(s) => format!("Value '{s}'"),
        View::Number(text, _) => format!("Value '{text}'"),
        View::Bool(b) => format!("Value '{b}'"),
        _ => "Value".to_owned(),
    };
    let mut fail = |constraint: String| {
        found.push(format!("{shown} at '{at}' failed to satisfy constraint: {constraint}"));
    };
    let bounds = |length: f64, unit: &str, noun: &str| -> Option<String> {
        if let Some(min) = shape.bound("min").filter(|m| length < m.as_f64().unwrap_or(f64::MIN)) {
            return Some(format!("Member must have {noun} greater than or equal to {min}{unit}"));
        }
        if let Some(max) = shape.bound("max").filter(|m| length > m.as_f64().unwrap_or(f64::MAX)) {
            return Some(format!("Member must have {noun} less than or equal to {max}{unit}"));
        }
        None
    };
    match (shape.kind(), view) {
        ("string", View::String(s)) => {
            let failed = if member.length_in_bytes() {
                bounds(s.len() as f64, " bytes in UTF-8 encoding", "size")
            } else {
                bounds(s.chars().count() as f64, "", "length")
            };
            if let Some(constraint) = failed {
                fail(constraint);
            } else if let Some(values) = shape.enum_values() {
                let values: Vec<&str> = values.collect();
                if !values.contains(&s) {
                    fail(format!("Member must satisfy enum value set: [{}]", values.join(", ")));
                }
            }
        }
        ("integer" | "long" | "float" | "double", View::Number(_, n)) => {
            if let Some(constraint) = n.and_then(|n| bounds(n, "", "value")) {
                fail(constraint);
            }
        }
        ("list", View::Array(items)) => {
            if let Some(constraint) = bounds(items.len() as f64, "", "length") {
                fail(constraint);
            }
            if let Some(item) = shape.item().and_then(|i| Some((i, model.target(i)?))) {
                for (i, v) in items.iter().enumerate() {
                    check(model, item.0, item.1, *v, &format!("{at}.{}.member", i + 1), found);
                }
            }
        }
        ("structure", View::Object) => structure(model, shape, value, at, found),
        // A value of the wrong type is the deserializer's to refuse.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use orderflow_value::json;

    use super::*;

    fn sfn() -> &'static Model {
        crate::catalog::service("sfn").unwrap().model().unwrap()
    }

    #[test]
    fn aws_words_each_kind_of_violation() {
        let long = "n".repeat(81);
        let cases = [
            // Recorded from AWS by others (2026): the name's length, the input's size, a missing ARN.
            (
                "StartExecution",
                json!({"stateMachineArn": "arn", "name": long.clone()}),
                format!(
                    "1 validation error detected: Value '{long}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80"
                ),
            ),
            (
                "StartExecution",
                json!({"stateMachineArn": "arn", "input": "x".repeat(262_145)}),
                "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have size less than or equal to 262144 bytes in UTF-8 encoding".to_owned(),
            ),
            (
                "StartExecution",
                json!({"name": "n"}),
                "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null".to_owned(),
            ),
            (
                "ListExecutions",
                json!({"stateMachineArn": "arn", "statusFilter": "DONE", "maxResults": 1001}),
                "2 validation errors detected: Value 'DONE' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]; Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000".to_owned(),
            ),
            (
                "UpdateMapRun",
                json!({"mapRunArn": "arn", "toleratedFailurePercentage": 100.5}),
                "1 validation error detected: Value '100.5' at 'toleratedFailurePercentage' failed to satisfy constraint: Member must have value less than or equal to 100".to_owned(),
            ),
            (
                "TestState",
                json!({"definition": "{}", "stateConfiguration": {"mapIterationFailureCount": -1}}),
                "1 validation error detected: Value '-1' at 'stateConfiguration.mapIterationFailureCount' failed to satisfy constraint: Member must have value greater than or equal to 0".to_owned(),
            ),
            (
                "SendTaskSuccess",
                json!({"taskToken": "", "output": "{}"}),
                "1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length greater than or equal to 1".to_owned(),
            ),
        ];
        for (operation, request, expected) in cases {
            assert_eq!(
                violations(sfn(), operation, &request).as_deref(),
                Some(expected.as_str()),
                "{operation} {request}"
            );
        }
    }

    #[test]
    fn a_request_within_the_model_passes() {
        let ok = json!({"stateMachineArn": "arn", "name": "n".repeat(80), "input": "{}"});
        assert_eq!(violations(sfn(), "StartExecution", &ok), None);
        // Types are the deserializer's to refuse, not the constraints'.
        assert_eq!(violations(sfn(), "ListExecutions", &json!({"stateMachineArn": "a", "maxResults": "x"})), None);
    }
}
