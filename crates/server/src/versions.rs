//! State machine versions and aliases, as Step Functions keeps them: a
//! version (`<machine ARN>:<n>`) is a published revision, numbered from 1
//! and never renumbered (a deleted version's number is not used again); an
//! alias (`<machine ARN>:<name>`) routes executions to one version or
//! splits them between two by weight. PublishStateMachineVersion,
//! ListStateMachineVersions, DeleteStateMachineVersion and the alias
//! operations live here, with how a qualified ARN resolves to the revision
//! an execution runs. Texts are AWS's, as its recorded answers give them.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{ApiError, ErrorCode};
use crate::names::{StatesArn, parse_arn};
use crate::store::MachineRecord;
use crate::{Service, epoch_seconds, offset_of, page_size, paged};

/// Step Functions' quota: published versions per state machine.
const MAX_VERSIONS: usize = 1000;
/// Step Functions' quota: aliases per state machine.
const MAX_ALIASES: usize = 100;

/// A version or an alias, as the store keeps it (by its ARN).
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Qualifier {
    Version(Version),
    Alias(Alias),
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    pub machine: String,
    pub number: u64,
    /// The machine_versions row it publishes.
    pub revision: i64,
    /// The machine's revisionId when it was published: none before its first update.
    pub revision_id: Option<String>,
    pub description: Option<String>,
    /// Unix nanoseconds.
    pub created: i64,
    /// Deleted: kept so its number is not given again.
    pub deleted: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub state_machine_version_arn: String,
    pub weight: u32,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Alias {
    pub machine: String,
    pub name: String,
    pub description: Option<String>,
    pub routing: Vec<Route>,
    pub created: i64,
    pub updated: i64,
}

/// A state machine ARN split: the machine's own ARN and what qualifies it.
pub(crate) enum Target<'a> {
    Machine(&'a str),
    Version { machine: &'a str, arn: &'a str },
    Alias { machine: &'a str, arn: &'a str },
}

/// Reads a state machine ARN, qualified or not (a `#TestCase` suffix is the caller's to strip).
pub(crate) fn target(arn: &str) -> Result<Target<'_>, ApiError> {
    let StatesArn { kind, rest, .. } = parse_arn(arn)?;
    match (kind, rest.as_slice()) {
        ("stateMachine", [_]) => Ok(Target::Machine(arn)),
        ("stateMachine", [_, qualifier]) => {
            let machine = &arn[..arn.len() - qualifier.len() - 1];
            // A version's number is all digits; an alias's name never is.
            if qualifier.bytes().all(|b| b.is_ascii_digit()) {
                Ok(Target::Version { machine, arn })
            } else {
                Ok(Target::Alias { machine, arn })
            }
        }
        _ => Err(ApiError::invalid_arn(arn)),
    }
}

fn does_not_exist(arn: &str) -> ApiError {
    ApiError::new(ErrorCode::StateMachineDoesNotExist, format!("State Machine Does Not Exist: '{arn}'"))
}

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::ResourceNotFound, "Request references a resource that does not exist.")
}

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::ConflictException, message)
}

/// The state machine an execution starts on, and the version and alias ARNs it was started through.
pub(crate) struct Resolved {
    pub machine: Arc<MachineRecord>,
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
}

/// What `arn` runs: the machine's current revision, a version's, or the
/// version an alias routes this execution to (by its weights).
pub(crate) fn resolve(service: &Service, arn: &str) -> Result<Resolved, ApiError> {
    let arn = arn.split_once('#').map_or(arn, |(base, _)| base);
    let (version_arn, alias_arn) = match target(arn)? {
        Target::Machine(machine) => {
            let machine = crate::state_machines::current(service, machine)?;
            return Ok(Resolved { machine, version_arn: None, alias_arn: None });
        }
        Target::Version { arn, .. } => (arn.to_owned(), None),
        Target::Alias { arn, .. } => {
            let alias = alias(service, arn).ok_or_else(|| does_not_exist(arn))?;
            let draw = service.ids.next_u64() % 100;
            let mut passed = 0u64;
            let route = alias
                .routing
                .iter()
                .find(|r| {
                    passed += u64::from(r.weight);
                    draw < passed
                })
                .or(alias.routing.last())
                .ok_or_else(|| does_not_exist(arn))?;
            (route.state_machine_version_arn.clone(), Some(arn.to_owned()))
        }
    };
    let version = version(service, &version_arn).ok_or_else(|| does_not_exist(&version_arn))?;
    let machine = service.store.version(&mut service.store.db(), version.revision)?;
    Ok(Resolved { machine, version_arn: Some(version_arn), alias_arn })
}

