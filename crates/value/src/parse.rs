//! JSON text to a [`Value`]: RFC 8259, strictly, with serde_json's error
//! texts and positions, so a cause that quotes a parse error reads as before.

use std::fmt;
use std::sync::Arc;

use crate::number::number_end;
use crate::{Map, Number, Str, Value};

/// Arrays and objects may nest this deep, less one (as serde_json's limit).
pub const MAX_DEPTH: usize = 128;

/// Why text is not JSON, and where: `line` from 1, `column` the byte
/// within the line (0 at the end of empty text), as serde_json counts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: &'static str,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at line {} column {}", self.message, self.line, self.column)
    }
}

impl std::error::Error for ParseError {}

/// Parses JSON text.
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let mut parser = Parser { text: text.as_bytes(), at: 0, depth: MAX_DEPTH };
    let value = parser.value()?;
    parser.whitespace();
    if parser.at < parser.text.len() {
        return Err(parser.error_at("trailing characters", parser.at + 1));
    }
    Ok(value)
}

/// Parses JSON bytes, which must be UTF-8.
pub fn parse_bytes(bytes: &[u8]) -> Result<Value, ParseError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text),
        Err(e) => {
            // The text before the bad byte is UTF-8: report the first error there if any.
            let good = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let parser = Parser { text: bytes, at: e.valid_up_to(), depth: MAX_DEPTH };
            match parse(good) {
                // An error before the bad byte stands, unless it is only that the good part ended.
                Err(earlier) if !earlier.message.starts_with("EOF") => Err(earlier),
                _ => Err(parser.error_at("invalid unicode code point", e.valid_up_to() + 1)),
            }
        }
    }
}

struct Parser<'t> {
    text: &'t [u8],
    at: usize,
    depth: usize,
}

impl<'t> Parser<'t> {
    /// An error at byte `end` (exclusive): its line and column.
    fn error_at(&self, message: &'static str, end: usize) -> ParseError {
        let end = end.min(self.text.len());
        let before = &self.text[..end];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let column = match before.iter().rposition(|&b| b == b'\n') {
            Some(newline) => end - newline - 1,
            None => end,
        };
        ParseError { message, line, column }
    }

    /// An error at the byte just read.
    fn error(&self, message: &'static str) -> ParseError {
        self.error_at(message, self.at + 1)
    }

