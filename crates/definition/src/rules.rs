//! The event rules that start a stack's state machines: a SAM state
//! machine's `Events` of type `EventBridgeRule` or `CloudWatchEvent`, and an
//! `AWS::Events::Rule` whose target is one of the stack's state machines.
//! Each is read as EventBridge holds it: its bus, its event pattern, whether
//! it is enabled, and what the state machine takes as input (the whole event,
//! `Input`'s text, the part `InputPath` selects, or what `InputTransformer`
//! makes). A rule matches an event pattern, or fires on a schedule (a SAM
//! `Schedule` event, a rule's `ScheduleExpression`). Other event sources
//! (`ScheduleV2`, EventBridge Scheduler's) are kept with why they start
//! nothing here; `Api` events are routes (api_routes.rs).

use serde_json::Value as Json;
use serde_norway::Value;

use crate::names::Resolver;
use crate::sam_events::SamEvent;

/// A rule that starts one of the stack's state machines.
#[derive(Debug, Clone, PartialEq)]
pub struct StackRule {
    /// `<StateMachine>.<Event>` for a SAM state machine's event; the rule's logical id else.
    pub logical_id: String,
    /// Its name: `RuleName` or `Name`, else as SAM names the rule it makes (`<StateMachine><Event>`).
    pub name: String,
    /// Its event bus's name or ARN; `default` when none is given.
    pub bus: String,
    pub trigger: Trigger,
    /// `State` is not `DISABLED` (nor a Schedule event's `Enabled` false).
    pub enabled: bool,
    pub input: RuleInput,
    /// The name of the state machine it starts.
    pub machine: String,
    /// Why it starts nothing here: another kind of event source, or a property that cannot be read.
    pub problem: Option<String>,
}

/// What makes a rule start its state machine.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// An event on its bus that matches this pattern.
    Pattern(Json),
    /// This schedule expression (`rate(5 minutes)`, `cron(0 3 * * ? *)`): a Scheduled Event each time.
    Schedule(String),
}

/// What the state machine is given for an event that matched.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleInput {
    /// The event, whole.
    Event,
    /// `Input`: this JSON text, whatever the event.
    Constant(String),
    /// `InputPath`: the part of the event this JSONPath selects.
    Path(String),
    /// `InputTransformer`: `InputPathsMap` (names to JSONPaths) and `InputTemplate`.
    Transformer { paths: Json, template: String },
}

/// Types of a SAM state machine's event sources that are rules on an event bus.
const RULE_EVENTS: [&str; 2] = ["EventBridgeRule", "CloudWatchEvent"];

fn get<'v>(from: Option<&'v Value>, key: &str) -> Option<&'v Value> {
    from.and_then(|p| p.get(key))
}

/// The longest rule name EventBridge takes.
const MAX_RULE_NAME: usize = 64;

