//! What an EventBridge rule's target is given for an event, by the rule's
//! input settings: the event whole, `Input`'s text, the part `InputPath`
//! selects, or what `InputTransformer` makes of it. The transformer follows
//! EventBridge's rules: each `InputPathsMap` variable is a JSONPath into the
//! event (and `aws.events.rule-arn`, `aws.events.rule-name`,
//! `aws.events.event`, `aws.events.event.json` and
//! `aws.events.event.ingestion-time` are given); a `<variable>` inside a
//! quoted string of the template takes the value's text, escaped for that
//! string; outside quotes, a JSON template (an object or an array) takes the
//! value as JSON (a string quoted, a path that selects nothing as null),
//! and a text template takes the value's text (nothing for a path that
//! selects nothing).

use orderflow_definition::RuleInput;
use orderflow_value::Value;

/// The members of an event, in the order EventBridge sends them.
const ENVELOPE: [&str; 9] =
    ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"];

/// An event as EventBridge delivers it: its envelope's members in their
/// order, `account` among them (the local EventBridge leaves it out), then
/// any others. Text that is not a JSON object is left as it is.
pub fn envelope(event: &str, account: &str) -> String {
    let Ok(Value::Object(fields)) = orderflow_value::parse(event) else { return event.to_owned() };
    let mut ordered = orderflow_value::Map::new();
    for key in ENVELOPE {
        match fields.get(key) {
            Some(value) => {
                ordered.insert(key, value.clone());
            }
            None if key == "account" => {
                ordered.insert(key, Value::from(account));
            }
            None => {}
        }
    }
    for (key, value) in fields.iter() {
        if !ENVELOPE.contains(&key.as_ref()) {
            ordered.insert(key.clone(), value.clone());
        }
    }
    Value::Object(ordered).to_json()
}

/// The rule an event matched, for the predefined variables.
pub struct Rule<'a> {
    pub name: &'a str,
    pub arn: &'a str,
}

/// The target's input for `event` (the event's JSON text); None when
/// `InputPath` selects nothing (EventBridge then sends nothing).
pub fn input_for(input: &RuleInput, rule: &Rule<'_>, event: &str) -> Option<String> {
    match input {
        RuleInput::Event => Some(event.to_owned()),
        RuleInput::Constant(text) => Some(text.clone()),
        RuleInput::Path(path) => select(&orderflow_value::parse(event).ok()?, path).map(|v| v.to_json()),
        RuleInput::Transformer { paths, template } => {
            let event_value = orderflow_value::parse(event).ok()?;
            Some(transform(&Value::from(paths), template, rule, &event_value))
        }
    }
}

fn select(event: &Value, path: &str) -> Option<Value> {
    let path = orderflow_asl::path::Path::parse(path).ok()?;
    path.select(event).ok().map(|selected| selected.into_owned())
}

/// A variable's value: a predefined one, else its path's selection.
fn variable(name: &str, paths: &Value, rule: &Rule<'_>, event: &Value) -> Option<Value> {
    match name {
        "aws.events.rule-arn" => Some(Value::from(rule.arn)),
        "aws.events.rule-name" => Some(Value::from(rule.name)),
        "aws.events.event" | "aws.events.event.json" => Some(event.clone()),
        "aws.events.event.ingestion-time" => event.get("time").cloned(),
        _ => select(event, paths.get(name)?.as_str()?),
    }
}

