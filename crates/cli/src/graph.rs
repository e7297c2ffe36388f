//! A Mermaid flowchart of a state machine: states in the order written,
//! transitions, the errors each Catch follows, Parallel branches and Map
//! processors as subgraphs, and, after a run, the states the execution
//! entered highlighted.

use orderflow_asl::StateMachine;
use orderflow_asl::model::{Kind, Transition};

use crate::source::Ordered;

fn id(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// The states of `machine` in the order `written` (the machine's object in
/// the definition's text) gives, those it does not name after them.
fn in_written_order<'m>(machine: &'m StateMachine, written: Option<&Ordered>) -> Vec<&'m orderflow_asl::model::State> {
    let order = written.and_then(|w| w.get("States")).map(Ordered::keys).unwrap_or_default();
    let mut states: Vec<_> = machine.states.iter().collect();
    states.sort_by_key(|s| order.iter().position(|k| **k == *s.name).unwrap_or(usize::MAX));
    states
}

/// The flowchart; `taken` names the states an execution entered.
pub fn mermaid(machine: &StateMachine, written: Option<&Ordered>, taken: &[String]) -> String {
    let mut out = String::from("flowchart TD\n");
    out.push_str(&format!("    start((start)) --> {}\n", id(&machine.start_at.name)));
    draw(machine, written, "    ", true, &mut out);
    out.push_str("    classDef fail fill:#fdd,stroke:#b00\n    classDef ok fill:#dfd,stroke:#070\n");
    if !taken.is_empty() {
        let mut names: Vec<String> = taken.iter().map(|n| id(n)).collect();
        names.dedup();
        names.sort();
        names.dedup();
        out.push_str("    classDef taken stroke:#06c,stroke-width:3px\n");
        out.push_str(&format!("    class {} taken\n", names.join(",")));
    }
    out
}

fn draw(machine: &StateMachine, written: Option<&Ordered>, indent: &str, top: bool, out: &mut String) {
    let written_states = written.and_then(|w| w.get("States"));
    for state in in_written_order(machine, written) {
        let name = &*state.name;
        let n = id(name);
        let label = format!("{name}<br/><small>{}</small>", state.kind.type_name());
        let node = match &state.kind {
            Kind::Choice { .. } => format!("{n}{{\"{label}\"}}"),
            Kind::Fail { .. } => format!("{n}[[\"{label}\"]]:::fail"),
            Kind::Succeed => format!("{n}([\"{label}\"]):::ok"),
            Kind::Task { .. } => format!("{n}[\"{label}\"]"),
            _ => format!("{n}([\"{label}\"])"),
        };
        out.push_str(&format!("{indent}{node}\n"));
        match &state.transition {
            Transition::Next(next) => out.push_str(&format!("{indent}{n} --> {}\n", id(&next.name))),
            Transition::End if top => out.push_str(&format!("{indent}{n} --> stop((end))\n")),
            _ => {}
        }
        if let Kind::Choice { choices, default, .. } = &state.kind {
            for (i, (_, next)) in choices.iter().enumerate() {
                out.push_str(&format!("{indent}{n} -- \"rule {}\" --> {}\n", i + 1, id(&next.name)));
            }
            if let Some(d) = default {
                out.push_str(&format!("{indent}{n} -- default --> {}\n", id(&d.name)));
            }
        }
        if matches!(state.kind, Kind::Succeed) && top {
            out.push_str(&format!("{indent}{n} --> stop((end))\n"));
        }
        for catcher in &state.catch {
            out.push_str(&format!(
                "{indent}{n} -. \"{}\" .-> {}\n",
                catcher.error_equals.join(", "),
                id(&catcher.next.name)
            ));
        }
        let written_state = written_states.and_then(|s| s.get(name));
        match &state.kind {
            Kind::Parallel { branches } => {
                let written_branches = written_state.and_then(|s| s.get("Branches")).map(Ordered::items);
                for (i, branch) in branches.iter().enumerate() {
                    let written_branch = written_branches.and_then(|b| b.get(i));
                    subgraph(
                        &format!("{n}_branch_{}", i + 1),
                        &format!("{name}: branch {}", i + 1),
                        branch,
                        written_branch,
                        indent,
                        out,
                    );
                    out.push_str(&format!("{indent}{n} -.-> {}\n", id(&branch.start_at.name)));
                }
            }
            Kind::Map(spec) => {
                let written_processor =
                    written_state.and_then(|s| s.get("ItemProcessor").or_else(|| s.get("Iterator")));
                subgraph(
                    &format!("{n}_items"),
                    &format!("{name}: each item"),
                    &spec.processor,
                    written_processor,
                    indent,
                    out,
                );
                out.push_str(&format!("{indent}{n} -.-> {}\n", id(&spec.processor.start_at.name)));
            }
            _ => {}
        }
    }
}

fn subgraph(key: &str, title: &str, machine: &StateMachine, written: Option<&Ordered>, indent: &str, out: &mut String) {
    out.push_str(&format!("{indent}subgraph {key} [\"{title}\"]\n"));
    draw(machine, written, &format!("{indent}    "), false, out);
    out.push_str(&format!("{indent}end\n"));
}
