//! A Task state's Resource: a Lambda function ARN, Lambda's optimized
//! integration, another service's optimized integration, or an AWS SDK
//! integration (`aws-sdk:<service>:<action>`); the rest refused by name.

use std::sync::Arc;

use orderflow_value::Value;

use crate::model::{DefinitionError, Pattern, Resource, ServiceTask, def_err};

/// Step Functions' optimized integrations, as AWS's developer guide lists
/// them: the service, its actions, whether they take `.waitForTaskToken`,
/// and the actions that take `.sync`. The executor runs DynamoDB, SQS, SNS,
/// EventBridge, Step Functions and the HTTP Task against the local AWS; the
/// others need AWS's compute and run with a mock (the host refuses them
/// otherwise, by name, when the definition loads).
const OPTIMIZED: &[(&str, &[&str], bool, &[&str])] = &[
    ("dynamodb", &["getItem", "putItem", "updateItem", "deleteItem"], false, &[]),
    ("sqs", &["sendMessage"], true, &[]),
    ("sns", &["publish"], true, &[]),
    ("events", &["putEvents"], true, &[]),
    ("states", &["startExecution"], true, &["startExecution"]),
    ("http", &["invoke"], false, &[]),
    ("apigateway", &["invoke"], true, &[]),
    (
        "athena",
        &["startQueryExecution", "stopQueryExecution", "getQueryExecution", "getQueryResults"],
        false,
        &["startQueryExecution"],
    ),
    ("batch", &["submitJob"], false, &["submitJob"]),
    ("bedrock", &["invokeModel", "createModelCustomizationJob"], true, &["createModelCustomizationJob"]),
    (
        "codebuild",
        &["startBuild", "stopBuild", "batchDeleteBuilds", "batchGetReports", "startBuildBatch"],
        false,
        &["startBuild", "startBuildBatch"],
    ),
    ("databrew", &["startJobRun"], false, &["startJobRun"]),
    ("ecs", &["runTask"], true, &["runTask"]),
    (
        "eks",
        &[
            "createCluster",
            "deleteCluster",
            "createFargateProfile",
            "deleteFargateProfile",
            "createNodegroup",
            "deleteNodegroup",
            "runJob",
            "call",
        ],
        false,
        &[
            "createCluster",
            "deleteCluster",
            "createFargateProfile",
            "deleteFargateProfile",
            "createNodegroup",
            "deleteNodegroup",
            "runJob",
        ],
    ),
    (
        "elasticmapreduce",
        &[
            "createCluster",
            "terminateCluster",
            "addStep",
            "cancelStep",
            "setClusterTerminationProtection",
            "modifyInstanceFleetByName",
            "modifyInstanceGroupByName",
        ],
        false,
        &["createCluster", "terminateCluster", "addStep"],
    ),
    (
        "emr-containers",
        &["createVirtualCluster", "deleteVirtualCluster", "startJobRun"],
        false,
        &["deleteVirtualCluster", "startJobRun"],
    ),
    (
        "emr-serverless",
        &[
            "createApplication",
            "startApplication",
            "stopApplication",
            "deleteApplication",
            "startJobRun",
            "cancelJobRun",
        ],
        false,
        &[
            "createApplication",
            "startApplication",
            "stopApplication",
            "deleteApplication",
            "startJobRun",
            "cancelJobRun",
        ],
    ),
    ("glue", &["startJobRun"], false, &["startJobRun"]),
    ("mediaconvert", &["createJob"], false, &["createJob"]),
    (
        "sagemaker",
        &[
            "createTrainingJob",
            "createTransformJob",
            "createModel",
            "createEndpointConfig",
            "createEndpoint",
            "updateEndpoint",
            "createHyperParameterTuningJob",
            "createLabelingJob",
            "createProcessingJob",
        ],
        false,
        &[
            "createTrainingJob",
            "createTransformJob",
            "createHyperParameterTuningJob",
            "createLabelingJob",
            "createProcessingJob",
        ],
    ),
];

pub(super) fn parse_resource(value: Option<&Value>, at: &str) -> Result<Resource, DefinitionError> {
    let arn = value.and_then(Value::as_str).ok_or_else(|| def_err(at, "is required and must be a string"))?;
    if let Some(integration) = arn.strip_prefix("arn:aws:states:::") {
        return match integration {
            "lambda:invoke" => Ok(Resource::LambdaInvoke),
            "lambda:invoke.waitForTaskToken" => Ok(Resource::LambdaInvokeCallback),
            i => service(arn, i, at),
        };
    }
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", name, ..] if !name.is_empty() => Ok(Resource::Function(arn.to_owned())),
        ["arn", _, "states", _, _, "activity", name] if !name.is_empty() => Ok(Resource::Activity(arn.into())),
        _ => Err(def_err(at, format!("{arn:?} is not a Lambda function ARN or a supported integration"))),
    }
}

