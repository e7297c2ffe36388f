//! A SAM state machine's event sources (its `Events`), walked once for all
//! that reads them: the rules (rules.rs) and the Api routes (api_routes.rs).

use serde_norway::Value;

/// One event source of a SAM state machine of the stack (its `Events`).
pub(crate) struct SamEvent<'t> {
    pub machine_id: &'t str,
    /// The state machine's name.
    pub machine: &'t str,
    pub id: &'t str,
    pub event: &'t Value,
}

/// The event sources of the live SAM state machines that `machine_name`
/// names (by logical id), in the template's order.
pub(crate) fn sam_events<'t>(
    live: &[(&'t str, &'t str, &'t Value)],
    machine_name: impl Fn(&str) -> Option<&'t str>,
) -> Vec<SamEvent<'t>> {
    let mut events = Vec::new();
    for &(id, kind, resource) in live {
        if kind != "AWS::Serverless::StateMachine" {
            continue;
        }
        let Some(Value::Mapping(sources)) = resource.get("Properties").and_then(|p| p.get("Events")) else { continue };
        let Some(machine) = machine_name(id) else { continue };
        for (event_id, event) in sources {
            let id_text = event_id.as_str().unwrap_or_default();
            events.push(SamEvent { machine_id: id, machine, id: id_text, event });
        }
    }
    events
}
