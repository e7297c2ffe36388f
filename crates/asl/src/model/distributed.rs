//! A Distributed Map's own fields: where its items come from (ItemReader),
//! how they are grouped (ItemBatcher), where its results go (ResultWriter),
//! its Label and its children's execution type.

use super::Given;
use crate::template::Template;

/// What a Map in DISTRIBUTED mode adds to an inline one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Distributed {
    pub reader: Option<ItemReader>,
    pub batcher: Option<ItemBatcher>,
    pub writer: Option<ResultWriter>,
    /// Names the Map Run and its children (`mapRun:Machine/Label:id`); the state's name when absent.
    pub label: Option<String>,
    /// The children's type (ProcessorConfig.ExecutionType): EXPRESS children keep no history.
    pub express: bool,
}

/// An ItemReader: an S3 object's items, or a bucket's listing.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemReader {
    pub source: ReaderSource,
    /// `Parameters` (JSONPath) or `Arguments` (JSONata): Bucket and Key, or
    /// Bucket and Prefix for a listing.
    pub arguments: Template,
    pub config: ReaderConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReaderSource {
    /// `arn:aws:states:::s3:getObject`
    GetObject,
    /// `arn:aws:states:::s3:listObjectsV2`
    ListObjectsV2,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReaderConfig {
    /// How an object's content is read; a listing without a
    /// Transformation lists the objects themselves.
    pub input_type: Option<InputType>,
    pub csv_headers: CsvHeaders,
    pub csv_delimiter: CsvDelimiter,
    /// A JSON Pointer (`/data/items`) to the array inside a JSON object.
    pub items_pointer: Option<String>,
    pub max_items: Option<Given<u64>>,
    /// `LOAD_AND_FLATTEN`: a listing's objects are read, their items together the items.
    pub load_and_flatten: bool,
    /// The object is a manifest: its data files' items are the items, read
    /// as `input_type` (CSV for an S3 inventory).
    pub manifest: Option<ManifestType>,
}

/// How an object's (or a manifest's data files') content is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    Json,
    Jsonl,
    Csv,
    Parquet,
}

impl InputType {
    pub fn name(self) -> &'static str {
        match self {
            InputType::Json => "JSON",
            InputType::Jsonl => "JSONL",
            InputType::Csv => "CSV",
            InputType::Parquet => "PARQUET",
        }
    }
}

/// A manifest that lists the data files (`ReaderConfig.ManifestType`, or
/// the older `InputType: MANIFEST` for an S3 inventory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestType {
    /// An Athena UNLOAD's `<QueryId>-manifest.csv`: one `s3://` URI per line.
    AthenaData,
    /// An S3 inventory's `manifest.json`: its gzipped CSV files, columns
    /// named by its `fileSchema`.
    S3Inventory,
}

/// Where a CSV's column names come from.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum CsvHeaders {
    /// The object's first row (`CSVHeaderLocation: FIRST_ROW`).
    #[default]
    FirstRow,
    /// `CSVHeaderLocation: GIVEN` with `CSVHeaders`: every row is data.
    Given(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvDelimiter {
    #[default]
    Comma,
    Pipe,
    Semicolon,
    Space,
    Tab,
}

impl CsvDelimiter {
    pub fn byte(self) -> u8 {
        match self {
            CsvDelimiter::Comma => b',',
            CsvDelimiter::Pipe => b'|',
            CsvDelimiter::Semicolon => b';',
            CsvDelimiter::Space => b' ',
            CsvDelimiter::Tab => b'\t',
        }
    }

    pub fn parse(name: &str) -> Option<CsvDelimiter> {
        Some(match name {
            "COMMA" => CsvDelimiter::Comma,
            "PIPE" => CsvDelimiter::Pipe,
            "SEMICOLON" => CsvDelimiter::Semicolon,
            "SPACE" => CsvDelimiter::Space,
            "TAB" => CsvDelimiter::Tab,
            _ => return None,
        })
    }
}

/// An ItemBatcher: children get batches of items, each batch an object
/// `{"Items": [...]}` with BatchInput's members beside them.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemBatcher {
    pub max_items: Option<Given<u64>>,
    pub max_bytes: Option<Given<u64>>,
    pub batch_input: Option<Template>,
}

/// A ResultWriter: the children's results go to S3 (a manifest and result
/// files under Prefix) instead of into the state's output.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultWriter {
    /// `Parameters` (JSONPath) or `Arguments` (JSONata): Bucket and Prefix.
    /// Absent: the results are shaped by WriterConfig, not written.
    pub arguments: Option<Template>,
    pub output_type: OutputType,
    pub transformation: WriterTransformation,
    /// Whether WriterConfig was given (it changes what the state outputs).
    pub configured: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputType {
    #[default]
    Json,
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriterTransformation {
    /// Each child's whole record (ExecutionArn, Input, Output, Status, ...).
    #[default]
    None,
    /// Each child's output (its error, for a failed child).
    Compact,
    /// Compact, with batched children's array outputs flattened into one list.
    Flatten,
}
