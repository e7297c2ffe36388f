//! TestState: one state, run once offline, with a mocked result or error,
//! at the inspection level asked for.

use std::sync::Arc;

use orderflow_asl::test_state::{Inspection, Refused, TestMock, TestSetup, test_state};
use orderflow_asl::{ExecutionOptions, HttpTrace, StateMachine};
use orderflow_value::{Map, Value, json};
use serde::Deserialize;

use orderflow_integrations::mock_result::{self, FieldValidation};

use crate::Service;
use crate::error::{ApiError, ErrorCode};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Test {
    definition: String,
    role_arn: Option<String>,
    input: Option<String>,
    inspection_level: Option<String>,
    reveal_secrets: Option<bool>,
    variables: Option<String>,
    state_name: Option<String>,
    mock: Option<Mock>,
    context: Option<String>,
    state_configuration: Option<StateConfiguration>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Mock {
    result: Option<String>,
    error_output: Option<ErrorOutput>,
    field_validation_mode: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ErrorOutput {
    error: Option<String>,
    cause: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StateConfiguration {
    retrier_retry_count: Option<u32>,
    error_caused_by_state: Option<String>,
    map_iteration_failure_count: Option<u32>,
    map_item_reader_data: Option<String>,
}

fn json_text(text: &str, what: &str) -> Result<Value, ApiError> {
    orderflow_value::parse(text)
        .map_err(|e| ApiError::new(ErrorCode::InvalidExecutionInput, format!("{what} is not JSON: {e}")))
}

fn invalid_definition(message: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::InvalidDefinition, format!("Invalid State Machine Definition: '{message}'"))
}

/// Headers as TestState's TRACE shows them: `[name: value, name: value]`.
fn headers(headers: &[(String, String)]) -> String {
    let listed: Vec<String> = headers.iter().map(|(name, value)| format!("{name}: {value}")).collect();
    format!("[{}]", listed.join(", "))
}

/// The state named `name`: one of the machine's own, else one inside a
/// Map's ItemProcessor or a Parallel's branch, at any depth.
fn find_state<'m>(machine: &'m StateMachine, name: &str) -> Option<&'m orderflow_asl::model::State> {
    use orderflow_asl::model::Kind;
    machine.states.iter().find(|s| *s.name == *name).or_else(|| {
        machine.states.iter().find_map(|s| match &s.kind {
            Kind::Map(spec) => find_state(&spec.processor, name),
            Kind::Parallel { branches } => branches.iter().find_map(|b| find_state(b, name)),
            _ => None,
        })
    })
}

