//! A template's Lambda functions (`AWS::Serverless::Function`,
//! `AWS::Lambda::Function`) as a local host starts them: runtime, handler,
//! code folder, environment, memory and timeout, with the template's
//! `Globals.Function` applied as SAM applies them (the function's own value
//! wins; `Environment.Variables` are merged, the function's over the
//! globals') and intrinsics resolved to the stack's local names.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use serde_norway::Value;

use crate::Template;
use crate::names::Resolver;

/// One function of the stack.
#[derive(Debug, Clone, PartialEq)]
pub struct StackFunction {
    pub logical_id: String,
    /// Its physical name: what `!Ref` gives, and the tail of its ARN.
    pub name: String,
    pub arn: String,
    /// `Runtime` (`python3.13`, `provided.al2023`, ...); None for an image or when not given.
    pub runtime: Option<String>,
    /// `Handler` (`app.lambda_handler`).
    pub handler: Option<String>,
    /// The code's folder (`CodeUri`, or `Code` naming a local folder), resolved against the template's folder.
    pub code: Option<PathBuf>,
    /// Code given in the template itself (`InlineCode`, or `Code.ZipFile`),
    /// intrinsics resolved: Lambda places it in a file named `index`.
    pub inline: Option<String>,
    /// `Environment.Variables`, intrinsics resolved, the function's over the globals'.
    pub environment: Vec<(String, String)>,
    /// `MemorySize` in MB (Lambda's default: 128).
    pub memory_size: u32,
    /// `Timeout` in seconds (Lambda's default: 3).
    pub timeout: u64,
    /// `LoggingConfig.LogFormat`: `Text` (Lambda's default) or `JSON`.
    pub log_format: String,
    /// `Metadata.BuildProperties.Binary`: a cargo binary of this workspace.
    pub binary: Option<String>,
    /// `ReservedConcurrentExecutions`: its invocations at once, at most.
    pub reserved_concurrency: Option<u32>,
    /// `Layers`, the globals' first (SAM adds a list of Globals before the
    /// function's own), in the order Lambda extracts them into `/opt`.
    pub layers: Vec<FunctionLayer>,
    /// Why it cannot run from here, when it cannot (code in S3, an image, an unresolvable value).
    pub problem: Option<String>,
}

/// Lambda's limit on a function's layers.
pub const MAX_LAYERS: usize = 5;

/// One of a function's layers.
#[derive(Debug, Clone, PartialEq)]
pub enum FunctionLayer {
    /// A layer of the stack whose content is a folder here (`ContentUri`,
    /// `Content`), resolved against the template's folder: what Lambda
    /// would extract into `/opt`.
    Local { logical_id: String, folder: PathBuf },
    /// A layer whose content is not here: a published layer named by its
    /// ARN, or a layer of the stack with its content in S3.
    Elsewhere { arn: String, why: String },
}

/// A function's `Layers` entry (its ARN, intrinsics resolved) as a layer.
fn layer_of(template: &Template, names: &Resolver<'_>, folder: &Path, arn: String) -> FunctionLayer {
    let is_layer = |kind: &str| matches!(kind, "AWS::Serverless::LayerVersion" | "AWS::Lambda::LayerVersion");
    let Some(named) = names.named.values().find(|n| is_layer(&n.kind) && n.reference == arn) else {
        return FunctionLayer::Elsewhere { arn, why: "a published layer, not a layer of this template".into() };
    };
    let properties = template.resource(&named.logical_id).and_then(|r| r.get("Properties"));
    let content = properties.and_then(|p| p.get("ContentUri").or_else(|| p.get("Content")));
    match content {
        Some(Value::String(uri)) if !uri.starts_with("s3://") => {
            FunctionLayer::Local { logical_id: named.logical_id.clone(), folder: folder.join(uri) }
        }
        _ => FunctionLayer::Elsewhere { arn, why: format!("{}'s content is not in a local folder", named.logical_id) },
    }
}

