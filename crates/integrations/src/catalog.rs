//! The services this crate calls: the name a Task's ARN gives each
//! (`aws-sdk:<name>:...`), its model (embedded, parsed at first use) and
//! the names AWS's errors and causes give it.

use std::sync::OnceLock;

use crate::model::{Model, Operation};

/// One service.
pub struct Service {
    /// As `aws-sdk:<name>:` names it (the AWS SDK for Java's client name, lower case).
    pub name: &'static str,
    /// The service's name in the prefix of an SDK integration's errors (`SecretsManager.ResourceNotFoundException`).
    pub error_prefix: &'static str,
    text: &'static str,
    model: OnceLock<Result<Model, String>>,
}

macro_rules! service {
    ($name:literal, $file:literal, $prefix:literal) => {
        Service {
            name: $name,
            error_prefix: $prefix,
            text: include_str!(concat!("../models/", $file, ".json")),
            model: OnceLock::new(),
        }
    };
}

static SERVICES: [Service; 15] = [
    service!("dynamodb", "dynamodb", "DynamoDb"),
    service!("s3", "s3", "S3"),
    service!("sqs", "sqs", "Sqs"),
    service!("sns", "sns", "Sns"),
    service!("eventbridge", "events", "EventBridge"),
    service!("secretsmanager", "secretsmanager", "SecretsManager"),
    service!("ssm", "ssm", "Ssm"),
    service!("kms", "kms", "Kms"),
    service!("sfn", "stepfunctions", "Sfn"),
    service!("lambda", "lambda", "Lambda"),
    service!("sts", "sts", "Sts"),
    service!("cloudwatch", "cloudwatch", "CloudWatch"),
    service!("cloudwatchlogs", "logs", "CloudWatchLogs"),
    service!("kinesis", "kinesis", "Kinesis"),
    service!("firehose", "firehose", "Firehose"),
];

/// The names of the services `aws-sdk:` integrations run against the emulator.
pub fn names() -> impl Iterator<Item = &'static str> {
    SERVICES.iter().map(|s| s.name)
}

/// A service by the name its ARN gives it; the optimized integrations'
/// `events` is EventBridge.
pub fn service(name: &str) -> Option<&'static Service> {
    let name = if name == "events" { "eventbridge" } else { name };
    SERVICES.iter().find(|s| s.name == name)
}

impl Service {
    pub fn model(&self) -> Result<&Model, String> {
        self.model
            .get_or_init(|| Model::parse(self.text))
            .as_ref()
            .map_err(|e| format!("the model of {}: {e}", self.name))
    }

    /// The operation an ARN's action names (`putItem` → `PutItem`).
    pub fn operation(&self, action: &str) -> Result<Operation<'_>, String> {
        let model = self.model()?;
        let mut chars = action.chars();
        let pascal: String = chars.next().map(|c| c.to_ascii_uppercase()).into_iter().chain(chars).collect();
        model
            .operation(&pascal)
            .ok_or_else(|| format!("{} has no action {action} (no operation {pascal} in its API)", self.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_loads_and_speaks_a_protocol_this_crate_speaks() {
        for service in &SERVICES {
            let model = service.model().unwrap();
            assert!(matches!(model.protocol(), "json" | "query" | "rest-json" | "rest-xml"), "{}", service.name);
            assert!(!model.signing_name().is_empty(), "{}", service.name);
        }
        assert_eq!(service("sfn").unwrap().operation("startExecution").unwrap().name, "StartExecution");
        assert!(service("s3").unwrap().operation("getObject").is_ok());
        assert!(service("dynamodb").unwrap().operation("nope").unwrap_err().contains("no action nope"));
    }
}