pub async fn run(service: &Arc<Service>, r: Test) -> Result<serde_json::Value, ApiError> {
    let variables = match r.variables.as_deref().map(|v| json_text(v, "variables")).transpose()? {
        None => Map::new(),
        Some(Value::Object(vars)) => vars,
        Some(_) => return Err(ApiError::validation("variables must be a JSON object of variable names and values")),
    };
    let context = r.context.as_deref().map(|c| json_text(c, "the context")).transpose()?;
    let level = r.inspection_level.as_deref().unwrap_or("INFO");
    if !["INFO", "DEBUG", "TRACE"].contains(&level) {
        return Err(ApiError::validation(format!("inspectionLevel '{level}': INFO, DEBUG or TRACE")));
    }
    let config = r.state_configuration.unwrap_or(StateConfiguration {
        retrier_retry_count: None,
        error_caused_by_state: None,
        map_iteration_failure_count: None,
        map_item_reader_data: None,
    });
    if config.map_item_reader_data.as_ref().is_some_and(|d| d.len() > 262_144) {
        return Err(ApiError::validation(
            "1 validation error detected: Value at 'stateConfiguration.mapItemReaderData' failed to satisfy constraint: Member must have length less than or equal to 262144",
        ));
    }
    let definition = json_text(&r.definition, "the definition").map_err(|e| invalid_definition(e.message))?;
    // A single state, or a whole machine and the name of one of its states.
    let (machine_json, name) = match definition.get("Type") {
        Some(_) => {
            // AWS names a lone state so in its context object and error paths.
            let name = r.state_name.clone().unwrap_or_else(|| "StateName".to_owned());
            let mut states = Map::new();
            states.insert(name.clone(), definition);
            (json!({"StartAt": name, "States": states}), name)
        }
        None => {
            let name = r.state_name.clone().ok_or_else(|| {
                ApiError::validation("stateName is required when the definition is a whole state machine")
            })?;
            (definition, name)
        }
    };
    let machine: StateMachine = orderflow_asl::compile::parse_unchecked(&machine_json).map_err(|e| {
        // As CreateStateMachine words it: the code, the message, where.
        let at = crate::state_machines::pointer(&e.location);
        invalid_definition(format!("SCHEMA_VALIDATION_FAILED: {} at {at}", e.message))
    })?;
    // The state is tested alone: its context object names it `StateName`
    // wherever it sits in the machine (AWS's TestState).
    let mut state =
        find_state(&machine, &name).ok_or_else(|| ApiError::validation("State not found in definition"))?.clone();
    state.name = "StateName".into();
    let state = &state;
    if let Some(cause) = &config.error_caused_by_state {
        let inside = |m: &StateMachine| m.states.iter().any(|s| *s.name == **cause);
        let known = match &state.kind {
            orderflow_asl::model::Kind::Map(spec) => inside(&spec.processor),
            orderflow_asl::model::Kind::Parallel { branches } => branches.iter().any(inside),
            _ => false,
        };
        if !known {
            return Err(ApiError::validation(format!(
                "errorCausedByState '{cause}' is not a state inside the Map or Parallel state '{name}'"
            )));
        }
    }
    // A Task that runs (no mock) runs with a role: AWS asks for it.
    if matches!(state.kind, orderflow_asl::model::Kind::Task { .. }) && r.mock.is_none() && r.role_arn.is_none() {
        return Err(ApiError::validation("RoleArn must be specified when testing a Task state"));
    }
    let input = json_text(r.input.as_deref().unwrap_or("{}"), "the input")?;
    let mock = match r.mock {
        None => None,
        Some(Mock { result: Some(_), error_output: Some(_), .. }) => {
            return Err(ApiError::validation(
                "A test mock should have only one of the following fields: [result, errorOutput].",
            ));
        }
        Some(_) if r.reveal_secrets == Some(true) => {
            return Err(ApiError::validation("TestState does not support RevealSecrets when a mock is specified."));
        }
        Some(Mock { result: Some(result), field_validation_mode, .. }) => {
            let result = orderflow_value::parse(&result)
                .map_err(|_| ApiError::validation("Mocked result must be valid JSON"))?;
            let mode = FieldValidation::parse(field_validation_mode.as_deref())
                .ok_or_else(|| ApiError::validation("fieldValidationMode must be one of STRICT, PRESENT or NONE"))?;
            if let orderflow_asl::model::Kind::Task { resource, .. } = &state.kind
                && let Some(message) = mock_result::violation(resource, &result, mode)
            {
                return Err(ApiError::validation(message));
            }
            Some(TestMock::Result(result))
        }
        Some(Mock { error_output: Some(e), .. }) => {
            Some(TestMock::Error { error: e.error.unwrap_or_default(), cause: e.cause.unwrap_or_default() })
        }
        Some(_) => return Err(ApiError::validation("A mock gives a result or an errorOutput")),
    };
    // AWS tests a state as an EXPRESS execution of a machine of its own,
    // both named at random, with the role given (no RedriveCount in its context).
    let (machine_name, execution_name) = (service.ids.uuid_v4(), service.ids.uuid_v4());
    let (region, account) = (service.config.region.as_str(), service.config.account.as_str());
    let options = ExecutionOptions {
        name: execution_name.as_str().into(),
        state_machine_name: machine_name.as_str().into(),
        region: region.into(),
        account: account.into(),
        machine_type: orderflow_asl::MachineType::Express,
        execution_arn: Some(
            format!("arn:aws:states:{region}:{account}:express:{machine_name}:{execution_name}").into(),
        ),
        role_arn: r.role_arn.as_deref().map(Into::into),
        ..Default::default()
    };
    let setup = TestSetup {
        mock,
        retry_count: config.retrier_retry_count.unwrap_or(0),
        context,
        variables,
        map_item_reader_data: config.map_item_reader_data,
        map_iteration_failure_count: config.map_iteration_failure_count,
        http_trace: (level == "TRACE")
            .then(|| HttpTrace { reveal_secrets: r.reveal_secrets == Some(true), ..Default::default() }),
    };
    let outcome =
        test_state(state, input, setup, service.invoker.as_ref(), service.services(), service.clock.as_ref(), &options)
            .await
            .map_err(|refused| match refused {
                Refused::Request(message) => ApiError::validation(message),
                Refused::Definition(message) => ApiError::new(ErrorCode::InvalidDefinition, message),
            })?;

    let text = |v: &Option<Value>| v.as_ref().map(|v| Value::string(v.to_json()));
    let mut out = Map::new();
    out.insert("status", json!(outcome.status));
    if let Some(output) = text(&outcome.output) {
        out.insert("output", output);
    }
    if let Some(error) = outcome.error {
        out.insert("error", Value::from(error));
    }
    if let Some(cause) = outcome.cause {
        out.insert("cause", Value::from(cause));
    }
    if let Some(next) = outcome.next_state {
        out.insert("nextState", Value::from(next));
    }
    let Inspection {
        input,
        after_input_path,
        after_parameters,
        after_arguments,
        result,
        after_result_selector,
        after_result_path,
        retry_index,
        retry_backoff_seconds,
        catch_index,
        after_items_path,
        after_item_selector,
        after_items_pointer,
        after_item_batcher,
        max_concurrency,
        tolerated_failure_count,
        tolerated_failure_percentage,
        variables,
        request,
        response,
    } = outcome.inspection;
    let mut inspection = Map::new();
    if level != "INFO" {
        for (key, value) in [
            ("input", input),
            ("afterInputPath", after_input_path),
            ("afterParameters", after_parameters),
            ("afterArguments", after_arguments),
            ("result", result),
            ("afterResultSelector", after_result_selector),
            ("afterResultPath", after_result_path),
            ("afterItemsPath", after_items_path),
            ("afterItemSelector", after_item_selector),
            ("afterItemsPointer", after_items_pointer),
            ("afterItemBatcher", after_item_batcher),
            ("variables", variables),
        ] {
            if let Some(value) = text(&value) {
                inspection.insert(key, value);
            }
        }
        if let Some(n) = max_concurrency {
            inspection.insert("maxConcurrency", json!(n));
        }
        if let Some(n) = tolerated_failure_count {
            inspection.insert("toleratedFailureCount", json!(n));
        }
        if let Some(p) = tolerated_failure_percentage {
            inspection.insert("toleratedFailurePercentage", json!(p));
        }
    }
    if level == "TRACE" {
        if let Some(r) = request {
            inspection.insert(
                "request",
                json!({"protocol": r.protocol, "method": r.method, "url": r.url, "headers": headers(&r.headers), "body": r.body}),
            );
        }
        if let Some(r) = response {
            inspection.insert(
                "response",
                json!({
                    "protocol": r.protocol,
                    "statusCode": r.status_code.to_string(),
                    "statusMessage": r.status_message,
                    "headers": headers(&r.headers),
                    "body": r.body
                }),
            );
        }
    }
    let mut details = Map::new();
    if let Some(i) = retry_index {
        details.insert("retryIndex", json!(i));
    }
    if let Some(s) = retry_backoff_seconds {
        details.insert("retryBackoffIntervalSeconds", json!(s.round() as i64));
    }
    if let Some(i) = catch_index {
        details.insert("catchIndex", json!(i));
    }
    // INFO shows no inspection data at all, errorDetails included (as AWS answers).
    if !details.is_empty() && level != "INFO" {
        inspection.insert("errorDetails", Value::Object(details));
    }
    if !inspection.is_empty() {
        out.insert("inspectionData", Value::Object(inspection));
    }
    Ok(serde_json::Value::from(Value::Object(out)))
}
