//! Parquet files as a Distributed Map's items: each row an object of its
//! columns. The footer is read first (at most 5 MB, as AWS allows), then one
//! row group at a time (at most 256 MB each), its rows handed out in pages:
//! a file larger than memory reads in bounded steps.
//!
//! A column's value as JSON: numbers for integers and floating point
//! (NaN and infinities, which JSON cannot hold, as null), strings for text,
//! DECIMAL as its exact decimal text, DATE as `YYYY-MM-DD`, timestamps as
//! epoch milliseconds, binary as base64, nested groups as objects, lists as
//! arrays and maps as objects.

use std::collections::VecDeque;

use base64::Engine;
use bytes::{Buf, Bytes};
use orderflow_value::{Map, Value};
use parquet::data_type::Decimal;
use parquet::file::metadata::ParquetMetaDataReader;
use parquet::file::reader::{ChunkReader, Length};
use parquet::file::serialized_reader::{ReadOptionsBuilder, SerializedFileReader};
use parquet::record::reader::RowIter;
use parquet::record::{Field, Row};

use crate::executor::{ObjectAt, Services};

/// The largest footer AWS reads.
pub const MAX_FOOTER_BYTES: u64 = 5 << 20;
/// The largest row group AWS reads.
pub const MAX_ROW_GROUP_BYTES: u64 = 256 << 20;
/// Bytes read from the file's end first: the footer of most files, whole.
const TAIL_BYTES: u64 = 64 << 10;
/// Rows made items per step.
const ROWS_PER_PAGE: usize = 1000;

/// Reading one Parquet file.
#[derive(Default)]
pub struct ParquetFile {
    size: u64,
    /// The footer and the bytes before it that were read with it: (offset, bytes).
    tail: Option<(u64, Bytes)>,
    /// Each row group's byte range: (offset, length).
    groups: Vec<(u64, u64)>,
    next_group: usize,
    rows: Option<RowIter<'static>>,
}

impl ParquetFile {
    /// Reads the next rows into `queue`; false once the file is all read.
    pub async fn read_page(
        &mut self,
        s3: &dyn Services,
        object: &ObjectAt,
        queue: &mut VecDeque<Value>,
    ) -> Result<bool, String> {
        let get = |range: (u64, u64)| async move {
            s3.get_object(object, Some(range))
                .await
                .map(|part| (part.size, Bytes::from(part.body)))
                .map_err(|f| f.cause)
        };
        if self.tail.is_none() {
            let (size, head) = get((0, 3)).await?;
            if size < 12 || head.as_ref() != b"PAR1" {
                return Err("The object is not a Parquet file: it does not begin with PAR1.".into());
            }
            self.size = size;
            let from = size.saturating_sub(TAIL_BYTES);
            let (_, mut tail) = get((from, size - 1)).await?;
            let mut tail_at = from;
            let footer = footer_length(&tail)?;
            if footer > MAX_FOOTER_BYTES {
                return Err(format!(
                    "The Parquet footer is {footer} bytes, more than the maximum of {MAX_FOOTER_BYTES} bytes."
                ));
            }
            if footer + 8 > tail.len() as u64 {
                tail_at = size.checked_sub(footer + 8).ok_or("The Parquet footer is longer than the file.")?;
                tail = get((tail_at, size - 1)).await?.1;
            }
            let window = Window { size, parts: vec![(tail_at, tail.clone())] };
            let metadata = ParquetMetaDataReader::new().parse_and_finish(&window).map_err(unreadable)?;
            self.groups = metadata.row_groups().iter().map(group_range).collect();
            self.tail = Some((tail_at, tail));
        }
        loop {
            if let Some(rows) = &mut self.rows {
                let before = queue.len();
                for row in rows.by_ref().take(ROWS_PER_PAGE) {
                    queue.push_back(row_value(&row.map_err(unreadable)?)?);
                }
                if queue.len() > before {
                    return Ok(true);
                }
                self.rows = None;
            }
            let Some(&(offset, length)) = self.groups.get(self.next_group) else {
                return Ok(false);
            };
            let index = self.next_group;
            self.next_group += 1;
            if length > MAX_ROW_GROUP_BYTES {
                return Err(format!(
                    "Row group {index} of the Parquet file is {length} bytes, more than the maximum of {MAX_ROW_GROUP_BYTES} bytes."
                ));
            }
            let (tail_at, tail) = self.tail.clone().expect("the footer was read first");
            let mut parts = vec![(tail_at, tail)];
            if length > 0 {
                parts.insert(0, (offset, get((offset, offset + length - 1)).await?.1));
            }
            let window = Window { size: self.size, parts };
            let options = ReadOptionsBuilder::new().with_predicate(Box::new(move |_, i| i == index)).build();
            let reader = SerializedFileReader::new_with_options(window, options).map_err(unreadable)?;
            self.rows = Some(RowIter::from_file_into(Box::new(reader)));
        }
    }
}

/// The footer's length, from the file's last 8 bytes.
fn footer_length(tail: &[u8]) -> Result<u64, String> {
    let end = tail.len().checked_sub(8).ok_or("The Parquet file is too short to have a footer.")?;
    if &tail[end + 4..] != b"PAR1" {
        return Err("The object is not a Parquet file: it does not end with PAR1.".into());
    }
    Ok(u64::from(u32::from_le_bytes(tail[end..end + 4].try_into().expect("4 bytes"))))
}

