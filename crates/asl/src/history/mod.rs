//! The execution history, shaped like Step Functions' GetExecutionHistory:
//! numbered events, each with a timestamp, a type and its details. Events are
//! appended in O(1) under one lock, holding shared references to the values
//! they show; JSON text is made only when the history is read.

use std::sync::{Arc, Mutex};

use orderflow_value::{Map, Value};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

mod detail;
mod event;
mod trace;

pub use detail::{Detail, Fields, Integration, Members, Moved};
pub use event::{EventType, HistoryEvent};
pub use trace::trace;

use detail::shown_members;

/// Step Functions' quota on events in one execution's history.
pub use orderflow_local::quotas::MAX_HISTORY_EVENTS as MAX_EVENTS;

fn clamp_nanos(at: i128) -> i64 {
    i64::try_from(at).unwrap_or(if at < 0 { i64::MIN } else { i64::MAX })
}

#[derive(Debug, Clone)]
struct Event {
    /// Unix nanoseconds (64 bits reach the year 2262, and keep the event 8-aligned).
    at: i64,
    /// Its type, which tells where its details sit.
    kind: EventType,
    previous: u64,
    /// As in `Fields`.
    integration: Option<Integration>,
    /// Its members: `len` of `Lines::members` from `first`.
    first: u32,
    len: u8,
}

/// The events, and all their members in one list: an event holds only the
/// members it has, and appending one copies nothing else.
#[derive(Debug)]
struct Lines {
    events: Vec<Event>,
    members: Vec<(&'static str, Detail)>,
}

impl Lines {
    /// Room for a short execution's events without regrowing.
    fn with_capacity(events: usize) -> Lines {
        Lines { events: Vec::with_capacity(events), members: Vec::with_capacity(2 * events) }
    }

    fn members(&self, e: &Event) -> &[(&'static str, Detail)] {
        let first = e.first as usize;
        &self.members[first..first + usize::from(e.len)]
    }
}

/// What a redrive needs and no event shows: the output of one iteration of
/// a top-level Map state, or of one branch of a top-level Parallel state, that
/// succeeded in the attempt whose StateEntered event is `entered`. A redrive
/// runs only the others again, as Step Functions does. For a Distributed
/// Map's STANDARD child, `child` tells which execution it was: a redrive
/// shows a succeeded one as it was, and redrives a failed one in place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub entered: u64,
    pub state: Arc<str>,
    pub index: usize,
    /// Null for a child that did not succeed.
    pub output: Arc<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child: Option<NotedChild>,
}

/// A Distributed Map's STANDARD child execution, as a note keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotedChild {
    pub name: Arc<str>,
    /// Unix nanoseconds.
    pub started: i128,
    pub stopped: i128,
    /// It did not succeed: a redrive redrives it.
    #[serde(default)]
    pub failed: bool,
}

#[derive(Debug)]
pub struct History {
    /// Events of an earlier run of the execution (before a redrive or a
    /// restart of the server), read back as they were shown.
    earlier: Vec<HistoryEvent>,
    events: Mutex<Lines>,
    /// Kept only for executions that can be redriven (`keeping_notes`).
    notes: Option<Mutex<Vec<Note>>>,
    /// The state names `Detail::Name` numbers: the machine's that runs.
    names: std::sync::OnceLock<Arc<[Arc<str>]>>,
}

impl Default for History {
    fn default() -> Self {
        History {
            earlier: Vec::new(),
            events: Mutex::new(Lines::with_capacity(32)),
            notes: None,
            names: Default::default(),
        }
    }
}

impl History {
    /// A history that goes on from `earlier`, numbered 1.. in order, with the notes kept so far.
    pub fn continuing(earlier: Vec<HistoryEvent>, notes: Vec<Note>) -> History {
        History {
            earlier,
            events: Mutex::new(Lines::with_capacity(16)),
            notes: Some(Mutex::new(notes)),
            names: Default::default(),
        }
    }

    /// A history that keeps notes for a redrive.
    pub fn keeping_notes() -> History {
        History { notes: Some(Mutex::new(Vec::new())), ..History::default() }
    }

    /// Lets events name states by number in `names` (a machine's). True
    /// when they may: the history had no list yet, or this one.
    pub fn name_states(&self, names: &Arc<[Arc<str>]>) -> bool {
        Arc::ptr_eq(self.names.get_or_init(|| names.clone()), names)
    }

    /// A member's text, a state's name by number included.
    fn text<'d>(&'d self, detail: &'d Detail) -> Option<&'d str> {
        match detail {
            Detail::Name(id) => self.names.get().and_then(|names| names.get(*id as usize)).map(|name| &**name),
            other => other.text(),
        }
    }

    pub fn keeps_notes(&self) -> bool {
        self.notes.is_some()
    }

    pub fn note(&self, note: Note) {
        if let Some(notes) = &self.notes {
            notes.lock().unwrap_or_else(|p| p.into_inner()).push(note);
        }
    }

    pub fn notes_len(&self) -> usize {
        self.notes.as_ref().map_or(0, |n| n.lock().unwrap_or_else(|p| p.into_inner()).len())
    }

