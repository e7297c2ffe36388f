//! A JSON number as its exact text.

use std::fmt;

use smol_str::SmolStr;

/// A JSON number, kept as the text it was written with (`1.50` stays
/// `1.50`; an exponent is written `e` and a sign, as serde_json writes it):
/// nothing passes through a float unless asked. Up to 23 bytes the text is inline. Two numbers are equal when
/// their texts are, as serde_json's `arbitrary_precision` numbers are;
/// compare [`Number::as_f64`] for numeric equality.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number(SmolStr);

/// Text that is not a JSON number, or a float that JSON cannot hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberError;

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a JSON number")
    }
}

impl std::error::Error for NumberError {}

impl Number {
    /// The number written as `text`, if it is a JSON number.
    pub fn from_text(text: &str) -> Result<Number, NumberError> {
        if is_json_number(text.as_bytes()) { Ok(Number::from_checked(text)) } else { Err(NumberError) }
    }

    /// Text the parser has already checked. The exponent is written as
    /// serde_json writes it, `e` and a sign (`1E5` is `1e+5`); the rest
    /// is kept as it is.
    pub(crate) fn from_checked(text: &str) -> Number {
        debug_assert!(is_json_number(text.as_bytes()), "{text}");
        let Some(e) = text.bytes().position(|b| b == b'e' || b == b'E') else {
            return Number(SmolStr::new(text));
        };
        let mut out = smol_str::SmolStrBuilder::new();
        out.push_str(&text[..e]);
        out.push('e');
        let rest = &text[e + 1..];
        if !rest.starts_with(['+', '-']) {
            out.push('+');
        }
        out.push_str(rest);
        Number(out.finish())
    }

    /// A float as its shortest text that reads back to it, as serde_json
    /// writes it (`1.0`, `0.1`, `1e21`); `None` for NaN and the infinities.
    pub fn from_f64(f: f64) -> Option<Number> {
        if !f.is_finite() {
            return None;
        }
        Some(Number(SmolStr::new(zmij::Buffer::new().format_finite(f))))
    }

    /// The text, exactly as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The nearest float; `None` past the float's range.
    pub fn as_f64(&self) -> Option<f64> {
        // Most numbers are short integers: exact as floats, read without
        // the float parser (`-0` is left to it, for its sign).
        match short_integer(self.0.as_bytes()) {
            Some(n) if n != 0 || !self.0.starts_with('-') => Some(n as f64),
            _ => self.0.parse::<f64>().ok().filter(|f| f.is_finite()),
        }
    }

    /// The integer, if the text is one that fits an `i64` (no fraction, no exponent).
    pub fn as_i64(&self) -> Option<i64> {
        short_integer(self.0.as_bytes()).or_else(|| self.0.parse().ok())
    }

    /// The integer, if the text is one that fits a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        self.0.parse().ok()
    }

    pub fn is_i64(&self) -> bool {
        self.as_i64().is_some()
    }

    pub fn is_u64(&self) -> bool {
        self.as_u64().is_some()
    }

    /// Neither an `i64` nor a `u64`: a fraction, an exponent, or an integer past both.
    pub fn is_f64(&self) -> bool {
        !self.is_i64() && !self.is_u64()
    }
}

macro_rules! from_integer {
    ($($t:ty)*) => {$(
        impl From<$t> for Number {
            fn from(n: $t) -> Number {
                // Every type here has its magnitude within a u64.
                let n = n as i128;
                Number(SmolStr::new(itoa(n < 0, n.unsigned_abs() as u64).as_str()))
            }
        }
    )*};
}
from_integer!(i8 i16 i32 i64 isize u8 u16 u32 u64 usize);

/// The value of an integer's text of at most 15 digits (below 2^53, so
/// exact as a float too); None for any other text.
fn short_integer(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Some(if negative { -n } else { n })
}

