//! A Distributed Map's items as its ItemReader reads them from S3, page by
//! page: an object's JSON array, JSON Lines or CSV records, or a bucket's
//! listing (each object, or with LOAD_AND_FLATTEN each object's items).
//! Only a page is in memory at a time (a JSON array is read whole, as it
//! must be parsed whole).

pub mod csv;
pub mod results;

use std::collections::VecDeque;

use orderflow_value::{Map, Value};

use crate::error::{Failure, StatesError};
use crate::executor::{ListedObject, Services, TaskFailure};
use crate::model::{CsvHeaders, InputType, ReaderConfig};
use crate::pipeline::{MAX_PAYLOAD_BYTES, json_len};

/// Bytes read from an object per request.
pub const PAGE_BYTES: u64 = 4 << 20;

/// How an object's content becomes items.
#[derive(Debug, Clone)]
pub struct Format {
    pub input_type: InputType,
    pub headers: CsvHeaders,
    pub delimiter: u8,
    pub items_pointer: Option<String>,
}

impl Format {
    pub fn of(config: &ReaderConfig) -> Option<Format> {
        Some(Format {
            input_type: config.input_type?,
            headers: config.csv_headers.clone(),
            delimiter: config.csv_delimiter.byte(),
            items_pointer: config.items_pointer.clone(),
        })
    }
}

/// Where the items come from.
pub enum Source {
    /// Items already in hand (ItemsPath, Items, TestState's mapItemReaderData).
    Given(std::vec::IntoIter<Value>),
    /// One object.
    Object(Cursor),
    /// A bucket's objects under a prefix: each one an item, or (with a
    /// format, LOAD_AND_FLATTEN) each one's items.
    Listing {
        bucket: String,
        prefix: String,
        token: Option<String>,
        ended: bool,
        load: Option<Format>,
        current: Option<Cursor>,
    },
}

/// Reading one object.
pub struct Cursor {
    bucket: String,
    key: String,
    format: Format,
    offset: u64,
    size: Option<u64>,
    carry: Vec<u8>,
    header: Option<csv::Header>,
    records: u64,
    ended: bool,
}

impl Cursor {
    pub fn new(bucket: String, key: String, format: Format) -> Cursor {
        Cursor { bucket, key, format, offset: 0, size: None, carry: Vec::new(), header: None, records: 0, ended: false }
    }
}

/// Items, one at a time, at most `max_items` of them.
pub struct Reader<'r> {
    services: Option<&'r dyn Services>,
    source: Source,
    queue: VecDeque<Value>,
    max_items: Option<u64>,
    read: u64,
}

