//! Step Functions' integration with itself (`states:startExecution`, `.sync`,
//! `.sync:2`): the child is an execution of this same server, started through
//! its StartExecution, with its own history; a `.sync` parent waits for its
//! end and is answered with its DescribeExecution, as AWS answers (members in
//! PascalCase and name order, dates in epoch milliseconds; `.sync` gives the
//! child's input and output as text, `.sync:2` as JSON). A parent stopped
//! while it waits stops its child. `aws-sdk:sfn` Tasks call this server's
//! own API. Other service Tasks go on to the server's services.

use std::sync::Arc;
use std::time::Duration;

use orderflow_asl::model::{Pattern, ServiceTask};
use orderflow_asl::{BoxFuture, Caller, Services, Submitted, TaskFailure};
use orderflow_value::Value as Doc;
use serde_json::{Map, Value, json};

use crate::Service;
use crate::error::ApiError;

/// The services an execution of `service` calls.
pub(crate) struct WithChildren<'s> {
    pub service: &'s Arc<Service>,
    pub others: Option<&'s dyn Services>,
}

impl Services for WithChildren<'_> {
    fn call<'a>(
        &'a self,
        task: &'a ServiceTask,
        parameters: &'a Doc,
        caller: Caller<'a>,
    ) -> BoxFuture<'a, Result<Doc, TaskFailure>> {
        if is_child(task) {
            return Box::pin(async move {
                let (started, request_id) = self.start(parameters).await?;
                Ok(Doc::from(&request_response(&started, &request_id)))
            });
        }
        // The Step Functions API an `aws-sdk:sfn` Task calls is this server's own.
        if task.sdk && &*task.service == "sfn" {
            return Box::pin(self.service.sdk_sfn(task, parameters));
        }
        match self.others {
            Some(others) => others.call(task, parameters, caller),
            None => Box::pin(std::future::ready(Err(no_services(task)))),
        }
    }

    fn get_object<'a>(
        &'a self,
        object: &'a orderflow_asl::ObjectAt,
        range: Option<(u64, u64)>,
    ) -> BoxFuture<'a, Result<orderflow_asl::ObjectPart, TaskFailure>> {
        match self.others {
            Some(others) => others.get_object(object, range),
            None => Box::pin(std::future::ready(Err(no_s3()))),
        }
    }

    fn list_objects<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<orderflow_asl::ObjectPage, TaskFailure>> {
        match self.others {
            Some(others) => others.list_objects(bucket, prefix, token),
            None => Box::pin(std::future::ready(Err(no_s3()))),
        }
    }

    fn put_object<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        body: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), TaskFailure>> {
        match self.others {
            Some(others) => others.put_object(bucket, key, body),
            None => Box::pin(std::future::ready(Err(no_s3()))),
        }
    }

    fn run_job<'a>(
        &'a self,
        task: &'a ServiceTask,
        parameters: &'a Doc,
        caller: Caller<'a>,
        submitted: Submitted<'a>,
    ) -> BoxFuture<'a, Result<Doc, TaskFailure>> {
        if !is_child(task) {
            return match self.others {
                Some(others) => others.run_job(task, parameters, caller, submitted),
                None => Box::pin(std::future::ready(Err(no_services(task)))),
            };
        }
        Box::pin(async move {
            let (started, request_id) = self.start(parameters).await?;
            submitted(Doc::from(&request_response(&started, &request_id)));
            let child = started["executionArn"].as_str().unwrap_or_default().to_owned();
            let mut guard = StopOnDrop { service: self.service.clone(), child: Some(child.clone()) };
            let described = self.until_done(&child).await;
            guard.child = None;
            let described = described.map_err(|e| failed_call(&e))?;
            let json_io = task.pattern == Pattern::Sync2;
            let shown = shown(&described, json_io);
            match described["status"].as_str() {
                Some("SUCCEEDED") => Ok(Doc::from(&shown)),
                _ => {
                    let mut cause = shown;
                    if let Some(map) = cause.as_object_mut() {
                        map.remove("Output");
                        map.remove("OutputDetails");
                    }
                    Err(TaskFailure { error: "States.TaskFailed".into(), cause: cause.to_string() })
                }
            }
        })
    }
}

fn is_child(task: &ServiceTask) -> bool {
    !task.sdk && &*task.service == "states"
}

fn no_services(task: &ServiceTask) -> TaskFailure {
    TaskFailure {
        error: "States.Runtime".into(),
        cause: format!(
            "{}:{} has nowhere to go: this server was started without an AWS endpoint for service Tasks",
            task.resource_type, task.resource
        ),
    }
}

