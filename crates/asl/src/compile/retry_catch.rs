//! A state's Retry and Catch lists: retriers and catchers.

use orderflow_value::{Map, Value};

use super::fields::{jsonata_field, number, positive, result_path_field, string, template_field};
use crate::model::{Catcher, DefinitionError, Retrier, Target, def_err};
use crate::path::ReferencePath;

pub(super) fn error_names(obj: &Map, at: &str) -> Result<Vec<String>, DefinitionError> {
    let names = obj
        .get("ErrorEquals")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| def_err(format!("{at}.ErrorEquals"), "must be a non-empty array of error names"))?;
    let names: Vec<String> = names
        .iter()
        .map(|n| n.as_str().map(str::to_owned).ok_or_else(|| def_err(format!("{at}.ErrorEquals"), "must hold strings")))
        .collect::<Result<_, _>>()?;
    if names.contains(&"States.ALL".to_owned()) && names.len() > 1 {
        return Err(def_err(format!("{at}.ErrorEquals"), "States.ALL must appear alone"));
    }
    Ok(names)
}

pub(super) fn parse_retrier(value: &Value, at: &str) -> Result<Retrier, DefinitionError> {
    let obj = value.as_object().ok_or_else(|| def_err(at, "must be an object"))?;
    let field = |f: &str| format!("{at}.{f}");
    for key in obj.keys() {
        if ![
            "ErrorEquals",
            "IntervalSeconds",
            "MaxAttempts",
            "BackoffRate",
            "MaxDelaySeconds",
            "JitterStrategy",
            "Comment",
        ]
        .contains(&key.as_str())
        {
            return Err(def_err(field(key), "is not a field of a retrier"));
        }
    }
    let interval_seconds = match positive(obj, "IntervalSeconds", &field("IntervalSeconds"))? {
        Some(s) => s as f64,
        None => 1.0,
    };
    let max_attempts = match obj.get("MaxAttempts") {
        None => 3,
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| def_err(field("MaxAttempts"), "must be a non-negative integer"))?,
    };
    let backoff_rate = number(obj, "BackoffRate", &field("BackoffRate"))?.unwrap_or(2.0);
    if backoff_rate < 1.0 {
        return Err(def_err(field("BackoffRate"), "must be at least 1.0"));
    }
    let full_jitter = match string(obj, "JitterStrategy", &field("JitterStrategy"))?.as_deref() {
        None | Some("NONE") => false,
        Some("FULL") => true,
        Some(_) => return Err(def_err(field("JitterStrategy"), "must be FULL or NONE")),
    };
    Ok(Retrier {
        error_equals: error_names(obj, at)?,
        interval_seconds,
        max_attempts,
        backoff_rate,
        max_delay_seconds: positive(obj, "MaxDelaySeconds", &field("MaxDelaySeconds"))?.map(|s| s as f64),
        full_jitter,
    })
}

pub(super) fn parse_catcher(value: &Value, at: &str, jsonata: bool) -> Result<Catcher, DefinitionError> {
    let obj = value.as_object().ok_or_else(|| def_err(at, "must be an object"))?;
    let (own, other, language) =
        if jsonata { ("Output", "ResultPath", "JSONPath") } else { ("ResultPath", "Output", "JSONata") };
    for key in obj.keys() {
        if key == other {
            return Err(def_err(format!("{at}.{key}"), format!("is a field of the {language} query language")));
        }
        if !["ErrorEquals", "Next", "Comment", "Assign", own].contains(&key.as_str()) {
            return Err(def_err(format!("{at}.{key}"), "is not a field of a catcher"));
        }
    }
    let next =
        string(obj, "Next", &format!("{at}.Next"))?.ok_or_else(|| def_err(format!("{at}.Next"), "is required"))?;
    Ok(Catcher {
        error_equals: error_names(obj, at)?,
        result_path: if jsonata {
            Some(ReferencePath::parse("$").map_err(|e| def_err(at, e))?)
        } else {
            result_path_field(obj, &format!("{at}.ResultPath"))?
        },
        next: Target::new(&next),
        assign: if jsonata {
            jsonata_field(obj, "Assign", at)?
        } else {
            template_field(obj, "Assign", &format!("{at}.Assign"))?
        },
        output: if jsonata { jsonata_field(obj, "Output", at)? } else { None },
    })
}