impl<'r> Reader<'r> {
    pub fn new(services: Option<&'r dyn Services>, source: Source, max_items: Option<u64>) -> Reader<'r> {
        Reader { services, source, queue: VecDeque::new(), max_items, read: 0 }
    }

    /// How many items were handed out.
    pub fn count(&self) -> u64 {
        self.read
    }

    /// The next item, or None after the last.
    pub async fn next(&mut self) -> Result<Option<Value>, Failure> {
        loop {
            if self.max_items.is_some_and(|max| self.read >= max) {
                return Ok(None);
            }
            if let Some(item) = self.queue.pop_front() {
                self.read += 1;
                if json_len(&item) > MAX_PAYLOAD_BYTES {
                    return Err(failed(format!(
                        "Item {} is larger than the maximum of {MAX_PAYLOAD_BYTES} bytes.",
                        self.read - 1
                    )));
                }
                return Ok(Some(item));
            }
            if !self.refill().await? {
                return Ok(None);
            }
        }
    }

    /// Reads more items into the queue; false when there are no more.
    async fn refill(&mut self) -> Result<bool, Failure> {
        let services = self.services;
        match &mut self.source {
            Source::Given(items) => match items.next() {
                Some(item) => {
                    self.queue.push_back(item);
                    Ok(true)
                }
                None => Ok(false),
            },
            Source::Object(cursor) => read_page(services, cursor, &mut self.queue).await,
            Source::Listing { bucket, prefix, token, ended, load, current } => loop {
                if let Some(cursor) = current {
                    if read_page(services, cursor, &mut self.queue).await? {
                        return Ok(true);
                    }
                    *current = None;
                }
                if *ended {
                    return Ok(false);
                }
                let s3 = services.ok_or_else(no_services)?;
                let page = s3.list_objects(bucket, prefix, token.as_deref()).await.map_err(reader_failed)?;
                *token = page.next;
                *ended = token.is_none();
                match load {
                    None => {
                        self.queue.extend(page.objects.iter().map(listed));
                        if !self.queue.is_empty() {
                            return Ok(true);
                        }
                    }
                    Some(format) => {
                        // Each object of the page in turn: keep the page's keys, not its objects.
                        let keys: Vec<String> = page.objects.into_iter().map(|o| o.key).collect();
                        for key in keys {
                            let mut cursor = Cursor::new(bucket.clone(), key, format.clone());
                            while read_page(services, &mut cursor, &mut self.queue).await? {}
                        }
                        if !self.queue.is_empty() {
                            return Ok(true);
                        }
                    }
                }
            },
        }
    }
}

/// A listed object as an item: AWS's member names, LastModified in Unix seconds.
fn listed(o: &ListedObject) -> Value {
    let mut item = Map::with_capacity(5);
    item.insert("Etag", Value::string(o.etag.as_str()));
    item.insert("Key", Value::string(o.key.as_str()));
    item.insert("LastModified", Value::from(o.last_modified));
    item.insert("Size", Value::from(o.size));
    item.insert("StorageClass", Value::string(o.storage_class.as_str()));
    Value::Object(item)
}

/// Reads the next page of `cursor`'s object into `queue`; false once it is all read.
async fn read_page(
    services: Option<&dyn Services>,
    cursor: &mut Cursor,
    queue: &mut VecDeque<Value>,
) -> Result<bool, Failure> {
    if cursor.ended {
        return Ok(false);
    }
    let s3 = services.ok_or_else(no_services)?;
    if cursor.format.input_type == InputType::Json {
        let part = s3.get_object(&cursor.bucket, &cursor.key, None).await.map_err(reader_failed)?;
        cursor.ended = true;
        let before = queue.len();
        queue.extend(json_items(&part.body, cursor.format.items_pointer.as_deref())?);
        return Ok(queue.len() > before);
    }
    let range = (cursor.offset, cursor.offset + PAGE_BYTES - 1);
    let part = s3.get_object(&cursor.bucket, &cursor.key, Some(range)).await.map_err(reader_failed)?;
    cursor.offset += part.body.len() as u64;
    cursor.size = Some(part.size);
    let last = part.body.is_empty() || cursor.offset >= part.size;
    cursor.carry.extend_from_slice(&part.body);
    let before = queue.len();
    let used = match cursor.format.input_type {
        InputType::Jsonl => jsonl_items(&cursor.carry, last, queue, &mut cursor.records)?,
        _ => csv_items(cursor, last, queue)?,
    };
    cursor.carry.drain(..used);
    if last {
        cursor.ended = true;
    }
    // A page may end inside a record: read on until one is whole.
    Ok(queue.len() > before || !cursor.ended)
}

fn json_items(body: &[u8], pointer: Option<&str>) -> Result<Vec<Value>, Failure> {
    let text = std::str::from_utf8(body).map_err(|_| failed("The object is not UTF-8 text."))?;
    let document = orderflow_value::parse(text).map_err(|e| failed(format!("The object is not valid JSON: {e}")))?;
    let found = match pointer {
        None | Some("") => document,
        Some(pointer) => pointed(document, pointer)
            .ok_or_else(|| failed(format!("The ItemsPointer {pointer} does not point at a member of the object.")))?,
    };
    match found {
        Value::Array(items) => Ok(std::sync::Arc::unwrap_or_clone(items)),
        _ => Err(failed("Attempting to map over non-iterable node.")),
    }
}

/// The value at a JSON Pointer (RFC 6901).
fn pointed(document: Value, pointer: &str) -> Option<Value> {
    let mut at = document;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        at = match at {
            Value::Object(map) => map.get(&token)?.clone(),
            Value::Array(items) => items.get(token.parse::<usize>().ok()?)?.clone(),
            _ => return None,
        };
    }
    Some(at)
}

/// The whole lines at the start of `bytes` as items; the bytes they take.
fn jsonl_items(bytes: &[u8], last: bool, queue: &mut VecDeque<Value>, lines: &mut u64) -> Result<usize, Failure> {
    let mut at = 0;
    let mut number = *lines;
    while at < bytes.len() {
        let end = match bytes[at..].iter().position(|b| *b == b'\n') {
            Some(n) => at + n,
            None if last => bytes.len(),
            None => break,
        };
        let line = &bytes[at..end];
        number += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !line.iter().all(u8::is_ascii_whitespace) {
            let text = std::str::from_utf8(line).map_err(|_| failed(format!("Line {number} is not UTF-8 text.")))?;
            let item =
                orderflow_value::parse(text).map_err(|e| failed(format!("Line {number} is not valid JSON: {e}")))?;
            queue.push_back(item);
        }
        at = (end + 1).min(bytes.len());
    }
    *lines = number;
    Ok(at)
}

fn csv_items(cursor: &mut Cursor, last: bool, queue: &mut VecDeque<Value>) -> Result<usize, Failure> {
    if cursor.header.is_none()
        && let CsvHeaders::Given(names) = &cursor.format.headers
    {
        cursor.header = Some(csv::Header::new(names.clone()).map_err(failed)?);
    }
    let (records, used) = csv::records(&cursor.carry, cursor.format.delimiter, last, cursor.records)
        .map_err(|m| failed(format!("CSV record {} is malformed: {}.", m.record, m.why)))?;
    for fields in records {
        cursor.records += 1;
        let Some(header) = &cursor.header else {
            cursor.header = Some(csv::Header::new(fields).map_err(failed)?);
            continue;
        };
        queue.push_back(header.item(fields));
    }
    Ok(used)
}

fn failed(cause: impl Into<String>) -> Failure {
    Failure::new(StatesError::ItemReaderFailed, cause)
}

/// S3's refusal (a missing bucket or key, a denied read) as the reader's failure.
fn reader_failed(f: TaskFailure) -> Failure {
    failed(f.cause)
}

fn no_services() -> Failure {
    failed(
        "No S3 endpoint answers this execution: run it with `orderflow run` or `orderflow serve` and their local AWS.",
    )
}
