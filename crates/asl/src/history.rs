//! The execution history, shaped like Step Functions' GetExecutionHistory:
//! numbered events, each with a timestamp, a type and its details. Events are
//! appended in O(1) under one lock, holding shared references to the values
//! they show; JSON text is made only when the history is read.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Step Functions' quota on events in one execution's history.
pub const MAX_EVENTS: usize = 25_000;

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

/// One detail member of an event.
#[derive(Debug, Clone)]
pub enum Detail {
    Text(String),
    /// A JSON value shown as its text, with `<key>Details: {"truncated": false}` beside it.
    Payload(Arc<Value>),
    /// A JSON value shown as its text, alone.
    Json(Arc<Value>),
    Number(u64),
}

#[derive(Debug, Clone)]
struct Event {
    at: OffsetDateTime,
    kind: &'static str,
    previous: u64,
    /// Where the details sit: `stateEnteredEventDetails`, or none.
    details_key: Option<&'static str>,
    details: Vec<(&'static str, Detail)>,
}

#[derive(Debug, Default)]
pub struct History(Mutex<Vec<Event>>);

impl History {
    /// Appends an event and gives its id, or None once the history is full.
    pub fn record(
        &self,
        at: OffsetDateTime,
        kind: &'static str,
        previous: u64,
        details_key: Option<&'static str>,
        details: Vec<(&'static str, Detail)>,
    ) -> Option<u64> {
        let mut events = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if events.len() >= MAX_EVENTS {
            return None;
        }
        events.push(Event { at, kind, previous, details_key, details });
        Some(events.len() as u64)
    }

    /// Appends an event past the quota: only the execution's final event.
    pub fn force(
        &self,
        at: OffsetDateTime,
        kind: &'static str,
        previous: u64,
        details_key: Option<&'static str>,
        details: Vec<(&'static str, Detail)>,
    ) {
        let mut events = self.0.lock().unwrap_or_else(|p| p.into_inner());
        events.push(Event { at, kind, previous, details_key, details });
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The events as GetExecutionHistory gives them.
    pub fn events(&self) -> Vec<HistoryEvent> {
        let events = self.0.lock().unwrap_or_else(|p| p.into_inner());
        events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut details = Map::new();
                if let Some(key) = e.details_key {
                    let mut body = Map::new();
                    for (name, detail) in &e.details {
                        match detail {
                            Detail::Text(text) => {
                                body.insert((*name).to_owned(), Value::String(text.clone()));
                            }
                            Detail::Number(n) => {
                                body.insert((*name).to_owned(), Value::from(*n));
                            }
                            Detail::Json(value) => {
                                body.insert((*name).to_owned(), Value::String(value.to_string()));
                            }
                            Detail::Payload(value) => {
                                body.insert((*name).to_owned(), Value::String(value.to_string()));
                                body.insert(format!("{name}Details"), serde_json::json!({"truncated": false}));
                            }
                        }
                    }
                    details.insert(key.to_owned(), Value::Object(body));
                }
                HistoryEvent {
                    timestamp: e.at.format(&Rfc3339).unwrap_or_default(),
                    kind: e.kind.to_owned(),
                    id: i as u64 + 1,
                    previous_event_id: e.previous,
                    details,
                }
            })
            .collect()
    }
}

impl Serialize for History {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.events().serialize(serializer)
    }
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