fn transform(paths: &Value, template: &str, rule: &Rule<'_>, event: &Value) -> String {
    let json_template = matches!(template.trim_start().chars().next(), Some('{' | '['));
    let mut out = String::with_capacity(template.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some(end) = rest.find('>')
        {
            let name = &rest[1..end];
            let known = name.starts_with("aws.events.") || paths.get(name).is_some();
            if known && !name.is_empty() && !name.contains('<') {
                let value = variable(name, paths, rule, event);
                out.push_str(&placed(value.as_ref(), in_string, json_template));
                rest = &rest[end + 1..];
                escaped = false;
                continue;
            }
        }
        // Where strings of the template begin and end: a quote not escaped.
        match c {
            '\\' if in_string => escaped = !escaped,
            '"' if !escaped => in_string = !in_string,
            _ => escaped = false,
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A value as it goes in at a placeholder.
fn placed(value: Option<&Value>, in_string: bool, json_template: bool) -> String {
    let text = |v: &Value| match v {
        Value::String(s) => s.to_string(),
        other => other.to_json(),
    };
    match (value, in_string, json_template) {
        // Inside a string: the text, escaped as that string's content.
        (Some(v), true, _) => {
            let quoted = Value::from(text(v)).to_json();
            quoted[1..quoted.len() - 1].to_owned()
        }
        (None, true, _) | (None, false, false) => String::new(),
        (Some(v), false, true) => v.to_json(),
        (None, false, true) => "null".into(),
        (Some(v), false, false) => text(v),
    }
}

#[cfg(test)]
mod tests {
    use super::{Rule, input_for};
    use orderflow_definition::RuleInput;

    const EVENT: &str = r#"{"version": "0", "id": "7bf7", "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2", "time": "2015-11-11T21:29:54Z", "detail": {"instance-id": "i-0123456789", "state": "RUNNING", "tags": ["a", "b"], "note": "say \"hi\""}}"#;
    const RULE: Rule = Rule { name: "states", arn: "arn:aws:events:us-east-1:123456789012:rule/states" };

    fn transformed(template: &str) -> String {
        let paths = serde_json::json!({"instance": "$.detail.instance-id", "state": "$.detail.state", "tags": "$.detail.tags", "note": "$.detail.note", "gone": "$.detail.missing"});
        input_for(&RuleInput::Transformer { paths, template: template.into() }, &RULE, EVENT).unwrap()
    }

    #[test]
    fn an_event_is_delivered_in_eventbridges_envelope() {
        let local = r#"{"id": "e1", "time": "2026-12-08T00:42:01Z", "version": "0", "detail-type": "Seen", "source": "orderflow.audit", "region": "us-east-1", "resources": [], "detail": {"x": 1}}"#;
        assert_eq!(
            super::envelope(local, "123456789012"),
            r#"{"version":"0","id":"e1","detail-type":"Seen","source":"orderflow.audit","account":"123456789012","time":"2026-12-08T00:42:01Z","region":"us-east-1","resources":[],"detail":{"x":1}}"#
        );
        assert_eq!(super::envelope("not json", "123456789012"), "not json");
    }

    #[test]
    fn the_event_whole_a_constant_or_a_path() {
        assert_eq!(input_for(&RuleInput::Event, &RULE, EVENT).as_deref(), Some(EVENT));
        assert_eq!(
            input_for(&RuleInput::Constant(r#"{"fixed": true}"#.into()), &RULE, EVENT).as_deref(),
            Some(r#"{"fixed": true}"#)
        );
        assert_eq!(input_for(&RuleInput::Path("$.detail.tags".into()), &RULE, EVENT).as_deref(), Some(r#"["a","b"]"#));
        assert_eq!(input_for(&RuleInput::Path("$.detail.tags[1]".into()), &RULE, EVENT).as_deref(), Some(r#""b""#));
        // A path that selects nothing sends nothing.
        assert_eq!(input_for(&RuleInput::Path("$.detail.missing".into()), &RULE, EVENT), None);
    }

    #[test]
    fn a_transformer_places_values_as_eventbridge_does() {
        // EventBridge's own examples: a JSON template, unquoted placeholders take JSON.
        assert_eq!(
            transformed(r#"{"instance" : <instance>, "state": <state>}"#),
            r#"{"instance" : "i-0123456789", "state": "RUNNING"}"#
        );
        // Quoted, the text within the string; a text template, the text.
        assert_eq!(
            transformed(r#"{"myInstance": <instance>,"myStatus": "<instance> is in state \"<state>\""}"#),
            r#"{"myInstance": "i-0123456789","myStatus": "i-0123456789 is in state \"RUNNING\""}"#
        );
        assert_eq!(transformed("<instance> is in state <state>"), "i-0123456789 is in state RUNNING");
        // An array as JSON, or as escaped text within a string; a string's quotes escaped.
        assert_eq!(
            transformed(r#"{"tags": <tags>, "said": "<tags>", "note": "<note>"}"#),
            r#"{"tags": ["a","b"], "said": "[\"a\",\"b\"]", "note": "say \"hi\""}"#
        );
        // A path that selects nothing: null in JSON, nothing in text.
        assert_eq!(transformed(r#"{"gone": <gone>, "text": "x<gone>y"}"#), r#"{"gone": null, "text": "xy"}"#);
        // The predefined variables; an unknown <word> is left as it is.
        assert_eq!(
            transformed(
                r#"{"rule": <aws.events.rule-name>, "arn": "<aws.events.rule-arn>", "at": <aws.events.event.ingestion-time>, "keep": "<other>"}"#
            ),
            r#"{"rule": "states", "arn": "arn:aws:events:us-east-1:123456789012:rule/states", "at": "2015-11-11T21:29:54Z", "keep": "<other>"}"#
        );
        let whole: serde_json::Value = serde_json::from_str(&transformed(r#"{"event": <aws.events.event>}"#)).unwrap();
        assert_eq!(whole["event"]["detail"]["state"], "RUNNING");
    }
}