/// The decimal text, on the stack, of the integer of sign `negative` and
/// magnitude `m`, in 64-bit arithmetic (128-bit division is a library call
/// per digit).
fn itoa(negative: bool, mut m: u64) -> ItoaBuf {
    let mut buf = ItoaBuf { bytes: [0; ITOA_LEN], start: ITOA_LEN };
    loop {
        buf.start -= 1;
        buf.bytes[buf.start] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if negative {
        buf.start -= 1;
        buf.bytes[buf.start] = b'-';
    }
    buf
}

/// u64::MAX's 20 digits and a sign.
const ITOA_LEN: usize = 21;

struct ItoaBuf {
    bytes: [u8; ITOA_LEN],
    start: usize,
}

impl ItoaBuf {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[self.start..]).unwrap_or("0")
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({})", self.0)
    }
}

/// RFC 8259's number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
pub(crate) fn is_json_number(text: &[u8]) -> bool {
    number_end(text, 0) == Some(text.len())
}

/// Where the JSON number that starts at `at` ends, if one does.
pub(crate) fn number_end(text: &[u8], mut at: usize) -> Option<usize> {
    let digits = |text: &[u8], at: usize| text[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    if text.get(at) == Some(&b'-') {
        at += 1;
    }
    match text.get(at) {
        Some(b'0') => at += 1,
        Some(b'1'..=b'9') => at += digits(text, at),
        _ => return None,
    }
    if text.get(at) == Some(&b'.') {
        let n = digits(text, at + 1);
        if n == 0 {
            return None;
        }
        at += 1 + n;
    }
    if matches!(text.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(text.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let n = digits(text, at);
        if n == 0 {
            return None;
        }
        at += n;
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_read_as_the_float_parser_reads_them() {
        for text in ["0", "-0", "7", "-42", "999999999999999", "-999999999999999", "9999999999999999", "1.5", "1e+2"] {
            let n = Number::from_text(text).unwrap();
            let float: f64 = text.parse().unwrap();
            assert_eq!(n.as_f64().map(f64::to_bits), Some(float.to_bits()), "{text}");
            assert_eq!(n.as_i64(), text.parse::<i64>().ok(), "{text}");
        }
    }

    #[test]
    fn text_is_kept() {
        for text in ["0", "-0", "1.50", "1e+400", "-12.5e-3", "123456789012345678901234567890"] {
            assert_eq!(Number::from_text(text).unwrap().as_str(), text);
        }
        assert_eq!(Number::from_text("1E5").unwrap().as_str(), "1e+5");
        assert_eq!(Number::from_text("-2.5E-7").unwrap().as_str(), "-2.5e-7");
        assert_eq!(Number::from_text("1e400").unwrap().as_str(), "1e+400");
        for text in ["", "-", "01", "1.", ".5", "1e", "+1", "1e+", "0x10", "NaN", "1 "] {
            assert_eq!(Number::from_text(text), Err(NumberError), "{text:?}");
        }
    }

    #[test]
    fn integers_and_floats() {
        assert_eq!(Number::from(i64::MIN).as_str(), "-9223372036854775808");
        assert_eq!(Number::from(u64::MAX).as_str(), "18446744073709551615");
        assert_eq!(Number::from(0u8).as_str(), "0");
        assert_eq!(Number::from_f64(1.0).unwrap().as_str(), "1.0");
        assert_eq!(Number::from_f64(0.1).unwrap().as_str(), "0.1");
        assert_eq!(Number::from_f64(1e21).unwrap().as_str(), "1e+21");
        assert_eq!(Number::from_f64(f64::NAN), None);
        let n = Number::from_text("1e400").unwrap();
        assert_eq!(n.as_f64(), None);
        assert!(n.is_f64());
        assert_eq!(Number::from_text("-3").unwrap().as_i64(), Some(-3));
        assert_eq!(Number::from_text("-3").unwrap().as_u64(), None);
        assert_eq!(Number::from_text("3.0").unwrap().as_i64(), None);
    }

    #[test]
    fn serde_json_writes_floats_alike() {
        for f in [0.0, -0.0, 1.5, 1e-7, 123456.789, 1e300, f64::MIN_POSITIVE, 5e-324] {
            let ours = Number::from_f64(f).unwrap();
            let theirs = serde_json::Number::from_f64(f).unwrap();
            assert_eq!(ours.as_str(), theirs.to_string());
        }
    }
}