    fn eof(&self, message: &'static str) -> ParseError {
        self.error_at(message, self.text.len())
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.text.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.whitespace();
        self.text.get(self.at).copied()
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        match self.peek() {
            None => Err(self.eof("EOF while parsing a value")),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'"') => {
                self.at += 1;
                self.string().map(Value::String)
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => self.array(),
            Some(b'{') => self.object(),
            Some(_) => Err(self.error("expected value")),
        }
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Result<Value, ParseError> {
        for &expected in word {
            match self.text.get(self.at) {
                None => return Err(self.eof("EOF while parsing a value")),
                Some(&b) if b == expected => self.at += 1,
                Some(_) => return Err(self.error("expected ident")),
            }
        }
        Ok(value)
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.at;
        match number_end(self.text, start) {
            // A leading zero followed by a digit is not a number.
            Some(end) if !self.text.get(end).is_some_and(u8::is_ascii_digit) => {
                self.at = end;
                let text = std::str::from_utf8(&self.text[start..end]).unwrap_or("0");
                Ok(Value::Number(Number::from_checked(text)))
            }
            _ => Err(self.number_error(start)),
        }
    }

    /// Where and why the text at `at` is not a number, as serde_json says it.
    fn number_error(&self, mut at: usize) -> ParseError {
        let digits = |at: usize| self.text[at.min(self.text.len())..].iter().take_while(|b| b.is_ascii_digit()).count();
        // The byte at `at` must be a digit: the error is there (or the text ends).
        let fail = |at: usize| match self.text.get(at) {
            None => self.eof("EOF while parsing a value"),
            Some(_) => self.error_at("invalid number", at + 1),
        };
        if self.text.get(at) == Some(&b'-') {
            at += 1;
        }
        match self.text.get(at) {
            Some(b'0') if self.text.get(at + 1).is_some_and(u8::is_ascii_digit) => return fail(at + 1),
            Some(b'0') => at += 1,
            Some(b'1'..=b'9') => at += digits(at),
            _ => return fail(at),
        }
        if self.text.get(at) == Some(&b'.') {
            if digits(at + 1) == 0 {
                return fail(at + 1);
            }
            at += 1 + digits(at + 1);
        }
        if matches!(self.text.get(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(self.text.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
        }
        fail(at)
    }

    /// A string's content, the opening quote read.
    fn string(&mut self) -> Result<Str, ParseError> {
        let start = self.at;
        // Fast path: no escape.
        loop {
            match self.text.get(self.at) {
                None => return Err(self.eof("EOF while parsing a string")),
                Some(b'"') => {
                    let text = std::str::from_utf8(&self.text[start..self.at]).unwrap_or_default();
                    self.at += 1;
                    return Ok(Str::new(text));
                }
                Some(b'\\') => break,
                Some(0..=0x1f) => {
                    return Err(self.error("control character (\\u0000-\\u001F) found while parsing a string"));
                }
                Some(_) => self.at += 1,
            }
        }
        let mut out = String::with_capacity(self.at - start + 16);
        out.push_str(std::str::from_utf8(&self.text[start..self.at]).unwrap_or_default());
        loop {
            let run = self.at;
            while let Some(&b) = self.text.get(self.at) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.at += 1;
            }
            out.push_str(std::str::from_utf8(&self.text[run..self.at]).unwrap_or_default());
            match self.text.get(self.at) {
                None => return Err(self.eof("EOF while parsing a string")),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(Str::from(out));
                }
                Some(b'\\') => {
                    self.at += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.error("control character (\\u0000-\\u001F) found while parsing a string")),
            }
        }
    }

    /// One escape, the backslash read.
    fn escape(&mut self, out: &mut String) -> Result<(), ParseError> {
        let Some(&b) = self.text.get(self.at) else {
            return Err(self.eof("EOF while parsing a string"));
        };
        self.at += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                match first {
                    0xD800..=0xDBFF => {
                        for expected in [b'\\', b'u'] {
                            match self.text.get(self.at) {
                                None => return Err(self.eof("EOF while parsing a string")),
                                Some(&b) if b == expected => self.at += 1,
                                Some(_) => return Err(self.error("unexpected end of hex escape")),
                            }
                        }
                        let second = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return Err(self.error_at("lone leading surrogate in hex escape", self.at));
                        }
                        let code = 0x10000 + (((first - 0xD800) << 10) | (second - 0xDC00));
                        char::from_u32(code).ok_or_else(|| self.error_at("invalid unicode code point", self.at))?
                    }
                    0xDC00..=0xDFFF => return Err(self.error_at("lone leading surrogate in hex escape", self.at)),
                    code => char::from_u32(code).ok_or_else(|| self.error_at("invalid unicode code point", self.at))?,
                }
            }
            _ => return Err(self.error_at("invalid escape", self.at)),
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        if self.at + 4 > self.text.len() {
            return Err(self.eof("EOF while parsing a string"));
        }
        let digits = &self.text[self.at..self.at + 4];
        self.at += 4;
        let mut code = 0;
        for &b in digits {
            let digit = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return Err(self.error_at("invalid escape", self.at)),
            };
            code = code * 16 + u32::from(digit);
        }
        Ok(code)
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth -= 1;
        if self.depth == 0 {
            return Err(self.error("recursion limit exceeded"));
        }
        self.at += 1;
        Ok(())
    }

    fn array(&mut self) -> Result<Value, ParseError> {
        self.enter()?;
        let mut items = Vec::new();
        if self.peek().is_none() {
            return Err(self.eof("EOF while parsing a list"));
        }
        if self.peek() == Some(b']') {
            self.at += 1;
            self.depth += 1;
            return Ok(Value::Array(Arc::new(items)));
        }
        loop {
            items.push(self.value()?);
            match self.peek() {
                None => return Err(self.eof("EOF while parsing a list")),
                Some(b',') => {
                    self.at += 1;
                    if self.peek() == Some(b']') {
                        return Err(self.error("trailing comma"));
                    }
                }
                Some(b']') => {
                    self.at += 1;
                    self.depth += 1;
                    return Ok(Value::Array(Arc::new(items)));
                }
                Some(_) => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self) -> Result<Value, ParseError> {
        self.enter()?;
        let mut map = Map::new();
        if self.peek().is_none() {
            return Err(self.eof("EOF while parsing an object"));
        }
        if self.peek() == Some(b'}') {
            self.at += 1;
            self.depth += 1;
            return Ok(Value::Object(map));
        }
        loop {
            match self.peek() {
                None => return Err(self.eof("EOF while parsing an object")),
                Some(b'"') => self.at += 1,
                Some(_) => return Err(self.error("key must be a string")),
            }
            let name = self.string()?;
            match self.peek() {
                None => return Err(self.eof("EOF while parsing an object")),
                Some(b':') => self.at += 1,
                Some(_) => return Err(self.error("expected `:`")),
            }
            let value = self.value()?;
            map.insert(name, value);
            match self.peek() {
                None => return Err(self.eof("EOF while parsing an object")),
                Some(b',') => {
                    self.at += 1;
                    if self.peek() == Some(b'}') {
                        return Err(self.error("trailing comma"));
                    }
                }
                Some(b'}') => {
                    self.at += 1;
                    self.depth += 1;
                    return Ok(Value::Object(map));
                }
                Some(_) => return Err(self.error("expected `,` or `}`")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_documents_read_as_serde_json_reads_them() {
        let texts = [
            "null",
            " true ",
            "[false, -0, 1.50, 1e400, \"\"]",
            r#"{"a": {"b": [1, {"c": null}]}, "z": "\u00e9\ud83d\ude00\n\t\"\\\/"}"#,
            r#"{"dup": 1, "other": 2, "dup": 3}"#,
            "\"caf\u{e9} \u{2713}\"",
            "123456789012345678901234567890.000000000000000000001e-7",
        ];
        for text in texts {
            let ours = parse(text).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, Value::from(theirs.clone()), "{text}");
            assert_eq!(parse(&ours.to_json()).unwrap(), ours, "{text}: written and read back");
        }
    }

    #[test]
    fn errors_read_as_serde_json_writes_them() {
        let texts = [
            "",
            " ",
            "x",
            "nul",
            "nulx",
            "[1,]",
            "[1 2]",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "{1:2}",
            "{\"a\":1 \"b\"}",
            "[",
            "{",
            "{\"a\"",
            "\"abc",
            "\"a\\x\"",
            "\"\\u12\"",
            "\"\\ud800\"",
            "\"\\udc00x\"",
            "\"a\u{1}\"",
            "1 2",
            "-",
            "01",
            "1.",
            "1.e5",
            "-x",
            "[1,\n  ]",
            "{\n\"a\": tru\n}",
            "[\"a\"\n,\n",
            "1e",
            "\"\\ud800\\u0041\"",
            "\"\\u12x4\"",
            "[1, 2",
            "{\"a\": 1",
            "{\"a\":",
        ];
        for text in texts {
            let ours = parse(text).unwrap_err().to_string();
            let theirs = serde_json::from_str::<serde_json::Value>(text).unwrap_err().to_string();
            assert_eq!(ours, theirs, "{text:?}");
        }
    }

    #[test]
    fn depth_is_limited_as_serde_json_limits_it() {
        for depth in [126, 127, 128, 129, 400] {
            let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let ours = parse(&text).map_err(|e| e.to_string());
            let theirs = serde_json::from_str::<serde_json::Value>(&text).map_err(|e| e.to_string());
            assert_eq!(ours.is_ok(), theirs.is_ok(), "{depth}");
            if let (Err(a), Err(b)) = (ours, theirs) {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn bytes_must_be_utf8() {
        assert!(parse_bytes(b"\"\xff\"").unwrap_err().message.contains("unicode"));
        assert_eq!(parse_bytes(b"[1]").unwrap(), parse("[1]").unwrap());
    }
}