    /// The notes from the `start`th (from 0).
    pub fn notes_from(&self, start: usize) -> Vec<Note> {
        self.notes
            .as_ref()
            .map(|n| n.lock().unwrap_or_else(|p| p.into_inner()).iter().skip(start).cloned().collect())
            .unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lines> {
        self.events.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends an event and gives its id, or None once the history is full.
    pub fn record(&self, at: i128, kind: EventType, previous: u64, details: impl Members) -> Option<u64> {
        self.push(clamp_nanos(at), kind, previous, details, true)
    }

    /// Appends the execution's final event, past the quota if need be.
    pub fn force(&self, at: i128, kind: EventType, previous: u64, details: impl Members) {
        self.push(clamp_nanos(at), kind, previous, details, false);
    }

    #[inline(always)]
    fn push(&self, at: i64, kind: EventType, previous: u64, details: impl Members, within_quota: bool) -> Option<u64> {
        let mut lines = self.lock();
        if within_quota && self.earlier.len() + lines.events.len() >= MAX_EVENTS {
            return None;
        }
        // At most 4 members an event and MAX_EVENTS events (a forced one past them): far below u32::MAX.
        let first = lines.members.len() as u32;
        let integration = details.integration();
        let len = details.append_to(&mut lines.members);
        lines.events.push(Event { at, kind, previous, integration, first, len });
        Some((self.earlier.len() + lines.events.len()) as u64)
    }

    pub fn len(&self) -> usize {
        self.earlier.len() + self.lock().events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The events as GetExecutionHistory gives them.
    pub fn events(&self) -> Vec<HistoryEvent> {
        self.events_from(0, usize::MAX)
    }

    /// At most `count` events from the `start`th (from 0), as GetExecutionHistory gives them.
    pub fn events_from(&self, start: usize, count: usize) -> Vec<HistoryEvent> {
        let earlier = self.earlier.len();
        let mut out: Vec<HistoryEvent> = self.earlier.iter().skip(start).take(count).cloned().collect();
        let left = count - out.len();
        let lines = self.lock();
        let from = start.saturating_sub(earlier);
        out.extend(lines.events.iter().enumerate().skip(from).take(left).map(|(i, e)| {
            let i = earlier + i;
            let mut details = Map::new();
            if let Some(key) = e.kind.details_key() {
                let mut body = Map::new();
                for (name, detail) in shown_members(&e.integration, lines.members(e)) {
                    let detail = &*detail;
                    match detail {
                        Detail::Text(_) | Detail::Shared(_) | Detail::Static(_) | Detail::Name(_) => {
                            body.insert((*name).to_owned(), Value::from(self.text(detail).unwrap_or_default()));
                        }
                        Detail::Number(n) => {
                            body.insert(name, Value::from(*n));
                        }
                        Detail::Json(value) => {
                            body.insert(name, Value::string(value.to_string()));
                        }
                        Detail::Filled(template, input) => {
                            body.insert(name, Value::string(template.fill_from(input).to_string()));
                        }
                        Detail::Payload(value) => {
                            body.insert(name, Value::string(value.to_string()));
                            body.insert(format!("{name}Details"), orderflow_value::json!({"truncated": false}));
                        }
                        Detail::Moved(moved) => {
                            let Moved { rest, selector, selected, envelope } = &**moved;
                            let mut whole = Value::clone(rest);
                            selector.put_back(&mut whole, selected);
                            if let (Some(request_id), Value::Object(answer)) = (envelope, &mut whole) {
                                crate::envelope::complete_envelope(answer, request_id.to_string(), None);
                            }
                            body.insert(name, Value::string(whole.to_string()));
                            body.insert(format!("{name}Details"), orderflow_value::json!({"truncated": false}));
                        }
                        Detail::Assigned(vars) => {
                            let shown = vars
                                .iter()
                                .map(|(var, value)| (var.to_string(), Value::string(value.to_string())))
                                .collect();
                            body.insert(name, Value::Object(shown));
                            body.insert(format!("{name}Details"), orderflow_value::json!({"truncated": false}));
                        }
                    }
                }
                details.insert(key.to_owned(), Value::Object(body));
            }
            HistoryEvent {
                timestamp: OffsetDateTime::from_unix_timestamp_nanos(i128::from(e.at))
                    .ok()
                    .and_then(|t| t.format(&Rfc3339).ok())
                    .unwrap_or_default(),
                at_nanos: i128::from(e.at),
                kind: e.kind,
                id: i as u64 + 1,
                previous_event_id: e.previous,
                details,
            }
        }));
        out
    }
}

impl History {
    /// The names of the states entered, in order.
    pub fn states_entered(&self) -> Vec<String> {
        let earlier =
            self.earlier.iter().filter(|e| e.kind.is_state_entered()).filter_map(|e| e.state_name().map(str::to_owned));
        let mut names: Vec<String> = earlier.collect();
        let lines = self.lock();
        names.extend(
            lines
                .events
                .iter()
                .filter(|e| e.kind.is_state_entered())
                .filter_map(|e| {
                    lines.members(e).iter().find(|(name, _)| *name == "name").and_then(|(_, d)| self.text(d))
                })
                .map(str::to_owned),
        );
        names
    }
}

impl Serialize for History {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.events().serialize(serializer)
    }
}
