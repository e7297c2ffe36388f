//! Choice rules: every comparison operator with its `...Path` form, the type
//! tests, and `And`/`Or`/`Not`.

use std::cmp::Ordering;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::model::{DefinitionError, def_err};
use crate::path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Literal(Value),
    Path(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    IsNull,
    IsPresent,
    IsNumeric,
    IsString,
    IsBoolean,
    IsTimestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Compare { variable: String, family: Family, ordering: Vec<Ordering>, operand: Operand },
    Matches { variable: String, pattern: String },
    Test { variable: String, test: Test, expected: bool },
}

const COMPARISONS: &[(&str, Family, &[Ordering])] = &[
    ("StringEquals", Family::String, &[Ordering::Equal]),
    ("StringLessThan", Family::String, &[Ordering::Less]),
    ("StringGreaterThan", Family::String, &[Ordering::Greater]),
    ("StringLessThanEquals", Family::String, &[Ordering::Less, Ordering::Equal]),
    ("StringGreaterThanEquals", Family::String, &[Ordering::Greater, Ordering::Equal]),
    ("NumericEquals", Family::Numeric, &[Ordering::Equal]),
    ("NumericLessThan", Family::Numeric, &[Ordering::Less]),
    ("NumericGreaterThan", Family::Numeric, &[Ordering::Greater]),
    ("NumericLessThanEquals", Family::Numeric, &[Ordering::Less, Ordering::Equal]),
    ("NumericGreaterThanEquals", Family::Numeric, &[Ordering::Greater, Ordering::Equal]),
    ("BooleanEquals", Family::Boolean, &[Ordering::Equal]),
    ("TimestampEquals", Family::Timestamp, &[Ordering::Equal]),
    ("TimestampLessThan", Family::Timestamp, &[Ordering::Less]),
    ("TimestampGreaterThan", Family::Timestamp, &[Ordering::Greater]),
    ("TimestampLessThanEquals", Family::Timestamp, &[Ordering::Less, Ordering::Equal]),
    ("TimestampGreaterThanEquals", Family::Timestamp, &[Ordering::Greater, Ordering::Equal]),
];

const TESTS: &[(&str, Test)] = &[
    ("IsNull", Test::IsNull),
    ("IsPresent", Test::IsPresent),
    ("IsNumeric", Test::IsNumeric),
    ("IsString", Test::IsString),
    ("IsBoolean", Test::IsBoolean),
    ("IsTimestamp", Test::IsTimestamp),
];

pub fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// A rule of `Choices`, which must name its `Next`.
pub fn parse_top_rule(value: &Value, at: &str) -> Result<(Rule, String), DefinitionError> {
    let next = value
        .get("Next")
        .and_then(Value::as_str)
        .ok_or_else(|| def_err(format!("{at}.Next"), "a top-level choice rule needs Next"))?;
    Ok((parse_rule(value, at, true)?, next.to_owned()))
}

fn parse_rule(value: &Value, at: &str, top: bool) -> Result<Rule, DefinitionError> {
    let obj = value.as_object().ok_or_else(|| def_err(at, "a choice rule must be an object"))?;
    let ops: Vec<&String> = obj.keys().filter(|k| !["Variable", "Next", "Comment"].contains(&k.as_str())).collect();
    if !top && obj.contains_key("Next") {
        return Err(def_err(format!("{at}.Next"), "only top-level choice rules have Next"));
    }
    if ops.len() != 1 {
        return Err(def_err(at, "a choice rule needs exactly one operator"));
    }
    let op = ops[0].as_str();
    let operand = &obj[op];
    let field = format!("{at}.{op}");
    let list = |v: &Value| -> Result<Vec<Rule>, DefinitionError> {
        let items = v
            .as_array()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| def_err(&field, "must be a non-empty array of rules"))?;
        items.iter().enumerate().map(|(i, r)| parse_rule(r, &format!("{field}[{i}]"), false)).collect()
    };
    match op {
        "And" => return Ok(Rule::And(list(operand)?)),
        "Or" => return Ok(Rule::Or(list(operand)?)),
        "Not" => return Ok(Rule::Not(Box::new(parse_rule(operand, &field, false)?))),
        _ => {}
    }
    let variable = obj
        .get("Variable")
        .and_then(Value::as_str)
        .filter(|v| v.starts_with('$'))
        .ok_or_else(|| def_err(format!("{at}.Variable"), "is required and must be a path"))?
        .to_owned();
    path::check_path(&variable).map_err(|e| def_err(format!("{at}.Variable"), e))?;
    if op == "StringMatches" {
        let pattern = operand.as_str().ok_or_else(|| def_err(&field, "must be a string"))?;
        return Ok(Rule::Matches { variable, pattern: pattern.to_owned() });
    }
    if let Some((_, test)) = TESTS.iter().find(|(name, _)| *name == op) {
        let expected = operand.as_bool().ok_or_else(|| def_err(&field, "must be true or false"))?;
        return Ok(Rule::Test { variable, test: test.clone(), expected });
    }
    let (base, by_path) = match op.strip_suffix("Path") {
        Some(base) => (base, true),
        None => (op, false),
    };
    let (_, family, ordering) = COMPARISONS
        .iter()
        .find(|(name, _, _)| *name == base)
        .ok_or_else(|| def_err(&field, "is not a choice operator"))?;
    let operand = if by_path {
        let p = operand.as_str().filter(|p| p.starts_with('$')).ok_or_else(|| def_err(&field, "must be a path"))?;
        path::check_path(p).map_err(|e| def_err(&field, e))?;
        Operand::Path(p.to_owned())
    } else {
        let ok = match family {
            Family::String => operand.is_string(),
            Family::Numeric => operand.is_number(),
            Family::Boolean => operand.is_boolean(),
            Family::Timestamp => operand.as_str().and_then(parse_timestamp).is_some(),
        };
        if !ok {
            return Err(def_err(&field, format!("must be a {family:?} value").to_lowercase()));
        }
        Operand::Literal(operand.clone())
    };
    Ok(Rule::Compare { variable, family: *family, ordering: ordering.to_vec(), operand })
}

