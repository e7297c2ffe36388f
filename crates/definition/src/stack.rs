//! A template as a local stack holds it: every resource with the name, ARN
//! or URL `!Ref` and `!GetAtt` give for it locally, every state machine
//! (`AWS::Serverless::StateMachine` and `AWS::StepFunctions::StateMachine`,
//! from `DefinitionUri`, `Definition` or `DefinitionString`) with its
//! intrinsics and `DefinitionSubstitutions` resolved, and the resources a
//! local emulator should hold (tables, queues, topics, buckets, event buses,
//! secrets, activities) with their properties resolved the same way, and
//! the event rules that start its state machines.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value as Json;
use serde_norway::Value;

use crate::api_routes::{StackRoute, stack_routes};
use crate::functions::{StackFunction, stack_functions};
use crate::names::{Named, Place, Resolver};
use crate::rules::{StackRule, stack_rules};
use crate::sam_events::sam_events;
use crate::{Template, TemplateError, substitute};

/// A state machine of the stack, ready to create.
#[derive(Debug, Clone, PartialEq)]
pub struct StackMachine {
    pub logical_id: String,
    pub name: String,
    /// The definition's JSON text, its placeholders filled.
    pub definition: String,
    /// `STANDARD` or `EXPRESS`.
    pub kind: String,
    pub role_arn: Option<String>,
}

/// Resource types a local emulator makes from the template.
pub const MADE_LOCALLY: &[&str] = &[
    "AWS::DynamoDB::Table",
    "AWS::Serverless::SimpleTable",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::S3::Bucket",
    "AWS::Events::EventBus",
    "AWS::SecretsManager::Secret",
    "AWS::StepFunctions::Activity",
];

/// The stack of a template.
#[derive(Debug, Clone)]
pub struct Stack {
    pub resources: Vec<Named>,
    pub machines: Vec<StackMachine>,
    /// Its Lambda functions, as a local host would start them.
    pub functions: Vec<StackFunction>,
    /// The event rules that start its state machines (rules.rs).
    pub rules: Vec<StackRule>,
    /// The REST API methods that start its state machines (api_routes.rs).
    pub routes: Vec<StackRoute>,
}

impl Template {
    /// This template as a stack at `place`.
    pub fn stack(&self, place: &Place) -> Result<Stack, TemplateError> {
        let parameters = self.parameter_values()?;
        let mappings = self.root.get("Mappings");
        let mut names = Resolver { place, parameters, named: BTreeMap::new(), mappings, conditions: BTreeMap::new() };
        // Conditions depend on parameters only; a resource whose Condition is false is not in the stack.
        names.conditions = names
            .condition_values(&self.root)
            .map_err(|detail| TemplateError::Intrinsic { id: "Conditions".into(), detail })?;
        // Names first (they do not depend on each other but for a few
        // properties), then properties, which may name any resource.
        let live: Vec<(&str, &str, &Value)> = self.resources().filter(|(_, _, r)| names.live(r)).collect();
        for &(id, kind, resource) in &live {
            let props = resource.get("Properties");
            let given = |key: &str| props.and_then(|p| p.get(key)).and_then(|v| names.text(v).ok());
            let named = names.name_of(id, kind, resource, &given);
            names.named.insert(id.to_owned(), named);
        }
        // The properties of what is made locally; one that cannot be
        // resolved here is said, not fatal: that resource is not made.
        let mut resources = Vec::new();
        for &(id, kind, resource) in &live {
            let mut named = names.named[id].clone();
            if MADE_LOCALLY.contains(&kind)
                && let Some(props) = resource.get("Properties")
            {
                match names.json(props) {
                    Ok(json) => named.properties = json,
                    Err(e) => named.problem = Some(e),
                }
            }
            resources.push(named);
        }
        let folder = self.path().parent().unwrap_or(Path::new("."));
        let mut machines = Vec::new();
        for &(id, kind, resource) in &live {
            if !matches!(kind, "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine") {
                continue;
            }
            let props = resource.get("Properties").ok_or_else(|| TemplateError::NoProperties { id: id.to_owned() })?;
            let fail = |detail: String| TemplateError::Intrinsic { id: id.to_owned(), detail };
            let text = if let Some(uri) = props.get("DefinitionUri").and_then(Value::as_str) {
                let path = folder.join(uri);
                std::fs::read_to_string(&path).map_err(|source| TemplateError::Unreadable { path, source })?
            } else if let Some(inline) = props.get("Definition") {
                names.json(inline).map_err(fail)?.to_string()
            } else if let Some(text) = props.get("DefinitionString") {
                names.text(text).map_err(fail)?
            } else {
                return Err(TemplateError::NoDefinitionUri { id: id.to_owned() });
            };
            let mut values = BTreeMap::new();
            if let Some(Value::Mapping(subs)) = props.get("DefinitionSubstitutions") {
                for (k, v) in subs {
                    let Some(key) = k.as_str() else { continue };
                    let value = match names.json(v).map_err(fail)? {
                        Json::String(s) => s,
                        other => other.to_string(),
                    };
                    values.insert(key.to_owned(), value);
                }
            }
            let definition = substitute(&text, &values)?;
            let named = &names.named[id];
            let kind = props.get("Type").and_then(|t| names.text(t).ok()).unwrap_or_else(|| "STANDARD".to_owned());
            let role_arn = props.get("Role").or_else(|| props.get("RoleArn")).and_then(|r| names.text(r).ok());
            machines.push(StackMachine {
                logical_id: id.to_owned(),
                name: named.name.clone(),
                definition,
                kind,
                role_arn,
            });
        }
        let functions = stack_functions(self, &names, &live);
        let events = sam_events(&live, |id| machines.iter().find(|m| m.logical_id == id).map(|m| m.name.as_str()));
        let arns: Vec<(&str, &str)> =
            machines.iter().map(|m| (m.name.as_str(), names.named[&m.logical_id].reference.as_str())).collect();
        let rules = stack_rules(&names, &live, &events, &arns);
        let routes = stack_routes(&names, &events);
        Ok(Stack { resources, machines, functions, rules, routes })
    }
}
