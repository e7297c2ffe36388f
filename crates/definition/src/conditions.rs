//! A template's `Conditions`, evaluated as CloudFormation evaluates them
//! with the stack's parameter values (`Fn::Equals`, `Fn::And`, `Fn::Or`,
//! `Fn::Not`, `Condition`), and the resources whose `Condition` is false
//! left out of the stack.

use std::collections::BTreeMap;

use serde_norway::Value;

use crate::names::Resolver;

impl Resolver<'_> {
    /// Every condition of `root`'s `Conditions`: true or false.
    pub(crate) fn condition_values(&self, root: &Value) -> Result<BTreeMap<String, bool>, String> {
        let Some(Value::Mapping(declared)) = root.get("Conditions") else { return Ok(BTreeMap::new()) };
        let declared: BTreeMap<&str, &Value> = declared.iter().filter_map(|(k, v)| Some((k.as_str()?, v))).collect();
        let mut values = BTreeMap::new();
        for name in declared.keys() {
            self.condition(name, &declared, &mut values, &mut Vec::new())?;
        }
        Ok(values)
    }

    /// Whether a resource is in the stack: it has no `Condition`, or its condition is true.
    pub(crate) fn live(&self, resource: &Value) -> bool {
        match resource.get("Condition").and_then(Value::as_str) {
            Some(name) => self.conditions.get(name).copied().unwrap_or(false),
            None => true,
        }
    }

    /// The value of the condition `name`, evaluated once; a cycle is an error.
    fn condition(
        &self,
        name: &str,
        declared: &BTreeMap<&str, &Value>,
        values: &mut BTreeMap<String, bool>,
        within: &mut Vec<String>,
    ) -> Result<bool, String> {
        if let Some(&value) = values.get(name) {
            return Ok(value);
        }
        let expression = declared.get(name).ok_or_else(|| format!("Condition {name} is not in Conditions"))?;
        if within.iter().any(|n| n == name) {
            return Err(format!("Conditions depend on each other: {} -> {name}", within.join(" -> ")));
        }
        within.push(name.to_owned());
        let value = self.truth(expression, declared, values, within)?;
        within.pop();
        values.insert(name.to_owned(), value);
        Ok(value)
    }

    /// A condition function's value.
    fn truth(
        &self,
        value: &Value,
        declared: &BTreeMap<&str, &Value>,
        values: &mut BTreeMap<String, bool>,
        within: &mut Vec<String>,
    ) -> Result<bool, String> {
        let (function, argument) = match value {
            Value::Tagged(tagged) => (tagged.tag.to_string().trim_start_matches('!').to_owned(), &tagged.value),
            Value::Mapping(map) if map.len() == 1 => match map.iter().next() {
                Some((Value::String(k), v)) => (k.trim_start_matches("Fn::").to_owned(), v),
                _ => return Err(format!("not a condition function: {value:?}")),
            },
            Value::Bool(b) => return Ok(*b),
            Value::String(s) if s == "true" || s == "false" => return Ok(s == "true"),
            other => return Err(format!("not a condition function: {other:?}")),
        };
        let list = |n: Option<usize>| match argument {
            Value::Sequence(items) if n.is_none_or(|n| items.len() == n) => Ok(items),
            _ => Err(format!("Fn::{function} takes a list{}", n.map(|n| format!(" of {n}")).unwrap_or_default())),
        };
        match function.as_str() {
            "Equals" => {
                let items = list(Some(2))?;
                Ok(self.compared(&items[0])? == self.compared(&items[1])?)
            }
            "Not" => Ok(!self.truth(&list(Some(1))?[0], declared, values, within)?),
            "And" | "Or" => {
                let items = list(None)?;
                if !(2..=10).contains(&items.len()) {
                    return Err(format!("Fn::{function} takes 2 to 10 conditions"));
                }
                let mut all = Vec::with_capacity(items.len());
                for item in items {
                    all.push(self.truth(item, declared, values, within)?);
                }
                Ok(if function == "And" { all.iter().all(|&b| b) } else { all.iter().any(|&b| b) })
            }
            "Condition" => {
                let name = argument.as_str().ok_or("Condition names a condition")?;
                self.condition(name, declared, values, within)
            }
            other => Err(format!("Fn::{other} is not a condition function")),
        }
    }

    /// A value compared by `Fn::Equals`: its text, intrinsics resolved.
    fn compared(&self, value: &Value) -> Result<String, String> {
        Ok(match self.json(value)? {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{Place, Template};

    const TEMPLATE: &str = r#"
Parameters:
  Stage: { Type: String, Default: dev }
Mappings:
  Sizes:
    dev: { Memory: 128 }
    prod: { Memory: 1024 }
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: !Not [!Condition IsProd]
  DevHere: !And [!Condition IsDev, !Equals [!Ref "AWS::Region", us-east-1]]
  Either: { "Fn::Or": [{ "Condition": "IsProd" }, { "Fn::Equals": ["a", "b"] }] }
Resources:
  Audit:
    Type: AWS::SQS::Queue
    Condition: Either
  Orders:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !If [IsProd, orders-prod, !Sub "orders-${Stage}"]
      DelaySeconds: !If [DevHere, !Ref AWS::NoValue, 5]
      Tags:
        - Key: zone
          Value: !Select [1, !Split [",", "a,b,c"]]
        - !If [IsProd, { Key: audit, Value: "yes" }, !Ref AWS::NoValue]
        - Key: memory
          Value: !FindInMap [Sizes, !Ref Stage, Memory]
        - Key: az
          Value: !Select [0, !GetAZs ""]
        - Key: encoded
          Value: !Base64 "orders"
        - Key: shape
          Value: { "Fn::ToJsonString": { "tags": { "Fn::Length": [a, b, c] } } }
"#;

    fn stack_of(yaml: &str, overrides: &[(&str, &str)]) -> Result<crate::Stack, crate::TemplateError> {
        // A folder of its own for each template and values: the tests run at once.
        let dir = std::env::temp_dir().join(format!(
            "orderflow-conditions-{}-{}-{}",
            std::process::id(),
            yaml.len(),
            overrides.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("template.yaml");
        std::fs::write(&path, yaml).unwrap();
        let place = Place { region: "us-east-1".into(), account: "123456789012".into(), queue_base: "http://q".into() };
        let overrides = overrides.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let stack = Template::load(&path).unwrap().with_parameters(overrides).unwrap().stack(&place);
        let _ = std::fs::remove_dir_all(&dir);
        stack
    }

    #[test]
    fn conditions_choose_resources_and_values_as_cloudformation_does() {
        let dev = stack_of(TEMPLATE, &[]).unwrap();
        let ids: Vec<&str> = dev.resources.iter().map(|r| r.logical_id.as_str()).collect();
        assert_eq!(ids, ["Orders"]);
        assert_eq!(
            dev.resources[0].properties,
            serde_json::json!({"QueueName": "orders-dev", "Tags": [
                {"Key": "zone", "Value": "b"}, {"Key": "memory", "Value": 128}, {"Key": "az", "Value": "us-east-1a"},
                {"Key": "encoded", "Value": "b3JkZXJz"}, {"Key": "shape", "Value": "{\"tags\":3}"}
            ]})
        );
        let prod = stack_of(TEMPLATE, &[("Stage", "prod")]).unwrap();
        let ids: Vec<&str> = prod.resources.iter().map(|r| r.logical_id.as_str()).collect();
        assert_eq!(ids, ["Audit", "Orders"]);
        let orders = &prod.resources[1].properties;
        assert_eq!((&orders["QueueName"], &orders["DelaySeconds"]), (&"orders-prod".into(), &5.into()));
        assert_eq!(orders["Tags"][1], serde_json::json!({"Key": "audit", "Value": "yes"}));
        assert_eq!(orders["Tags"][2]["Value"], 1024);
    }

    #[test]
    fn an_intrinsic_with_no_value_says_why_on_its_resource() {
        let yaml = r#"
Mappings:
  Sizes: { dev: { Memory: 128 } }
Resources:
  Past:
    Type: AWS::SQS::Queue
    Properties: { QueueName: !Select [5, [a, b]] }
  Unmapped:
    Type: AWS::SQS::Queue
    Properties: { QueueName: !FindInMap [Sizes, prod, Memory] }
  Unknown:
    Type: AWS::SQS::Queue
    Properties: { QueueName: !If [Nope, a, b] }
  Unsplit:
    Type: AWS::SQS::Queue
    Properties: { QueueName: !Select [0, !Split ["", abc]] }
"#;
        let stack = stack_of(yaml, &[]).unwrap();
        let problems: Vec<(&str, &str)> =
            stack.resources.iter().map(|r| (r.logical_id.as_str(), r.problem.as_deref().unwrap_or("none"))).collect();
        assert_eq!(
            problems,
            [
                ("Past", "Fn::Select: index 5 is not in a list of 2"),
                ("Unmapped", "Fn::FindInMap: no Sizes.prod.Memory in Mappings"),
                ("Unknown", "Fn::If: no condition Nope"),
                ("Unsplit", "Fn::Split: the delimiter is empty"),
            ]
        );
    }

    #[test]
    fn conditions_that_depend_on_each_other_are_refused() {
        let circular = "Conditions:\n  A: !Condition B\n  B: !Not [!Condition A]\nResources: {}\n";
        let refused = stack_of(circular, &[]).err().unwrap().to_string();
        assert_eq!(refused, "Conditions: Conditions depend on each other: A -> B -> A");
    }
}