/// Evaluates `rule`; a missing variable is an error (States.Runtime), except
/// for IsPresent.
pub fn evaluate(rule: &Rule, input: &Value, context: &Value) -> Result<bool, String> {
    let lookup = |variable: &str| path::select(variable, input, context).ok();
    let required = |variable: &str| {
        lookup(variable).ok_or_else(|| {
            format!("Invalid path '{variable}': the choice state's condition path references an undefined value")
        })
    };
    Ok(match rule {
        Rule::And(rules) => {
            for r in rules {
                if !evaluate(r, input, context)? {
                    return Ok(false);
                }
            }
            true
        }
        Rule::Or(rules) => {
            for r in rules {
                if evaluate(r, input, context)? {
                    return Ok(true);
                }
            }
            false
        }
        Rule::Not(r) => !evaluate(r, input, context)?,
        Rule::Test { variable, test, expected } => {
            let value = lookup(variable);
            let result = match (test, &value) {
                (Test::IsPresent, v) => v.is_some(),
                (_, None) => false,
                (Test::IsNull, Some(v)) => v.is_null(),
                (Test::IsNumeric, Some(v)) => v.is_number(),
                (Test::IsString, Some(v)) => v.is_string(),
                (Test::IsBoolean, Some(v)) => v.is_boolean(),
                (Test::IsTimestamp, Some(v)) => v.as_str().and_then(parse_timestamp).is_some(),
            };
            result == *expected
        }
        Rule::Matches { variable, pattern } => match required(variable)? {
            Value::String(s) => wildcard_match(pattern, &s),
            _ => false,
        },
        Rule::Compare { variable, family, ordering, operand } => {
            let left = required(variable)?;
            let right = match operand {
                Operand::Literal(v) => v.clone(),
                Operand::Path(p) => path::select(p, input, context)?,
            };
            compare(*family, &left, &right).is_some_and(|o| ordering.contains(&o))
        }
    })
}

/// None when either side is not of the family: the comparison is false.
fn compare(family: Family, left: &Value, right: &Value) -> Option<Ordering> {
    match family {
        Family::String => Some(left.as_str()?.cmp(right.as_str()?)),
        Family::Numeric => left.as_f64()?.partial_cmp(&right.as_f64()?),
        Family::Boolean => (left.as_bool()? == right.as_bool()?).then_some(Ordering::Equal).or(Some(Ordering::Less)),
        Family::Timestamp => Some(parse_timestamp(left.as_str()?)?.cmp(&parse_timestamp(right.as_str()?)?)),
    }
}

/// `*` matches any run of characters; `\*` is a literal star, `\\` a backslash.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Token {
        Any,
        Char(char),
    }
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => tokens.push(Token::Char(chars.next().unwrap_or('\\'))),
            '*' => tokens.push(Token::Any),
            c => tokens.push(Token::Char(c)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    // Classic two-pointer glob match with backtracking to the last star.
    let (mut t, mut p, mut star, mut mark) = (0, 0, None, 0);
    while t < text.len() {
        if p < tokens.len() && tokens[p] == Token::Char(text[t]) {
            t += 1;
            p += 1;
        } else if p < tokens.len() && tokens[p] == Token::Any {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    tokens[p..].iter().all(|t| *t == Token::Any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("log-*.txt", "log-2026.txt"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("log-*.txt", "log-2026.csv"));
        assert!(wildcard_match("a\\*b", "a*b"));
        assert!(!wildcard_match("a\\*b", "axb"));
    }
}
