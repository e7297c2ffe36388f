//! A SAM state machine's `Api` events: a method on a path of a REST API that
//! starts the state machine, as the integration SAM writes for it does
//! (API Gateway calling StartExecution with the request's body as input).

use serde_norway::Value;

use crate::names::Resolver;
use crate::sam_events::SamEvent;

/// A method and path that start one of the stack's state machines.
#[derive(Debug, Clone, PartialEq)]
pub struct StackRoute {
    /// `<StateMachine>.<Event>`.
    pub logical_id: String,
    /// Upper-cased (`POST`); `ANY` for every method.
    pub method: String,
    /// As given (`/orders/{id}`), with a leading `/`.
    pub path: String,
    /// The name of the state machine it starts.
    pub machine: String,
    /// `UnescapeMappingTemplate`: single quotes of the body unescaped in the request template.
    pub unescape: bool,
    /// Why it is not served here: a property that cannot be read.
    pub problem: Option<String>,
}

/// The `Api` events among the stack's SAM state machines' `events`.
pub(crate) fn stack_routes(names: &Resolver<'_>, events: &[SamEvent<'_>]) -> Vec<StackRoute> {
    let mut routes = Vec::new();
    for &SamEvent { machine_id, machine, id, event } in events {
        if event.get("Type").and_then(Value::as_str) != Some("Api") {
            continue;
        }
        let logical_id = format!("{machine_id}.{id}");
        let props = event.get("Properties");
        let given = |key: &str| match props.and_then(|p| p.get(key)) {
            Some(value) => names.text(value),
            None => Err(format!("it has no {key}")),
        };
        let (path, method, problem) = match (given("Path"), given("Method")) {
            (Ok(path), Ok(method)) => (path, method, None),
            (Err(e), _) | (_, Err(e)) => (String::new(), String::new(), Some(e)),
        };
        let unescape = props.and_then(|p| p.get("UnescapeMappingTemplate")).and_then(Value::as_bool) == Some(true);
        let method = match method.to_ascii_uppercase().as_str() {
            "ANY" | "X-AMAZON-APIGATEWAY-ANY-METHOD" => "ANY".to_owned(),
            other => other.to_owned(),
        };
        let path = if path.starts_with('/') { path } else { format!("/{path}") };
        routes.push(StackRoute { logical_id, method, path, machine: machine.to_owned(), unescape, problem });
    }
    routes
}
