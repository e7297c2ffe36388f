//! CreateStateMachine, DescribeStateMachine, ListStateMachines,
//! UpdateStateMachine, DeleteStateMachine, ValidateStateMachineDefinition.

use orderflow_asl::lint::ServiceCheck;
use std::sync::Arc;

use orderflow_asl::{MachineType, StateMachine};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ErrorCode};
use crate::names::{check_name, state_machine_arn};
use crate::store::{MachineFields, MachineRecord};
use crate::versions::{self, Target};
use crate::{Service, epoch_seconds, page};

/// Step Functions' quota on a definition's size.
use orderflow_local::quotas::MAX_DEFINITION_BYTES;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Create {
    name: String,
    definition: String,
    role_arn: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    logging_configuration: Option<Value>,
    tracing_configuration: Option<Value>,
    tags: Option<Value>,
    publish: Option<bool>,
    version_description: Option<String>,
    encryption_configuration: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ByArn {
    state_machine_arn: String,
    included_data: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct List {
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Update {
    state_machine_arn: String,
    definition: Option<String>,
    role_arn: Option<String>,
    logging_configuration: Option<Value>,
    tracing_configuration: Option<Value>,
    publish: Option<bool>,
    version_description: Option<String>,
    encryption_configuration: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Validate {
    definition: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    severity: Option<String>,
    max_results: Option<i64>,
}

fn machine_type(kind: Option<&str>) -> Result<MachineType, ApiError> {
    match kind.unwrap_or("STANDARD") {
        "STANDARD" => Ok(MachineType::Standard),
        "EXPRESS" => Ok(MachineType::Express),
        other => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{other}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
        ))),
    }
}

pub(crate) fn type_name(kind: MachineType) -> &'static str {
    match kind {
        MachineType::Standard => "STANDARD",
        MachineType::Express => "EXPRESS",
    }
}

fn check_role(role_arn: &str) -> Result<(), ApiError> {
    let parts: Vec<&str> = role_arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.starts_with("role/")
                && resource.len() > 5 =>
        {
            Ok(())
        }
        _ => Err(ApiError::invalid_arn(role_arn)),
    }
}

/// `States.A.Retry[0]` as a JSON pointer, `/States/A/Retry/0`.
pub(crate) fn pointer(location: &str) -> String {
    let mut out = String::new();
    for part in location.split('.') {
        let (name, indexes) = part.split_once('[').map_or((part, ""), |(n, rest)| (n, rest));
        if !name.is_empty() && !name.starts_with('(') {
            out.push('/');
            out.push_str(name);
        }
        for index in indexes.split('[').map(|i| i.trim_end_matches(']')).filter(|i| !i.is_empty()) {
            out.push('/');
            out.push_str(index);
        }
    }
    if out.is_empty() { "/".into() } else { out }
}

/// Every finding in a definition: its JSON, then the executor's checks.
fn findings(
    definition: &str,
    services: ServiceCheck<'_>,
    kind: MachineType,
) -> Result<StateMachine, Vec<(String, String, String)>> {
    if definition.len() > MAX_DEFINITION_BYTES {
        return Err(vec![(
            "SCHEMA_VALIDATION_FAILED".into(),
            "The definition is larger than 1 MB (1,048,576 bytes), Step Functions' quota".into(),
            "/".into(),
        )]);
    }
    // AWS's words: text that is not JSON is its parser's (Jackson's) finding;
    // JSON that is not an object, or no text at all, is not a definition.
    let not_an_object = || {
        vec![(
            "SCHEMA_VALIDATION_FAILED".to_owned(),
            "Definition must be a valid JSON object".to_owned(),
            String::new(),
        )]
    };
    if definition.trim().is_empty() {
        return Err(not_an_object());
    }
    let value = orderflow_value::parse(definition).map_err(|e| {
        vec![match crate::jackson::unrecognized_token(definition) {
            Some((message, location)) => ("INVALID_JSON_DESCRIPTION".to_owned(), message, location),
            None => ("INVALID_JSON_DESCRIPTION".to_owned(), format!("The definition is not JSON: {e}"), "/".to_owned()),
        }]
    })?;
    if !value.is_object() {
        return Err(not_an_object());
    }
    let machine = orderflow_asl::compile::parse_unchecked(&value)
        .map_err(|e| vec![("SCHEMA_VALIDATION_FAILED".to_owned(), e.message.clone(), pointer(&e.location))])?;
    let mut lint = orderflow_asl::lint::lint_with(&machine, services);
    if kind == MachineType::Express {
        lint.extend(orderflow_asl::lint::express_findings(&machine));
    }
    if lint.is_empty() {
        Ok(machine)
    } else {
        Err(lint
            .iter()
            .map(|e| ("SCHEMA_VALIDATION_FAILED".to_owned(), e.message.clone(), pointer(&e.location)))
            .collect())
    }
}

/// A stored definition, compiled again when the server starts.
/// (It loaded when it was stored: its service Tasks are not checked again.)
pub(crate) fn recompile(definition: &str) -> Option<StateMachine> {
    findings(definition, &|_| Ok(()), MachineType::Standard).ok()
}

