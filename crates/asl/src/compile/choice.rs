//! A Choice state: its rules (JSONPath's comparison rules, parsed in
//! `crate::choice`, or JSONata's Conditions), each with its Next and Assign,
//! and its Default.

use orderflow_value::{Map, Value};

use super::fields::{expression, jsonata_field, non_empty_list_field, string};
use super::{Fields, IO, Io, StateType};
use crate::choice::{self, Rule};
use crate::jsonata;
use crate::model::{DefinitionError, Kind, Target, def_err};
use crate::template::Template;

pub(super) const CHOICE: StateType = StateType {
    name: "Choice",
    fields: &[IO, &["Choices", "Default", "Assign"]],
    jsonata_fields: &["Output"],
    transition: Fields::Own,
    jsonpath,
    jsonata,
};

fn jsonpath(obj: &Map, at: &str, _io: &mut Io) -> Result<Kind, DefinitionError> {
    let parsed = non_empty_list_field(obj, "Choices", at, choice::parse_top_rule)?;
    let mut choices = Vec::with_capacity(parsed.len());
    let mut assigns = Vec::with_capacity(parsed.len());
    for (i, (rule, next, assign)) in parsed.into_iter().enumerate() {
        choices.push((rule, Target::new(&next)));
        let at = format!("{at}.Choices[{i}].Assign");
        assigns.push(match assign {
            Some(v) => Some(Template::compile(&v).map_err(|(inner, m)| def_err(format!("{at}{inner}"), m))?),
            None => None,
        });
    }
    let default = string(obj, "Default", &format!("{at}.Default"))?.map(|d| Target::new(&d));
    let outputs = vec![None; choices.len()];
    Ok(Kind::Choice { choices, default, assigns, outputs })
}

fn jsonata(obj: &Map, at: &str) -> Result<Kind, DefinitionError> {
    let rules = non_empty_list_field(obj, "Choices", at, condition_rule)?;
    let mut choices = Vec::with_capacity(rules.len());
    let (mut assigns, mut outputs) = (Vec::new(), Vec::new());
    for (rule, next, assign, output) in rules {
        choices.push((rule, Target::new(&next)));
        assigns.push(assign);
        outputs.push(output);
    }
    let default = string(obj, "Default", &format!("{at}.Default"))?.map(|d| Target::new(&d));
    Ok(Kind::Choice { choices, default, assigns, outputs })
}

/// A JSONata Choice rule: `Condition`, `Next`, and its own `Assign` and `Output`.
fn condition_rule(
    value: &Value,
    at: &str,
) -> Result<(Rule, String, Option<Template>, Option<Template>), DefinitionError> {
    let obj = value.as_object().ok_or_else(|| def_err(at, "must be an object"))?;
    for key in obj.keys() {
        if !["Condition", "Next", "Assign", "Output", "Comment"].contains(&key.as_str()) {
            return Err(def_err(
                format!("{at}.{key}"),
                "is not a field of a JSONata Choice rule (Condition, Next, Assign, Output, Comment)",
            ));
        }
    }
    let condition = match obj.get("Condition") {
        Some(Value::String(text)) if jsonata::is_expression(text) => {
            Rule::Condition(expression(text, &format!("{at}.Condition"))?)
        }
        Some(Value::Bool(b)) => Rule::Constant(*b),
        _ => return Err(def_err(format!("{at}.Condition"), "must be a JSONata expression or a boolean")),
    };
    let next =
        string(obj, "Next", &format!("{at}.Next"))?.ok_or_else(|| def_err(format!("{at}.Next"), "is required"))?;
    Ok((condition, next, jsonata_field(obj, "Assign", at)?, jsonata_field(obj, "Output", at)?))
}
