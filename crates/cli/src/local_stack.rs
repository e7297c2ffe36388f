//! A template's stack made locally for `orderflow serve`: its tables,
//! queues, topics, buckets, event buses and secrets created in the emulator
//! (through the same AWS SDK calls service Tasks make), its activities and
//! state machines created in the server. What exists already is kept, so a
//! restart against a kept emulator or state directory goes on.

use std::sync::Arc;

use orderflow_definition::{Named, Stack};
use orderflow_integrations::Integrations;
use orderflow_server::{ErrorCode, Service};
use orderflow_value::{Value, json};

/// Makes each resource the emulator or the server should hold; gives a line
/// per resource made, kept or left out (with why).
pub async fn make_resources(stack: &Stack, aws: Option<&Integrations>, server: &Arc<Service>) -> Vec<String> {
    let mut said = Vec::new();
    for named in &stack.resources {
        if let Some(problem) = &named.problem {
            said.push(format!("{} {} ({}) not made: {problem}", named.kind, named.name, named.logical_id));
            continue;
        }
        let outcome = match (named.kind.as_str(), aws) {
            ("AWS::StepFunctions::Activity", _) => {
                let request = serde_json::json!({"name": named.name}).to_string();
                server.call("CreateActivity", request.as_bytes()).await.map(drop).map_err(|e| e.to_string())
            }
            (kind, Some(aws)) if orderflow_definition::MADE_LOCALLY.contains(&kind) => make(aws, named).await,
            (kind, None) if orderflow_definition::MADE_LOCALLY.contains(&kind) => {
                Err("no AWS endpoint to make it in".to_owned())
            }
            _ => continue,
        };
        said.push(match outcome {
            Ok(()) => format!("{} {} ({})", named.kind, named.name, named.logical_id),
            Err(why) => format!("{} {} ({}) not made: {why}", named.kind, named.name, named.logical_id),
        });
    }
    said
}

/// The call that makes `named` in the emulator; "already exists" is success.
async fn make(aws: &Integrations, named: &Named) -> Result<(), String> {
    let p = Value::from(&named.properties);
    let get = |key: &str| p.get(key).cloned();
    let (service, action, request) = match named.kind.as_str() {
        "AWS::DynamoDB::Table" => {
            let mut request = json!({"TableName": named.name});
            for key in [
                "KeySchema",
                "AttributeDefinitions",
                "GlobalSecondaryIndexes",
                "LocalSecondaryIndexes",
                "ProvisionedThroughput",
            ] {
                if let Some(v) = get(key) {
                    request[key] = v;
                }
            }
            let billing = get("BillingMode").and_then(|b| b.as_str().map(str::to_owned));
            let billing = billing.unwrap_or_else(|| {
                if get("ProvisionedThroughput").is_some() { "PROVISIONED".into() } else { "PAY_PER_REQUEST".into() }
            });
            request["BillingMode"] = Value::from(billing);
            if let Some(view) = get("StreamSpecification").and_then(|s| s.get("StreamViewType").cloned()) {
                request["StreamSpecification"] = json!({"StreamEnabled": true, "StreamViewType": view});
            }
            ("dynamodb", "createTable", request)
        }
        "AWS::Serverless::SimpleTable" => {
            let key = get("PrimaryKey").unwrap_or(json!({"Name": "id", "Type": "String"}));
            let name = key.get("Name").cloned().unwrap_or(Value::from("id"));
            let kind = match key.get("Type").and_then(Value::as_str) {
                Some("Number") => "N",
                Some("Binary") => "B",
                _ => "S",
            };
            (
                "dynamodb",
                "createTable",
                json!({"TableName": named.name, "KeySchema": [{"AttributeName": name.clone(), "KeyType": "HASH"}],
                       "AttributeDefinitions": [{"AttributeName": name, "AttributeType": kind}], "BillingMode": "PAY_PER_REQUEST"}),
            )
        }
        "AWS::SQS::Queue" => {
            let mut attributes = orderflow_value::Map::new();
            for key in [
                "FifoQueue",
                "ContentBasedDeduplication",
                "VisibilityTimeout",
                "DelaySeconds",
                "MessageRetentionPeriod",
                "ReceiveMessageWaitTimeSeconds",
                "MaximumMessageSize",
            ] {
                if let Some(v) = get(key) {
                    attributes.insert(key, Value::from(v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())));
                }
            }
            ("sqs", "createQueue", json!({"QueueName": named.name, "Attributes": Value::Object(attributes)}))
        }
        "AWS::SNS::Topic" => {
            let mut attributes = orderflow_value::Map::new();
            for key in ["FifoTopic", "ContentBasedDeduplication"] {
                if let Some(v) = get(key) {
                    attributes.insert(key, Value::from(v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())));
                }
            }
            ("sns", "createTopic", json!({"Name": named.name, "Attributes": Value::Object(attributes)}))
        }
        "AWS::S3::Bucket" => ("s3", "createBucket", json!({"Bucket": named.name})),
        "AWS::Events::EventBus" => ("eventbridge", "createEventBus", json!({"Name": named.name})),
        "AWS::SecretsManager::Secret" => {
            let secret =
                get("SecretString").unwrap_or_else(|| Value::from(format!("local-secret-{}", named.logical_id)));
            ("secretsmanager", "createSecret", json!({"Name": named.name, "SecretString": secret}))
        }
        other => return Err(format!("{other} is not made locally")),
    };
    match aws.sdk_call(service, action, &request).await {
        Ok(_) => Ok(()),
        Err(f)
            if f.error.contains("AlreadyExists")
                || f.error.contains("AlreadyOwnedByYou")
                || f.error.contains("ResourceInUse")
                || f.error.contains("ResourceExists") =>
        {
            Ok(())
        }
        Err(f) => Err(format!("{}: {}", f.error, f.cause)),
    }
}

/// Creates each state machine of the stack in the server, or brings the one
/// it kept up to date; gives (name, ARN) of each.
pub async fn register_machines(stack: &Stack, server: &Arc<Service>) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for machine in &stack.machines {
        let arn = put_machine(server, &machine.name, &machine.definition, machine.role_arn.as_deref(), &machine.kind)
            .await
            .map_err(|e| format!("{e} ({})", machine.logical_id))?;
        out.push((machine.name.clone(), arn));
    }
    Ok(out)
}

/// Creates the state machine `name` in the server, or brings the one it
/// kept up to date; gives its ARN. A role that is not an ARN (a template's
/// unresolved one) becomes the local role.
pub async fn put_machine(
    server: &Arc<Service>,
    name: &str,
    definition: &str,
    role: Option<&str>,
    kind: &str,
) -> Result<String, String> {
    let default_role = format!("arn:aws:iam::{}:role/orderflow-local", orderflow_local::ACCOUNT);
    let role = role.filter(|r| r.starts_with("arn:")).unwrap_or(&default_role);
    let request = serde_json::json!({"name": name, "definition": definition, "roleArn": role, "type": kind});
    match server.call("CreateStateMachine", request.to_string().as_bytes()).await {
        Ok(created) => Ok(created["stateMachineArn"].as_str().unwrap_or_default().to_owned()),
        Err(e) if e.code == ErrorCode::StateMachineAlreadyExists => {
            let arn = server.config.state_machine_arn(name);
            let update = serde_json::json!({"stateMachineArn": arn, "definition": definition, "roleArn": role});
            server
                .call("UpdateStateMachine", update.to_string().as_bytes())
                .await
                .map_err(|e| format!("cannot update the state machine {name}: {e}"))?;
            Ok(arn)
        }
        Err(e) => Err(format!("cannot create the state machine {name}: {e}")),
    }
}
