//! The execution history, shaped like Step Functions' GetExecutionHistory:
//! numbered events, each with a timestamp, a type and its details.

use std::sync::Mutex;

use serde::Serialize;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEvent {
    pub timestamp: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub id: u64,
    pub previous_event_id: u64,
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

impl HistoryEvent {
    /// The event's details object, e.g. `stateEnteredEventDetails`.
    pub fn details(&self) -> Option<&Value> {
        self.details.values().next()
    }

    /// The state an event is about, where it names one.
    pub fn state_name(&self) -> Option<&str> {
        self.details()?.get("name")?.as_str()
    }
}

#[derive(Debug, Default)]
pub struct History(Mutex<Vec<HistoryEvent>>);

impl History {
    /// Records an event; `details` is `{"<detailsKey>": {...}}` or null.
    pub fn record(&self, at: OffsetDateTime, kind: &str, previous: u64, details: Value) -> u64 {
        let mut events = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let id = events.len() as u64 + 1;
        events.push(HistoryEvent {
            timestamp: at.format(&Rfc3339).unwrap_or_default(),
            kind: kind.to_owned(),
            id,
            previous_event_id: previous,
            details: match details {
                Value::Object(map) => map,
                _ => Map::new(),
            },
        });
        id
    }

    pub fn events(&self) -> Vec<HistoryEvent> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// `{"<camelCaseKind>EventDetails": details}`.
pub fn details(kind: &str, body: Value) -> Value {
    let mut key = kind.to_owned();
    if let Some(first) = key.get_mut(0..1) {
        first.make_ascii_lowercase();
    }
    json!({ format!("{key}EventDetails"): body })
}

/// The history as readable lines: id, time, type, state, and the gist.
pub fn trace(events: &[HistoryEvent]) -> String {
    let mut out = String::new();
    for e in events {
        let time = e.timestamp.get(11..23).unwrap_or(&e.timestamp);
        let name = e.state_name().map(|n| format!(" {n}")).unwrap_or_default();
        let gist = e
            .details()
            .map(|d| {
                let pick = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
                match (pick("error"), pick("cause"), pick("output"), pick("input")) {
                    (Some(error), cause, _, _) => format!("  {error}: {}", shorten(&cause.unwrap_or_default(), 160)),
                    (None, _, Some(output), _) => format!("  -> {}", shorten(&output, 160)),
                    (None, _, None, Some(input)) if e.kind.ends_with("Entered") || e.kind == "ExecutionStarted" => {
                        format!("  <- {}", shorten(&input, 160))
                    }
                    _ => String::new(),
                }
            })
            .unwrap_or_default();
        out.push_str(&format!("{:>3} {time} {}{name}{gist}\n", e.id, e.kind));
    }
    out
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}
