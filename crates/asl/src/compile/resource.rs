//! A Task state's Resource: a Lambda function ARN or a supported integration;
//! the rest refused by name.

use orderflow_value::Value;

use crate::model::{DefinitionError, Resource, def_err};

pub(super) fn parse_resource(value: Option<&Value>, at: &str) -> Result<Resource, DefinitionError> {
    let arn = value.and_then(Value::as_str).ok_or_else(|| def_err(at, "is required and must be a string"))?;
    if let Some(integration) = arn.strip_prefix("arn:aws:states:::") {
        return match integration {
            "lambda:invoke" => Ok(Resource::LambdaInvoke),
            "lambda:invoke.waitForTaskToken" => Ok(Resource::LambdaInvokeCallback),
            i if i.ends_with(".waitForTaskToken") => Err(def_err(
                at,
                format!("the .waitForTaskToken callback pattern ({arn}) is not supported by this executor"),
            )),
            i if i.contains(".sync") => {
                Err(def_err(at, format!("the .sync integration pattern ({arn}) is not supported by this executor")))
            }
            _ => Err(def_err(
                at,
                format!(
                    "the service integration {arn} is not supported by this executor; only lambda:invoke and Lambda function ARNs are"
                ),
            )),
        };
    }
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", name, ..] if !name.is_empty() => Ok(Resource::Function(arn.to_owned())),
        ["arn", _, "states", _, _, "activity", ..] => Err(def_err(at, "activities are not supported by this executor")),
        _ => Err(def_err(at, format!("{arn:?} is not a Lambda function ARN or a supported integration"))),
    }
}
