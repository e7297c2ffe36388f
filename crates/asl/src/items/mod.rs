//! A Distributed Map's items as its ItemReader reads them from S3, page by
//! page: an object's JSON array, JSON Lines, CSV records or Parquet rows
//! (text formats also GZIP- or ZSTD-compressed), a bucket's listing (each
//! object, or with LOAD_AND_FLATTEN each object's items), or the data files
//! an S3 inventory or Athena manifest lists. Only a page is in memory at a
//! time (a JSON array is read whole, as it must be parsed whole).

pub mod compression;
pub mod csv;
pub mod manifest;
pub mod parquet;
pub mod results;

use std::collections::VecDeque;

use orderflow_value::{Map, Value};

use self::compression::Inflate;
use self::parquet::ParquetFile;
use crate::error::{Failure, StatesError};
use crate::executor::{ListedObject, ObjectAt, Services, TaskFailure};
use crate::model::{CsvHeaders, InputType, ManifestType, ReaderConfig};
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
    /// Objects read one after another: one object, or a manifest's data files.
    Objects(Objects),
    /// A manifest not read yet: its data files, read as `format`, hold the items.
    Manifest { object: ObjectAt, kind: ManifestType, format: Format },
    /// A bucket's objects under a prefix: each one an item, or (with
    /// LOAD_AND_FLATTEN) each one's items.
    Listing { bucket: String, prefix: String, token: Option<String>, ended: bool, load: Option<Objects> },
}

impl Source {
    /// One object's items.
    pub fn object(object: ObjectAt, format: Format) -> Source {
        Source::Objects(Objects { pending: VecDeque::from([object]), format, current: None })
    }

    /// A listing's objects, or with `load` their items.
    pub fn listing(bucket: String, prefix: String, load: Option<Format>) -> Source {
        let load = load.map(|format| Objects { pending: VecDeque::new(), format, current: None });
        Source::Listing { bucket, prefix, token: None, ended: false, load }
    }
}

/// Objects whose items are read in turn, all in one format.
pub struct Objects {
    pending: VecDeque<ObjectAt>,
    format: Format,
    current: Option<Cursor>,
}

impl Objects {
    /// Reads more items into `queue`; false once every object is read.
    async fn read(&mut self, services: Option<&dyn Services>, queue: &mut VecDeque<Value>) -> Result<bool, Failure> {
        loop {
            if let Some(cursor) = &mut self.current {
                if read_page(services, cursor, queue).await? {
                    return Ok(true);
                }
                self.current = None;
            }
            let Some(object) = self.pending.pop_front() else {
                return Ok(false);
            };
            self.current = Some(Cursor::new(object, self.format.clone()));
        }
    }
}

/// Reading one object.
pub struct Cursor {
    object: ObjectAt,
    format: Format,
    offset: u64,
    /// Told by the first page: GZIP, ZSTD or none.
    inflate: Option<Inflate>,
    carry: Vec<u8>,
    header: Option<csv::Header>,
    records: u64,
    parquet: Option<ParquetFile>,
    ended: bool,
}

impl Cursor {
    pub fn new(object: ObjectAt, format: Format) -> Cursor {
        Cursor {
            object,
            format,
            offset: 0,
            inflate: None,
            carry: Vec::new(),
            header: None,
            records: 0,
            parquet: None,
            ended: false,
        }
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
            Source::Objects(objects) => objects.read(services, &mut self.queue).await,
            Source::Manifest { object, kind, format } => {
                let s3 = services.ok_or_else(no_services)?;
                let body = s3.get_object(object, None).await.map_err(reader_failed)?.body;
                let body = compression::inflate_all(body).map_err(failed)?;
                let text = String::from_utf8(body).map_err(|_| failed("The manifest is not UTF-8 text."))?;
                let (files, format) = match kind {
                    ManifestType::S3Inventory => manifest::inventory(&text, &object.bucket, format).map_err(failed)?,
                    ManifestType::AthenaData => (manifest::athena(&text).map_err(failed)?, format.clone()),
                };
                self.source = Source::Objects(Objects { pending: files.into(), format, current: None });
                Ok(true)
            }
            Source::Listing { bucket, prefix, token, ended, load } => loop {
                if let Some(objects) = load
                    && objects.read(services, &mut self.queue).await?
                {
                    return Ok(true);
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
                    // Each object of the page in turn: keep the page's keys, not its objects.
                    Some(objects) => {
                        objects.pending.extend(page.objects.into_iter().map(|o| ObjectAt::new(bucket.as_str(), o.key)))
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
    match cursor.format.input_type {
        InputType::Json => {
            let part = s3.get_object(&cursor.object, None).await.map_err(reader_failed)?;
            cursor.ended = true;
            let body = compression::inflate_all(part.body).map_err(failed)?;
            let before = queue.len();
            queue.extend(json_items(&body, cursor.format.items_pointer.as_deref())?);
            return Ok(queue.len() > before);
        }
        InputType::Parquet => {
            let file = cursor.parquet.get_or_insert_with(ParquetFile::default);
            let more = file.read_page(s3, &cursor.object, queue).await.map_err(failed)?;
            cursor.ended = !more;
            return Ok(more);
        }
        InputType::Jsonl | InputType::Csv => {}
    }
    let range = (cursor.offset, cursor.offset + PAGE_BYTES - 1);
    let part = s3.get_object(&cursor.object, Some(range)).await.map_err(reader_failed)?;
    cursor.offset += part.body.len() as u64;
    let last = part.body.is_empty() || cursor.offset >= part.size;
    let inflate = match &mut cursor.inflate {
        Some(inflate) => inflate,
        None => cursor.inflate.insert(Inflate::detect(&part.body).map_err(failed)?),
    };
    inflate.feed(&part.body, last, &mut cursor.carry).map_err(failed)?;
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

#[cfg(test)]
pub(crate) mod test_s3;
#[cfg(test)]
mod tests;
