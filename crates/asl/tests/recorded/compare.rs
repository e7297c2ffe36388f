//! Comparing an execution with AWS's recording, as the recording's README
//! says: placeholders (`<uuid:1>`, `<region>`, the account) match any text at
//! their position, time-valued keys and the case's wildcard keys match any
//! value, a lambda:invoke result's SDK metadata is ignored, and numbers
//! compare by value and by kind (`1` is not `1.0`).

use orderflow_value::Value;

/// Expected values that stand for any string.
const ANY_STRING: &[&str] = &["start-time", "entered-time", "date", "timestamp", "snf_role_arn", "sfn_role_arn"];
const IGNORED_KEYS: &[&str] = &["SdkHttpMetadata", "SdkResponseMetadata"];
const ANY_TEXT: &[&str] = &["111111111111", "snf_role_arn", "sfn_role_arn"];

/// Where `actual` differs from `expected`, or None.
pub fn difference(expected: &Value, actual: &Value, wildcard_keys: &[String], at: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                if IGNORED_KEYS.contains(&k.as_str()) {
                    continue;
                }
                let here = format!("{at}.{k}");
                let Some(av) = a.get(k) else { return Some(format!("{here}: missing")) };
                if wildcard_keys.iter().any(|w| w == k) {
                    continue;
                }
                if let Some(d) = difference(ev, av, wildcard_keys, &here) {
                    return Some(d);
                }
            }
            a.keys()
                .find(|k| !e.contains_key(k) && !IGNORED_KEYS.contains(&k.as_str()))
                .map(|k| format!("{at}.{k}: not expected"))
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Some(format!("{at}: {} items, expected {}", a.len(), e.len()));
            }
            e.iter()
                .zip(a.iter())
                .enumerate()
                .find_map(|(i, (ev, av))| difference(ev, av, wildcard_keys, &format!("{at}[{i}]")))
        }
        (Value::String(e), Value::String(a)) => {
            if ANY_STRING.contains(&e.as_str()) || text_matches(e, a) {
                return None;
            }
            // A cause may be JSON text: compare it as JSON.
            if let (Ok(ej), Ok(aj)) = (orderflow_value::parse(e), orderflow_value::parse(a))
                && (ej.is_object() || ej.is_array())
            {
                return difference(&ej, &aj, wildcard_keys, at);
            }
            Some(format!("{at}: {a:?}, expected {e:?}"))
        }
        (Value::String(e), other) if is_placeholder(e) => {
            // `<json-input:1>`-style placeholders stand for a whole value.
            let _ = other;
            None
        }
        (Value::Number(e), Value::Number(a)) => {
            let kind = |n: &orderflow_value::Number| n.to_string().contains(['.', 'e', 'E']);
            let same = kind(e) == kind(a) && e.as_f64() == a.as_f64();
            (!same).then(|| format!("{at}: {a}, expected {e}"))
        }
        (e, a) if e == a => None,
        (e, a) => Some(format!("{at}: {a}, expected {e}")),
    }
}

fn is_placeholder(text: &str) -> bool {
    text.starts_with('<') && text.ends_with('>') && !text[1..text.len() - 1].contains(['<', '>'])
}

/// Whether `actual` is `expected` with each placeholder replaced by some text.
pub fn text_matches(expected: &str, actual: &str) -> bool {
    if expected == actual {
        return true;
    }
    // Split the expectation into literal pieces around the placeholders.
    let mut pieces: Vec<&str> = Vec::new();
    let mut rest = expected;
    let mut any = false;
    loop {
        let next_angle = rest.find('<').and_then(|s| rest[s..].find('>').map(|e| (s, s + e + 1)));
        let next_text = ANY_TEXT.iter().filter_map(|t| rest.find(t).map(|s| (s, s + t.len()))).min_by_key(|(s, _)| *s);
        let next = match (next_angle, next_text) {
            (Some(a), Some(t)) => Some(if a.0 <= t.0 { a } else { t }),
            (a, t) => a.or(t),
        };
        match next {
            Some((s, e)) if s < rest.len() => {
                pieces.push(&rest[..s]);
                rest = &rest[e..];
                any = true;
            }
            _ => {
                pieces.push(rest);
                break;
            }
        }
    }
    if !any {
        return false;
    }
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    if !actual.starts_with(first) || !actual[first.len()..].ends_with(last) || actual.len() < first.len() + last.len() {
        return false;
    }
    let mut pos = first.len();
    let end = actual.len() - last.len();
    for piece in &pieces[1..pieces.len() - 1] {
        match actual[pos..end].find(piece) {
            Some(i) => pos += i + piece.len(),
            None => return false,
        }
    }
    true
}

/// The matcher's own checks, run as one trial of the suite.
pub fn self_check() -> Result<(), String> {
    use orderflow_value::json;
    let checks = [
        text_matches("arn:<partition>:states:<region>:111111111111:x", "arn:aws:states:us-east-1:123456789012:x"),
        !text_matches("arn:<partition>:states", "arn:aws:lambda"),
        difference(&json!(1), &json!(1.0), &[], "$").is_some(),
        difference(&json!({"a": [1, "<uuid:1>"]}), &json!({"a": [1, "x-y"]}), &[], "$").is_none(),
        difference(&json!({"a": 1}), &json!({"a": 1, "b": 2}), &[], "$").is_some(),
        difference(&json!("{\"b\":1,\"a\":\"<uuid:2>\"}"), &json!("{\"a\":\"z\",\"b\":1}"), &[], "$").is_none(),
    ];
    match checks.iter().position(|ok| !ok) {
        Some(i) => Err(format!("matcher check {i} failed")),
        None => Ok(()),
    }
}