impl WithChildren<'_> {
    /// StartExecution of the child: its answer and a request id.
    async fn start(&self, parameters: &Doc) -> Result<(Value, String), TaskFailure> {
        let parameters = Value::from(parameters);
        // The child's input: none is `{}`, text as it is, anything else as its JSON text.
        let input = match parameters.get("Input") {
            None | Some(Value::Null) => "{}".to_owned(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        };
        let mut request = json!({"stateMachineArn": parameters.get("StateMachineArn").cloned().unwrap_or(Value::Null), "input": input});
        if let Some(name) = parameters.get("Name") {
            request["name"] = name.clone();
        }
        let request_id = self.service.ids.uuid_v4();
        let started = self.service.call("StartExecution", request.to_string().as_bytes()).await.map_err(|e| {
            TaskFailure {
                error: format!("StepFunctions.{}Exception", e.code.name().trim_end_matches("Exception")),
                cause: format!(
                    "{} (Service: AWSStepFunctions; Status Code: 400; Error Code: {}; Request ID: {request_id}; Proxy: null)",
                    e.message,
                    e.code.name()
                ),
            }
        })?;
        Ok((started, request_id))
    }

    /// The child's DescribeExecution once it is no longer running.
    async fn until_done(&self, child: &str) -> Result<Value, ApiError> {
        let request = json!({"executionArn": child}).to_string();
        let mut wait = Duration::from_millis(5);
        loop {
            let described = self.service.call("DescribeExecution", request.as_bytes()).await?;
            if described["status"] != "RUNNING" {
                return Ok(described);
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_millis(100));
        }
    }
}

/// A parent that stops waiting (it was stopped, or its state failed) stops its child.
struct StopOnDrop {
    service: Arc<Service>,
    child: Option<String>,
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(child) = self.child.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let service = self.service.clone();
            runtime.spawn(async move {
                let request = json!({"executionArn": child}).to_string();
                let _ = service.call("StopExecution", request.as_bytes()).await;
            });
        }
    }
}

fn failed_call(e: &ApiError) -> TaskFailure {
    TaskFailure { error: "States.TaskFailed".into(), cause: format!("{}: {}", e.code.name(), e.message) }
}

/// The request-response answer: StartExecution's, with the SDK metadata AWS adds.
fn request_response(started: &Value, request_id: &str) -> Value {
    let body = started.to_string();
    let date =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc2822).unwrap_or_default();
    let headers = [
        ("Content-Length", body.len().to_string()),
        ("Content-Type", "application/x-amz-json-1.0".to_owned()),
        ("Date", date),
        ("x-amzn-RequestId", request_id.to_owned()),
    ];
    let all: Map<String, Value> = headers.iter().map(|(k, v)| ((*k).to_owned(), json!([v]))).collect();
    let one: Map<String, Value> = headers.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
    json!({
        "ExecutionArn": started["executionArn"],
        "SdkHttpMetadata": {"AllHttpHeaders": all, "HttpHeaders": one, "HttpStatusCode": 200},
        "SdkResponseMetadata": {"RequestId": request_id},
        "StartDate": millis(&started["startDate"]),
    })
}

/// DescribeExecution as a `.sync` task shows it: members in PascalCase and
/// name order, dates in epoch milliseconds, input and output as text
/// (`.sync`) or as JSON (`.sync:2`).
fn shown(described: &Value, json_io: bool) -> Value {
    let mut members: Vec<(String, Value)> = Vec::new();
    for (key, value) in described.as_object().into_iter().flatten() {
        let mut name = key.clone();
        if let Some(first) = name.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        let value = match key.as_str() {
            "startDate" | "stopDate" | "redriveDate" => millis(value),
            "input" | "output" if json_io => {
                value.as_str().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null)
            }
            "inputDetails" | "outputDetails" => json!({"Included": value["included"]}),
            _ => value.clone(),
        };
        members.push((name, value));
    }
    members.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Object(members.into_iter().collect())
}

/// Epoch seconds (the JSON protocol's) as epoch milliseconds.
fn millis(seconds: &Value) -> Value {
    seconds.as_f64().map_or(Value::Null, |s| json!((s * 1000.0).round() as i64))
}

/// A Distributed Map's reader or writer with no S3 behind the server.
fn no_s3() -> TaskFailure {
    TaskFailure {
        error: "States.Runtime".into(),
        cause:
            "orderflow serve has no AWS endpoint for S3: start it with its local AWS (the default) or --aws-endpoint"
                .into(),
    }
}
