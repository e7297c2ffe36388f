//! A template's `Parameters` and the values given for them
//! (`--parameter-overrides`, as `sam deploy` and `sam local` take them),
//! checked as CloudFormation checks them: a value for a parameter the
//! template does not declare, one outside its constraints (`AllowedValues`,
//! `AllowedPattern`, `MinLength`, `MaxLength`, `MinValue`, `MaxValue`, a
//! `Number`'s type) and a parameter left with no value are refused in
//! CloudFormation's words.

use std::collections::BTreeMap;

use serde_norway::Value;

/// One declared parameter.
struct Declared<'t> {
    name: &'t str,
    spec: &'t Value,
}

impl Declared<'_> {
    /// CloudFormation's complaint about `value` for this parameter, if any.
    fn refuses(&self, value: &str) -> Option<String> {
        let name = self.name;
        let text = |key: &str| self.spec.get(key).and_then(scalar);
        let number = |key: &str| text(key).and_then(|t| t.parse::<f64>().ok());
        let is_number = self.spec.get("Type").and_then(Value::as_str) == Some("Number");
        if is_number && value.trim().parse::<f64>().is_err() {
            return Some(format!("Parameter '{name}' must be a number"));
        }
        if let Some(Value::Sequence(allowed)) = self.spec.get("AllowedValues")
            && !allowed.iter().filter_map(scalar).any(|a| a == value)
        {
            return Some(format!("Parameter '{name}' must be one of AllowedValues"));
        }
        if let Some(pattern) = text("AllowedPattern") {
            // CloudFormation matches the whole value.
            let matches = regex::Regex::new(&format!("^(?:{pattern})$")).map(|r| r.is_match(value));
            if matches != Ok(true) {
                return Some(format!("Parameter '{name}' must match pattern {pattern}"));
            }
        }
        let length = value.chars().count() as f64;
        if number("MinLength").is_some_and(|min| length < min) {
            let min = text("MinLength").unwrap_or_default();
            return Some(format!("Parameter '{name}' must contain at least {min} characters"));
        }
        if number("MaxLength").is_some_and(|max| length > max) {
            let max = text("MaxLength").unwrap_or_default();
            return Some(format!("Parameter '{name}' must contain at most {max} characters"));
        }
        if is_number && let Ok(n) = value.trim().parse::<f64>() {
            if number("MinValue").is_some_and(|min| n < min) {
                let min = text("MinValue").unwrap_or_default();
                return Some(format!("Parameter '{name}' must be a number not less than {min}"));
            }
            if number("MaxValue").is_some_and(|max| n > max) {
                let max = text("MaxValue").unwrap_or_default();
                return Some(format!("Parameter '{name}' must be a number not greater than {max}"));
            }
        }
        None
    }
}

/// A YAML scalar as CloudFormation reads it: text.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn declared(root: &Value) -> Vec<Declared<'_>> {
    let Some(Value::Mapping(parameters)) = root.get("Parameters") else { return Vec::new() };
    parameters.iter().filter_map(|(k, spec)| Some(Declared { name: k.as_str()?, spec })).collect()
}

/// `--parameter-overrides` as SAM takes them: `Name=Value` or
/// `ParameterKey=Name,ParameterValue=Value`, each its own word.
pub fn parse_overrides(words: &[String]) -> Result<Vec<(String, String)>, String> {
    words
        .iter()
        .map(|word| {
            let long = word
                .strip_prefix("ParameterKey=")
                .and_then(|rest| rest.split_once(",ParameterValue="))
                .map(|(k, v)| (k.to_owned(), v.to_owned()));
            long.or_else(|| word.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| {
                    format!(
                        "--parameter-overrides {word:?}: expected Name=Value or ParameterKey=Name,ParameterValue=Value"
                    )
                })
        })
        .collect()
}

