//! The deployable definition, read the way CloudFormation and Step Functions
//! read it: the SAM template's functions and state machine, and the ASL with
//! its `${...}` placeholders. The file that deploys is the file that runs
//! locally and the file the tests check.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_norway::Value;

/// What stops a SAM template or its state machine from being read.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {}: {source}", path.display())]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("{} is not YAML: {source}", path.display())]
    NotYaml { path: PathBuf, source: serde_norway::Error },
    #[error("{} has no AWS::Serverless::StateMachine", path.display())]
    NoStateMachine { path: PathBuf },
    #[error("{} has more than one state machine", path.display())]
    SeveralStateMachines { path: PathBuf },
    #[error("{id} has no Properties")]
    NoProperties { id: String },
    #[error("{id} has no DefinitionUri naming a local file")]
    NoDefinitionUri { id: String },
    #[error("unterminated ${{ in the definition")]
    UnterminatedPlaceholder,
    #[error("no value for the placeholder ${{{name}}}")]
    NoValue { name: String },
    #[error("{id}: {detail}")]
    Intrinsic { id: String, detail: String },
    /// A parameter value CloudFormation would refuse, in its words.
    #[error("{detail}")]
    Parameters { detail: String },
}

pub use orderflow_local::workspace_root;

mod api_routes;
mod conditions;
mod functions;
mod names;
mod parameters;
mod rules;
mod sam_events;
mod stack;
pub use api_routes::StackRoute;
pub use functions::{FunctionLayer, MAX_LAYERS, StackFunction, apply_env_vars};
pub use names::{Named, Place};
pub use parameters::parse_overrides;
pub use rules::{RuleInput, StackRule, Trigger};
pub use stack::{MADE_LOCALLY, Stack, StackMachine};

/// A value in a template, with CloudFormation's short-form tags understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intrinsic {
    /// `!Ref X` / `{"Ref": X}`
    Ref(String),
    /// `!GetAtt X.Attr` / `{"Fn::GetAtt": [X, Attr]}`
    GetAtt(String, String),
    /// A plain string.
    Literal(String),
    /// Anything else (`!Sub`, `!Join`, ...), kept as YAML.
    Other(Value),
}

impl Intrinsic {
    fn from_value(value: &Value) -> Intrinsic {
        match value {
            Value::String(s) => Intrinsic::Literal(s.clone()),
            Value::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                match (tag.trim_start_matches('!'), &tagged.value) {
                    ("Ref", Value::String(name)) => Intrinsic::Ref(name.clone()),
                    ("GetAtt", Value::String(path)) => match path.split_once('.') {
                        Some((resource, attribute)) => Intrinsic::GetAtt(resource.into(), attribute.into()),
                        None => Intrinsic::Other(value.clone()),
                    },
                    _ => Intrinsic::Other(value.clone()),
                }
            }
            Value::Mapping(map) if map.len() == 1 => match map.iter().next() {
                Some((Value::String(k), Value::String(name))) if k == "Ref" => Intrinsic::Ref(name.clone()),
                Some((Value::String(k), Value::Sequence(parts))) if k == "Fn::GetAtt" && parts.len() == 2 => {
                    match (&parts[0], &parts[1]) {
                        (Value::String(r), Value::String(a)) => Intrinsic::GetAtt(r.clone(), a.clone()),
                        _ => Intrinsic::Other(value.clone()),
                    }
                }
                _ => Intrinsic::Other(value.clone()),
            },
            other => Intrinsic::Other(other.clone()),
        }
    }
}

/// An `AWS::Serverless::Function` of the template.
#[derive(Debug, Clone)]
pub struct Function {
    pub logical_id: String,
    /// `Metadata.BuildProperties.Binary`: the cargo binary SAM builds.
    pub binary: Option<String>,
    pub environment: BTreeMap<String, Intrinsic>,
}

/// The `AWS::Serverless::StateMachine` of the template.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub logical_id: String,
    /// `DefinitionUri`, resolved against the template's folder.
    pub definition_path: PathBuf,
    pub substitutions: BTreeMap<String, Intrinsic>,
    /// Functions named by a `LambdaInvokePolicy` (`FunctionName: !Ref X`).
    pub invokable_functions: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct Template {
    path: PathBuf,
    root: Value,
    /// Values given for its Parameters, over their defaults.
    overrides: Vec<(String, String)>,
}