/// Applies SAM's environment-variables file (`sam local ... --env-vars`):
/// under a function's logical id or name, values for its variables; under
/// `Parameters`, values for every function's; the function's own entry wins.
/// As in SAM, only variables the template declares for a function are
/// replaced. Gives a note for each entry that names no function here.
pub fn apply_env_vars(functions: &mut [StackFunction], file: &Json) -> Result<Vec<String>, String> {
    let Json::Object(entries) = file else { return Err("an environment-variables file holds a JSON object".into()) };
    let mut notes = Vec::new();
    for (key, values) in entries {
        if !values.is_object() {
            return Err(format!("{key}: expected an object of variable names and values, found {values}"));
        }
        if key != "Parameters" && !functions.iter().any(|f| f.logical_id == *key || f.name == *key) {
            notes.push(format!("{key} names no function of the template; its values are not used"));
        }
    }
    let text = |value: &Json| match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    for function in functions {
        let own = entries.get(&function.logical_id).or_else(|| entries.get(&function.name));
        for (name, value) in &mut function.environment {
            let given =
                own.and_then(|o| o.get(name.as_str())).or_else(|| entries.get("Parameters")?.get(name.as_str()));
            if let Some(given) = given {
                *value = text(given);
            }
        }
    }
    Ok(notes)
}