fn version(service: &Service, arn: &str) -> Option<Version> {
    match service.store.memory().qualifiers.get(arn) {
        Some(Qualifier::Version(v)) if !v.deleted => Some(v.clone()),
        _ => None,
    }
}

fn alias(service: &Service, arn: &str) -> Option<Alias> {
    match service.store.memory().qualifiers.get(arn) {
        Some(Qualifier::Alias(a)) => Some(a.clone()),
        _ => None,
    }
}

/// The versions of `machine`, deleted ones included, in number order.
fn versions_of(service: &Service, machine: &str) -> Vec<Version> {
    let prefix = format!("{machine}:");
    let memory = service.store.memory();
    let mut found: Vec<Version> = memory
        .qualifiers
        .range(prefix.clone()..)
        .take_while(|(arn, _)| arn.starts_with(&prefix))
        .filter_map(|(_, q)| match q {
            Qualifier::Version(v) if v.machine == machine => Some(v.clone()),
            _ => None,
        })
        .collect();
    found.sort_by_key(|v| v.number);
    found
}

fn aliases_of(service: &Service, machine: &str) -> Vec<(String, Alias)> {
    let prefix = format!("{machine}:");
    let memory = service.store.memory();
    let mut found: Vec<(String, Alias)> = memory
        .qualifiers
        .range(prefix.clone()..)
        .take_while(|(arn, _)| arn.starts_with(&prefix))
        .filter_map(|(arn, q)| match q {
            Qualifier::Alias(a) if a.machine == machine => Some((arn.clone(), a.clone())),
            _ => None,
        })
        .collect();
    found.sort_by_key(|(_, a)| a.created);
    found
}

/// Publishes the machine's current revision, or gives the version that
/// already publishes it: (version ARN, its creation time).
pub(crate) fn publish(
    service: &Service,
    machine: &MachineRecord,
    description: Option<String>,
) -> Result<(String, i64), ApiError> {
    let versions = versions_of(service, &machine.arn);
    if let Some(latest) = versions.iter().rev().find(|v| !v.deleted)
        && latest.revision == machine.version
    {
        return Ok((format!("{}:{}", machine.arn, latest.number), latest.created));
    }
    if versions.iter().filter(|v| !v.deleted).count() >= MAX_VERSIONS {
        return Err(ApiError::new(
            ErrorCode::ServiceQuotaExceededException,
            format!("The state machine {} has {MAX_VERSIONS} versions, Step Functions' quota", machine.arn),
        ));
    }
    let number = versions.last().map_or(1, |v| v.number + 1);
    let created = service.clock.now_nanos() as i64;
    let version = Version {
        machine: machine.arn.clone(),
        number,
        revision: machine.version,
        revision_id: (machine.revision > 1).then(|| machine.revision.to_string()),
        description,
        created,
        deleted: false,
    };
    let arn = format!("{}:{number}", machine.arn);
    service.store.save_qualifier(&arn, Qualifier::Version(version))?;
    Ok((arn, created))
}