/// The rules that start one of the stack's state machines: its SAM state
/// machines' `events` but `Api` ones, and the targets of `live`
/// `AWS::Events::Rule` resources that are one of the machines (`arns`: name, ARN).
pub(crate) fn stack_rules(
    names: &Resolver<'_>,
    live: &[(&str, &str, &Value)],
    events: &[SamEvent<'_>],
    arns: &[(&str, &str)],
) -> Vec<StackRule> {
    let mut rules = Vec::new();
    // In the template's order: a state machine's events where it stands.
    for &(id, kind, resource) in live {
        if kind == "AWS::Serverless::StateMachine" {
            for &SamEvent { machine_id, machine, id: event_id, event } in events.iter().filter(|e| e.machine_id == id) {
                // An Api event is a route of a REST API (api_routes.rs), not a rule.
                if event.get("Type").and_then(Value::as_str) != Some("Api") {
                    rules.push(sam_event(names, machine_id, machine, event_id, event));
                }
            }
        }
        let (Some(props), "AWS::Events::Rule") = (resource.get("Properties"), kind) else { continue };
        let Some(Value::Sequence(targets)) = props.get("Targets") else { continue };
        for target in targets {
            let arn = target.get("Arn").and_then(|a| names.text(a).ok());
            let Some(&(machine, _)) = arns.iter().find(|(_, a)| Some(*a) == arn.as_deref()) else { continue };
            rules.push(rule_resource(names, id, props, target, machine));
        }
    }
    rules
}

/// A rule as read, or as far as it could be read and why it starts nothing.
fn rule(logical_id: String, name: String, machine: &str, read: Result<StackRule, String>) -> StackRule {
    match read {
        Ok(rule) => StackRule { logical_id, name, ..rule },
        Err(problem) => StackRule {
            logical_id,
            name,
            bus: "default".into(),
            trigger: Trigger::Pattern(Json::Null),
            enabled: false,
            input: RuleInput::Event,
            machine: machine.to_owned(),
            problem: Some(problem),
        },
    }
}

fn sam_event(names: &Resolver<'_>, machine_id: &str, machine: &str, event_id: &str, event: &Value) -> StackRule {
    let logical_id = format!("{machine_id}.{event_id}");
    let props = event.get("Properties");
    let kind = event.get("Type").and_then(Value::as_str).unwrap_or("no Type");
    // A Schedule event names its rule with Name, the others with RuleName.
    let name_key = if kind == "Schedule" { "Name" } else { "RuleName" };
    let given_name = get(props, name_key).and_then(|n| names.text(n).ok());
    let name = given_name.unwrap_or_else(|| generated_name(&format!("{machine_id}{event_id}")));
    let read = match kind {
        kind if RULE_EVENTS.contains(&kind) => {
            pattern(names, props, "Pattern").and_then(|trigger| read_rule(names, props, props, trigger, machine))
        }
        "Schedule" => {
            schedule(names, props, "Schedule").and_then(|trigger| read_rule(names, props, props, trigger, machine))
        }
        kind => Err(format!(
            "its {kind} event starts no execution here: only rules of EventBridge do (EventBridgeRule, CloudWatchEvent, Schedule)"
        )),
    };
    rule(logical_id, name, machine, read)
}

fn rule_resource(names: &Resolver<'_>, id: &str, props: &Value, target: &Value, machine: &str) -> StackRule {
    let name = props.get("Name").and_then(|n| names.text(n).ok()).unwrap_or_else(|| generated_name(id));
    let trigger = match props.get("EventPattern") {
        Some(_) => pattern(names, Some(props), "EventPattern"),
        None => schedule(names, Some(props), "ScheduleExpression"),
    };
    let read = trigger.and_then(|trigger| read_rule(names, Some(props), Some(target), trigger, machine));
    rule(id.to_owned(), name, machine, read)
}

/// An event pattern, given as JSON or as JSON text.
fn pattern(names: &Resolver<'_>, props: Option<&Value>, key: &str) -> Result<Trigger, String> {
    let pattern = match get(props, key) {
        Some(pattern) => names.json(pattern)?,
        None => return Err(format!("it has no {key}")),
    };
    let pattern = match pattern {
        Json::String(text) => serde_json::from_str(&text).map_err(|e| format!("its {key} is not JSON: {e}"))?,
        other => other,
    };
    if !pattern.is_object() {
        return Err(format!("its {key} is not a JSON object"));
    }
    Ok(Trigger::Pattern(pattern))
}

fn schedule(names: &Resolver<'_>, props: Option<&Value>, key: &str) -> Result<Trigger, String> {
    match get(props, key) {
        Some(expression) => Ok(Trigger::Schedule(names.text(expression)?)),
        None => Err(format!("it has neither an EventPattern nor a {key}")),
    }
}

/// The rule's bus and state from `props`, its input from `target`'s
/// properties; its logical id and name are the caller's to give (`rule`).
fn read_rule(
    names: &Resolver<'_>,
    props: Option<&Value>,
    target: Option<&Value>,
    trigger: Trigger,
    machine: &str,
) -> Result<StackRule, String> {
    let bus = match get(props, "EventBusName") {
        Some(bus) => names.text(bus)?,
        None => "default".into(),
    };
    let enabled = match (get(props, "State"), get(props, "Enabled")) {
        (Some(state), _) => names.text(state)? != "DISABLED",
        (None, Some(enabled)) => names.text(enabled)? != "false",
        (None, None) => true,
    };
    let input = match (get(target, "Input"), get(target, "InputPath"), get(target, "InputTransformer")) {
        (None, None, None) => RuleInput::Event,
        (Some(text), None, None) => {
            let text = names.text(text)?;
            serde_json::from_str::<Json>(&text).map_err(|e| format!("its Input is not JSON: {e}"))?;
            RuleInput::Constant(text)
        }
        (None, Some(path), None) => RuleInput::Path(names.text(path)?),
        (None, None, Some(transformer)) => {
            let transformer = names.json(transformer)?;
            let template = transformer.get("InputTemplate").and_then(Json::as_str);
            let template = template.ok_or("its InputTransformer has no InputTemplate")?.to_owned();
            let paths = transformer.get("InputPathsMap").cloned().unwrap_or(Json::Object(Default::default()));
            RuleInput::Transformer { paths, template }
        }
        _ => return Err("it gives more than one of Input, InputPath and InputTransformer".into()),
    };
    Ok(StackRule {
        logical_id: String::new(),
        name: String::new(),
        bus,
        trigger,
        enabled,
        input,
        machine: machine.to_owned(),
        problem: None,
    })
}

/// A rule name from a logical id, within EventBridge's length and characters.
fn generated_name(from: &str) -> String {
    let name: String = from.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    name.chars().take(MAX_RULE_NAME).collect()
}

#[cfg(test)]
mod tests {
    use super::{RuleInput, StackRule, Trigger};
    use crate::{Place, Template};
    use serde_json::json;

    const TEMPLATE: &str = r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  Bus:
    Type: AWS::Events::EventBus
    Properties: { Name: orders-bus }
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: flow
      Definition: { StartAt: P, States: { P: { Type: Pass, End: true } } }
      Events:
        Placed:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern: { source: [orders] }
            InputPath: $.detail
        Old:
          Type: CloudWatchEvent
          Properties:
            Pattern: '{"source": ["old"]}'
            State: DISABLED
            Input: '{"old": true}'
        Hourly:
          Type: ScheduleV2
          Properties: { ScheduleExpression: rate(1 hour) }
        Daily:
          Type: Schedule
          Properties: { Schedule: rate(1 day), Enabled: false, Name: daily-flow, Input: '{"daily": true}' }
        Both:
          Type: EventBridgeRule
          Properties: { Pattern: { source: [x] }, Input: "{}", InputPath: $.detail }
        Submit:
          Type: Api
          Properties: { Path: "orders/{id}", Method: post, UnescapeMappingTemplate: true }
        Broken:
          Type: Api
          Properties: { Method: get }
  Other:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: other
      Definition: { StartAt: P, States: { P: { Type: Pass, End: true } } }
  Labels:
    Type: AWS::Events::Rule
    Properties:
      Name: labels
      EventPattern: { source: [labels] }
      Targets:
        - Id: other
          Arn: !GetAtt Other.Arn
          InputTransformer:
            InputPathsMap: { label: $.detail.label }
            InputTemplate: '{"label": <label>}'
        - Id: queue
          Arn: arn:aws:sqs:us-east-1:123456789012:elsewhere
  Nightly:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: cron(0 3 * * ? *)
      Targets: [{ Id: flow, Arn: !Ref Flow }]
"#;

    fn stack() -> crate::Stack {
        // A folder of its own for each call: the tests run at once.
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("orderflow-rules-{}-{call}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("template.yaml");
        std::fs::write(&path, TEMPLATE).unwrap();
        let place = Place { region: "us-east-1".into(), account: "123456789012".into(), queue_base: "http://q".into() };
        let stack = Template::load(&path).unwrap().stack(&place).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        stack
    }

    #[test]
    fn api_events_are_routes_not_rules() {
        let routes = stack().routes;
        assert_eq!(routes.len(), 2, "{routes:?}");
        let submit = &routes[0];
        assert_eq!(
            (submit.logical_id.as_str(), submit.method.as_str(), submit.path.as_str(), submit.machine.as_str()),
            ("Flow.Submit", "POST", "/orders/{id}", "flow")
        );
        assert!(submit.unescape && submit.problem.is_none());
        assert_eq!(routes[1].problem.as_deref(), Some("it has no Path"));
    }

    #[test]
    fn rules_that_start_state_machines_are_read_as_eventbridge_holds_them() {
        let rules = stack().rules;
        let by_id = |id: &str| rules.iter().find(|r| r.logical_id == id).unwrap_or_else(|| panic!("{id}: {rules:?}"));
        let placed = by_id("Flow.Placed");
        assert_eq!(
            (
                placed.name.as_str(),
                placed.bus.as_str(),
                &placed.trigger,
                placed.enabled,
                &placed.input,
                placed.machine.as_str()
            ),
            (
                "FlowPlaced",
                "orders-bus",
                &Trigger::Pattern(json!({"source": ["orders"]})),
                true,
                &RuleInput::Path("$.detail".into()),
                "flow"
            )
        );
        assert_eq!(placed.problem, None);
        // A pattern given as JSON text; DISABLED; a constant input.
        let old = by_id("Flow.Old");
        assert_eq!(
            (&old.trigger, old.enabled, &old.input),
            (&Trigger::Pattern(json!({"source": ["old"]})), false, &RuleInput::Constant(r#"{"old": true}"#.into()))
        );
        // A rule resource's target that is a state machine; not its other target.
        let labels: Vec<&StackRule> = rules.iter().filter(|r| r.logical_id == "Labels").collect();
        assert_eq!(labels.len(), 1);
        assert_eq!(
            (labels[0].name.as_str(), labels[0].bus.as_str(), labels[0].machine.as_str()),
            ("labels", "default", "other")
        );
        assert_eq!(
            labels[0].input,
            RuleInput::Transformer {
                paths: json!({"label": "$.detail.label"}),
                template: r#"{"label": <label>}"#.into()
            }
        );
        // What starts nothing here, with why.
        let said = |id: &str| by_id(id).problem.clone().unwrap_or_default();
        assert_eq!(
            said("Flow.Hourly"),
            "its ScheduleV2 event starts no execution here: only rules of EventBridge do (EventBridgeRule, CloudWatchEvent, Schedule)"
        );
        assert_eq!(said("Flow.Both"), "it gives more than one of Input, InputPath and InputTransformer");
        // Schedules: a SAM Schedule event (Name, Enabled false), a rule's ScheduleExpression.
        let daily = by_id("Flow.Daily");
        assert_eq!(
            (daily.name.as_str(), &daily.trigger, daily.enabled, &daily.input),
            (
                "daily-flow",
                &Trigger::Schedule("rate(1 day)".into()),
                false,
                &RuleInput::Constant(r#"{"daily": true}"#.into())
            )
        );
        let nightly = by_id("Nightly");
        assert_eq!(
            (&nightly.trigger, nightly.enabled, nightly.machine.as_str()),
            (&Trigger::Schedule("cron(0 3 * * ? *)".into()), true, "flow")
        );
        assert_eq!(rules.len(), 7, "{rules:?}");
    }
}
