//! CSV records as a Distributed Map reads them (RFC 4180): fields split on
//! the delimiter, a field in double quotes may hold the delimiter, line
//! breaks and doubled quotes; every value is a string. Records are taken
//! from the bytes read so far; an unfinished last record waits for more.

/// A record that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// 1-based, counting every record read (the header too).
    pub record: u64,
    pub why: &'static str,
}

/// The complete records at the start of `bytes`, and how many bytes they
/// take. With `last`, what remains is the final record even without a line
/// break. Blank lines are no records.
pub fn records(
    bytes: &[u8],
    delimiter: u8,
    last: bool,
    first_record: u64,
) -> Result<(Vec<Vec<String>>, usize), Malformed> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut number = first_record;
    loop {
        match record(&bytes[at..], delimiter, last) {
            Ok(None) => return Ok((out, at)),
            Ok(Some((fields, used))) => {
                at += used;
                if let Some(fields) = fields {
                    number += 1;
                    out.push(fields);
                }
            }
            Err(why) => return Err(Malformed { record: number + 1, why }),
        }
    }
}

/// One record from the start of `bytes`: its fields (None for a blank
/// line) and the bytes it takes, line break included; None when `bytes`
/// holds no whole record yet.
#[allow(clippy::type_complexity)]
fn record(bytes: &[u8], delimiter: u8, last: bool) -> Result<Option<(Option<Vec<String>>, usize)>, &'static str> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut i = 0;
    let mut quoted = false;
    let mut was_quoted = false;
    loop {
        let Some(&b) = bytes.get(i) else {
            if !last {
                return Ok(None);
            }
            if quoted {
                return Err("a quoted field is not closed");
            }
            fields.push(text(field)?);
            return Ok(Some((blank(fields), i)));
        };
        if quoted {
            if b == b'"' {
                match bytes.get(i + 1) {
                    Some(b'"') => {
                        field.push(b'"');
                        i += 2;
                    }
                    None if !last => return Ok(None),
                    _ => {
                        quoted = false;
                        i += 1;
                    }
                }
            } else {
                field.push(b);
                i += 1;
            }
            continue;
        }
        match b {
            b'"' if field.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
                i += 1;
            }
            b'"' => return Err("a quote inside an unquoted field"),
            b'\n' | b'\r' => {
                fields.push(text(field)?);
                let end = if b == b'\r' {
                    match bytes.get(i + 1) {
                        Some(b'\n') => i + 2,
                        None if !last => return Ok(None),
                        _ => i + 1,
                    }
                } else {
                    i + 1
                };
                return Ok(Some((blank(fields), end)));
            }
            _ if b == delimiter => {
                fields.push(text(std::mem::take(&mut field))?);
                was_quoted = false;
                i += 1;
            }
            _ if was_quoted => return Err("text after a quoted field's closing quote"),
            _ => {
                field.push(b);
                i += 1;
            }
        }
    }
}

/// A CSV's column names, and the order an item lists its members in.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    names: Vec<String>,
    order: Vec<usize>,
}

impl Header {
    /// Column names must differ, as AWS requires.
    pub fn new(names: Vec<String>) -> Result<Header, &'static str> {
        let mut seen = std::collections::HashSet::new();
        if !names.iter().all(|n| seen.insert(n.as_str())) {
            return Err("CSV headers cannot contain duplicates.");
        }
        let order = hash_map_order(&names);
        Ok(Header { names, order })
    }

    /// A record as an item: its fields by column name, all strings; fields
    /// past the last column are dropped, missing ones are "".
    pub fn item(&self, fields: Vec<String>) -> orderflow_value::Value {
        let mut fields: Vec<Option<String>> = fields.into_iter().map(Some).collect();
        let mut item = orderflow_value::Map::with_capacity(self.names.len());
        for &i in &self.order {
            let value = fields.get_mut(i).and_then(Option::take).unwrap_or_default();
            item.insert(self.names[i].as_str(), orderflow_value::Value::string(value));
        }
        orderflow_value::Value::Object(item)
    }
}

/// The order in which AWS's service lists a CSV item's members: that of a
/// Java `HashMap` of the column names (by bucket of the spread
/// `String.hashCode`, the table grown at three quarters full; insertion
/// order within a bucket). Read from AWS's recorded items: headers
/// `0,True,{}` give `0`, `{}`, `True`; `H1,` gives `""`, `H1`.
fn hash_map_order(names: &[String]) -> Vec<usize> {
    let mut capacity = 16usize;
    while names.len() > capacity * 3 / 4 {
        capacity *= 2;
    }
    let bucket = |name: &str| {
        let h = name.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c))) as u32;
        ((h ^ (h >> 16)) as usize) & (capacity - 1)
    };
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by_key(|&i| bucket(&names[i]));
    order
}

fn text(bytes: Vec<u8>) -> Result<String, &'static str> {
    String::from_utf8(bytes).map_err(|_| "a field is not UTF-8 text")
}

fn blank(fields: Vec<String>) -> Option<Vec<String>> {
    (fields.len() > 1 || fields.first().is_some_and(|f| !f.is_empty())).then_some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str, delimiter: u8) -> Vec<Vec<String>> {
        records(text.as_bytes(), delimiter, true, 0).unwrap().0
    }

    #[test]
    fn fields_quotes_and_line_breaks() {
        assert_eq!(all("a,b\n1,2\n", b','), [vec!["a", "b"], vec!["1", "2"]]);
        assert_eq!(all("a,b\r\n\"x,\"\"y\"\"\nz\",\r\n", b','), [vec!["a", "b"], vec!["x,\"y\"\nz", ""]]);
        assert_eq!(all("a|b\n\n1|2", b'|'), [vec!["a", "b"], vec!["1", "2"]]);
        assert_eq!(all("a\tb\n", b'\t'), [vec!["a", "b"]]);
    }

    #[test]
    fn an_unfinished_record_waits_for_more() {
        let (done, used) = records(b"a,b\n1,\"2\n3", b',', false, 0).unwrap();
        assert_eq!(done, [vec!["a", "b"]]);
        assert_eq!(used, 4);
        let (done, used) = records(b"a,b\r", b',', false, 0).unwrap();
        assert!(done.is_empty());
        assert_eq!(used, 0);
    }

    #[test]
    fn items_list_members_as_aws_does_padded_and_cut_to_the_header() {
        let names = |list: &[&str]| list.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let header = Header::new(names(&["0", "True", "{}"])).unwrap();
        assert_eq!(header.item(names(&["a", "b"])).to_json(), r#"{"0":"a","{}":"","True":"b"}"#);
        let header = Header::new(names(&["H1", ""])).unwrap();
        assert_eq!(header.item(names(&["x", "y", "z"])).to_json(), r#"{"":"y","H1":"x"}"#);
        let header = Header::new(names(&["Col1", "Col2", "Col3"])).unwrap();
        assert_eq!(header.item(names(&["1", "2", "3"])).to_json(), r#"{"Col1":"1","Col2":"2","Col3":"3"}"#);
        assert_eq!(Header::new(names(&["H1", "H1"])), Err("CSV headers cannot contain duplicates."));
    }

    #[test]
    fn malformed_records_are_named() {
        assert_eq!(
            records(b"a,b\n1,\"2", b',', true, 0),
            Err(Malformed { record: 2, why: "a quoted field is not closed" })
        );
        assert_eq!(
            records(b"a,b\n1,x\"y\n", b',', true, 0),
            Err(Malformed { record: 2, why: "a quote inside an unquoted field" })
        );
    }
}
