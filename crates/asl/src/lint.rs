//! Static checks on a parsed definition, as statelint makes them: every
//! transition lands on a state of the same machine, every state is reachable,
//! some state ends the machine, `States.ALL` comes last, and a lambda:invoke
//! task names its function.

use std::collections::{BTreeSet, VecDeque};

use crate::model::{DefinitionError, Kind, Resource, StateMachine, Transition, def_err};

pub fn lint(machine: &StateMachine) -> Vec<DefinitionError> {
    let mut findings = Vec::new();
    check(machine, "", &mut findings);
    findings
}

fn targets(machine: &StateMachine, name: &str) -> Vec<(String, String)> {
    let Some(state) = machine.states.get(name) else { return Vec::new() };
    let mut out = Vec::new();
    if let Transition::Next(next) = &state.transition {
        out.push(("Next".to_owned(), next.clone()));
    }
    if let Kind::Choice { choices, default } = &state.kind {
        out.extend(choices.iter().enumerate().map(|(i, (_, next))| (format!("Choices[{i}].Next"), next.clone())));
        if let Some(d) = default {
            out.push(("Default".to_owned(), d.clone()));
        }
    }
    out.extend(state.catch.iter().enumerate().map(|(i, c)| (format!("Catch[{i}].Next"), c.next.clone())));
    out
}

fn check(machine: &StateMachine, at: &str, findings: &mut Vec<DefinitionError>) {
    let here = |f: &str| if at.is_empty() { f.to_owned() } else { format!("{at}.{f}") };
    if !machine.states.contains_key(&machine.start_at) {
        findings.push(def_err(here("StartAt"), format!("no state named {:?}", machine.start_at)));
    }
    for (name, state) in &machine.states {
        let state_at = here(&format!("States.{name}"));
        for (field, target) in targets(machine, name) {
            if !machine.states.contains_key(&target) {
                findings
                    .push(def_err(format!("{state_at}.{field}"), format!("no state named {target:?} in this machine")));
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
            Kind::Task { resource: Resource::LambdaInvoke, .. } => {
                let named = state
                    .io
                    .parameters
                    .as_ref()
                    .is_some_and(|p| p.get("FunctionName").is_some() || p.get("FunctionName.$").is_some());
                if !named {
                    findings.push(def_err(format!("{state_at}.Parameters"), "lambda:invoke needs FunctionName"));
                }
            }
            Kind::Parallel { branches } => {
                for (i, b) in branches.iter().enumerate() {
                    check(b, &format!("{state_at}.Branches[{i}]"), findings);
                }
            }
            Kind::Map { processor, .. } => check(processor, &format!("{state_at}.ItemProcessor"), findings),
            _ => {}
        }
    }
    // Reachability from StartAt.
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([machine.start_at.clone()]);
    while let Some(name) = queue.pop_front() {
        if machine.states.contains_key(&name) && seen.insert(name.clone()) {
            queue.extend(targets(machine, &name).into_iter().map(|(_, t)| t));
        }
    }
    for name in machine.states.keys().filter(|n| !seen.contains(*n)) {
        findings.push(def_err(here(&format!("States.{name}")), "is not reachable from StartAt"));
    }
    let terminal = machine
        .states
        .values()
        .any(|s| matches!(s.transition, Transition::End) || matches!(s.kind, Kind::Succeed | Kind::Fail { .. }));
    if !terminal {
        findings.push(def_err(here("States"), "no state ends the machine (End, Succeed or Fail)"));
    }
}
