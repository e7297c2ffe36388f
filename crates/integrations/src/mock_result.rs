//! A TestState mock's result checked against the output shape of the API
//! the Task calls, as AWS checks it (`mock.fieldValidationMode`):
//!
//! - `STRICT` (the default): every member the shape requires is present,
//!   and every member present has the shape's type and constraints;
//! - `PRESENT`: only the members present are checked;
//! - `NONE`: nothing is.
//!
//! Member names are the ones a Task's result carries (the model's with its
//! first letter in upper case: `ExecutionArn`), and a member the shape does
//! not define is let through. AWS's message names the member alone, at any
//! depth: `Mock result schema validation error: Field 'EventId' must be a
//! string`. Where the optimized integration's result differs from the API's
//! output (a Lambda function's `Payload` and a child execution's `Input` and
//! `Output` under `.sync:2` are JSON, not text) the member takes any JSON.

use orderflow_asl::model::{Pattern, Resource};
use orderflow_value::Value;

use crate::catalog;
use crate::model::{Model, Shape};

/// How much of the mock is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Strict,
    Present,
    None,
}

impl FieldValidation {
    /// The mode a request names; STRICT when it names none.
    pub fn parse(mode: Option<&str>) -> Option<FieldValidation> {
        match mode {
            None | Some("STRICT") => Some(FieldValidation::Strict),
            Some("PRESENT") => Some(FieldValidation::Present),
            Some("NONE") => Some(FieldValidation::None),
            Some(_) => None,
        }
    }
}

/// The API a Task's result comes from: a service's model, the operation,
/// and the members that take any JSON there.
struct Api {
    model: &'static Model,
    operation: &'static str,
    any_json: &'static [&'static str],
}

fn api(resource: &Resource) -> Option<Api> {
    let (service, operation, any_json): (&str, String, &'static [&'static str]) = match resource {
        Resource::LambdaInvoke => ("lambda", "Invoke".into(), &["Payload"]),
        Resource::Service(task) => match (&*task.service, task.pattern, task.sdk) {
            // A result given by SendTaskSuccess is the worker's, not the API's.
            (_, Pattern::WaitForTaskToken, _) => return None,
            ("states", Pattern::Sync, false) => ("sfn", "DescribeExecution".into(), &[]),
            ("states", Pattern::Sync2, false) => ("sfn", "DescribeExecution".into(), &["Input", "Output"]),
            ("states", _, false) => ("sfn", "StartExecution".into(), &[]),
            (service, _, _) => (service, pascal(&task.action), &[]),
        },
        // A function's own result, an activity's worker's: no API shape.
        Resource::Function(_) | Resource::LambdaInvokeCallback | Resource::Activity(_) => return None,
    };
    let model = catalog::service(service)?.model().ok()?;
    let operation = model.operation(&operation)?.name;
    Some(Api { model, operation, any_json })
}

fn pascal(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|c| c.to_ascii_uppercase()).into_iter().chain(chars).collect()
}

/// AWS's ValidationException message when `result`, the mock of a Task on
/// `resource`, does not fit the API's output; None when it fits, or when
/// the Task's result has no API shape to fit (a function ARN, an activity,
/// `.waitForTaskToken`, an HTTP Task).
pub fn violation(resource: &Resource, result: &Value, mode: FieldValidation) -> Option<String> {
    if mode == FieldValidation::None {
        return None;
    }
    let api = api(resource)?;
    let output = api.model.shape(api.model.operation(api.operation)?.output()?)?;
    let check = Check { model: api.model, mode, any_json: api.any_json };
    let problem = match result {
        Value::Object(_) => check.structure(output, result, true),
        _ => Some("Mock result must be a JSON object".to_owned()),
    };
    problem.map(|p| format!("Mock result schema validation error: {p}"))
}

struct Check<'m> {
    model: &'m Model,
    mode: FieldValidation,
    any_json: &'static [&'static str],
}

