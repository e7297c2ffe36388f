//! Whole-machine checks, as statelint makes them: every transition lands on a
//! state of the same machine, every state is reachable, some state ends the
//! machine, `States.ALL` comes last, and a lambda:invoke task names its
//! function. [`crate::parse`] refuses a definition with any finding.

use std::collections::VecDeque;

use crate::model::{
    DefinitionError, Kind, Resource, ServiceTask, StateMachine, Target, Transition, UNRESOLVED, def_err,
};

pub fn lint(machine: &StateMachine) -> Vec<DefinitionError> {
    lint_with(machine, &|_| Ok(()))
}

/// Whether a Task's service and action can run where the machine will run
/// (the caller knows which services it can call); a refusal's text.
pub type ServiceCheck<'c> = &'c dyn Fn(&ServiceTask) -> Result<(), String>;

/// As [`lint`], with every service Task checked by `services` too.
pub fn lint_with(machine: &StateMachine, services: ServiceCheck<'_>) -> Vec<DefinitionError> {
    let mut findings = Vec::new();
    check(machine, "", services, &mut findings);
    unique_names(machine, "", &mut std::collections::HashSet::new(), &mut findings);
    findings
}

/// What an EXPRESS state machine may not hold, refused as AWS refuses it at
/// CreateStateMachine: the job-run (`.sync`, `.sync:2`) and callback
/// (`.waitForTaskToken`) patterns and activities, in AWS's words.
pub fn express_findings(machine: &StateMachine) -> Vec<DefinitionError> {
    let mut findings = Vec::new();
    express(machine, "", &mut findings);
    findings
}

fn express(machine: &StateMachine, at: &str, findings: &mut Vec<DefinitionError>) {
    use crate::model::Pattern;
    for state in &machine.states {
        let state_at =
            if at.is_empty() { format!("States.{}", state.name) } else { format!("{at}.States.{}", state.name) };
        let refused = match &state.kind {
            Kind::Parallel { branches } => {
                for (i, b) in branches.iter().enumerate() {
                    express(b, &format!("{state_at}.Branches[{i}]"), findings);
                }
                None
            }
            Kind::Map(spec) => {
                express(&spec.processor, &format!("{state_at}.ItemProcessor"), findings);
                None
            }
            Kind::Task { resource: Resource::Activity(_), .. } => {
                Some("Express state machine does not support Activity ARN")
            }
            // AWS's text for the callback pattern ends with a space.
            Kind::Task { resource, .. } if resource.waits_for_token() => {
                Some("Express state machine does not support '.waitForTaskToken' service integration ")
            }
            Kind::Task { resource: Resource::Service(task), .. }
                if matches!(task.pattern, Pattern::Sync | Pattern::Sync2) =>
            {
                Some("Express state machine does not support '.sync' service integration")
            }
            _ => None,
        };
        if let Some(message) = refused {
            findings.push(def_err(format!("{state_at}.Resource"), message));
        }
    }
}

/// Step Functions requires every state name to be unique in the whole
/// machine, Parallel branches and Map processors included.
fn unique_names<'m>(
    machine: &'m StateMachine,
    at: &str,
    seen: &mut std::collections::HashSet<&'m str>,
    findings: &mut Vec<DefinitionError>,
) {
    for state in &machine.states {
        let state_at =
            if at.is_empty() { format!("States.{}", state.name) } else { format!("{at}.States.{}", state.name) };
        if !seen.insert(&state.name) {
            findings.push(def_err(
                &state_at,
                format!(
                    "the state name {:?} is used more than once; names must be unique in the whole machine",
                    state.name
                ),
            ));
        }
        match &state.kind {
            Kind::Parallel { branches } => {
                for (i, b) in branches.iter().enumerate() {
                    unique_names(b, &format!("{state_at}.Branches[{i}]"), seen, findings);
                }
            }
            Kind::Map(spec) => unique_names(&spec.processor, &format!("{state_at}.ItemProcessor"), seen, findings),
            _ => {}
        }
    }
}

