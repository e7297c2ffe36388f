//! An in-memory S3 for the readers' unit tests: objects by bucket and key,
//! with the byte ranges each read asked for.

use std::collections::BTreeMap;
use std::sync::Mutex;

use orderflow_value::Value;

use crate::executor::{BoxFuture, Caller, ListedObject, ObjectAt, ObjectPage, ObjectPart, Services, TaskFailure};
use crate::model::ServiceTask;

#[derive(Default)]
pub struct TestS3 {
    pub objects: BTreeMap<(String, String), Vec<u8>>,
    /// Every read: bucket, key and the bytes it returned.
    pub reads: Mutex<Vec<(String, String, usize)>>,
}

impl TestS3 {
    pub fn with(mut self, bucket: &str, key: &str, body: impl Into<Vec<u8>>) -> TestS3 {
        self.objects.insert((bucket.to_owned(), key.to_owned()), body.into());
        self
    }

    /// The most bytes any one read returned.
    pub fn largest_read(&self) -> usize {
        self.reads.lock().unwrap().iter().map(|r| r.2).max().unwrap_or(0)
    }
}

impl Services for TestS3 {
    fn call<'a>(
        &'a self,
        _task: &'a ServiceTask,
        _parameters: &'a Value,
        _caller: Caller<'a>,
    ) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        unreachable!("the readers' tests call no service Task")
    }

    fn get_object<'a>(
        &'a self,
        object: &'a ObjectAt,
        range: Option<(u64, u64)>,
    ) -> BoxFuture<'a, Result<ObjectPart, TaskFailure>> {
        let (bucket, key) = (object.bucket.as_str(), object.key.as_str());
        let answer = match self.objects.get(&(bucket.to_owned(), key.to_owned())) {
            None => Err(TaskFailure { error: "S3.NoSuchKey".into(), cause: format!("no object {bucket}/{key}") }),
            Some(body) => {
                let size = body.len() as u64;
                let (from, to) = range.unwrap_or((0, size.saturating_sub(1)));
                let body =
                    if from >= size { Vec::new() } else { body[from as usize..=(to.min(size - 1)) as usize].to_vec() };
                self.reads.lock().unwrap().push((bucket.to_owned(), key.to_owned(), body.len()));
                Ok(ObjectPart { body, size })
            }
        };
        Box::pin(std::future::ready(answer))
    }

    fn list_objects<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
        _token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ObjectPage, TaskFailure>> {
        let objects = self
            .objects
            .iter()
            .filter(|((b, k), _)| b == bucket && k.starts_with(prefix))
            .map(|((_, key), body)| ListedObject { key: key.clone(), size: body.len() as u64, ..Default::default() })
            .collect();
        Box::pin(std::future::ready(Ok(ObjectPage { objects, next: None })))
    }
}
