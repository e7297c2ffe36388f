//! How a template's resources are named locally, and its intrinsics
//! resolved to those names: `!Ref`, `!GetAtt`, `!Sub`, `!Join`, `!Select`,
//! `!Split`, `!FindInMap`, `!GetAZs`, `!Base64`, `!If` (with `AWS::NoValue`),
//! `Fn::Length` and `Fn::ToJsonString` (AWS::LanguageExtensions) and the
//! pseudo parameters, for the stack's state machines, resources and functions.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};
use serde_norway::Value;

/// Where the stack is: the region and account its ARNs name, and the base
/// of its queues' URLs (the emulator's endpoint).
#[derive(Debug, Clone)]
pub struct Place {
    pub region: String,
    pub account: String,
    pub queue_base: String,
}

/// A resource as the stack names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    pub logical_id: String,
    pub kind: String,
    /// Its physical name (a table's, a queue's, a function's).
    pub name: String,
    /// What `!Ref` gives.
    pub reference: String,
    /// What `!GetAtt X.<attribute>` gives.
    pub attributes: BTreeMap<String, String>,
    /// Its Properties, intrinsics resolved (JSON), for the resources made locally.
    pub properties: Json,
    /// Why its properties could not be resolved here.
    pub problem: Option<String>,
}

pub(crate) struct Resolver<'p> {
    pub(crate) place: &'p Place,
    pub(crate) parameters: BTreeMap<String, String>,
    pub(crate) named: BTreeMap<String, Named>,
    /// The template's `Mappings`, for `Fn::FindInMap`.
    pub(crate) mappings: Option<&'p Value>,
    /// Each of the template's `Conditions`, evaluated (conditions.rs).
    pub(crate) conditions: BTreeMap<String, bool>,
}