fn compile(service: &Service, definition: &str, kind: MachineType) -> Result<StateMachine, ApiError> {
    findings(definition, &|task| service.check_service(task), kind).map_err(|found| {
        let (code, message, location) = &found[0];
        let at = if code == "INVALID_JSON_DESCRIPTION" || location.is_empty() {
            String::new()
        } else {
            format!(" at {location}")
        };
        ApiError::new(
            ErrorCode::InvalidDefinition,
            format!("Invalid State Machine Definition: '{code}: {message}{at}'"),
        )
    })
}

/// AWS's rules for the fields beside a definition: a version's
/// description only with `publish`, a logging level other than OFF with
/// exactly one destination.
fn check_settings(
    publish: Option<bool>,
    version_description: Option<&str>,
    logging: Option<&Value>,
) -> Result<(), ApiError> {
    if version_description.is_some() && publish != Some(true) {
        return Err(ApiError::validation("Version description can only be set when publish is true"));
    }
    if let Some(logging) = logging {
        let level = logging.get("level").and_then(Value::as_str).unwrap_or("OFF");
        let destinations = logging.get("destinations").and_then(Value::as_array).map_or(0, Vec::len);
        if (level != "OFF" && destinations != 1) || destinations > 1 {
            return Err(ApiError::new(
                ErrorCode::InvalidLoggingConfiguration,
                "Invalid Logging Configuration: Must specify exactly one Log Destination.",
            ));
        }
    }
    Ok(())
}

pub fn create(service: &Arc<Service>, r: Create) -> Result<Value, ApiError> {
    let _ = (&r.tags, &r.encryption_configuration);
    check_settings(r.publish, r.version_description.as_deref(), r.logging_configuration.as_ref())?;
    check_name(&r.name)?;
    check_role(&r.role_arn)?;
    let kind = machine_type(r.kind.as_deref())?;
    let compiled = compile(service, &r.definition, kind)?;
    let arn = service.config.state_machine_arn(&r.name);
    let now = service.clock.now_nanos();
    let existing = service.store.memory().machines.get(&arn).cloned();
    if let Some(existing) = existing {
        // Step Functions: the same name, definition and role again is the same machine.
        if existing.definition == r.definition && existing.role_arn == r.role_arn && existing.kind == kind {
            return Ok(json!({"stateMachineArn": arn, "creationDate": epoch_seconds(existing.created)}));
        }
        return Err(ApiError::new(
            ErrorCode::StateMachineAlreadyExists,
            format!("State Machine Already Exists: '{arn}'"),
        ));
    }
    let fields = MachineFields {
        arn: arn.clone(),
        name: r.name,
        definition: r.definition,
        role_arn: r.role_arn,
        kind,
        created: now,
        updated: now,
        revision: 1,
        logging: r.logging_configuration.unwrap_or_else(|| json!({"level": "OFF", "includeExecutionData": false})),
        tracing: r.tracing_configuration.unwrap_or_else(|| json!({"enabled": false})),
    };
    let machine = service.store.save_machine(fields, Arc::new(compiled))?;
    let mut answer = json!({"stateMachineArn": arn, "creationDate": epoch_seconds(now)});
    if r.publish == Some(true) {
        answer["stateMachineVersionArn"] = json!(versions::publish(service, &machine, r.version_description)?.0);
    }
    Ok(answer)
}

/// The state machine `arn` names (a `#TestCase` suffix aside): a version's
/// or an alias's ARN names none here, as UpdateStateMachine answers it.
pub(crate) fn find(service: &Service, arn: &str) -> Result<Arc<MachineRecord>, ApiError> {
    let base = arn.split_once('#').map_or(arn, |(base, _)| base);
    let does_not_exist =
        || ApiError::new(ErrorCode::StateMachineDoesNotExist, format!("State Machine Does Not Exist: '{base}'"));
    match versions::target(base)? {
        Target::Machine(machine) => current(service, machine),
        _ => Err(does_not_exist()),
    }
}

/// The current revision of the state machine whose own ARN is `arn` (checked already).
pub(crate) fn current(service: &Service, arn: &str) -> Result<Arc<MachineRecord>, ApiError> {
    service.store.memory().machines.get(arn).cloned().ok_or_else(|| {
        ApiError::new(ErrorCode::StateMachineDoesNotExist, format!("State Machine Does Not Exist: '{arn}'"))
    })
}

pub(crate) fn description(m: &MachineRecord) -> Value {
    json!({
        "stateMachineArn": m.arn,
        "name": m.name,
        "status": "ACTIVE",
        "definition": m.definition,
        "roleArn": m.role_arn,
        "type": type_name(m.kind),
        "creationDate": epoch_seconds(m.created),
        "loggingConfiguration": m.logging,
        "tracingConfiguration": m.tracing,
        "revisionId": m.revision.to_string(),
    })
}

pub fn describe(service: &Arc<Service>, r: ByArn) -> Result<Value, ApiError> {
    let _ = r.included_data;
    if let Target::Version { arn, .. } = versions::target(&r.state_machine_arn)? {
        return versions::describe_version(service, arn);
    }
    Ok(description(&*find(service, &r.state_machine_arn)?))
}

