//! A Distributed Map's ItemReader, ItemBatcher, ResultWriter and Label, in
//! either query language: JSONPath's `Parameters` and `...Path` fields,
//! JSONata's `Arguments` and `{% %}` numbers.

use orderflow_value::{Map, Value};

use super::fields::{given, jsonata_given, string};
use crate::model::{
    CsvDelimiter, CsvHeaders, DefinitionError, Distributed, Given, InputType, ItemBatcher, ItemReader, ManifestType,
    OutputType, ReaderConfig, ReaderSource, ResultWriter, WriterTransformation, def_err,
};
use crate::template::Template;

/// The Map fields only a DISTRIBUTED Map has.
pub(super) const FIELDS: &[&str] = &["ItemReader", "ItemBatcher", "ResultWriter", "Label"];

/// A Map's distributed fields: `None` for an inline Map (which may have none of them).
pub(super) fn parse(
    obj: &Map,
    at: &str,
    distributed: bool,
    express: bool,
    jsonata: bool,
) -> Result<Option<Distributed>, DefinitionError> {
    if !distributed {
        if let Some(field) = FIELDS.iter().find(|f| obj.contains_key(f)) {
            return Err(def_err(
                format!("{at}.{field}"),
                "is a Distributed Map's field: the ItemProcessor's ProcessorConfig needs Mode DISTRIBUTED",
            ));
        }
        return Ok(None);
    }
    let label = string(obj, "Label", &format!("{at}.Label"))?;
    if let Some(label) = &label {
        // AWS: up to 40 characters, none of those an ARN cannot hold.
        let bad = |c: char| c.is_whitespace() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c) || c.is_control();
        if label.chars().count() > 40 || label.chars().any(bad) {
            return Err(def_err(
                format!("{at}.Label"),
                "must be at most 40 characters, without whitespace, brackets, wildcards, punctuation (\" # % \\ ^ | ~ ` $ & , ; : /) or control characters",
            ));
        }
    }
    let reader = match obj.get("ItemReader") {
        None => None,
        Some(Value::Object(r)) => Some(reader(r, &format!("{at}.ItemReader"), jsonata)?),
        Some(_) => return Err(def_err(format!("{at}.ItemReader"), "must be an object")),
    };
    let batcher = match obj.get("ItemBatcher") {
        None => None,
        Some(Value::Object(b)) => Some(batcher(b, &format!("{at}.ItemBatcher"), jsonata)?),
        Some(_) => return Err(def_err(format!("{at}.ItemBatcher"), "must be an object")),
    };
    let writer = match obj.get("ResultWriter") {
        None => None,
        Some(Value::Object(w)) => Some(writer(w, &format!("{at}.ResultWriter"), jsonata)?),
        Some(_) => return Err(def_err(format!("{at}.ResultWriter"), "must be an object")),
    };
    Ok(Some(Distributed { reader, batcher, writer, label, express }))
}

/// `Parameters` or, in JSONata, `Arguments`: the request a reader or writer makes.
fn arguments(obj: &Map, at: &str, jsonata: bool) -> Result<Option<Template>, DefinitionError> {
    let (key, other) = if jsonata { ("Arguments", "Parameters") } else { ("Parameters", "Arguments") };
    if obj.contains_key(other) {
        return Err(def_err(
            format!("{at}.{other}"),
            format!("is not a field of a {} state's {}; use {key}", if jsonata { "JSONata" } else { "JSONPath" }, at),
        ));
    }
    let Some(value) = obj.get(key) else { return Ok(None) };
    let here = format!("{at}.{key}");
    if !matches!(value, Value::Object(_)) && !jsonata {
        return Err(def_err(here, "must be an object"));
    }
    let compiled = if jsonata { Template::compile_jsonata(value, key) } else { Template::compile(value) };
    compiled.map(Some).map_err(|(inner, message)| def_err(format!("{here}{inner}"), message))
}

fn only(obj: &Map, at: &str, allowed: &[&str]) -> Result<(), DefinitionError> {
    match obj.keys().find(|k| !allowed.contains(&&***k)) {
        Some(k) => Err(def_err(format!("{at}.{k}"), format!("is not a field here (fields: {})", allowed.join(", ")))),
        None => Ok(()),
    }
}

