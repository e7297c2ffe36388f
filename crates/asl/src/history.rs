//! The execution history, shaped like Step Functions' GetExecutionHistory:
//! numbered events, each with a timestamp, a type and its details. Events are
//! appended in O(1) under one lock, holding shared references to the values
//! they show; JSON text is made only when the history is read.

use std::sync::{Arc, Mutex};

use orderflow_value::{Map, Value};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Step Functions' quota on events in one execution's history.
pub const MAX_EVENTS: usize = 25_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEvent {
    pub timestamp: String,
    /// The same instant as Unix nanoseconds.
    #[serde(skip)]
    pub at_nanos: i128,
    #[serde(rename = "type")]
    pub kind: String,
    pub id: u64,
    pub previous_event_id: u64,
    #[serde(flatten)]
    pub details: Map,
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
    Shared(Arc<str>),
    Static(&'static str),
    /// A JSON value shown as its text, with `<key>Details: {"truncated": false}` beside it.
    Payload(Arc<Value>),
    /// A JSON value shown as its text, alone.
    Json(Arc<Value>),
    /// A template that only selects from the input, shown as its text once
    /// filled from that input: the value is built when the history is read,
    /// not for every execution.
    Filled(Arc<crate::template::Template>, Arc<Value>),
    /// A task result whose ResultSelector moved what it selects out of it;
    /// boxed, as it is rare and the largest: every member's slot is its size.
    Moved(Box<Moved>),
    Number(u64),
    /// Workflow variables a state set, shown as an object of their JSON
    /// texts, with `<key>Details: {"truncated": false}` beside it.
    Assigned(crate::variables::Assigned),
}

/// A task result whose ResultSelector moved what it selects out of it: the
/// rest, and the selector with its filled value, which put the result back
/// together when the history is read. Shown as `Payload` is.
#[derive(Debug, Clone)]
pub struct Moved {
    pub rest: Arc<Value>,
    pub selector: Arc<crate::template::Template>,
    pub selected: Arc<Value>,
    /// The request id of a lambda:invoke result whose envelope (all but
    /// its `Payload`) is left to be built here.
    pub envelope: Option<Box<str>>,
}

impl Detail {
    /// A text member's text.
    pub fn text(&self) -> Option<&str> {
        match self {
            Detail::Text(text) => Some(text),
            Detail::Shared(text) => Some(text),
            Detail::Static(text) => Some(text),
            _ => None,
        }
    }
}

impl Default for Detail {
    fn default() -> Self {
        Detail::Static("")
    }
}

/// An event's detail members, kept inline: besides the `resourceType` and
/// `resource` of a Lambda integration's events (a flag), an event never has
/// more than four (EvaluationFailed's error, cause, location and state).
#[derive(Debug, Clone, Default)]
pub struct Fields {
    /// The `resource` of a Lambda integration's Task* event (`invoke`,
    /// `invoke.waitForTaskToken`), shown after `resourceType: lambda`.
    integration: Option<&'static str>,
    len: u8,
    items: [(&'static str, Detail); 4],
}

impl Fields {
    /// The members of a `lambda:invoke` Task* event: `resourceType` and `resource` first.
    pub fn lambda_invoke() -> Fields {
        Fields::lambda_integration("invoke")
    }

    pub fn lambda_integration(resource: &'static str) -> Fields {
        Fields { integration: Some(resource), ..Fields::default() }
    }

    #[inline(always)]
    pub fn push(&mut self, name: &'static str, detail: Detail) {
        debug_assert!(usize::from(self.len) < self.items.len(), "an event with more than four members");
        if let Some(slot) = self.items.get_mut(usize::from(self.len)) {
            *slot = (name, detail);
            self.len += 1;
        }
    }
}

/// An event's members as shown: a Lambda integration's `resourceType` and
/// `resource` first, then its own.
fn shown_members<'e>(
    integration: Option<&'static str>,
    members: &'e [(&'static str, Detail)],
) -> impl Iterator<Item = (&'static str, &'e Detail)> {
    const LAMBDA: Detail = Detail::Static("lambda");
    const INVOKE: Detail = Detail::Static("invoke");
    const CALLBACK: Detail = Detail::Static("invoke.waitForTaskToken");
    let resource = match integration {
        Some("invoke.waitForTaskToken") => Some(&CALLBACK),
        Some(_) => Some(&INVOKE),
        None => None,
    };
    let prefix = resource.into_iter().flat_map(|r| [("resourceType", &LAMBDA), ("resource", r)]);
    prefix.chain(members.iter().map(|(name, detail)| (*name, detail)))
}