/// Every function among `live` (the resources of `template` in its stack), named as `names` names it.
pub(crate) fn stack_functions(
    template: &Template,
    names: &Resolver<'_>,
    live: &[(&str, &str, &Value)],
) -> Vec<StackFunction> {
    let folder = template.path().parent().unwrap_or(Path::new("."));
    let globals = template.root.get("Globals").and_then(|g| g.get("Function"));
    let mut functions = Vec::new();
    for &(id, kind, resource) in live {
        let serverless = match kind {
            "AWS::Serverless::Function" => true,
            "AWS::Lambda::Function" => false,
            _ => continue,
        };
        let own = resource.get("Properties");
        // SAM's Globals apply to AWS::Serverless::Function only.
        let global = globals.filter(|_| serverless);
        let property = |key: &str| own.and_then(|p| p.get(key)).or_else(|| global.and_then(|g| g.get(key)));
        let named = &names.named[id];
        let mut problems = Vec::new();
        let mut text = |key: &str| match property(key).map(|v| names.text(v)) {
            Some(Ok(text)) => Some(text),
            Some(Err(e)) => {
                problems.push(format!("{key}: {e}"));
                None
            }
            None => None,
        };
        let runtime = text("Runtime");
        let handler = text("Handler");
        let memory_size = text("MemorySize").and_then(|m| m.parse().ok()).unwrap_or(128);
        let timeout = text("Timeout").and_then(|t| t.parse().ok()).unwrap_or(3);
        let reserved_concurrency = match text("ReservedConcurrentExecutions").map(|n| n.parse::<u32>()) {
            Some(Ok(n)) => Some(n),
            Some(Err(_)) => {
                problems.push("ReservedConcurrentExecutions is not a whole number".into());
                None
            }
            None => None,
        };
        let log_format = property("LoggingConfig")
            .and_then(|l| l.get("LogFormat"))
            .and_then(|f| names.text(f).ok())
            .unwrap_or_else(|| "Text".to_owned());
        let given_inline = match serverless {
            true => property("InlineCode"),
            false => property("Code").and_then(|c| c.get("ZipFile")),
        };
        let inline = match given_inline.map(|v| names.text(v)) {
            Some(Ok(source)) => Some(source),
            Some(Err(e)) => {
                problems.push(format!("its inline code: {e}"));
                None
            }
            None => None,
        };
        let code = match property(if serverless { "CodeUri" } else { "Code" }) {
            Some(Value::String(uri)) if !uri.starts_with("s3://") => Some(folder.join(uri)),
            _ if inline.is_some() => None,
            Some(_) => {
                problems.push("its code is not in a local folder (CodeUri or Code names S3)".into());
                None
            }
            None if property("PackageType").and_then(Value::as_str) == Some("Image") => {
                problems.push("it is a container image".into());
                None
            }
            None => {
                problems.push("it has no CodeUri".into());
                None
            }
        };
        let mut environment: Vec<(String, String)> = Vec::new();
        let layers = [global, own].into_iter().flatten();
        for variables in layers.filter_map(|p| p.get("Environment")?.get("Variables")) {
            match names.json(variables) {
                Ok(Json::Object(map)) => {
                    for (key, value) in map {
                        let value = match value {
                            Json::String(s) => s,
                            other => other.to_string(),
                        };
                        environment.retain(|(k, _)| *k != key);
                        environment.push((key, value));
                    }
                }
                Ok(other) => problems.push(format!("Environment.Variables is not a map: {other}")),
                Err(e) => problems.push(format!("Environment.Variables: {e}")),
            }
        }
        // Lists in Globals come before the function's own (SAM's rule for lists).
        let mut layers = Vec::new();
        for list in [global, own].into_iter().flatten().filter_map(|p| p.get("Layers")) {
            match list {
                Value::Sequence(entries) => {
                    for entry in entries {
                        match names.text(entry) {
                            Ok(arn) => layers.push(layer_of(template, names, folder, arn)),
                            Err(e) => problems.push(format!("Layers: {e}")),
                        }
                    }
                }
                _ => problems.push("Layers is not a list".into()),
            }
        }
        if layers.len() > MAX_LAYERS {
            problems.push(format!("it names {} layers; Lambda takes at most {MAX_LAYERS}", layers.len()));
        }
        let binary = resource
            .get("Metadata")
            .and_then(|m| m.get("BuildProperties"))
            .and_then(|b| b.get("Binary"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        functions.push(StackFunction {
            logical_id: id.to_owned(),
            name: named.name.clone(),
            arn: named.attributes.get("Arn").cloned().unwrap_or_default(),
            runtime,
            handler,
            code,
            inline,
            environment,
            memory_size,
            timeout,
            log_format,
            binary,
            reserved_concurrency,
            layers,
            problem: (!problems.is_empty()).then(|| problems.join("; ")),
        });
    }
    functions
}

#[cfg(test)]
mod tests {
    use crate::{Place, Template};

    fn stack_of(yaml: &str) -> crate::Stack {
        let dir = std::env::temp_dir().join(format!("orderflow-functions-{}-{}", std::process::id(), yaml.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("template.yaml");
        std::fs::write(&path, yaml).unwrap();
        let place = Place { region: "us-east-1".into(), account: "123456789012".into(), queue_base: "http://q".into() };
        let stack = Template::load(&path).unwrap().stack(&place).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        stack
    }

    #[test]
    fn globals_apply_as_sam_applies_them() {
        let stack = stack_of(
            r#"
Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
    Timeout: 10
    Environment:
      Variables:
        TABLE: !Ref Orders
        STAGE: global
Resources:
  Orders:
    Type: AWS::Serverless::SimpleTable
  Checker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/checker/
      MemorySize: 256
      Environment:
        Variables:
          STAGE: own
          CHECKER: !GetAtt Checker.Arn
  Raw:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Code: { S3Bucket: b, S3Key: k }
  Inline:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Code:
        ZipFile: !Sub |
          TABLE = "${Orders}"
          def handler(event, context):
              return TABLE
"#,
        );
        let checker = stack.functions.iter().find(|f| f.logical_id == "Checker").unwrap();
        assert_eq!(checker.runtime.as_deref(), Some("python3.12"));
        assert_eq!(checker.handler.as_deref(), Some("app.handler"));
        assert_eq!((checker.memory_size, checker.timeout, checker.log_format.as_str()), (256, 10, "Text"));
        assert!(checker.code.as_ref().unwrap().ends_with("functions/checker/"), "{:?}", checker.code);
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:Checker";
        assert_eq!(checker.arn, arn);
        let environment: std::collections::BTreeMap<_, _> =
            checker.environment.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(environment, [("CHECKER", arn), ("STAGE", "own"), ("TABLE", "Orders")].into());
        assert_eq!(checker.problem, None);
        // Globals are SAM's: a plain Lambda function takes none of them.
        let raw = stack.functions.iter().find(|f| f.logical_id == "Raw").unwrap();
        assert_eq!((raw.runtime.as_deref(), raw.timeout, raw.memory_size), (Some("nodejs20.x"), 3, 128));
        assert!(raw.environment.is_empty());
        assert!(raw.problem.as_deref().unwrap().contains("not in a local folder"), "{:?}", raw.problem);
        // Code in the template, its intrinsics resolved.
        let inline = stack.functions.iter().find(|f| f.logical_id == "Inline").unwrap();
        assert_eq!((inline.code.as_ref(), inline.problem.as_ref()), (None, None));
        assert!(
            inline.inline.as_deref().unwrap().starts_with("TABLE = \"Orders\"\ndef handler"),
            "{:?}",
            inline.inline
        );
    }

    #[test]
    fn layers_are_the_globals_then_the_function_s_own_each_local_or_said_where_it_is() {
        let published = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:4";
        let stack = stack_of(&format!(
            r#"
Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
    Layers:
      - !Ref Shared
Resources:
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/shared/
  Named:
    Type: AWS::Lambda::LayerVersion
    Properties:
      LayerName: tools
      Content: layers/tools
  Remote:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: {{ Bucket: b, Key: k.zip }}
  Checker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/checker/
      Layers:
        - !Ref Named
        - {published}
        - !Sub "arn:aws:lambda:${{AWS::Region}}:${{AWS::AccountId}}:layer:Remote:1"
  Crowded:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/checker/
      Layers: [!Ref Named, !Ref Named, !Ref Named, !Ref Named, !Ref Named]
  Plain:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Code: functions/plain/
"#
        ));
        use super::FunctionLayer::{Elsewhere, Local};
        let checker = stack.functions.iter().find(|f| f.logical_id == "Checker").unwrap();
        assert_eq!(checker.problem, None);
        let layers: Vec<_> = checker
            .layers
            .iter()
            .map(|l| match l {
                Local { logical_id, folder } => {
                    assert!(folder.is_absolute() || folder.starts_with(std::env::temp_dir()), "{folder:?}");
                    format!("{logical_id} at {}", folder.file_name().unwrap().to_str().unwrap())
                }
                Elsewhere { arn, why } => format!("{arn}: {why}"),
            })
            .collect();
        assert_eq!(
            layers,
            [
                "Shared at shared".to_owned(),
                "Named at tools".to_owned(),
                format!("{published}: a published layer, not a layer of this template"),
                "arn:aws:lambda:us-east-1:123456789012:layer:Remote:1: Remote's content is not in a local folder"
                    .to_owned(),
            ]
        );
        // Lambda's limit counts the Globals' too.
        let crowded = stack.functions.iter().find(|f| f.logical_id == "Crowded").unwrap();
        assert_eq!(crowded.layers.len(), 6);
        assert_eq!(crowded.problem.as_deref(), Some("it names 6 layers; Lambda takes at most 5"));
        // A plain Lambda function takes no Globals.
        let plain = stack.functions.iter().find(|f| f.logical_id == "Plain").unwrap();
        assert!(plain.layers.is_empty(), "{:?}", plain.layers);
    }

    #[test]
    fn an_env_vars_file_replaces_declared_variables_the_function_s_own_entry_first() {
        let mut functions = stack_of(
            r#"
Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
    Environment:
      Variables:
        STAGE: dev
Resources:
  Checker:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: checker-fn
      CodeUri: functions/checker/
      Environment:
        Variables:
          LEVEL: INFO
  Other:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/other/
"#,
        )
        .functions;
        let file = serde_json::json!({
            "Parameters": {"STAGE": "local", "UNDECLARED": "x"},
            "checker-fn": {"LEVEL": "DEBUG", "STAGE": 7},
            "Missing": {"A": "b"}
        });
        let notes = super::apply_env_vars(&mut functions, &file).unwrap();
        assert_eq!(notes, ["Missing names no function of the template; its values are not used"]);
        let environment = |id: &str| {
            let f = functions.iter().find(|f| f.logical_id == id).unwrap();
            f.environment.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>()
        };
        assert_eq!(environment("Checker"), ["STAGE=7", "LEVEL=DEBUG"]);
        assert_eq!(environment("Other"), ["STAGE=local"]);
        let refused = super::apply_env_vars(&mut functions, &serde_json::json!({"Checker": "x"})).unwrap_err();
        assert_eq!(refused, "Checker: expected an object of variable names and values, found \"x\"");
    }
}
