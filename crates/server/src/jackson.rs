//! AWS reads a definition with Jackson: text that is not JSON gets
//! Jackson's own words in its INVALID_JSON_DESCRIPTION finding. The case
//! written here is the common one, a bare word where a value belongs
//! (`not a definition`, `{"a": nope}`): Jackson reads the word to its end
//! and reports it with where it stopped.

/// Jackson's message and location for a bare word where a JSON value
/// belongs, when that is why `text` is not JSON.
pub fn unrecognized_token(text: &str) -> Option<(String, String)> {
    let error = serde_json::from_str::<serde::de::IgnoredAny>(text).err()?;
    let what = error.to_string();
    if !(what.starts_with("expected value") || what.starts_with("expected ident")) {
        return None;
    }
    // The byte where serde stopped (its column counts characters from 1).
    let line_start: usize = text.split_inclusive('\n').take(error.line().saturating_sub(1)).map(str::len).sum();
    let line = &text[line_start..];
    let at = line_start + line.char_indices().nth(error.column().saturating_sub(1)).map_or(line.len(), |(i, _)| i);
    let part = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    // Back to the word's start, then on to its end.
    let start =
        text[..at.min(text.len())].char_indices().rev().take_while(|(_, c)| part(*c)).last().map_or(at, |(i, _)| i);
    let word: String = text[start..].chars().take_while(|c| part(*c)).take(256).collect();
    if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let end = start + word.len();
    let line_no = text[..end].matches('\n').count() + 1;
    let column = text[text[..end].rfind('\n').map_or(0, |i| i + 1)..end].chars().count() + 1;
    let location = format!("[Source: {}; line: {line_no}, column: {column}]", source(text));
    let message = format!(
        "Unrecognized token '{word}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at {location}"
    );
    Some((message, location))
}

/// The parsed text as Jackson names it: its first 500 characters.
fn source(text: &str) -> String {
    let count = text.chars().count();
    if count <= 500 {
        format!("(String)\"{text}\"")
    } else {
        let head: String = text.chars().take(500).collect();
        format!("(String)\"{head}\"[truncated {} chars]", count - 500)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_word_is_jacksons_unrecognized_token() {
        // As AWS recorded it (LocalStack's AWS-validated test_sfn_api_validation snapshot).
        let (message, location) = unrecognized_token("not a definition").unwrap();
        assert_eq!(location, "[Source: (String)\"not a definition\"; line: 1, column: 4]");
        assert_eq!(
            message,
            "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (String)\"not a definition\"; line: 1, column: 4]"
        );
        let (_, location) = unrecognized_token("{\"StartAt\": \"A\",\n \"States\": nope}").unwrap();
        assert_eq!(location, "[Source: (String)\"{\"StartAt\": \"A\",\n \"States\": nope}\"; line: 2, column: 16]");
        assert!(unrecognized_token("{\"a\": 1,}").is_none());
        assert!(unrecognized_token("{}").is_none());
    }
}