/// A count given literally, by path (JSONPath) or by expression (JSONata).
fn count(obj: &Map, key: &str, at: &str, jsonata: bool) -> Result<Option<Given<u64>>, DefinitionError> {
    let wanted = "must be a positive integer";
    let positive = |v: &Value| v.as_u64().filter(|n| *n > 0);
    if jsonata { jsonata_given(obj, key, at, positive, wanted) } else { given(obj, key, at, positive, wanted) }
}

fn reader(obj: &Map, at: &str, jsonata: bool) -> Result<ItemReader, DefinitionError> {
    only(obj, at, &["Resource", "Parameters", "Arguments", "ReaderConfig"])?;
    let source = match obj.get("Resource").and_then(Value::as_str) {
        Some("arn:aws:states:::s3:getObject") => ReaderSource::GetObject,
        Some("arn:aws:states:::s3:listObjectsV2") => ReaderSource::ListObjectsV2,
        Some(other) => {
            return Err(def_err(
                format!("{at}.Resource"),
                format!(
                    "'{other}' is not a reader: arn:aws:states:::s3:getObject or arn:aws:states:::s3:listObjectsV2"
                ),
            ));
        }
        None => {
            return Err(def_err(
                format!("{at}.Resource"),
                "is required: arn:aws:states:::s3:getObject or arn:aws:states:::s3:listObjectsV2",
            ));
        }
    };
    let arguments = arguments(obj, at, jsonata)?.ok_or_else(|| {
        def_err(
            at,
            if jsonata {
                "needs Arguments (Bucket, Key or Prefix)"
            } else {
                "needs Parameters (Bucket, Key or Prefix)"
            },
        )
    })?;
    let config_at = format!("{at}.ReaderConfig");
    let empty = Map::default();
    let config = match obj.get("ReaderConfig") {
        None => &empty,
        Some(Value::Object(c)) => c,
        Some(_) => return Err(def_err(config_at, "must be an object")),
    };
    only(
        config,
        &config_at,
        &[
            "InputType",
            "CSVHeaderLocation",
            "CSVHeaders",
            "CSVDelimiter",
            "MaxItems",
            "MaxItemsPath",
            "ItemsPointer",
            "Transformation",
            "ManifestType",
        ],
    )?;
    let field = |f: &str| format!("{config_at}.{f}");
    // The older `InputType: MANIFEST` is an S3 inventory, as `ManifestType: S3_INVENTORY` is.
    let mut legacy_manifest = false;
    let mut input_type = match string(config, "InputType", &field("InputType"))?.as_deref() {
        None => None,
        Some("JSON") => Some(InputType::Json),
        Some("JSONL") => Some(InputType::Jsonl),
        Some("CSV") => Some(InputType::Csv),
        Some("PARQUET") => Some(InputType::Parquet),
        Some("MANIFEST") => {
            legacy_manifest = true;
            Some(InputType::Csv)
        }
        Some(other) => {
            return Err(def_err(
                field("InputType"),
                format!("'{other}' is not one of CSV, JSON, JSONL, PARQUET, MANIFEST"),
            ));
        }
    };
    let manifest = match string(config, "ManifestType", &field("ManifestType"))?.as_deref() {
        None => legacy_manifest.then_some(ManifestType::S3Inventory),
        Some(_) if legacy_manifest => {
            return Err(def_err(field("ManifestType"), "is not given with InputType MANIFEST"));
        }
        Some("S3_INVENTORY") => {
            if input_type.is_some() {
                return Err(def_err(
                    field("InputType"),
                    "is not given with ManifestType S3_INVENTORY: an S3 inventory's files are CSV",
                ));
            }
            input_type = Some(InputType::Csv);
            Some(ManifestType::S3Inventory)
        }
        Some("ATHENA_DATA") => {
            if !matches!(input_type, Some(InputType::Csv | InputType::Jsonl | InputType::Parquet)) {
                return Err(def_err(
                    field("InputType"),
                    "must be CSV, JSONL or PARQUET with ManifestType ATHENA_DATA: the format of the files the manifest lists",
                ));
            }
            Some(ManifestType::AthenaData)
        }
        Some(other) => {
            return Err(def_err(field("ManifestType"), format!("'{other}' is not ATHENA_DATA or S3_INVENTORY")));
        }
    };
    if manifest.is_some() && source != ReaderSource::GetObject {
        return Err(def_err(config_at.as_str(), "a manifest is read with arn:aws:states:::s3:getObject"));
    }
    let load_and_flatten = match string(config, "Transformation", &field("Transformation"))?.as_deref() {
        None | Some("NONE") => false,
        Some("LOAD_AND_FLATTEN") => true,
        Some(other) => {
            return Err(def_err(field("Transformation"), format!("'{other}' is not NONE or LOAD_AND_FLATTEN")));
        }
    };
    match (source, input_type, load_and_flatten) {
        (ReaderSource::GetObject, None, _) => {
            return Err(def_err(
                field("InputType"),
                "is required to read an object (CSV, JSON, JSONL, PARQUET or MANIFEST), or ManifestType S3_INVENTORY",
            ));
        }
        (ReaderSource::GetObject, _, true) => {
            return Err(def_err(field("Transformation"), "LOAD_AND_FLATTEN applies to s3:listObjectsV2 only"));
        }
        (ReaderSource::ListObjectsV2, Some(_), false) => {
            return Err(def_err(field("InputType"), "applies to a listing only with Transformation LOAD_AND_FLATTEN"));
        }
        (ReaderSource::ListObjectsV2, None, true) => {
            return Err(def_err(field("InputType"), "is required with Transformation LOAD_AND_FLATTEN"));
        }
        _ => {}
    }
    let csv = input_type == Some(InputType::Csv);
    let csv_headers = match string(config, "CSVHeaderLocation", &field("CSVHeaderLocation"))?.as_deref() {
        None | Some("FIRST_ROW") => {
            if config.contains_key("CSVHeaders") {
                return Err(def_err(field("CSVHeaders"), "is given only with CSVHeaderLocation GIVEN"));
            }
            CsvHeaders::FirstRow
        }
        Some("GIVEN") => match config.get("CSVHeaders") {
            Some(Value::Array(names)) if !names.is_empty() => CsvHeaders::Given(
                names
                    .iter()
                    .map(|n| n.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| def_err(field("CSVHeaders"), "must be an array of strings"))?,
            ),
            _ => {
                return Err(def_err(
                    field("CSVHeaders"),
                    "must be a non-empty array of strings with CSVHeaderLocation GIVEN",
                ));
            }
        },
        Some(other) => return Err(def_err(field("CSVHeaderLocation"), format!("'{other}' is not FIRST_ROW or GIVEN"))),
    };
    let csv_delimiter = match string(config, "CSVDelimiter", &field("CSVDelimiter"))? {
        None => CsvDelimiter::Comma,
        Some(name) => CsvDelimiter::parse(&name).ok_or_else(|| {
            def_err(field("CSVDelimiter"), format!("'{name}' is not one of COMMA, PIPE, SEMICOLON, SPACE, TAB"))
        })?,
    };
    if !csv && (config.contains_key("CSVHeaderLocation") || config.contains_key("CSVDelimiter")) {
        return Err(def_err(
            config_at.as_str(),
            "CSVHeaderLocation and CSVDelimiter apply to InputType CSV or MANIFEST only",
        ));
    }
    let items_pointer = string(config, "ItemsPointer", &field("ItemsPointer"))?;
    if let Some(pointer) = &items_pointer
        && (input_type != Some(InputType::Json) || !(pointer.is_empty() || pointer.starts_with('/')))
    {
        return Err(def_err(field("ItemsPointer"), "is a JSON Pointer (/a/b) into an InputType JSON object"));
    }
    Ok(ItemReader {
        source,
        arguments,
        config: ReaderConfig {
            input_type,
            csv_headers,
            csv_delimiter,
            items_pointer,
            // 0: no limit.
            max_items: if jsonata {
                jsonata_given(config, "MaxItems", &config_at, Value::as_u64, "must be a non-negative integer")?
            } else {
                given(config, "MaxItems", &config_at, Value::as_u64, "must be a non-negative integer")?
            },
            load_and_flatten,
            manifest,
        },
    })
}

