//! S3 as a Distributed Map reads and writes it: an object's bytes by range
//! (the body as sent, not decoded as text), a bucket's listing page by page,
//! and an object written (its bytes as they are). Requests are made from S3's own model, as an
//! `aws-sdk:s3` Task makes them; a refusal is named as the SDK integration
//! names it (`S3.NoSuchKeyException`, with S3's message as the cause).

use orderflow_asl::{ListedObject, ObjectAt, ObjectPage, ObjectPart, TaskFailure};
use orderflow_value::{Map, Value};

use crate::catalog;
use crate::{Integrations, Problem};

impl Integrations {
    /// Sends one S3 operation: its result and the answer's raw body and headers.
    async fn s3(
        &self,
        action: &str,
        parameters: Value,
        payload: Option<(Vec<u8>, &str)>,
    ) -> Result<(Value, crate::http::Answer), TaskFailure> {
        let failed = |cause: String| TaskFailure { error: "States.Runtime".into(), cause };
        let service = catalog::service("s3").ok_or_else(|| failed("no service s3".into()))?;
        let model = service.model().map_err(failed)?;
        let operation = service.operation(action).map_err(failed)?;
        match self.exchange_with(model, operation, &parameters, payload).await {
            Ok((Ok(result), answer)) => Ok((result, answer)),
            Ok((Err(error), answer)) if error.code == "InvalidRange" => {
                // Past the end (an empty object): nothing more to read.
                Err(TaskFailure {
                    error: "InvalidRange".into(),
                    cause: answer.header("content-range").unwrap_or_default().into(),
                })
            }
            Ok((Err(error), _)) => Err(crate::sdk::failure(service, model, &error)),
            Err(Problem::Invalid(invalid)) => Err(crate::sdk::invalid(service, operation.name, &invalid)),
            Err(Problem::Unreachable(why)) => Err(failed(format!("S3 at {} did not answer: {why:?}", self.endpoint()))),
        }
    }

    pub(crate) async fn get_object_now(
        &self,
        object: &ObjectAt,
        range: Option<(u64, u64)>,
    ) -> Result<ObjectPart, TaskFailure> {
        let mut parameters = Map::with_capacity(5);
        parameters.insert("Bucket", Value::string(object.bucket.as_str()));
        parameters.insert("Key", Value::string(object.key.as_str()));
        if let Some(version) = &object.version_id {
            parameters.insert("VersionId", Value::string(version.as_str()));
        }
        if let Some(owner) = &object.expected_bucket_owner {
            parameters.insert("ExpectedBucketOwner", Value::string(owner.as_str()));
        }
        if let Some((from, to)) = range {
            parameters.insert("Range", Value::string(format!("bytes={from}-{to}")));
        }
        let (_, answer) = match self.s3("getObject", Value::Object(parameters), None).await {
            Ok(answered) => answered,
            Err(f) if f.error == "InvalidRange" => {
                // `bytes */<size>`.
                let size = f.cause.rsplit('/').next().and_then(|n| n.trim().parse().ok()).unwrap_or(0);
                return Ok(ObjectPart { body: Vec::new(), size });
            }
            Err(f) => return Err(f),
        };
        let size = match answer.header("content-range") {
            // `bytes <from>-<to>/<size>`
            Some(range) => range.rsplit('/').next().and_then(|n| n.trim().parse().ok()),
            None => answer.header("content-length").and_then(|n| n.parse().ok()),
        }
        .unwrap_or(answer.body.len() as u64);
        Ok(ObjectPart { body: answer.body.to_vec(), size })
    }

    pub(crate) async fn list_objects_now(
        &self,
        bucket: &str,
        prefix: &str,
        token: Option<&str>,
    ) -> Result<ObjectPage, TaskFailure> {
        let mut parameters = Map::with_capacity(3);
        parameters.insert("Bucket", Value::string(bucket));
        if !prefix.is_empty() {
            parameters.insert("Prefix", Value::string(prefix));
        }
        if let Some(token) = token {
            parameters.insert("ContinuationToken", Value::string(token));
        }
        let (result, _) = self.s3("listObjectsV2", Value::Object(parameters), None).await?;
        let objects = result
            .get("Contents")
            .and_then(Value::as_array)
            .map(|list| list.iter().map(listed).collect())
            .unwrap_or_default();
        let truncated = result.get("IsTruncated").and_then(Value::as_bool).unwrap_or(false);
        let next = result.get("NextContinuationToken").and_then(Value::as_str).filter(|_| truncated).map(str::to_owned);
        Ok(ObjectPage { objects, next })
    }

    pub(crate) async fn put_object_now(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), TaskFailure> {
        let mut parameters = Map::with_capacity(3);
        parameters.insert("Bucket", Value::string(bucket));
        parameters.insert("Key", Value::string(key));
        // The file's bytes as they are (a Task's Body would be sent as JSON text).
        let content_type = if key.ends_with(".jsonl") { "application/jsonl" } else { "application/json" };
        self.s3("putObject", Value::Object(parameters), Some((body, content_type))).await.map(|_| ())
    }
}

/// One of a listing's `Contents`.
fn listed(object: &Value) -> ListedObject {
    let text = |name: &str| object.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    let last_modified = match object.get("LastModified") {
        Some(Value::String(t)) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map(|t| t.unix_timestamp())
            .unwrap_or(0),
        Some(v) => v.as_f64().map_or(0, |n| n as i64),
        None => 0,
    };
    ListedObject {
        key: text("Key"),
        size: object.get("Size").and_then(Value::as_u64).unwrap_or(0),
        etag: text("ETag"),
        last_modified,
        storage_class: text("StorageClass"),
    }
}
