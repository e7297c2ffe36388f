//! The state machine as it deploys: `infra/template.yaml` names the
//! definition and its DefinitionSubstitutions; locally each function ARN
//! becomes a local ARN naming the function's binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use orderflow_asl::StateMachine;
use orderflow_definition::{Intrinsic, Stack, Template, substitute};

use orderflow_local::{ACCOUNT, REGION};

#[derive(Debug, Clone)]
pub struct Loaded {
    pub machine: StateMachine,
    pub definition_path: PathBuf,
    /// The definition's text as written, to place findings and keep the state order.
    pub source: String,
    /// The substitution values used, e.g. ValidateDataFunctionArn -> arn:...:function:validate_data.
    pub substitutions: BTreeMap<String, String>,
    pub state_machine_name: String,
}

/// A function's local ARN: its binary name is the function name.
pub fn local_function_arn(binary: &str) -> String {
    format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{binary}")
}

pub fn load(template_path: &Path, definition_override: Option<&Path>) -> Result<Loaded, String> {
    let template = Template::load(template_path).map_err(|e| e.to_string())?;
    let machine = template.state_machine().map_err(|e| e.to_string())?;
    let binaries = binaries(&template);
    let mut values = BTreeMap::new();
    for (key, value) in &machine.substitutions {
        let local = local_value(value, &binaries).ok_or_else(|| {
            format!(
                "DefinitionSubstitutions.{key} of {} has no local value (only function ARNs and literals do)",
                template_path.display()
            )
        })?;
        values.insert(key.clone(), local);
    }
    let definition_path = definition_override.map(Path::to_path_buf).unwrap_or_else(|| tidy(&machine.definition_path));
    let text = std::fs::read_to_string(&definition_path)
        .map_err(|e| format!("cannot read {}: {e}", definition_path.display()))?;
    let substituted = substitute(&text, &values).map_err(|e| format!("{}: {e}", definition_path.display()))?;
    // Whole-machine findings are left to the caller: `lint` lists them all,
    // `run` refuses to start on any.
    let value =
        orderflow_value::parse(&substituted).map_err(|e| format!("{}: not JSON: {e}", definition_path.display()))?;
    let parsed = orderflow_asl::compile::parse_unchecked(&value).map_err(|e| {
        let place = crate::source::locate(&text, &e.location).map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default();
        format!("{}{place}: {e}", definition_path.display())
    })?;
    Ok(Loaded {
        machine: parsed,
        definition_path,
        source: text,
        substitutions: values,
        state_machine_name: machine.logical_id,
    })
}

/// Whether `template` is this project's kind: one `AWS::Serverless::StateMachine`
/// with a `DefinitionUri` whose substitutions are literals or name functions
/// built from this workspace's binaries ([`load`]); `which`, when given, must
/// name it. Other templates load as a stack.
pub fn is_project_kind(template: &Template, which: Option<&str>) -> bool {
    let Ok(machine) = template.state_machine() else { return false };
    let binaries = binaries(template);
    which.is_none_or(|w| w == machine.logical_id)
        && machine.substitutions.values().all(|value| local_value(value, &binaries).is_some())
}

/// The template's functions built from this workspace's binaries: logical id -> binary.
fn binaries(template: &Template) -> BTreeMap<String, String> {
    template.functions().into_iter().filter_map(|f| Some((f.logical_id, f.binary?))).collect()
}

/// A DefinitionSubstitution's local value, where it has one: a literal, or the
/// local ARN of a function built from one of `binaries`.
fn local_value(value: &Intrinsic, binaries: &BTreeMap<String, String>) -> Option<String> {
    match value {
        Intrinsic::GetAtt(id, attribute) if attribute == "Arn" => binaries.get(id).map(|b| local_function_arn(b)),
        Intrinsic::Ref(id) => binaries.get(id).map(|b| local_function_arn(b)),
        Intrinsic::Literal(s) => Some(s.clone()),
        _ => None,
    }
}

/// The state machine `which` (its logical id or its name) of a stack; with
/// no `which`, its only one. The definition as the stack made it (intrinsics
/// and substitutions resolved), compiled but not yet checked.
pub fn load_from_stack(template: &Template, stack: &Stack, which: Option<&str>) -> Result<Loaded, String> {
    let path = template.path();
    let names = || stack.machines.iter().map(|m| m.logical_id.as_str()).collect::<Vec<_>>().join(", ");
    let machine =
        match which {
            Some(w) => stack.machines.iter().find(|m| m.logical_id == w || m.name == w).ok_or_else(|| {
                format!("{} declares no state machine {w:?} (it declares: {})", path.display(), names())
            })?,
            None => match stack.machines.as_slice() {
                [only] => only,
                [] => return Err(format!("{} declares no state machine", path.display())),
                _ => {
                    return Err(format!(
                        "{} declares several state machines ({}): name one with --state-machine",
                        path.display(),
                        names()
                    ));
                }
            },
        };
    let value = orderflow_value::parse(&machine.definition)
        .map_err(|e| format!("{} ({}): the definition is not JSON: {e}", path.display(), machine.logical_id))?;
    let parsed = orderflow_asl::compile::parse_unchecked(&value)
        .map_err(|e| format!("{} ({}): {e}", path.display(), machine.logical_id))?;
    Ok(Loaded {
        machine: parsed,
        definition_path: path.to_path_buf(),
        source: machine.definition.clone(),
        substitutions: BTreeMap::new(),
        state_machine_name: machine.name.clone(),
    })
}

/// The project's root: the nearest folder at or above `from` that holds a
/// Cargo.toml with a `[workspace]`, as cargo finds a workspace; else `from`.
pub fn workspace_root(from: &Path) -> PathBuf {
    from.ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|text| text.lines().any(|l| l.trim() == "[workspace]"))
        })
        .unwrap_or(from)
        .to_path_buf()
}

/// A path given on the command line: as written when it exists from the
/// current folder, else from the project's root.
pub fn resolve(path: &Path, root: &Path) -> PathBuf {
    if path.is_absolute() || path.exists() { path.to_path_buf() } else { root.join(path) }
}

/// `infra/../statemachine/x.json` as `statemachine/x.json`, without touching the file system.
fn tidy(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir if out.file_name().is_some_and(|n| n != "..") => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