pub fn list(service: &Arc<Service>, r: List) -> Result<Value, ApiError> {
    let items: Vec<Value> = service
        .store
        .memory()
        .machines
        .values()
        .map(|m| {
            json!({"stateMachineArn": m.arn, "name": m.name, "type": type_name(m.kind), "creationDate": epoch_seconds(m.created)})
        })
        .collect();
    page("stateMachines", items, r.max_results, r.next_token.as_deref())
}

pub fn update(service: &Arc<Service>, r: Update) -> Result<Value, ApiError> {
    let _ = &r.encryption_configuration;
    check_settings(r.publish, r.version_description.as_deref(), r.logging_configuration.as_ref())?;
    if r.definition.is_none()
        && r.role_arn.is_none()
        && r.logging_configuration.is_none()
        && r.tracing_configuration.is_none()
    {
        return Err(ApiError::new(
            ErrorCode::MissingRequiredParameter,
            "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified",
        ));
    }
    let current = find(service, &r.state_machine_arn)?;
    if let Some(role) = &r.role_arn {
        check_role(role)?;
    }
    // Published again unchanged: the version of the current revision, made if there is none.
    let unchanged = r.definition.as_ref().is_none_or(|d| *d == current.definition)
        && r.role_arn.as_ref().is_none_or(|role| *role == current.role_arn)
        && r.logging_configuration.as_ref().is_none_or(|l| *l == current.logging)
        && r.tracing_configuration.as_ref().is_none_or(|t| *t == current.tracing);
    if unchanged && r.publish == Some(true) {
        let (version, _) = versions::publish(service, &current, r.version_description)?;
        let now = service.clock.now_nanos();
        return Ok(json!({"updateDate": epoch_seconds(now), "stateMachineVersionArn": version}));
    }
    let compiled = match &r.definition {
        Some(definition) => Arc::new(compile(service, definition, current.kind)?),
        None => current.compiled.clone(),
    };
    let now = service.clock.now_nanos();
    let fields = MachineFields {
        arn: current.arn.clone(),
        name: current.name.clone(),
        definition: r.definition.unwrap_or_else(|| current.definition.clone()),
        role_arn: r.role_arn.unwrap_or_else(|| current.role_arn.clone()),
        kind: current.kind,
        created: current.created,
        updated: now,
        revision: current.revision + 1,
        logging: r.logging_configuration.unwrap_or_else(|| current.logging.clone()),
        tracing: r.tracing_configuration.unwrap_or_else(|| current.tracing.clone()),
    };
    let revision = fields.revision;
    let machine = service.store.save_machine(fields, compiled)?;
    let mut answer = json!({"updateDate": epoch_seconds(now), "revisionId": revision.to_string()});
    if r.publish == Some(true) {
        answer["stateMachineVersionArn"] = json!(versions::publish(service, &machine, r.version_description)?.0);
    }
    Ok(answer)
}

pub fn delete(service: &Arc<Service>, r: ByArn) -> Result<Value, ApiError> {
    let (base, _) = state_machine_arn(&r.state_machine_arn)?;
    if !matches!(versions::target(base)?, Target::Machine(_)) {
        return Err(ApiError::invalid_arn(base));
    }
    // Executions already started run to their end, as in Step Functions;
    // the machine's versions and aliases go with it.
    service.store.delete_machine(base)?;
    versions::forget_machine(service, base)?;
    Ok(json!({}))
}

pub fn validate(service: &Service, r: Validate) -> Result<Value, ApiError> {
    let kind = machine_type(r.kind.as_deref())?;
    if let Some(severity) = r.severity.as_deref()
        && !["ERROR", "WARNING"].contains(&severity)
    {
        return Err(ApiError::validation(format!("Invalid severity '{severity}': ERROR or WARNING")));
    }
    let max = match r.max_results {
        None | Some(0) => 100,
        Some(n @ 1..=100) => n as usize,
        Some(n) => return Err(ApiError::validation(format!("maxResults {n} is over 100"))),
    };
    Ok(match findings(&r.definition, &|task| service.check_service(task), kind) {
        Ok(_) => json!({"result": "OK", "diagnostics": [], "truncated": false}),
        Err(found) => {
            let diagnostics: Vec<Value> = found
                .iter()
                .take(max)
                .map(|(code, message, location)| {
                    let mut diagnostic = json!({"severity": "ERROR", "code": code, "message": message});
                    if !location.is_empty() {
                        diagnostic["location"] = json!(location);
                    }
                    diagnostic
                })
                .collect();
            json!({"result": "FAIL", "diagnostics": diagnostics, "truncated": found.len() > max})
        }
    })
}

#[cfg(test)]
mod tests {
    use super::pointer;

    #[test]
    fn locations_become_json_pointers() {
        assert_eq!(pointer("States.A.Retry[0].BackoffRate"), "/States/A/Retry/0/BackoffRate");
        assert_eq!(pointer("States"), "/States");
        assert_eq!(pointer("(definition)"), "/");
    }
}