fn batcher(obj: &Map, at: &str, jsonata: bool) -> Result<ItemBatcher, DefinitionError> {
    let mut allowed = vec!["MaxItemsPerBatch", "MaxInputBytesPerBatch", "BatchInput"];
    if !jsonata {
        allowed.extend(["MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"]);
    }
    only(obj, at, &allowed)?;
    let max_items = count(obj, "MaxItemsPerBatch", at, jsonata)?;
    let max_bytes = count(obj, "MaxInputBytesPerBatch", at, jsonata)?;
    if max_items.is_none() && max_bytes.is_none() {
        return Err(def_err(at, "needs MaxItemsPerBatch or MaxInputBytesPerBatch (or their Path forms)"));
    }
    let batch_input = match obj.get("BatchInput") {
        None => None,
        Some(v) if jsonata => Some(
            Template::compile_jsonata(v, "BatchInput")
                .map_err(|(inner, message)| def_err(format!("{at}.BatchInput{inner}"), message))?,
        ),
        Some(v @ Value::Object(_)) => {
            Some(Template::compile(v).map_err(|(inner, message)| def_err(format!("{at}.BatchInput{inner}"), message))?)
        }
        Some(_) => return Err(def_err(format!("{at}.BatchInput"), "must be an object")),
    };
    Ok(ItemBatcher { max_items, max_bytes, batch_input })
}

