//! The history as readable lines, for `orderflow run` and test failures.

use orderflow_value::Value;

use super::{EventType, HistoryEvent};

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
                    (None, _, None, Some(input))
                        if e.kind.is_state_entered() || e.kind == EventType::ExecutionStarted =>
                    {
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
