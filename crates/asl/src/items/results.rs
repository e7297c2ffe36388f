//! A Distributed Map's ResultWriter: each child execution's result, as a
//! record (WriterConfig Transformation NONE) or its output alone (COMPACT,
//! FLATTEN), into `SUCCEEDED_n` / `FAILED_n` / `PENDING_n` files (a JSON
//! array, or JSON Lines) under `Prefix/<map run id>/`, and a `manifest.json`
//! that lists them. A file is written once it holds `PART_BYTES`, so
//! results stream out instead of piling up.

use orderflow_value::{Map, Value};

use crate::model::{OutputType, WriterTransformation};

/// A result file is written once it holds this many bytes.
pub const PART_BYTES: usize = 64 << 20;

/// Which file a child's result goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
    Pending,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Succeeded => "SUCCEEDED",
            Outcome::Failed => "FAILED",
            Outcome::Pending => "PENDING",
        }
    }
}

/// A file to write: its key and content.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub key: String,
    pub body: Vec<u8>,
}

struct Part {
    body: Vec<u8>,
    records: usize,
    next: usize,
    written: Vec<(String, usize)>,
}

/// The result files of one Map Run, filled as its children end.
pub struct ResultFiles {
    bucket: String,
    /// `Prefix/<map run id>`, no trailing slash.
    folder: String,
    map_run_arn: String,
    output_type: OutputType,
    parts: [Part; 3],
}

impl ResultFiles {
    pub fn new(bucket: &str, prefix: &str, map_run_arn: &str, output_type: OutputType) -> ResultFiles {
        let id = map_run_arn.rsplit(':').next().unwrap_or(map_run_arn);
        let prefix = prefix.trim_end_matches('/');
        let folder = if prefix.is_empty() { id.to_owned() } else { format!("{prefix}/{id}") };
        let part = || Part { body: Vec::new(), records: 0, next: 0, written: Vec::new() };
        ResultFiles {
            bucket: bucket.to_owned(),
            folder,
            map_run_arn: map_run_arn.to_owned(),
            output_type,
            parts: [part(), part(), part()],
        }
    }

    /// Adds one result; the file to write now, when its part is full.
    pub fn add(&mut self, outcome: Outcome, record: &Value) -> Option<File> {
        let json = self.output_type == OutputType::Json;
        let part = &mut self.parts[outcome as usize];
        if json {
            part.body.push(if part.records == 0 { b'[' } else { b',' });
        }
        part.body.extend_from_slice(record.to_json().as_bytes());
        if !json {
            part.body.push(b'\n');
        }
        part.records += 1;
        (part.body.len() >= PART_BYTES).then(|| self.flush(outcome)).flatten()
    }

    /// The file of `outcome`'s results so far, if there are any.
    fn flush(&mut self, outcome: Outcome) -> Option<File> {
        let json = self.output_type == OutputType::Json;
        let extension = if json { "json" } else { "jsonl" };
        let part = &mut self.parts[outcome as usize];
        if part.records == 0 {
            return None;
        }
        if json {
            part.body.push(b']');
        }
        let key = format!("{}/{}_{}.{extension}", self.folder, outcome.name(), part.next);
        part.next += 1;
        part.records = 0;
        let body = std::mem::take(&mut part.body);
        part.written.push((key.clone(), body.len()));
        Some(File { key, body })
    }

    /// The files not yet written, then the manifest (written last, as AWS does).
    pub fn finish(mut self) -> (Vec<File>, File) {
        let mut files: Vec<File> =
            [Outcome::Succeeded, Outcome::Failed, Outcome::Pending].into_iter().filter_map(|o| self.flush(o)).collect();
        let listed = |part: &Part| {
            Value::array(
                part.written
                    .iter()
                    .map(|(key, size)| {
                        let mut file = Map::with_capacity(2);
                        file.insert("Key", Value::string(key.as_str()));
                        file.insert("Size", Value::from(*size as u64));
                        Value::Object(file)
                    })
                    .collect(),
            )
        };
        let mut results = Map::with_capacity(3);
        results.insert("FAILED", listed(&self.parts[Outcome::Failed as usize]));
        results.insert("PENDING", listed(&self.parts[Outcome::Pending as usize]));
        results.insert("SUCCEEDED", listed(&self.parts[Outcome::Succeeded as usize]));
        let mut manifest = Map::with_capacity(3);
        manifest.insert("DestinationBucket", Value::string(self.bucket.as_str()));
        manifest.insert("MapRunArn", Value::string(self.map_run_arn.as_str()));
        manifest.insert("ResultFiles", Value::Object(results));
        let manifest = File { key: self.manifest_key(), body: Value::Object(manifest).to_json().into_bytes() };
        files.retain(|f| !f.body.is_empty());
        (files, manifest)
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn manifest_key(&self) -> String {
        format!("{}/manifest.json", self.folder)
    }
}

/// One child's result as WriterConfig's Transformation shapes it: with NONE
/// the whole record; with COMPACT its output (a failed child's Error and
/// Cause); with FLATTEN the same, an array output's members each a result.
pub fn shaped(transformation: WriterTransformation, record: Value, output: Option<&Value>) -> Vec<Value> {
    match transformation {
        WriterTransformation::None => vec![record],
        WriterTransformation::Compact | WriterTransformation::Flatten => {
            let compact = match output {
                Some(output) => output.clone(),
                None => {
                    let mut failed = Map::with_capacity(2);
                    for key in ["Error", "Cause"] {
                        if let Some(v) = record.get(key) {
                            failed.insert(key, v.clone());
                        }
                    }
                    Value::Object(failed)
                }
            };
            match compact {
                Value::Array(items) if transformation == WriterTransformation::Flatten => {
                    std::sync::Arc::unwrap_or_clone(items)
                }
                other => vec![other],
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_under_the_map_runs_folder_and_a_manifest_listing_them() {
        let arn = "arn:aws:states:us-east-1:123456789012:mapRun:m/Label:0f6e";
        let mut files = ResultFiles::new("b", "out/", arn, OutputType::Json);
        assert!(files.add(Outcome::Succeeded, &Value::from(1u64)).is_none());
        assert!(files.add(Outcome::Succeeded, &Value::from(2u64)).is_none());
        let (written, manifest) = files.finish();
        assert_eq!(written, [File { key: "out/0f6e/SUCCEEDED_0.json".into(), body: b"[1,2]".to_vec() }]);
        assert_eq!(manifest.key, "out/0f6e/manifest.json");
        assert_eq!(
            String::from_utf8(manifest.body).unwrap(),
            r#"{"DestinationBucket":"b","MapRunArn":"arn:aws:states:us-east-1:123456789012:mapRun:m/Label:0f6e","ResultFiles":{"FAILED":[],"PENDING":[],"SUCCEEDED":[{"Key":"out/0f6e/SUCCEEDED_0.json","Size":5}]}}"#
        );
    }

    #[test]
    fn json_lines_one_result_a_line() {
        let mut files = ResultFiles::new("b", "", "arn:x:mapRun:m/L:id", OutputType::Jsonl);
        files.add(Outcome::Failed, &Value::from("e"));
        files.add(Outcome::Failed, &Value::from("f"));
        let (written, _) = files.finish();
        assert_eq!(written, [File { key: "id/FAILED_0.jsonl".into(), body: b"\"e\"\n\"f\"\n".to_vec() }]);
    }
}