fn writer(obj: &Map, at: &str, jsonata: bool) -> Result<ResultWriter, DefinitionError> {
    only(obj, at, &["Resource", "Parameters", "Arguments", "WriterConfig"])?;
    match obj.get("Resource").and_then(Value::as_str) {
        Some("arn:aws:states:::s3:putObject") => {}
        None if !obj.contains_key("Resource") => {}
        _ => return Err(def_err(format!("{at}.Resource"), "must be arn:aws:states:::s3:putObject")),
    }
    let arguments = arguments(obj, at, jsonata)?;
    if arguments.is_some() != obj.contains_key("Resource") {
        return Err(def_err(
            at,
            "needs Resource and its Bucket and Prefix together (or WriterConfig alone, to shape the results without writing them)",
        ));
    }
    let config_at = format!("{at}.WriterConfig");
    let (output_type, transformation, configured) = match obj.get("WriterConfig") {
        None => (OutputType::Json, WriterTransformation::None, false),
        Some(Value::Object(config)) => {
            only(config, &config_at, &["OutputType", "Transformation"])?;
            let output_type = match string(config, "OutputType", &format!("{config_at}.OutputType"))?.as_deref() {
                None | Some("JSON") => OutputType::Json,
                Some("JSONL") => OutputType::Jsonl,
                Some(other) => {
                    return Err(def_err(format!("{config_at}.OutputType"), format!("'{other}' is not JSON or JSONL")));
                }
            };
            let transformation =
                match string(config, "Transformation", &format!("{config_at}.Transformation"))?.as_deref() {
                    None | Some("NONE") => WriterTransformation::None,
                    Some("COMPACT") => WriterTransformation::Compact,
                    Some("FLATTEN") => WriterTransformation::Flatten,
                    Some(other) => {
                        return Err(def_err(
                            format!("{config_at}.Transformation"),
                            format!("'{other}' is not NONE, COMPACT or FLATTEN"),
                        ));
                    }
                };
            (output_type, transformation, true)
        }
        Some(_) => return Err(def_err(config_at, "must be an object")),
    };
    if arguments.is_none() && !configured {
        return Err(def_err(at, "needs Resource with Bucket and Prefix, or WriterConfig"));
    }
    Ok(ResultWriter { arguments, output_type, transformation, configured })
}

#[cfg(test)]
mod tests {
    use orderflow_value::Map;

