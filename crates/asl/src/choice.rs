//! Choice rules: every comparison operator with its `...Path` form, the type
//! tests, and `And`/`Or`/`Not`.

use std::borrow::Cow;
use std::cmp::Ordering;

use orderflow_value::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::context::Context;
use crate::error::{DefinitionError, def_err};
use crate::path::{Path, Root};

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
    /// A timestamp literal, parsed when the definition loads.
    Timestamp(OffsetDateTime),
    /// A numeric literal, read as a float when the definition loads.
    Number(f64),
    Path(Path),
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
    Compare {
        variable: Path,
        family: Family,
        ordering: &'static [Ordering],
        operand: Operand,
    },
    Matches {
        variable: Path,
        pattern: Glob,
    },
    Test {
        variable: Path,
        test: Test,
        expected: bool,
    },
    /// A JSONata rule's `Condition`: evaluated by the Choice state, which has `$states`.
    Condition(crate::jsonata::Expression),
    /// A JSONata rule's literal `"Condition": true` (or false).
    Constant(bool),
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

/// An ISO-8601 extended offset date-time, as Step Functions reads one:
/// `2026-11-25T08:54:21Z`, fractions and `+01:00` offsets allowed, a `T`
/// (never a space) between date and time.
pub fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    if s.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// A rule of `Choices`, which must name its `Next`.
/// A top-level rule: the rule, its Next, and its Assign as written.
pub fn parse_top_rule(value: &Value, at: &str) -> Result<(Rule, String, Option<Value>), DefinitionError> {
    let next = value
        .get("Next")
        .and_then(Value::as_str)
        .ok_or_else(|| def_err(format!("{at}.Next"), "a top-level choice rule needs Next"))?;
    Ok((parse_rule(value, at, true)?, next.to_owned(), value.get("Assign").cloned()))
}

fn parse_rule(value: &Value, at: &str, top: bool) -> Result<Rule, DefinitionError> {
    let obj = value.as_object().ok_or_else(|| def_err(at, "a choice rule must be an object"))?;
    let ops: Vec<&orderflow_value::Str> =
        obj.keys().filter(|k| !["Variable", "Next", "Comment", "Assign"].contains(&k.as_str())).collect();
    if !top && obj.contains_key("Next") {
        return Err(def_err(format!("{at}.Next"), "only top-level choice rules have Next"));
    }
    if !top && obj.contains_key("Assign") {
        return Err(def_err(format!("{at}.Assign"), "only top-level choice rules have Assign"));
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
        .ok_or_else(|| def_err(format!("{at}.Variable"), "is required and must be a path"))?;
    let variable = Path::parse(variable).map_err(|e| def_err(format!("{at}.Variable"), e))?;
    if op == "StringMatches" {
        let pattern = operand.as_str().ok_or_else(|| def_err(&field, "must be a string"))?;
        return Ok(Rule::Matches { variable, pattern: Glob::new(pattern) });
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
        Operand::Path(Path::parse(p).map_err(|e| def_err(&field, e))?)
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
        match operand.as_str().and_then(parse_timestamp) {
            Some(t) if *family == Family::Timestamp => Operand::Timestamp(t),
            _ => match operand.as_f64() {
                Some(n) if *family == Family::Numeric => Operand::Number(n),
                _ => Operand::Literal(operand.clone()),
            },
        }
    };
    Ok(Rule::Compare { variable, family: *family, ordering, operand })
}

/// Evaluates `rule`; `doc` gives the document a path reads (the state's
/// input, or the context object). A missing variable is an error
/// (States.Runtime, with AWS's words), except for the type tests.
pub fn evaluate(rule: &Rule, input: &Value, context: &Context<'_>) -> Result<bool, String> {
    let lookup = |variable: &Path| -> Option<Cow<'_, Value>> {
        match variable.root() {
            Root::Input => variable.select(input).ok(),
            Root::Context => context.select(variable).ok(),
            Root::Variable => context.select_variable(variable).ok(),
        }
    };
    let required = |variable: &Path| {
        lookup(variable).ok_or_else(|| {
            format!(
                "Invalid path '{}': The choice state's condition path references an invalid value.",
                variable.text()
            )
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
        Rule::Constant(b) => *b,
        // A JSONata Condition needs `$states`: the Choice state evaluates it.
        Rule::Condition(expr) => {
            return Err(format!("the JSONata Condition '{}' outside a JSONata state", expr.text()));
        }
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
        Rule::Matches { variable, pattern } => match required(variable)?.as_ref() {
            Value::String(s) => pattern.matches(s),
            _ => false,
        },
        Rule::Compare { variable, family, ordering, operand } => {
            let left = required(variable)?;
            let order = match operand {
                Operand::Literal(v) => compare(*family, &left, v),
                Operand::Timestamp(t) => left.as_str().and_then(parse_timestamp).map(|l| l.cmp(t)),
                Operand::Number(n) => left.as_f64().and_then(|l| l.partial_cmp(n)),
                Operand::Path(p) => compare(*family, &left, &*required(p)?),
            };
            order.is_some_and(|o| ordering.contains(&o))
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

/// A StringMatches pattern: `*` matches any run of characters; `\\*` is a
/// literal star, `\\\\` a backslash. Kept as the literal pieces between stars,
/// so matching is a left-to-right search for each piece: linear in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Glob {
    pieces: Vec<String>,
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        let mut pieces = vec![String::new()];
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => pieces.last_mut().map_or((), |p| p.push(chars.next().unwrap_or('\\'))),
                '*' => pieces.push(String::new()),
                c => pieces.last_mut().map_or((), |p| p.push(c)),
            }
        }
        Glob { pieces }
    }

    pub fn matches(&self, text: &str) -> bool {
        let (first, rest) = self.pieces.split_first().expect("a glob has a first piece");
        let Some(mut text) = text.strip_prefix(first.as_str()) else { return false };
        let Some((last, middle)) = rest.split_last() else { return text.is_empty() };
        for piece in middle {
            match text.find(piece.as_str()) {
                Some(i) => text = &text[i + piece.len()..],
                None => return false,
            }
        }
        text.len() >= last.len() && text.ends_with(last.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        let m = |p: &str, t: &str| Glob::new(p).matches(t);
        assert!(m("log-*.txt", "log-2026.txt"));
        assert!(m("*", ""));
        assert!(!m("log-*.txt", "log-2026.csv"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(m("*a*a", "aaa"));
        assert!(!m("a*a", "a"));
        assert!(m("ab", "ab"));
        assert!(!m("ab", "abc"));
        // Linear: a long pattern over a long text ends at once.
        let pattern = "*a".repeat(1000);
        assert!(!Glob::new(&pattern).matches(&"b".repeat(1_000_000)));
    }
}
