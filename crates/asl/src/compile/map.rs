//! A Map state: its ItemProcessor (or Iterator), inline or distributed, the
//! items it reads and selects, its MaxConcurrency and tolerated failures.

use orderflow_value::{Map, Value};

use super::fields::{compile_path, given, jsonata_field, jsonata_given, path_field, template_field};
use super::{ERRORS, FLOW, Fields, IO, Io, RESULT, StateType, parse_machine};
use crate::model::{DefinitionError, Given, Kind, MapSpec, StateMachine, def_err};

pub(super) const MAP: StateType = StateType {
    name: "Map",
    fields: &[
        FLOW,
        IO,
        RESULT,
        ERRORS,
        &[
            "ItemsPath",
            "ItemSelector",
            "ItemProcessor",
            "Iterator",
            "MaxConcurrency",
            "MaxConcurrencyPath",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "Label",
            "Assign",
            "ItemReader",
            "ItemBatcher",
            "ResultWriter",
        ],
    ],
    jsonata_fields: &["Items", "Output"],
    transition: Fields::NextOrEnd,
    jsonpath,
    jsonata,
};

fn jsonpath(obj: &Map, at: &str, io: &mut Io) -> Result<Kind, DefinitionError> {
    let field = |f: &str| format!("{at}.{f}");
    let (processor, express) = processor(obj, at, false)?;
    let distributed = super::distributed::parse(obj, at, processor.distributed, express, false)?;
    if obj.contains_key("ItemSelector") && obj.contains_key("Parameters") {
        return Err(def_err(at, "has both ItemSelector and Parameters"));
    }
    let items_path = path_field(obj, "ItemsPath", &field("ItemsPath"))?
        .ok_or_else(|| def_err(field("ItemsPath"), "must be a path, not null"))?;
    let max_concurrency =
        given(obj, "MaxConcurrency", at, Value::as_u64, "must be a non-negative integer")?.unwrap_or(Given::Value(0));
    let tolerated_failure_count =
        given(obj, "ToleratedFailureCount", at, Value::as_i64, "must be a non-negative integer")?;
    if let Some(Given::Value(c)) = tolerated_failure_count
        && c < 0
    {
        return Err(def_err(field("ToleratedFailureCount"), "must be a non-negative integer"));
    }
    let tolerated_failure_percentage =
        given(obj, "ToleratedFailurePercentage", at, Value::as_f64, "must be a number between 0 and 100")?;
    if let Some(Given::Value(p)) = tolerated_failure_percentage
        && !(0.0..=100.0).contains(&p)
    {
        return Err(def_err(field("ToleratedFailurePercentage"), "must be between 0 and 100"));
    }
    // Parameters is the older name of ItemSelector in a Map state.
    let item_selector = match template_field(obj, "ItemSelector", &field("ItemSelector"))? {
        Some(selector) => Some(selector),
        None => io.parameters.take().map(std::sync::Arc::unwrap_or_clone),
    };
    Ok(Kind::Map(Box::new(MapSpec {
        processor,
        items_path,
        items: None,
        item_selector,
        max_concurrency,
        tolerated_failure_count,
        tolerated_failure_percentage,
        distributed,
    })))
}

fn jsonata(obj: &Map, at: &str) -> Result<Kind, DefinitionError> {
    let (processor, express) = processor(obj, at, true)?;
    let distributed = super::distributed::parse(obj, at, processor.distributed, express, true)?;
    let count = |v: &Value| v.as_i64().filter(|n| *n >= 0);
    let percentage = |v: &Value| v.as_f64().filter(|p| (0.0..=100.0).contains(p));
    let items_path = compile_path("$", at)?;
    let items = jsonata_field(obj, "Items", at)?;
    let item_selector = jsonata_field(obj, "ItemSelector", at)?;
    let max_concurrency = jsonata_given(obj, "MaxConcurrency", at, Value::as_u64, "must be a non-negative integer")?;
    Ok(Kind::Map(Box::new(MapSpec {
        processor,
        items_path,
        items,
        item_selector,
        max_concurrency: max_concurrency.unwrap_or(Given::Value(0)),
        tolerated_failure_count: jsonata_given(
            obj,
            "ToleratedFailureCount",
            at,
            count,
            "must be a non-negative integer",
        )?,
        tolerated_failure_percentage: jsonata_given(
            obj,
            "ToleratedFailurePercentage",
            at,
            percentage,
            "must be a number between 0 and 100",
        )?,
        distributed,
    })))
}

/// A Map state's ItemProcessor (or Iterator), inline or distributed, and
/// whether a distributed one's children are EXPRESS executions.
fn processor(obj: &Map, at: &str, jsonata: bool) -> Result<(Box<StateMachine>, bool), DefinitionError> {
    let (key, processor) = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
        (Some(p), None) => ("ItemProcessor", p),
        (None, Some(p)) => ("Iterator", p),
        _ => return Err(def_err(at, "needs exactly one of ItemProcessor and Iterator")),
    };
    let distributed = match processor.get("ProcessorConfig").and_then(|c| c.get("Mode")) {
        None => false,
        Some(Value::String(mode)) if mode == "INLINE" => false,
        Some(Value::String(mode)) if mode == "DISTRIBUTED" => true,
        Some(_) => return Err(def_err(format!("{at}.{key}.ProcessorConfig.Mode"), "must be INLINE or DISTRIBUTED")),
    };
    let express = match processor.get("ProcessorConfig").and_then(|c| c.get("ExecutionType")) {
        None => false,
        Some(Value::String(t)) if distributed && t == "STANDARD" => false,
        Some(Value::String(t)) if distributed && t == "EXPRESS" => true,
        Some(_) => {
            return Err(def_err(
                format!("{at}.{key}.ProcessorConfig.ExecutionType"),
                "must be STANDARD or EXPRESS, in Mode DISTRIBUTED",
            ));
        }
    };
    Ok((Box::new(parse_machine(processor, &format!("{at}.{key}"), distributed, jsonata)?), express))
}