    use super::reader;
    use crate::model::{InputType, ManifestType};

    fn config(reader_config: &str, resource: &str) -> Result<super::ItemReader, String> {
        let text = format!(
            r#"{{"Resource": "arn:aws:states:::s3:{resource}", "ReaderConfig": {reader_config},
                "Parameters": {{"Bucket": "b", "Key": "k"}}}}"#
        );
        let obj: Map = match orderflow_value::parse(&text).unwrap() {
            orderflow_value::Value::Object(map) => map,
            _ => unreachable!(),
        };
        reader(&obj, "States.M.ItemReader", false).map_err(|e| e.to_string())
    }

    #[test]
    fn every_input_type_and_manifest_type_aws_documents_is_read() {
        let parquet = config(r#"{"InputType": "PARQUET"}"#, "getObject").unwrap();
        assert_eq!((parquet.config.input_type, parquet.config.manifest), (Some(InputType::Parquet), None));
        // The older spelling of an S3 inventory, and the current one: CSV data files either way.
        for given in [r#"{"InputType": "MANIFEST"}"#, r#"{"ManifestType": "S3_INVENTORY"}"#] {
            let inventory = config(given, "getObject").unwrap();
            assert_eq!(inventory.config.input_type, Some(InputType::Csv));
            assert_eq!(inventory.config.manifest, Some(ManifestType::S3Inventory));
        }
        for (input, expected) in [("CSV", InputType::Csv), ("JSONL", InputType::Jsonl), ("PARQUET", InputType::Parquet)]
        {
            let athena =
                config(&format!(r#"{{"ManifestType": "ATHENA_DATA", "InputType": "{input}"}}"#), "getObject").unwrap();
            assert_eq!(
                (athena.config.input_type, athena.config.manifest),
                (Some(expected), Some(ManifestType::AthenaData))
            );
        }
        let flattened = config(r#"{"InputType": "PARQUET", "Transformation": "LOAD_AND_FLATTEN"}"#, "listObjectsV2");
        assert_eq!(flattened.unwrap().config.input_type, Some(InputType::Parquet));
        // CSVDelimiter and CSVHeaderLocation apply to an inventory's CSV files too.
        assert!(config(r#"{"InputType": "MANIFEST", "CSVDelimiter": "COMMA"}"#, "getObject").is_ok());
    }

    #[test]
    fn combinations_aws_rules_out_are_refused() {
        for (given, resource, says) in [
            (
                r#"{"ManifestType": "S3_INVENTORY", "InputType": "CSV"}"#,
                "getObject",
                "is not given with ManifestType S3_INVENTORY",
            ),
            (r#"{"ManifestType": "ATHENA_DATA", "InputType": "JSON"}"#, "getObject", "must be CSV, JSONL or PARQUET"),
            (r#"{"ManifestType": "ATHENA_DATA"}"#, "getObject", "must be CSV, JSONL or PARQUET"),
            (
                r#"{"ManifestType": "S3_INVENTORY", "InputType": "MANIFEST"}"#,
                "getObject",
                "is not given with InputType MANIFEST",
            ),
            (r#"{"ManifestType": "INVENTORY"}"#, "getObject", "is not ATHENA_DATA or S3_INVENTORY"),
            (r#"{"InputType": "ORC"}"#, "getObject", "is not one of CSV, JSON, JSONL, PARQUET, MANIFEST"),
            (
                r#"{"InputType": "PARQUET", "CSVDelimiter": "PIPE"}"#,
                "getObject",
                "apply to InputType CSV or MANIFEST only",
            ),
            (r#"{"InputType": "PARQUET", "ItemsPointer": "/a"}"#, "getObject", "is a JSON Pointer"),
            (
                r#"{"ManifestType": "S3_INVENTORY", "Transformation": "LOAD_AND_FLATTEN"}"#,
                "listObjectsV2",
                "is read with arn:aws:states:::s3:getObject",
            ),
        ] {
            let err = config(given, resource).unwrap_err();
            assert!(err.contains(says), "{given}: {err}");
        }
    }
}