/// `integration` is the ARN after `arn:aws:states:::`.
fn service(arn: &str, integration: &str, at: &str) -> Result<Resource, DefinitionError> {
    let (call, pattern) = match integration.split_once('.') {
        None => (integration, Pattern::RequestResponse),
        Some((call, "waitForTaskToken")) => (call, Pattern::WaitForTaskToken),
        Some((call, "sync")) => (call, Pattern::Sync),
        Some((call, "sync:2")) => (call, Pattern::Sync2),
        Some(_) => return Err(def_err(at, format!("{arn:?} is not a resource Step Functions knows"))),
    };
    let word = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    let task = |service: &str, action: &str, sdk: bool| {
        let resource_type = if sdk { format!("aws-sdk:{service}") } else { service.to_owned() };
        Resource::Service(Arc::new(ServiceTask {
            service: service.into(),
            action: action.into(),
            sdk,
            pattern,
            resource_type: resource_type.into(),
            // The action with its pattern's suffix (`startExecution.sync:2`).
            resource: integration[call.rfind(':').map_or(0, |i| i + 1)..].into(),
        }))
    };
    match call.split(':').collect::<Vec<_>>().as_slice() {
        ["aws-sdk", service, action] if word(service) && word(action) => {
            // The SDK integrations answer at once or take a token; AWS runs no `.sync` for them.
            if pattern.is_sync() {
                return Err(def_err(
                    at,
                    format!("{}: the AWS SDK integrations have no .sync pattern", not_recognized(arn)),
                ));
            }
            Ok(task(service, action, true))
        }
        [service, action] if *service != "aws-sdk" => match OPTIMIZED.iter().find(|(name, ..)| name == service) {
            Some((_, actions, callback, sync)) if actions.contains(action) => {
                let sync = sync.contains(action);
                if pattern == Pattern::WaitForTaskToken && !callback {
                    return Err(def_err(
                        at,
                        format!("{service}:{action} does not support the .waitForTaskToken pattern ({arn})"),
                    ));
                }
                if pattern.is_sync() && !sync {
                    return Err(def_err(at, format!("{service}:{action} does not support the .sync pattern ({arn})")));
                }
                Ok(task(service, action, false))
            }
            // AWS's words for an action or service it does not integrate.
            Some(_) => Err(def_err(at, not_recognized(arn))),
            None => Err(def_err(at, not_recognized(arn))),
        },
        _ => Err(def_err(at, format!("{arn:?} is not a resource Step Functions knows"))),
    }
}

fn not_recognized(arn: &str) -> String {
    format!(
        "The resource provided {arn} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(arn: &str) -> Result<Resource, String> {
        parse_resource(Some(&Value::from(arn)), "States.T.Resource").map_err(|e| e.to_string())
    }

    fn service_task(arn: &str) -> ServiceTask {
        match parsed(arn) {
            Ok(Resource::Service(task)) => (*task).clone(),
            other => panic!("{arn}: {other:?}"),
        }
    }

    #[test]
    fn optimized_and_sdk_integrations_name_their_service_action_and_pattern() {
        let put = service_task("arn:aws:states:::dynamodb:putItem");
        assert_eq!(
            (&*put.service, &*put.action, put.sdk, put.pattern),
            ("dynamodb", "putItem", false, Pattern::RequestResponse)
        );
        assert_eq!((&*put.resource_type, &*put.resource), ("dynamodb", "putItem"));
        let send = service_task("arn:aws:states:::sqs:sendMessage.waitForTaskToken");
        assert_eq!(send.pattern, Pattern::WaitForTaskToken);
        assert_eq!((&*send.resource_type, &*send.resource), ("sqs", "sendMessage.waitForTaskToken"));
        let get = service_task("arn:aws:states:::aws-sdk:s3:getObject");
        assert_eq!((&*get.service, &*get.action, get.sdk), ("s3", "getObject", true));
        assert_eq!((&*get.resource_type, &*get.resource), ("aws-sdk:s3", "getObject"));
    }

    #[test]
    fn what_is_not_run_is_refused_by_name() {
        assert!(parsed("arn:aws:states:::dynamodb:putItem.waitForTaskToken").unwrap_err().contains("does not support"));
        // AWS's words exactly (LocalStack's AWS-validated test_invalid_integration snapshot).
        let refused = parsed("arn:aws:states:::dynamodb:query").unwrap_err();
        assert!(
            refused.ends_with("The resource provided arn:aws:states:::dynamodb:query is not recognized. The value is not a valid resource ARN, or the resource is not available in this region."),
            "{refused}"
        );
        assert!(parsed("arn:aws:states:::ecs:startTask").unwrap_err().contains("is not recognized"));
        // AWS's other optimized integrations load (they run with a mock), with the patterns AWS gives each.
        assert_eq!(service_task("arn:aws:states:::ecs:runTask.sync").pattern, Pattern::Sync);
        assert_eq!(
            service_task("arn:aws:states:::apigateway:invoke.waitForTaskToken").pattern,
            Pattern::WaitForTaskToken
        );
        assert!(parsed("arn:aws:states:::apigateway:invoke.sync").unwrap_err().contains("does not support the .sync"));
        assert!(
            parsed("arn:aws:states:::athena:getQueryResults.sync").unwrap_err().contains("does not support the .sync")
        );
        assert!(parsed("arn:aws:states:::sqs:sendMessage.sync").unwrap_err().contains("does not support the .sync"));
        assert!(parsed("arn:aws:states:::aws-sdk:s3:getObject.sync").unwrap_err().contains("no .sync"));
        let child = service_task("arn:aws:states:::states:startExecution.sync:2");
        assert_eq!((child.pattern, &*child.resource), (Pattern::Sync2, "startExecution.sync:2"));
        assert!(parsed("arn:aws:states:::ec2:runInstances").unwrap_err().contains("is not recognized"));
        assert!(parsed("arn:aws:states:::aws-sdk:s3").unwrap_err().contains("not a resource"));
        assert!(parsed("arn:aws:states:::sqs:sendMessage.waitFor").unwrap_err().contains("not a resource"));
    }
}