/// The parameters' values: each one's `Default`, replaced by `given`; Err
/// with CloudFormation's words for the first thing it would refuse.
pub(crate) fn values(root: &Value, given: &[(String, String)]) -> Result<BTreeMap<String, String>, String> {
    let declared = declared(root);
    let unknown: Vec<&str> =
        given.iter().map(|(k, _)| k.as_str()).filter(|k| !declared.iter().any(|d| d.name == *k)).collect();
    if !unknown.is_empty() {
        return Err(format!("Parameters: [{}] do not exist in the template", unknown.join(", ")));
    }
    let mut values = BTreeMap::new();
    let mut missing = Vec::new();
    for parameter in &declared {
        let value = given.iter().rev().find(|(k, _)| k == parameter.name).map(|(_, v)| v.clone());
        let Some(value) = value.or_else(|| parameter.spec.get("Default").and_then(scalar)) else {
            missing.push(parameter.name);
            continue;
        };
        if let Some(refused) = parameter.refuses(&value) {
            return Err(refused);
        }
        values.insert(parameter.name.to_owned(), value);
    }
    if !missing.is_empty() {
        let example: Vec<String> = missing.iter().map(|name| format!("{name}=<value>")).collect();
        return Err(format!(
            "Parameters: [{}] must have values (give them with --parameter-overrides {})",
            missing.join(", "),
            example.join(" ")
        ));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::{parse_overrides, values};

    fn root(yaml: &str) -> serde_norway::Value {
        serde_norway::from_str(yaml).unwrap()
    }

    fn given(words: &[&str]) -> Vec<(String, String)> {
        parse_overrides(&words.iter().map(|w| w.to_string()).collect::<Vec<_>>()).unwrap()
    }

    const TEMPLATE: &str = r#"
Parameters:
  Stage:
    Type: String
    AllowedValues: [dev, prod]
  Prefix:
    Type: String
    Default: shop
    AllowedPattern: "[a-z]+"
    MinLength: 2
    MaxLength: 8
  Replicas:
    Type: Number
    Default: 2
    MinValue: 1
    MaxValue: 5
"#;

    #[test]
    fn overrides_replace_defaults_in_either_of_sam_s_forms() {
        let values =
            values(&root(TEMPLATE), &given(&["Stage=prod", "ParameterKey=Replicas,ParameterValue=3"])).unwrap();
        let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(values, [("Prefix", "shop"), ("Replicas", "3"), ("Stage", "prod")]);
        // A value may hold `=` and `,`.
        assert_eq!(given(&["Tags=a=b,c"]), [("Tags".to_owned(), "a=b,c".to_owned())]);
        assert!(parse_overrides(&["Stage".to_owned()]).unwrap_err().contains("expected Name=Value"));
    }

    #[test]
    fn what_cloudformation_refuses_is_refused_in_its_words() {
        let refused = |words: &[&str]| values(&root(TEMPLATE), &given(words)).unwrap_err();
        assert_eq!(
            refused(&[]),
            "Parameters: [Stage] must have values (give them with --parameter-overrides Stage=<value>)"
        );
        assert_eq!(refused(&["Stage=dev", "Region=x"]), "Parameters: [Region] do not exist in the template");
        assert_eq!(refused(&["Stage=test"]), "Parameter 'Stage' must be one of AllowedValues");
        assert_eq!(refused(&["Stage=dev", "Prefix=Shop"]), "Parameter 'Prefix' must match pattern [a-z]+");
        assert_eq!(refused(&["Stage=dev", "Prefix=s"]), "Parameter 'Prefix' must contain at least 2 characters");
        assert_eq!(refused(&["Stage=dev", "Prefix=shopshopx"]), "Parameter 'Prefix' must contain at most 8 characters");
        assert_eq!(refused(&["Stage=dev", "Replicas=two"]), "Parameter 'Replicas' must be a number");
        assert_eq!(refused(&["Stage=dev", "Replicas=0"]), "Parameter 'Replicas' must be a number not less than 1");
        assert_eq!(refused(&["Stage=dev", "Replicas=9"]), "Parameter 'Replicas' must be a number not greater than 5");
    }
}