/// A row group's bytes: from its first column chunk to the end of its last.
fn group_range(group: &parquet::file::metadata::RowGroupMetaData) -> (u64, u64) {
    let ranges = group.columns().iter().map(|c| c.byte_range());
    let start = ranges.clone().map(|(start, _)| start).min().unwrap_or(0);
    let end = ranges.map(|(start, length)| start + length).max().unwrap_or(0);
    (start, end.saturating_sub(start))
}

fn unreadable(e: parquet::errors::ParquetError) -> String {
    format!("The Parquet file is not readable: {e}.")
}

/// The parts of a file that were read, at their offsets in it.
struct Window {
    size: u64,
    parts: Vec<(u64, Bytes)>,
}

impl Window {
    fn slice(&self, start: u64, length: Option<usize>) -> parquet::errors::Result<Bytes> {
        for (offset, bytes) in &self.parts {
            let end = offset + bytes.len() as u64;
            if start >= *offset && start <= end {
                let from = (start - offset) as usize;
                let to = match length {
                    Some(length) if from + length <= bytes.len() => from + length,
                    Some(_) => continue,
                    None => bytes.len(),
                };
                return Ok(bytes.slice(from..to));
            }
        }
        Err(parquet::errors::ParquetError::General(format!(
            "bytes at offset {start} lie outside the row group and footer that were read"
        )))
    }
}

impl Length for Window {
    fn len(&self) -> u64 {
        self.size
    }
}

impl ChunkReader for Window {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(self.slice(start, None)?.reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.slice(start, Some(length))
    }
}

fn row_value(row: &Row) -> Result<Value, String> {
    let mut object = Map::with_capacity(row.len());
    for (name, field) in row.get_column_iter() {
        object.insert(name.as_str(), field_value(field)?);
    }
    Ok(Value::Object(object))
}

fn field_value(field: &Field) -> Result<Value, String> {
    Ok(match field {
        Field::Null => Value::Null,
        Field::Bool(b) => Value::Bool(*b),
        Field::Byte(n) => Value::from(i64::from(*n)),
        Field::Short(n) => Value::from(i64::from(*n)),
        Field::Int(n) => Value::from(i64::from(*n)),
        Field::Long(n) => Value::from(*n),
        Field::UByte(n) => Value::from(u64::from(*n)),
        Field::UShort(n) => Value::from(u64::from(*n)),
        Field::UInt(n) => Value::from(u64::from(*n)),
        Field::ULong(n) => Value::from(*n),
        Field::Float16(n) => float(f64::from(*n)),
        Field::Float(n) => float(f64::from(*n)),
        Field::Double(n) => float(*n),
        Field::Decimal(d) => Value::string(decimal_text(d)?),
        Field::Str(s) => Value::string(s.as_str()),
        Field::Bytes(b) => Value::string(base64::engine::general_purpose::STANDARD.encode(b.data())),
        Field::Date(days) => Value::string(date_text(*days)?),
        Field::TimeMillis(ms) => Value::from(i64::from(*ms)),
        Field::TimeMicros(us) => Value::from(us.div_euclid(1000)),
        Field::TimestampMillis(ms) => Value::from(*ms),
        Field::TimestampMicros(us) => Value::from(us.div_euclid(1000)),
        Field::Group(row) => row_value(row)?,
        Field::ListInternal(list) => {
            Value::from(list.elements().iter().map(field_value).collect::<Result<Vec<_>, _>>()?)
        }
        Field::MapInternal(map) => {
            let mut object = Map::with_capacity(map.entries().len());
            for (key, value) in map.entries() {
                let key = match key {
                    Field::Str(s) => s.clone(),
                    other => match field_value(other)? {
                        Value::String(s) => s.to_string(),
                        other => other.to_string(),
                    },
                };
                object.insert(key.as_str(), field_value(value)?);
            }
            Value::Object(object)
        }
    })
}

fn float(n: f64) -> Value {
    orderflow_value::Number::from_f64(n).map_or(Value::Null, Value::Number)
}

/// A DECIMAL's exact text: its unscaled big-endian integer, `scale` digits after the point.
fn decimal_text(d: &Decimal) -> Result<String, String> {
    let bytes = d.data();
    if bytes.is_empty() || bytes.len() > 16 {
        return Err(format!("A DECIMAL of {} bytes is wider than the 16 this reader reads.", bytes.len()));
    }
    // Sign-extend the big-endian two's complement into an i128.
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut wide = [fill; 16];
    wide[16 - bytes.len()..].copy_from_slice(bytes);
    let unscaled = i128::from_be_bytes(wide);
    let scale = usize::try_from(d.scale()).unwrap_or(0);
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if unscaled < 0 { "-" } else { "" };
    if scale == 0 {
        return Ok(format!("{sign}{digits}"));
    }
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    Ok(format!("{sign}{whole}.{fraction}"))
}

/// Days since 1970-01-01 as `YYYY-MM-DD`.
fn date_text(days: i32) -> Result<String, String> {
    const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;
    let date = time::Date::from_julian_day(UNIX_EPOCH_JULIAN_DAY + days)
        .map_err(|_| format!("The DATE {days} days from 1970-01-01 is out of range."))?;
    Ok(format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day()))
}
