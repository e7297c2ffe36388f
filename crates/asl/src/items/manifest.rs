//! Manifests that list a Distributed Map's data files: an S3 inventory's
//! `manifest.json` (its gzipped CSV files, columns named by `fileSchema`)
//! and an Athena UNLOAD's `<QueryId>-manifest.csv` (one `s3://` URI per
//! line). Their data files' items are the Map's items.

use orderflow_value::Value;

use super::Format;
use crate::executor::ObjectAt;
use crate::model::{CsvHeaders, InputType};

/// An S3 inventory's data files, and how they read: CSV with the
/// manifest's `fileSchema` as the columns' names (unless the ReaderConfig
/// gives CSVHeaders). `bucket` holds the manifest; the data files are in
/// the manifest's `destinationBucket`.
pub fn inventory(text: &str, bucket: &str, configured: &Format) -> Result<(Vec<ObjectAt>, Format), String> {
    let manifest =
        orderflow_value::parse(text).map_err(|e| format!("The S3 inventory manifest is not valid JSON: {e}"))?;
    let Value::Object(manifest) = manifest else {
        return Err("The S3 inventory manifest is not a JSON object.".into());
    };
    let format_name = manifest.get("fileFormat").and_then(Value::as_str).unwrap_or("CSV");
    if !format_name.eq_ignore_ascii_case("CSV") {
        return Err(format!(
            "The S3 inventory's fileFormat is {format_name}: a Distributed Map reads an S3 inventory in CSV format."
        ));
    }
    let headers = match &configured.headers {
        CsvHeaders::Given(names) => CsvHeaders::Given(names.clone()),
        CsvHeaders::FirstRow => {
            let schema = manifest
                .get("fileSchema")
                .and_then(Value::as_str)
                .ok_or("The S3 inventory manifest has no fileSchema naming its columns.")?;
            CsvHeaders::Given(schema.split(',').map(|name| name.trim().to_owned()).collect())
        }
    };
    let destination = match manifest.get("destinationBucket").and_then(Value::as_str) {
        Some(arn) => arn.strip_prefix("arn:aws:s3:::").unwrap_or(arn).to_owned(),
        None => bucket.to_owned(),
    };
    let files = match manifest.get("files") {
        Some(Value::Array(files)) => files
            .iter()
            .enumerate()
            .map(|(i, file)| {
                file.get("key")
                    .and_then(Value::as_str)
                    .map(|key| ObjectAt::new(destination.as_str(), key))
                    .ok_or_else(|| format!("The S3 inventory manifest's files[{i}] has no key."))
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err("The S3 inventory manifest has no files array.".into()),
    };
    let format = Format { input_type: InputType::Csv, headers, ..configured.clone() };
    Ok((files, format))
}

/// An Athena data manifest's files: every line an `s3://bucket/key` URI.
pub fn athena(text: &str) -> Result<Vec<ObjectAt>, String> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i, line.trim()))
        .filter(|(_, line)| !line.is_empty())
        .map(|(i, line)| {
            s3_uri(line).ok_or_else(|| {
                format!("Line {} of the Athena manifest is not an S3 URI (s3://bucket/key): {line}", i + 1)
            })
        })
        .collect()
}

/// `s3://bucket/key` as its bucket and key.
fn s3_uri(uri: &str) -> Option<ObjectAt> {
    let scheme = uri.get(..5)?;
    if !scheme.eq_ignore_ascii_case("s3://") {
        return None;
    }
    let (bucket, key) = uri[5..].split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then(|| ObjectAt::new(bucket, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CsvDelimiter;

    fn csv() -> Format {
        Format {
            input_type: InputType::Csv,
            headers: CsvHeaders::FirstRow,
            delimiter: CsvDelimiter::Comma.byte(),
            items_pointer: None,
        }
    }

    /// The manifest of the developer guide's S3 inventory example.
    const GUIDE: &str = r#"{
      "sourceBucket" : "amzn-s3-demo-source-bucket",
      "destinationBucket" : "arn:aws:s3:::amzn-s3-demo-inventory",
      "version" : "2016-11-30",
      "creationTimestamp" : "1668560400000",
      "fileFormat" : "CSV",
      "fileSchema" : "Bucket, Key, Size, LastModifiedDate",
      "files" : [ {
        "key" : "amzn-s3-demo-bucket/destination-prefix/data/20e55de8-9c21-45d4-99b9-46c732000228.csv.gz",
        "size" : 7300,
        "MD5checksum" : "a7ff4a1d4164c3cd55851055ec8f6b20"
      } ]
    }"#;

    #[test]
    fn an_inventory_names_its_files_and_columns() {
        let (files, format) = inventory(GUIDE, "ignored", &csv()).unwrap();
        assert_eq!(
            files,
            vec![ObjectAt::new(
                "amzn-s3-demo-inventory",
                "amzn-s3-demo-bucket/destination-prefix/data/20e55de8-9c21-45d4-99b9-46c732000228.csv.gz"
            )]
        );
        assert_eq!(
            format.headers,
            CsvHeaders::Given(vec!["Bucket".into(), "Key".into(), "Size".into(), "LastModifiedDate".into()])
        );
    }

    #[test]
    fn an_inventory_in_another_format_is_refused() {
        let orc = GUIDE.replace("\"CSV\"", "\"ORC\"");
        assert!(inventory(&orc, "b", &csv()).unwrap_err().contains("fileFormat is ORC"));
        assert!(inventory("[1]", "b", &csv()).unwrap_err().contains("not a JSON object"));
        assert!(inventory(r#"{"fileSchema":"Bucket"}"#, "b", &csv()).unwrap_err().contains("no files"));
    }

    #[test]
    fn an_athena_manifest_lists_uris() {
        let files = athena("s3://results/q/1.gz\n\nS3://results/q/2.gz\r\n").unwrap();
        assert_eq!(files, vec![ObjectAt::new("results", "q/1.gz"), ObjectAt::new("results", "q/2.gz")]);
        assert!(athena("s3://results/q/1\nhttps://x/y\n").unwrap_err().starts_with("Line 2 "));
        assert!(athena("s3://bucket-only\n").is_err());
    }
}