impl Resolver<'_> {
    pub(crate) fn name_of(
        &self,
        id: &str,
        kind: &str,
        resource: &Value,
        given: &dyn Fn(&str) -> Option<String>,
    ) -> Named {
        let Place { region, account, queue_base } = self.place;
        let binary = resource
            .get("Metadata")
            .and_then(|m| m.get("BuildProperties"))
            .and_then(|b| b.get("Binary"))
            .and_then(Value::as_str);
        let mut attributes = BTreeMap::new();
        let (name, reference) = match kind {
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => {
                // This project's functions run in-process under their binaries' names.
                let name = binary.map(str::to_owned).or_else(|| given("FunctionName")).unwrap_or_else(|| id.to_owned());
                attributes.insert("Arn".into(), format!("arn:aws:lambda:{region}:{account}:function:{name}"));
                (name.clone(), name)
            }
            "AWS::DynamoDB::Table" | "AWS::Serverless::SimpleTable" => {
                let name = given("TableName").unwrap_or_else(|| id.to_owned());
                attributes.insert("Arn".into(), format!("arn:aws:dynamodb:{region}:{account}:table/{name}"));
                (name.clone(), name)
            }
            "AWS::SQS::Queue" => {
                let fifo = given("FifoQueue").is_some_and(|v| v == "true");
                let mut name = given("QueueName").unwrap_or_else(|| id.to_owned());
                if fifo && !name.ends_with(".fifo") {
                    name.push_str(".fifo");
                }
                let url = format!("{}/{account}/{name}", queue_base.trim_end_matches('/'));
                attributes.insert("Arn".into(), format!("arn:aws:sqs:{region}:{account}:{name}"));
                attributes.insert("QueueName".into(), name.clone());
                attributes.insert("QueueUrl".into(), url.clone());
                (name, url)
            }
            "AWS::SNS::Topic" => {
                let fifo = given("FifoTopic").is_some_and(|v| v == "true");
                let mut name = given("TopicName").unwrap_or_else(|| id.to_owned());
                if fifo && !name.ends_with(".fifo") {
                    name.push_str(".fifo");
                }
                let arn = format!("arn:aws:sns:{region}:{account}:{name}");
                attributes.insert("TopicArn".into(), arn.clone());
                attributes.insert("TopicName".into(), name.clone());
                (name, arn)
            }
            "AWS::S3::Bucket" => {
                let name = given("BucketName").unwrap_or_else(|| id.to_ascii_lowercase());
                attributes.insert("Arn".into(), format!("arn:aws:s3:::{name}"));
                (name.clone(), name)
            }
            "AWS::Events::EventBus" => {
                let name = given("Name").unwrap_or_else(|| id.to_owned());
                attributes.insert("Arn".into(), format!("arn:aws:events:{region}:{account}:event-bus/{name}"));
                (name.clone(), name)
            }
            "AWS::SecretsManager::Secret" => {
                let name = given("Name").unwrap_or_else(|| id.to_owned());
                (name.clone(), format!("arn:aws:secretsmanager:{region}:{account}:secret:{name}"))
            }
            "AWS::StepFunctions::Activity" => {
                let name = given("Name").unwrap_or_else(|| id.to_owned());
                let arn = format!("arn:aws:states:{region}:{account}:activity:{name}");
                attributes.insert("Name".into(), name.clone());
                (name, arn)
            }
            "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine" => {
                let name = given("Name").or_else(|| given("StateMachineName")).unwrap_or_else(|| id.to_owned());
                let arn = format!("arn:aws:states:{region}:{account}:stateMachine:{name}");
                attributes.insert("Arn".into(), arn.clone());
                attributes.insert("Name".into(), name.clone());
                (name, arn)
            }
            "AWS::Serverless::LayerVersion" | "AWS::Lambda::LayerVersion" => {
                // Its first version: what `!Ref` gives, as a function's `Layers` names it.
                let name = given("LayerName").unwrap_or_else(|| id.to_owned());
                let arn = format!("arn:aws:lambda:{region}:{account}:layer:{name}:1");
                attributes.insert("LayerVersionArn".into(), arn.clone());
                (name, arn)
            }
            "AWS::IAM::Role" => {
                let name = given("RoleName").unwrap_or_else(|| id.to_owned());
                attributes.insert("Arn".into(), format!("arn:aws:iam::{account}:role/{name}"));
                (name.clone(), name)
            }
            _ => (id.to_owned(), id.to_owned()),
        };
        attributes.entry("Arn".into()).or_insert_with(|| reference.clone());
        Named {
            logical_id: id.to_owned(),
            kind: kind.to_owned(),
            name,
            reference,
            attributes,
            properties: Json::Null,
            problem: None,
        }
    }

    /// What `!Ref name` gives: a parameter, a pseudo parameter or a resource.
    fn reference(&self, name: &str) -> Result<String, String> {
        let Place { region, account, .. } = self.place;
        match name {
            "AWS::Region" => Ok(region.clone()),
            "AWS::AccountId" => Ok(account.clone()),
            "AWS::Partition" => Ok("aws".into()),
            "AWS::URLSuffix" => Ok("amazonaws.com".into()),
            "AWS::StackName" => Ok("local".into()),
            "AWS::StackId" => Ok(format!("arn:aws:cloudformation:{region}:{account}:stack/local/local")),
            "AWS::NoValue" => Ok(String::new()),
            _ => self
                .parameters
                .get(name)
                .cloned()
                .or_else(|| self.named.get(name).map(|n| n.reference.clone()))
                .ok_or_else(|| format!("!Ref {name}: no parameter or resource of that name")),
        }
    }

    fn attribute(&self, id: &str, attribute: &str) -> Result<String, String> {
        let named = self.named.get(id).ok_or_else(|| format!("!GetAtt {id}.{attribute}: no resource {id}"))?;
        named
            .attributes
            .get(attribute)
            .cloned()
            .ok_or_else(|| format!("!GetAtt {id}.{attribute}: no local value for that attribute of a {}", named.kind))
    }

    /// `!Sub` text: `${Name}`, `${Name.Attr}`, pseudo parameters, `vars`; `${!x}` is `${x}`.
    fn sub(&self, text: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let end = after.find('}').ok_or_else(|| format!("!Sub {text:?}: an unclosed ${{"))?;
            let inner = &after[..end];
            if let Some(literal) = inner.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = vars.get(inner) {
                out.push_str(value);
            } else if let Some((id, attribute)) = inner.split_once('.').filter(|_| !inner.starts_with("AWS::")) {
                out.push_str(&self.attribute(id, attribute)?);
            } else {
                out.push_str(&self.reference(inner)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    pub(crate) fn text(&self, value: &Value) -> Result<String, String> {
        match self.json(value)? {
            Json::String(s) => Ok(s),
            Json::Bool(b) => Ok(b.to_string()),
            Json::Number(n) => Ok(n.to_string()),
            other => Err(format!("expected text, found {other}")),
        }
    }

    /// A YAML value as JSON, intrinsics resolved.
    pub(crate) fn json(&self, value: &Value) -> Result<Json, String> {
        Ok(self.json_or_none(value)?.unwrap_or(Json::Null))
    }

    /// As [`json`](Resolver::json), but None for `!Ref AWS::NoValue` (also as
    /// the branch an `Fn::If` takes): CloudFormation leaves out the property
    /// or list item that holds it.
    fn json_or_none(&self, value: &Value) -> Result<Option<Json>, String> {
        Ok(Some(match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => serde_json::to_value(n).map_err(|e| e.to_string())?,
            Value::String(s) => Json::String(s.clone()),
            Value::Sequence(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.extend(self.json_or_none(item)?);
                }
                Json::Array(out)
            }
            Value::Mapping(map) => {
                if map.len() == 1
                    && let Some((Value::String(k), v)) = map.iter().next()
                    && (k == "Ref" || k.starts_with("Fn::"))
                {
                    return self.intrinsic(k.trim_start_matches("Fn::"), v);
                }
                let mut out = Map::new();
                for (k, v) in map {
                    let key = match k {
                        Value::String(s) => s.clone(),
                        other => serde_json::to_string(other).map_err(|e| e.to_string())?,
                    };
                    if let Some(v) = self.json_or_none(v)? {
                        out.insert(key, v);
                    }
                }
                Json::Object(out)
            }
            Value::Tagged(tagged) => {
                return self.intrinsic(tagged.tag.to_string().trim_start_matches('!'), &tagged.value);
            }
        }))
    }

    /// An intrinsic's value: None for `AWS::NoValue`.
    fn intrinsic(&self, name: &str, value: &Value) -> Result<Option<Json>, String> {
        let parts = |n: usize| match value {
            Value::Sequence(parts) if parts.len() == n => Ok(parts),
            _ => Err(format!("Fn::{name} takes a list of {n}")),
        };
        match name {
            "Ref" if value.as_str() == Some("AWS::NoValue") => return Ok(None),
            "If" => {
                let parts = parts(3)?;
                let condition = self.text(&parts[0])?;
                let holds =
                    self.conditions.get(&condition).ok_or_else(|| format!("Fn::If: no condition {condition}"))?;
                return self.json_or_none(&parts[if *holds { 1 } else { 2 }]);
            }
            "Select" => {
                let parts = parts(2)?;
                let index = self.text(&parts[0])?;
                let list = match self.json(&parts[1])? {
                    Json::Array(list) => list,
                    other => return Err(format!("Fn::Select needs a list, not {other}")),
                };
                let chosen = index.parse::<usize>().ok().and_then(|i| list.get(i).cloned());
                return chosen
                    .map(Some)
                    .ok_or_else(|| format!("Fn::Select: index {index} is not in a list of {}", list.len()));
            }
            "Split" => {
                let parts = parts(2)?;
                let (delimiter, text) = (self.text(&parts[0])?, self.text(&parts[1])?);
                if delimiter.is_empty() {
                    return Err("Fn::Split: the delimiter is empty".into());
                }
                return Ok(Some(Json::Array(text.split(&delimiter).map(|s| Json::String(s.to_owned())).collect())));
            }
            "FindInMap" => {
                let parts = parts(3)?;
                let (map, top, second) = (self.text(&parts[0])?, self.text(&parts[1])?, self.text(&parts[2])?);
                let found = self.mappings.and_then(|m| m.get(map.as_str())?.get(top.as_str())?.get(second.as_str()));
                let found = found.ok_or_else(|| format!("Fn::FindInMap: no {map}.{top}.{second} in Mappings"))?;
                return self.json_or_none(found);
            }
            "Base64" => {
                use base64::Engine;
                let text = self.text(value)?;
                return Ok(Some(Json::String(base64::engine::general_purpose::STANDARD.encode(text))));
            }
            // AWS::LanguageExtensions.
            "Length" => {
                return match self.json(value)? {
                    Json::Array(items) => Ok(Some(Json::from(items.len()))),
                    other => Err(format!("Fn::Length needs a list, not {other}")),
                };
            }
            "ToJsonString" => {
                return match self.json(value)? {
                    json @ (Json::Object(_) | Json::Array(_)) => Ok(Some(Json::String(json.to_string()))),
                    other => Err(format!("Fn::ToJsonString needs an object or a list, not {other}")),
                };
            }
            "GetAZs" => {
                let region = &self.place.region;
                return Ok(Some(Json::Array(["a", "b", "c"].map(|z| Json::String(format!("{region}{z}"))).to_vec())));
            }
            _ => {}
        }
        Ok(Some(Json::String(match (name, value) {
            ("Ref", v) => self.reference(&self.text(v)?)?,
            ("GetAtt", Value::String(path)) => {
                let (id, attribute) = path.split_once('.').ok_or_else(|| format!("!GetAtt {path}: no attribute"))?;
                self.attribute(id, attribute)?
            }
            ("GetAtt", Value::Sequence(parts)) if parts.len() == 2 => {
                self.attribute(&self.text(&parts[0])?, &self.text(&parts[1])?)?
            }
            ("Sub", Value::String(text)) => self.sub(text, &BTreeMap::new())?,
            ("Sub", Value::Sequence(parts)) if parts.len() == 2 => {
                let mut vars = BTreeMap::new();
                if let Value::Mapping(map) = &parts[1] {
                    for (k, v) in map {
                        if let Some(k) = k.as_str() {
                            vars.insert(k.to_owned(), self.text(v)?);
                        }
                    }
                }
                self.sub(&self.text(&parts[0])?, &vars)?
            }
            ("Join", Value::Sequence(parts)) if parts.len() == 2 => {
                let separator = self.text(&parts[0])?;
                let items = match self.json(&parts[1])? {
                    Json::Array(items) => items,
                    other => return Err(format!("!Join needs a list, not {other}")),
                };
                items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned).unwrap_or_else(|| i.to_string()))
                    .collect::<Vec<_>>()
                    .join(&separator)
            }
            (other, _) => return Err(format!("the intrinsic {other} has no local value here")),
        })))
    }
}