impl Template {
    pub fn load(path: impl AsRef<Path>) -> Result<Template, TemplateError> {
        let path = path.as_ref().to_path_buf();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(source) => return Err(TemplateError::Unreadable { path, source }),
        };
        let root = match serde_norway::from_str(&text) {
            Ok(root) => root,
            Err(source) => return Err(TemplateError::NotYaml { path, source }),
        };
        Ok(Template { path, root, overrides: Vec::new() })
    }

    /// The template with values for its Parameters (`--parameter-overrides`),
    /// checked as CloudFormation checks them.
    pub fn with_parameters(mut self, given: Vec<(String, String)>) -> Result<Template, TemplateError> {
        parameters::values(&self.root, &given).map_err(|detail| TemplateError::Parameters { detail })?;
        self.overrides = given;
        Ok(self)
    }

    /// `infra/template.yaml` of this workspace.
    pub fn load_default() -> Result<Template, TemplateError> {
        Self::load(workspace_root().join("infra/template.yaml"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every resource: logical id, type, the resource's YAML.
    pub fn resources(&self) -> impl Iterator<Item = (&str, &str, &Value)> {
        self.root
            .get("Resources")
            .and_then(Value::as_mapping)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter_map(|(k, v)| Some((k.as_str()?, v.get("Type")?.as_str()?, v)))
    }

    pub fn resource(&self, logical_id: &str) -> Option<&Value> {
        self.root.get("Resources")?.get(logical_id)
    }

    /// Each parameter's value, as text: the one given, else its `Default`;
    /// Err, in CloudFormation's words, when one has neither or breaks its constraints.
    pub fn parameter_values(&self) -> Result<BTreeMap<String, String>, TemplateError> {
        parameters::values(&self.root, &self.overrides).map_err(|detail| TemplateError::Parameters { detail })
    }

    /// A function's Lambda timeout in seconds: its own `Timeout`, else the
    /// template's `Globals.Function.Timeout`, else Lambda's default of 3.
    pub fn function_timeout(&self, logical_id: &str) -> Option<u64> {
        let own = self.resource(logical_id)?.get("Properties").and_then(|p| p.get("Timeout"));
        let global = self.root.get("Globals").and_then(|g| g.get("Function")).and_then(|f| f.get("Timeout"));
        Some(own.or(global).and_then(Value::as_u64).unwrap_or(3))
    }

    pub fn functions(&self) -> Vec<Function> {
        self.resources()
            .filter(|(_, kind, _)| *kind == "AWS::Serverless::Function")
            .map(|(id, _, resource)| Function {
                logical_id: id.to_owned(),
                binary: resource
                    .get("Metadata")
                    .and_then(|m| m.get("BuildProperties"))
                    .and_then(|b| b.get("Binary"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                environment: resource
                    .get("Properties")
                    .and_then(|p| p.get("Environment"))
                    .and_then(|e| e.get("Variables"))
                    .and_then(Value::as_mapping)
                    .map(|vars| {
                        vars.iter()
                            .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), Intrinsic::from_value(v))))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }

    pub fn state_machine(&self) -> Result<StateMachine, TemplateError> {
        let mut machines = self.resources().filter(|(_, kind, _)| *kind == "AWS::Serverless::StateMachine");
        let (id, _, resource) =
            machines.next().ok_or_else(|| TemplateError::NoStateMachine { path: self.path.clone() })?;
        if machines.next().is_some() {
            return Err(TemplateError::SeveralStateMachines { path: self.path.clone() });
        }
        let properties = resource.get("Properties").ok_or_else(|| TemplateError::NoProperties { id: id.to_owned() })?;
        let uri = properties
            .get("DefinitionUri")
            .and_then(Value::as_str)
            .ok_or_else(|| TemplateError::NoDefinitionUri { id: id.to_owned() })?;
        let folder = self.path.parent().unwrap_or(Path::new("."));
        let substitutions = properties
            .get("DefinitionSubstitutions")
            .and_then(Value::as_mapping)
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.as_str()?.to_owned(), Intrinsic::from_value(v)))).collect())
            .unwrap_or_default();
        let invokable_functions = properties
            .get("Policies")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(|policy| policy.get("LambdaInvokePolicy")?.get("FunctionName"))
            .filter_map(|name| match Intrinsic::from_value(name) {
                Intrinsic::Ref(id) => Some(id),
                _ => None,
            })
            .collect();
        Ok(StateMachine {
            logical_id: id.to_owned(),
            definition_path: folder.join(uri),
            substitutions,
            invokable_functions,
        })
    }
}

/// The `${Name}` placeholders of a definition, as Step Functions finds them.
pub fn placeholders(definition: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = definition;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                found.insert(after[..end].to_owned());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    found
}

/// The definition with each `${Name}` replaced by `values[Name]`; a
/// placeholder without a value is an error, as it is at deploy time.
pub fn substitute(definition: &str, values: &BTreeMap<String, String>) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(definition.len());
    let mut rest = definition;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or(TemplateError::UnterminatedPlaceholder)?;
        let name = &after[..end];
        let value = values.get(name).ok_or_else(|| TemplateError::NoValue { name: name.to_owned() })?;
        // The placeholders stand inside JSON strings: escape the value as one.
        let quoted = serde_json::Value::from(value.as_str()).to_string();
        out.push_str(&quoted[1..quoted.len() - 1]);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_substitution() {
        let asl = r#"{"a": "${One}", "b": "x${Two}y", "c": "${One}"}"#;
        assert_eq!(placeholders(asl), BTreeSet::from(["One".to_owned(), "Two".to_owned()]));
        let values = BTreeMap::from([("One".to_owned(), "1".to_owned()), ("Two".to_owned(), "\"2\"".to_owned())]);
        assert_eq!(substitute(asl, &values).unwrap(), r#"{"a": "1", "b": "x\"2\"y", "c": "1"}"#);
        assert!(substitute(r#"{"a": "${Three}"}"#, &values).unwrap_err().to_string().contains("${Three}"));
    }

    #[test]
    fn intrinsics_in_both_forms() {
        let yaml: Value = serde_norway::from_str(
            "a: !Ref T\nb: !GetAtt F.Arn\nc: {Ref: T}\nd: {'Fn::GetAtt': [F, Arn]}\ne: plain\nf: !Sub '${T}'",
        )
        .unwrap();
        let get = |k: &str| Intrinsic::from_value(yaml.get(k).unwrap());
        assert_eq!(get("a"), Intrinsic::Ref("T".into()));
        assert_eq!(get("b"), Intrinsic::GetAtt("F".into(), "Arn".into()));
        assert_eq!(get("c"), Intrinsic::Ref("T".into()));
        assert_eq!(get("d"), Intrinsic::GetAtt("F".into(), "Arn".into()));
        assert_eq!(get("e"), Intrinsic::Literal("plain".into()));
        assert!(matches!(get("f"), Intrinsic::Other(_)));
    }
}
