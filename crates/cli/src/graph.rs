//! A Mermaid flowchart of a state machine: states, transitions, and the
//! errors each Catch follows.

use orderflow_asl::StateMachine;
use orderflow_asl::model::{Kind, Transition};

fn id(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

pub fn mermaid(machine: &StateMachine) -> String {
    let mut out = String::from("flowchart TD\n");
    out.push_str(&format!("    start((start)) --> {}\n", id(&machine.start_at.name)));
    for state in &machine.states {
        let name = &state.name;
        let n = id(name);
        let label = format!("{name}<br/><small>{}</small>", state.kind.type_name());
        let node = match &state.kind {
            Kind::Choice { .. } => format!("{n}{{\"{label}\"}}"),
            Kind::Fail { .. } => format!("{n}[[\"{label}\"]]:::fail"),
            Kind::Succeed => format!("{n}([\"{label}\"]):::ok"),
            Kind::Task { .. } => format!("{n}[\"{label}\"]"),
            _ => format!("{n}([\"{label}\"])"),
        };
        out.push_str(&format!("    {node}\n"));
        match &state.transition {
            Transition::Next(next) => out.push_str(&format!("    {n} --> {}\n", id(&next.name))),
            Transition::End => out.push_str(&format!("    {n} --> stop((end))\n")),
            Transition::Own => {}
        }
        if let Kind::Choice { choices, default } = &state.kind {
            for (i, (_, next)) in choices.iter().enumerate() {
                out.push_str(&format!("    {n} -- \"rule {}\" --> {}\n", i + 1, id(&next.name)));
            }
            if let Some(d) = default {
                out.push_str(&format!("    {n} -- default --> {}\n", id(&d.name)));
            }
        }
        if matches!(state.kind, Kind::Succeed) {
            out.push_str(&format!("    {n} --> stop((end))\n"));
        }
        for catcher in &state.catch {
            out.push_str(&format!(
                "    {n} -. \"{}\" .-> {}\n",
                catcher.error_equals.join(", "),
                id(&catcher.next.name)
            ));
        }
    }
    out.push_str("    classDef fail fill:#fdd,stroke:#b00\n    classDef ok fill:#dfd,stroke:#070\n");
    out
}