fn targets(machine: &StateMachine, index: usize) -> Vec<(String, &Target)> {
    let state = &machine.states[index];
    let mut out = Vec::new();
    if let Transition::Next(next) = &state.transition {
        out.push(("Next".to_owned(), next));
    }
    if let Kind::Choice { choices, default, .. } = &state.kind {
        out.extend(choices.iter().enumerate().map(|(i, (_, next))| (format!("Choices[{i}].Next"), next)));
        if let Some(d) = default {
            out.push(("Default".to_owned(), d));
        }
    }
    out.extend(state.catch.iter().enumerate().map(|(i, c)| (format!("Catch[{i}].Next"), &c.next)));
    out
}

fn check(machine: &StateMachine, at: &str, services: ServiceCheck<'_>, findings: &mut Vec<DefinitionError>) {
    let here = |f: &str| if at.is_empty() { f.to_owned() } else { format!("{at}.{f}") };
    if machine.start_at.index == UNRESOLVED {
        findings.push(def_err(here("StartAt"), format!("no state named {:?}", machine.start_at.name)));
    }
    for (index, state) in machine.states.iter().enumerate() {
        let state_at = here(&format!("States.{}", state.name));
        for (field, target) in targets(machine, index) {
            if target.index == UNRESOLVED {
                findings.push(def_err(
                    format!("{state_at}.{field}"),
                    format!("no state named {:?} in this machine", target.name),
                ));
            }
        }
        for (list, names) in [
            ("Retry", state.retry.iter().map(|r| &r.error_equals).collect::<Vec<_>>()),
            ("Catch", state.catch.iter().map(|c| &c.error_equals).collect::<Vec<_>>()),
        ] {
            if let Some(i) = names.iter().position(|n| n.iter().any(|e| e == "States.ALL"))
                && i + 1 != names.len()
            {
                findings.push(def_err(format!("{state_at}.{list}[{i}]"), "States.ALL must be in the last entry"));
            }
        }
        match &state.kind {
            Kind::Task { resource: Resource::LambdaInvoke | Resource::LambdaInvokeCallback, .. }
                if !state.io.parameters.as_ref().is_some_and(|p| p.names_field("FunctionName")) =>
            {
                findings.push(def_err(format!("{state_at}.Parameters"), "lambda:invoke needs FunctionName"));
            }
            Kind::Parallel { branches } => {
                for (i, b) in branches.iter().enumerate() {
                    check(b, &format!("{state_at}.Branches[{i}]"), services, findings);
                }
            }
            Kind::Map(spec) => check(&spec.processor, &format!("{state_at}.ItemProcessor"), services, findings),
            Kind::Task { resource: Resource::Service(task), .. } => {
                if let Err(refused) = services(task) {
                    findings.push(def_err(format!("{state_at}.Resource"), refused));
                }
            }
            _ => {}
        }
    }
    // Reachability from StartAt.
    let mut seen = vec![false; machine.states.len()];
    let mut queue = VecDeque::from([machine.start_at.index]);
    while let Some(index) = queue.pop_front() {
        if index != UNRESOLVED && !seen[index] {
            seen[index] = true;
            queue.extend(targets(machine, index).into_iter().map(|(_, t)| t.index));
        }
    }
    for (state, _) in machine.states.iter().zip(&seen).filter(|(_, seen)| !**seen) {
        findings.push(def_err(here(&format!("States.{}", state.name)), "is not reachable from StartAt"));
    }
    let terminal = machine
        .states
        .iter()
        .any(|s| matches!(s.transition, Transition::End) || matches!(s.kind, Kind::Succeed | Kind::Fail { .. }));
    if !terminal {
        findings.push(def_err(here("States"), "no state ends the machine (End, Succeed or Fail)"));
    }
}