impl Check<'_> {
    /// A structure's members: the required ones first (STRICT), then each
    /// present one the shape defines, in the mock's order.
    fn structure(&self, shape: Shape<'_>, value: &Value, top: bool) -> Option<String> {
        let members: Vec<_> = shape.members().map(|m| (pascal(m.name), m)).collect();
        if self.mode == FieldValidation::Strict {
            for required in shape.required() {
                let name = pascal(required);
                if value.get(&name).is_none() {
                    return Some(format!("Required field '{name}' is missing"));
                }
            }
        }
        let Value::Object(fields) = value else { return None };
        for (name, field) in fields.iter() {
            let Some((_, member)) = members.iter().find(|(n, _)| n == name.as_str()) else { continue };
            if top && self.any_json.contains(&name.as_str()) {
                continue;
            }
            let target = self.model.target(*member)?;
            if let Some(problem) = self.value(target, field, name.as_str()) {
                return Some(problem);
            }
        }
        None
    }

    /// One member's value against its shape; `field` names it in the message
    /// (a list's items and a map's values are named by their member).
    fn value(&self, shape: Shape<'_>, value: &Value, field: &str) -> Option<String> {
        let must = |what: &str| Some(format!("Field '{field}' must be {what}"));
        if shape.is_document() {
            return None;
        }
        match shape.kind() {
            "structure" => match value {
                Value::Object(_) => self.structure(shape, value, false),
                _ => must("an object"),
            },
            "list" => {
                let Value::Array(items) = value else { return must("an array") };
                if let Some(problem) = self.length(shape, items.len(), field) {
                    return Some(problem);
                }
                let item = self.model.target(shape.item()?)?;
                items.iter().find_map(|v| self.value(item, v, field))
            }
            "map" => {
                let Value::Object(entries) = value else { return must("an object") };
                let of = self.model.target(shape.value()?)?;
                entries.iter().find_map(|(_, v)| self.value(of, v, field))
            }
            "string" | "timestamp" | "blob" => {
                let Value::String(text) = value else { return must("a string") };
                if let Some(problem) = self.length(shape, text.chars().count(), field) {
                    return Some(problem);
                }
                let expected = shape.enum_values().is_none_or(|mut values| values.any(|v| v == &**text));
                (!expected).then(|| format!("Field '{field}' is not an expected value"))
            }
            "integer" | "long" | "float" | "double" => {
                let Value::Number(n) = value else { return must("a number") };
                let n = n.as_f64()?;
                let bound = |key: &str| shape.bound(key).and_then(|b| b.as_f64());
                if bound("min").is_some_and(|min| n < min) {
                    return Some(format!("Field '{field}' is less than the minimum value"));
                }
                if bound("max").is_some_and(|max| n > max) {
                    return Some(format!("Field '{field}' exceeds the maximum value"));
                }
                None
            }
            "boolean" => match value {
                Value::Bool(_) => None,
                _ => must("a boolean"),
            },
            _ => None,
        }
    }

    /// A string's, blob's or list's length within the shape's bounds.
    fn length(&self, shape: Shape<'_>, length: usize, field: &str) -> Option<String> {
        let length = length as f64;
        let bound = |key: &str| shape.bound(key).and_then(|b| b.as_f64());
        if bound("min").is_some_and(|min| length < min) {
            return Some(format!("Field '{field}' is smaller than the minimum length"));
        }
        if bound("max").is_some_and(|max| length > max) {
            return Some(format!("Field '{field}' exceeds the maximum length"));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use orderflow_asl::model::ServiceTask;
    use orderflow_value::json;

    use super::*;

    fn task(service: &str, action: &str, sdk: bool, pattern: Pattern) -> Resource {
        Resource::Service(Arc::new(ServiceTask {
            service: service.into(),
            action: action.into(),
            sdk,
            pattern,
            resource_type: service.into(),
            resource: action.into(),
        }))
    }

    fn check(resource: &Resource, result: Value, mode: FieldValidation) -> Option<String> {
        violation(resource, &result, mode)
            .map(|m| m.trim_start_matches("Mock result schema validation error: ").to_owned())
    }

    #[test]
    fn strict_asks_for_required_members_by_their_result_names() {
        let start = task("states", "startExecution", false, Pattern::RequestResponse);
        let s = FieldValidation::Strict;
        assert_eq!(check(&start, json!({}), s).as_deref(), Some("Required field 'ExecutionArn' is missing"));
        assert_eq!(
            check(&start, json!({"executionArn": "a", "startDate": "d"}), s).as_deref(),
            Some("Required field 'ExecutionArn' is missing")
        );
        assert_eq!(check(&start, json!({"ExecutionArn": "a", "StartDate": "d", "Other": 1}), s), None);
        assert_eq!(check(&start, json!({}), FieldValidation::Present), None);
        assert_eq!(check(&start, json!({"StartDate": true}), FieldValidation::None), None);
        assert_eq!(
            check(&start, json!({"StartDate": true}), FieldValidation::Present).as_deref(),
            Some("Field 'StartDate' must be a string")
        );
    }

    #[test]
    fn each_kind_of_shape_words_its_own_failure() {
        let s = FieldValidation::Strict;
        let events = task("events", "putEvents", false, Pattern::RequestResponse);
        assert_eq!(check(&events, json!({"Entries": "x"}), s).as_deref(), Some("Field 'Entries' must be an array"));
        assert_eq!(
            check(&events, json!({"Entries": [{"EventId": "a"}, {"EventId": ["b"]}]}), s).as_deref(),
            Some("Field 'EventId' must be a string")
        );
        assert_eq!(
            check(&events, json!({"FailedEntryCount": "1"}), s).as_deref(),
            Some("Field 'FailedEntryCount' must be a number")
        );
        assert_eq!(check(&events, json!({"Entries": [7]}), s).as_deref(), Some("Field 'Entries' must be an object"));
        let get = task("s3", "getObject", true, Pattern::RequestResponse);
        assert_eq!(
            check(&get, json!({"StorageClass": "Papyrus"}), s).as_deref(),
            Some("Field 'StorageClass' is not an expected value")
        );
        assert_eq!(
            check(&get, json!({"DeleteMarker": "yes"}), s).as_deref(),
            Some("Field 'DeleteMarker' must be a boolean")
        );
        assert_eq!(check(&get, json!({"StorageClass": "GLACIER", "ContentLength": 9000}), s), None);
        let encrypt = task("kms", "encrypt", true, Pattern::RequestResponse);
        assert_eq!(
            check(&encrypt, json!({"CiphertextBlob": ""}), s).as_deref(),
            Some("Field 'CiphertextBlob' is smaller than the minimum length")
        );
        assert_eq!(
            check(&encrypt, json!({"CiphertextBlob": 1}), s).as_deref(),
            Some("Field 'CiphertextBlob' must be a string")
        );
        let function = task("lambda", "getFunction", true, Pattern::RequestResponse);
        assert_eq!(
            check(&function, json!({"Configuration": {"MemorySize": 127}}), s).as_deref(),
            Some("Field 'MemorySize' is less than the minimum value")
        );
        assert_eq!(
            check(&function, json!({"Configuration": {"MemorySize": 1e9}}), s).as_deref(),
            Some("Field 'MemorySize' exceeds the maximum value")
        );
        assert_eq!(check(&function, json!({"Tags": {"a": 1}}), s).as_deref(), Some("Field 'Tags' must be a string"));
        assert_eq!(check(&function, json!([]), s).as_deref(), Some("Mock result must be a JSON object"));
    }

    #[test]
    fn what_step_functions_returns_as_json_takes_any_json() {
        let s = FieldValidation::Strict;
        assert_eq!(check(&Resource::LambdaInvoke, json!({"Payload": {"any": [1]}, "StatusCode": 200}), s), None);
        assert_eq!(
            check(&Resource::LambdaInvoke, json!({"StatusCode": "200"}), s).as_deref(),
            Some("Field 'StatusCode' must be a number")
        );
        let sync2 = task("states", "startExecution", false, Pattern::Sync2);
        let described = json!({"ExecutionArn": "a", "StateMachineArn": "m", "Status": "SUCCEEDED", "StartDate": "d", "Output": {"x": 1}});
        assert_eq!(check(&sync2, described.clone(), s), None);
        let sync = task("states", "startExecution", false, Pattern::Sync);
        assert_eq!(check(&sync, described, s).as_deref(), Some("Field 'Output' must be a string"));
        // No API shape: a worker's answer, a function's own output.
        let token = task("sqs", "sendMessage", false, Pattern::WaitForTaskToken);
        assert_eq!(check(&token, json!([1]), s), None);
        assert_eq!(check(&Resource::Function("arn".into()), json!(1), s), None);
    }
}