/// DescribeStateMachine of a version: the revision it publishes, under its own ARN.
pub(crate) fn describe_version(service: &Service, arn: &str) -> Result<Value, ApiError> {
    let version = version(service, arn).ok_or_else(|| does_not_exist(arn))?;
    let machine = service.store.version(&mut service.store.db(), version.revision)?;
    let mut out = crate::state_machines::description(&machine);
    out["stateMachineArn"] = json!(arn);
    out["creationDate"] = epoch_seconds(i128::from(version.created));
    let shown = out.as_object_mut().expect("a description is an object");
    shown.remove("revisionId");
    if let Some(id) = version.revision_id {
        shown.insert("revisionId".into(), json!(id));
    }
    if let Some(description) = version.description {
        shown.insert("description".into(), json!(description));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Publish {
    state_machine_arn: String,
    revision_id: Option<String>,
    description: Option<String>,
}

pub fn publish_version(service: &Arc<Service>, r: Publish) -> Result<Value, ApiError> {
    let machine = crate::state_machines::find(service, &r.state_machine_arn)?;
    if let Some(asked) = &r.revision_id
        && *asked != machine.revision.to_string()
    {
        return Err(conflict(format!(
            "Failed to publish the State Machine version for revision {asked}. The current State Machine revision is {}.",
            machine.revision
        )));
    }
    let (arn, created) = publish(service, &machine, r.description)?;
    Ok(json!({"creationDate": epoch_seconds(i128::from(created)), "stateMachineVersionArn": arn}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListVersions {
    state_machine_arn: String,
    next_token: Option<String>,
    max_results: Option<i64>,
}

pub fn list_versions(service: &Arc<Service>, r: ListVersions) -> Result<Value, ApiError> {
    let size = page_size(r.max_results)?;
    let offset = offset_of(r.next_token.as_deref())?;
    let machine = crate::state_machines::find(service, &r.state_machine_arn)?;
    let items: Vec<Value> = versions_of(service, &machine.arn)
        .into_iter()
        .rev()
        .filter(|v| !v.deleted)
        .skip(offset)
        .take(size + 1)
        .map(|v| {
            json!({"stateMachineVersionArn": format!("{}:{}", v.machine, v.number), "creationDate": epoch_seconds(i128::from(v.created))})
        })
        .collect();
    Ok(paged("stateMachineVersions", items, offset, size))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteVersion {
    state_machine_version_arn: String,
}

pub fn delete_version(service: &Arc<Service>, r: DeleteVersion) -> Result<Value, ApiError> {
    let arn = r.state_machine_version_arn.as_str();
    let Target::Version { machine, .. } = target(arn)? else { return Err(ApiError::invalid_arn(arn)) };
    let Some(mut version) = version(service, arn) else { return Ok(json!({})) };
    let routing: Vec<String> = aliases_of(service, machine)
        .into_iter()
        .filter(|(_, a)| a.routing.iter().any(|r| r.state_machine_version_arn == arn))
        .map(|(_, a)| a.name)
        .collect();
    if !routing.is_empty() {
        return Err(conflict(format!(
            "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [{}]",
            routing.join(", ")
        )));
    }
    version.deleted = true;
    service.store.save_qualifier(arn, Qualifier::Version(version))?;
    Ok(json!({}))
}

/// Deletes every version and alias of a deleted state machine; their numbers
/// go with it (a machine made again under the same name starts at 1).
pub(crate) fn forget_machine(service: &Service, machine: &str) -> Result<(), ApiError> {
    let versions = versions_of(service, machine).into_iter().map(|v| format!("{machine}:{}", v.number));
    let aliases = aliases_of(service, machine).into_iter().map(|(arn, _)| arn);
    for arn in versions.chain(aliases).collect::<Vec<_>>() {
        service.store.delete_qualifier(&arn)?;
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAlias {
    description: Option<String>,
    name: String,
    routing_configuration: Vec<Route>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ByAlias {
    state_machine_alias_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateAlias {
    state_machine_alias_arn: String,
    description: Option<String>,
    routing_configuration: Option<Vec<Route>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListAliases {
    state_machine_arn: String,
    next_token: Option<String>,
    max_results: Option<i64>,
}

/// An alias's name, as the model's pattern has it (AWS's message).
fn check_alias_name(name: &str) -> Result<(), ApiError> {
    if name.chars().count() > 80 {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80"
        )));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    let not_only_digits = name.chars().any(|c| c.is_ascii_alphabetic() || matches!(c, '_' | '-' | '.'));
    if name.is_empty() || !name.chars().all(allowed) || !not_only_digits {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?=.*[a-zA-Z_\\-\\.])[a-zA-Z0-9_\\-\\.]+$"
        )));
    }
    Ok(())
}

/// A routing configuration's versions, checked as AWS checks them: version
/// ARNs, distinct, weights summing to 100, versions of one machine that
/// exist. Gives that machine's ARN.
fn check_routing(service: &Service, routing: &[Route]) -> Result<String, ApiError> {
    let listed = routing.iter().map(|r| r.state_machine_version_arn.as_str()).collect::<Vec<_>>().join(", ");
    let mut machines = Vec::new();
    for route in routing {
        match target(&route.state_machine_version_arn)? {
            Target::Version { machine, .. } => machines.push(machine.to_owned()),
            _ => {
                return Err(ApiError::validation(format!(
                    "Routing configuration must contain state machine version ARNs. Received: [{listed}]"
                )));
            }
        }
    }
    if routing.len() == 2 && routing[0].state_machine_version_arn == routing[1].state_machine_version_arn {
        return Err(ApiError::validation(format!(
            "Routing configuration must contain distinct state machine version ARNs. Received: [{listed}]"
        )));
    }
    if routing.iter().map(|r| r.weight).sum::<u32>() != 100 {
        let weights = routing.iter().map(|r| r.weight.to_string()).collect::<Vec<_>>().join(", ");
        return Err(ApiError::validation(format!(
            "Sum of routing configuration weights must equal 100. Received: [{weights}]"
        )));
    }
    if machines.windows(2).any(|pair| pair[0] != pair[1]) {
        return Err(ApiError::validation(format!(
            "Routing configuration must contain versions of the same state machine. Received: [{listed}]"
        )));
    }
    if routing.iter().any(|r| version(service, &r.state_machine_version_arn).is_none()) {
        return Err(not_found());
    }
    machines.pop().ok_or_else(|| ApiError::validation("Routing configuration must name at least one version"))
}

pub fn create_alias(service: &Arc<Service>, r: CreateAlias) -> Result<Value, ApiError> {
    check_alias_name(&r.name)?;
    let machine = check_routing(service, &r.routing_configuration)?;
    let arn = format!("{machine}:{}", r.name);
    if let Some(existing) = alias(service, &arn) {
        if existing.description == r.description && existing.routing == r.routing_configuration {
            return Ok(
                json!({"stateMachineAliasArn": arn, "creationDate": epoch_seconds(i128::from(existing.created))}),
            );
        }
        return Err(conflict(
            "Failed to create alias because an alias with the same name and a different routing configuration already exists.",
        ));
    }
    if aliases_of(service, &machine).len() >= MAX_ALIASES {
        return Err(ApiError::new(
            ErrorCode::ServiceQuotaExceededException,
            format!("The state machine {machine} has {MAX_ALIASES} aliases, Step Functions' quota"),
        ));
    }
    let now = service.clock.now_nanos() as i64;
    let alias = Alias {
        machine,
        name: r.name,
        description: r.description,
        routing: r.routing_configuration,
        created: now,
        updated: now,
    };
    service.store.save_qualifier(&arn, Qualifier::Alias(alias))?;
    Ok(json!({"stateMachineAliasArn": arn, "creationDate": epoch_seconds(i128::from(now))}))
}

fn existing_alias(service: &Service, arn: &str) -> Result<Alias, ApiError> {
    match target(arn)? {
        Target::Alias { .. } => alias(service, arn).ok_or_else(not_found),
        _ => Err(ApiError::invalid_arn(arn)),
    }
}

pub fn describe_alias(service: &Arc<Service>, r: ByAlias) -> Result<Value, ApiError> {
    let alias = existing_alias(service, &r.state_machine_alias_arn)?;
    let mut out = json!({
        "stateMachineAliasArn": r.state_machine_alias_arn,
        "name": alias.name,
        "routingConfiguration": alias.routing,
        "creationDate": epoch_seconds(i128::from(alias.created)),
        "updateDate": epoch_seconds(i128::from(alias.updated)),
    });
    if let Some(description) = alias.description {
        out["description"] = json!(description);
    }
    Ok(out)
}

pub fn update_alias(service: &Arc<Service>, r: UpdateAlias) -> Result<Value, ApiError> {
    let arn = r.state_machine_alias_arn;
    let mut alias = existing_alias(service, &arn)?;
    if r.description.is_none() && r.routing_configuration.is_none() {
        return Err(ApiError::new(
            ErrorCode::MissingRequiredParameter,
            "Either the description or the RoutingConfiguration must be specified",
        ));
    }
    if let Some(routing) = r.routing_configuration {
        let machine = check_routing(service, &routing)?;
        if machine != alias.machine {
            return Err(ApiError::validation(format!(
                "Routing configuration must contain versions of the alias's state machine {}",
                alias.machine
            )));
        }
        alias.routing = routing;
    }
    if let Some(description) = r.description {
        alias.description = Some(description);
    }
    alias.updated = service.clock.now_nanos() as i64;
    let updated = alias.updated;
    service.store.save_qualifier(&arn, Qualifier::Alias(alias))?;
    Ok(json!({"updateDate": epoch_seconds(i128::from(updated))}))
}

pub fn delete_alias(service: &Arc<Service>, r: ByAlias) -> Result<Value, ApiError> {
    let arn = r.state_machine_alias_arn;
    if !matches!(target(&arn)?, Target::Alias { .. }) {
        return Err(ApiError::invalid_arn(&arn));
    }
    if alias(service, &arn).is_some() {
        service.store.delete_qualifier(&arn)?;
    }
    Ok(json!({}))
}

pub fn list_aliases(service: &Arc<Service>, r: ListAliases) -> Result<Value, ApiError> {
    let size = page_size(r.max_results)?;
    let offset = offset_of(r.next_token.as_deref())?;
    // A version's ARN lists the aliases that route to it.
    let (machine, routing_to) = match target(&r.state_machine_arn)? {
        Target::Machine(arn) => (crate::state_machines::find(service, arn)?.arn.clone(), None),
        Target::Version { machine, arn, .. } => {
            version(service, arn).ok_or_else(|| does_not_exist(arn))?;
            (machine.to_owned(), Some(arn))
        }
        Target::Alias { arn, .. } => return Err(ApiError::invalid_arn(arn)),
    };
    let items: Vec<Value> = aliases_of(service, &machine)
        .into_iter()
        .filter(|(_, a)| routing_to.is_none_or(|v| a.routing.iter().any(|r| r.state_machine_version_arn == v)))
        .skip(offset)
        .take(size + 1)
        .map(|(arn, a)| json!({"stateMachineAliasArn": arn, "creationDate": epoch_seconds(i128::from(a.created))}))
        .collect();
    Ok(paged("stateMachineAliases", items, offset, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_arns_name_a_version_or_an_alias() {
        let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:orders";
        assert!(matches!(target(machine), Ok(Target::Machine(m)) if m == machine));
        let version = format!("{machine}:12");
        assert!(matches!(target(&version), Ok(Target::Version { machine: m, .. }) if m == machine));
        let alias = format!("{machine}:live-1");
        assert!(matches!(target(&alias), Ok(Target::Alias { machine: m, arn }) if m == machine && arn == alias));
        assert!(target("arn:aws:states:us-east-1:123456789012:execution:orders:x").is_err());
    }

    #[test]
    fn alias_names_follow_the_models_pattern() {
        for good in ["live", "v-1.2_x", "1a", "_"] {
            assert!(check_alias_name(good).is_ok(), "{good}");
        }
        for bad in ["123", "INVALID ALIAS", "!INVALID", "ALIAS@", ""] {
            let e = check_alias_name(bad).unwrap_err();
            assert!(e.message.contains("Member must satisfy regular expression pattern"), "{bad}: {}", e.message);
        }
        assert!(check_alias_name(&"a".repeat(81)).unwrap_err().message.contains("less than or equal to 80"));
    }
}