impl<const N: usize> From<[(&'static str, Detail); N]> for Fields {
    // Inlined where the array is built, so its Details move once.
    #[inline(always)]
    fn from(items: [(&'static str, Detail); N]) -> Self {
        let mut fields = Fields::default();
        for (name, detail) in items {
            fields.push(name, detail);
        }
        fields
    }
}

/// What an event's members come as: a `Fields`, or an array of them moved
/// straight into the history (most events have two, known where they are made).
pub trait Members {
    /// As `Fields::integration`.
    fn integration(&self) -> Option<&'static str>;
    /// Moves the members to the end of `out`; gives their number.
    fn append_to(self, out: &mut Vec<(&'static str, Detail)>) -> u8;
}

impl Members for Fields {
    fn integration(&self) -> Option<&'static str> {
        self.integration
    }

    fn append_to(mut self, out: &mut Vec<(&'static str, Detail)>) -> u8 {
        let len = self.len;
        out.extend(self.items[..usize::from(len)].iter_mut().map(|(name, d)| (*name, std::mem::take(d))));
        len
    }
}

impl<const N: usize> Members for [(&'static str, Detail); N] {
    fn integration(&self) -> Option<&'static str> {
        None
    }

    #[inline(always)]
    fn append_to(self, out: &mut Vec<(&'static str, Detail)>) -> u8 {
        const { assert!(N <= 4, "an event with more than four members") };
        out.extend(self);
        N as u8
    }
}

fn clamp_nanos(at: i128) -> i64 {
    i64::try_from(at).unwrap_or(if at < 0 { i64::MIN } else { i64::MAX })
}

#[derive(Debug, Clone)]
struct Event {
    /// Unix nanoseconds (64 bits reach the year 2262, and keep the event 8-aligned).
    at: i64,
    kind: &'static str,
    previous: u64,
    /// Where the details sit: `stateEnteredEventDetails`, or none.
    details_key: Option<&'static str>,
    /// As in `Fields`.
    integration: Option<&'static str>,
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
/// runs only the others again, as Step Functions does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub entered: u64,
    pub state: Arc<str>,
    pub index: usize,
    pub output: Arc<Value>,
}

#[derive(Debug)]
pub struct History {
    /// Events of an earlier run of the execution (before a redrive or a
    /// restart of the server), read back as they were shown.
    earlier: Vec<HistoryEvent>,
    events: Mutex<Lines>,
    /// Kept only for executions that can be redriven (`keeping_notes`).
    notes: Option<Mutex<Vec<Note>>>,
}

impl Default for History {
    fn default() -> Self {
        History { earlier: Vec::new(), events: Mutex::new(Lines::with_capacity(32)), notes: None }
    }
}

impl History {
    /// A history that goes on from `earlier`, numbered 1.. in order, with the notes kept so far.
    pub fn continuing(earlier: Vec<HistoryEvent>, notes: Vec<Note>) -> History {
        History { earlier, events: Mutex::new(Lines::with_capacity(16)), notes: Some(Mutex::new(notes)) }
    }

    /// A history that keeps notes for a redrive.
    pub fn keeping_notes() -> History {
        History { notes: Some(Mutex::new(Vec::new())), ..History::default() }
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
    pub fn record(
        &self,
        at: i128,
        kind: &'static str,
        previous: u64,
        details_key: Option<&'static str>,
        details: impl Members,
    ) -> Option<u64> {
        self.push(clamp_nanos(at), kind, previous, details_key, details, true)
    }

    /// Appends the execution's final event, past the quota if need be.
    pub fn force(
        &self,
        at: i128,
        kind: &'static str,
        previous: u64,
        details_key: Option<&'static str>,
        details: Fields,
    ) {
        self.push(clamp_nanos(at), kind, previous, details_key, details, false);
    }

    #[inline(always)]
    fn push(
        &self,
        at: i64,
        kind: &'static str,
        previous: u64,
        details_key: Option<&'static str>,
        details: impl Members,
        within_quota: bool,
    ) -> Option<u64> {
        let mut lines = self.lock();
        if within_quota && self.earlier.len() + lines.events.len() >= MAX_EVENTS {
            return None;
        }
        // At most 4 members an event and MAX_EVENTS events (a forced one past them): far below u32::MAX.
        let first = lines.members.len() as u32;
        let integration = details.integration();
        let len = details.append_to(&mut lines.members);
        lines.events.push(Event { at, kind, previous, details_key, integration, first, len });
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
            if let Some(key) = e.details_key {
                let mut body = Map::new();
                for (name, detail) in shown_members(e.integration, lines.members(e)) {
                    match detail {
                        Detail::Text(_) | Detail::Shared(_) | Detail::Static(_) => {
                            body.insert((*name).to_owned(), Value::from(detail.text().unwrap_or_default()));
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
                                crate::states::task::complete_envelope(answer, request_id.to_string());
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
                kind: e.kind.to_owned(),
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
        let earlier = self
            .earlier
            .iter()
            .filter(|e| e.kind.ends_with("StateEntered"))
            .filter_map(|e| e.state_name().map(str::to_owned));
        let mut names: Vec<String> = earlier.collect();
        let lines = self.lock();
        names.extend(
            lines
                .events
                .iter()
                .filter(|e| e.kind.ends_with("StateEntered"))
                .filter_map(|e| lines.members(e).iter().find(|(name, _)| *name == "name").and_then(|(_, d)| d.text()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_is_small() {
        // Every member's slot is the largest variant's size: keep it to three words.
        assert!(std::mem::size_of::<Detail>() <= 24, "{}", std::mem::size_of::<Detail>());
    }
}
