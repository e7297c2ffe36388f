//! What an execution calls out to: task invokers, mocks and task tokens.

use orderflow_value::{Value, json};

use crate::model::ServiceTask;

pub use super::BoxFuture;

/// A failed task, as Step Functions sees it: for a Lambda function's error the
/// `error` is its `errorType` and the `cause` Lambda's whole error document as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskFailure {
    pub error: String,
    pub cause: String,
}

impl TaskFailure {
    /// The failure of a Lambda function that returned `errorType`/`errorMessage`:
    /// its error document as the Rust runtime (lambda_runtime) posts it.
    pub fn function_error(error_type: &str, error_message: &str) -> TaskFailure {
        TaskFailure {
            error: error_type.to_owned(),
            cause: json!({"errorType": error_type, "errorMessage": error_message}).to_string(),
        }
    }
}

/// Where TestState at inspection level TRACE keeps an HTTP Task's exchange.
#[derive(Debug, Default)]
pub struct HttpTrace {
    /// Whether the request shown keeps what the task's EventBridge
    /// connection added to it (its authorization, header, query and body
    /// parameters): TestState's `revealSecrets`.
    pub reveal_secrets: bool,
    pub exchange: std::sync::Mutex<Option<HttpExchange>>,
}

/// An HTTP Task's request, and the answer when one came.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpExchange {
    pub request: HttpRequestShown,
    pub response: Option<HttpResponseShown>,
}

/// A request as TestState shows it (`inspectionData.request`).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequestShown {
    /// `https` or `http`.
    pub protocol: String,
    pub method: String,
    pub url: String,
    /// In the order sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// An answer as TestState shows it (`inspectionData.response`).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponseShown {
    pub protocol: String,
    pub status_code: u16,
    pub status_message: String,
    /// In the order received.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Where Task states send their work: in-process handlers, a Lambda Invoke
/// API endpoint, or a test double.
pub trait Invoker: Send + Sync {
    fn invoke<'a>(&'a self, function: &'a str, payload: &'a Value) -> BoxFuture<'a, Result<Value, TaskFailure>>;

    /// An invocation with `LogType: Tail`: the answer, and the tail of the
    /// function's log (base64, as Lambda's `X-Amz-Log-Result`) when this
    /// invoker has one.
    fn invoke_tail<'a>(
        &'a self,
        function: &'a str,
        payload: &'a Value,
    ) -> BoxFuture<'a, Result<(Value, Option<String>), TaskFailure>> {
        Box::pin(async move { self.invoke(function, payload).await.map(|answer| (answer, None)) })
    }
}

/// Where Task states that call an AWS service other than Lambda send their
/// requests (`dynamodb:putItem`, `aws-sdk:s3:getObject`): the Parameters
/// are the request; the answer is the task's result as AWS shapes it, or
/// the failure with AWS's error name and cause.
pub trait Services: Send + Sync {
    fn call<'a>(
        &'a self,
        task: &'a ServiceTask,
        parameters: &'a Value,
        caller: Caller<'a>,
    ) -> BoxFuture<'a, Result<Value, TaskFailure>>;

    /// As `call`, for TestState at inspection level TRACE: an HTTP Task
    /// also leaves in `trace` the request it sent and the answer it got.
    fn call_traced<'a>(
        &'a self,
        task: &'a ServiceTask,
        parameters: &'a Value,
        caller: Caller<'a>,
        trace: &'a HttpTrace,
    ) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        let _ = trace;
        self.call(task, parameters, caller)
    }

    /// A `.sync` task: starts its job, hands the start's answer to
    /// `submitted` (the TaskSubmitted event), then waits for the job's end:
    /// the task's result, or its failure. Dropped before the end, it stops
    /// the job as best it can, as AWS does.
    fn run_job<'a>(
        &'a self,
        task: &'a ServiceTask,
        parameters: &'a Value,
        caller: Caller<'a>,
        submitted: Submitted<'a>,
    ) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        let _ = (parameters, caller, submitted);
        Box::pin(std::future::ready(Err(TaskFailure {
            error: "States.Runtime".to_owned(),
            cause: format!("{}:{} runs no job here", task.resource_type, task.resource),
        })))
    }

    /// Bytes `range` (from, to inclusive) of an S3 object, or all of it:
    /// a Distributed Map's ItemReader reads its items so, page by page.
    fn get_object<'a>(
        &'a self,
        object: &'a ObjectAt,
        range: Option<(u64, u64)>,
    ) -> BoxFuture<'a, Result<ObjectPart, TaskFailure>> {
        let _ = (object, range);
        no_s3()
    }

    /// One page of the objects under `prefix`, after `token`.
    fn list_objects<'a>(
        &'a self,
        bucket: &'a str,
        prefix: &'a str,
        token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ObjectPage, TaskFailure>> {
        let _ = (bucket, prefix, token);
        no_s3()
    }

    /// Writes an object: a Distributed Map's ResultWriter writes its files so.
    fn put_object<'a>(
        &'a self,
        bucket: &'a str,
        key: &'a str,
        body: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), TaskFailure>> {
        let _ = (bucket, key, body);
        no_s3()
    }
}

/// A Distributed Map's run, as the API server keeps it for DescribeMapRun,
/// ListMapRuns and ListExecutions by map run: told of each child execution
/// as it starts and ends, asked for the settings UpdateMapRun changes.
pub trait MapRuns: Send + Sync {
    /// A Map Run starts.
    fn started(&self, run: &MapRunStart);
    /// A child execution starts: the history to record it in, when it keeps one.
    fn child_started(&self, map_run: &str, child: &ChildStart) -> Option<std::sync::Arc<crate::History>>;
    /// A redrive of the Map Run redrives `child`, a STANDARD child that did
    /// not succeed, in place (same name and ARN): its history so far, which
    /// the redrive goes on from, its redrive number and its first start.
    /// None when that child is not kept: it then starts as a new child.
    fn child_redriven(&self, map_run: &str, child: &ChildStart) -> Option<RedrivenChild> {
        let _ = (map_run, child);
        None
    }
    /// A child execution ends (or is stopped: status ABORTED).
    fn child_ended(&self, map_run: &str, child: &ChildEnd);
    /// Items were read: the total so far.
    fn items_read(&self, map_run: &str, total: u64);
    /// The Map Run ends: SUCCEEDED, FAILED or ABORTED, with the failure's error and cause.
    fn ended(&self, map_run: &str, status: &'static str, error: Option<&str>, cause: Option<&str>);
    /// Its settings now (UpdateMapRun may change them while it runs).
    fn settings(&self, map_run: &str) -> Option<MapRunSettings>;
}

/// A Map Run as it starts.
#[derive(Debug, Clone)]
pub struct MapRunStart {
    pub map_run_arn: String,
    pub execution_arn: String,
    /// The children's state machine: `arn:...:stateMachine:Parent/Label`.
    pub child_machine_arn: String,
    pub settings: MapRunSettings,
    /// Unix nanoseconds.
    pub started: i128,
    /// 0 for a new Map Run; else the redrive's number, of the Map Run `map_run_arn` names.
    pub redrive_count: u64,
}

/// What UpdateMapRun changes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapRunSettings {
    /// 0: no limit beyond Step Functions' own (10,000).
    pub max_concurrency: u64,
    pub tolerated_failure_count: Option<i64>,
    pub tolerated_failure_percentage: Option<f64>,
}

/// A child execution as it starts.
#[derive(Debug, Clone)]
pub struct ChildStart {
    pub arn: String,
    pub name: String,
    pub input: std::sync::Arc<Value>,
    /// How many of the Map's items it processes (a batch's size, else 1).
    pub items: u64,
    pub express: bool,
    /// Unix nanoseconds.
    pub started: i128,
}

/// A child execution redriven in place.
#[derive(Debug, Clone)]
pub struct RedrivenChild {
    /// Its events so far; the redrive's go after them.
    pub history: std::sync::Arc<crate::History>,
    /// This redrive's number, from 1.
    pub redrive_count: u64,
    /// When it first started (Unix nanoseconds): its context's StartTime.
    pub started: i128,
}

/// A child execution as it ends.
#[derive(Debug, Clone)]
pub struct ChildEnd {
    pub arn: String,
    /// SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
    pub status: &'static str,
    pub output: Option<std::sync::Arc<Value>>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub items: u64,
    /// Unix nanoseconds.
    pub stopped: i128,
}

/// An S3 object a Distributed Map's ItemReader reads: its bucket and key,
/// and the ItemReader's `VersionId` and `ExpectedBucketOwner` when given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectAt {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
    pub expected_bucket_owner: Option<String>,
}

impl ObjectAt {
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> ObjectAt {
        ObjectAt { bucket: bucket.into(), key: key.into(), version_id: None, expected_bucket_owner: None }
    }
}

/// Part of an S3 object, as a Distributed Map's ItemReader reads it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectPart {
    pub body: Vec<u8>,
    /// The whole object's size in bytes.
    pub size: u64,
}

/// One object of a bucket's listing, as listObjectsV2 gives it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListedObject {
    pub key: String,
    pub size: u64,
    pub etag: String,
    /// Unix seconds.
    pub last_modified: i64,
    pub storage_class: String,
}

/// One page of a listing, and the token of the next.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectPage {
    pub objects: Vec<ListedObject>,
    pub next: Option<String>,
}

/// What a service Task or a Distributed Map's reader or writer is told when
/// no S3 answers here.
fn no_s3<T: Send + 'static>() -> BoxFuture<'static, Result<T, TaskFailure>> {
    Box::pin(std::future::ready(Err(TaskFailure {
        error: "States.Runtime".to_owned(),
        cause: "no S3 endpoint answers this execution's Distributed Map reader and writer".to_owned(),
    })))
}

/// Where a `.sync` task's start is reported.
pub type Submitted<'a> = &'a (dyn Fn(Value) + Send + Sync);

/// Who makes a service call: some integrations name it (EventBridge adds
/// the state machine and the execution to each event's `Resources`).
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub execution_arn: &'a str,
    pub state_machine_arn: &'a str,
}

/// Activities: a Task whose Resource is an activity's ARN offers its input
/// to the activity's workers (GetActivityTask) with a task token, which they
/// answer with SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat.
pub trait Activities: Send + Sync {
    /// Whether the activity exists (a Task on one that does not fails before it is scheduled).
    fn knows(&self, activity: &str) -> bool;

    /// Offers the task; resolves with the worker's name once a worker takes
    /// it, or fails when the activity does not exist. Cancel-safe: dropped,
    /// the offer is withdrawn.
    fn offer<'a>(
        &'a self,
        activity: &'a str,
        token: &'a str,
        input: &'a Value,
    ) -> BoxFuture<'a, Result<String, TaskFailure>>;
}

/// Answers a Task state's attempts in place of its resource, as Step
/// Functions Local's MockConfigFile does. `invocation` counts the state's
/// task invocations in the execution, retries included, from 0. A `Return`
/// is the task's whole result (for `lambda:invoke`, with its `Payload`).
pub trait TaskMocks: Send + Sync {
    fn answer(&self, state: &str, invocation: u32) -> Option<Result<Value, TaskFailure>>;
}

/// What a callback task (`.waitForTaskToken`) hears about its token.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenSignal {
    Heartbeat,
    Success(Value),
    Failure(TaskFailure),
}

/// Task tokens, for the callback pattern: the API server issues them and
/// answers SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat with them.
pub trait TaskTokens: Send + Sync {
    /// A new token for one attempt of `state` in `execution`.
    fn issue(&self, execution: &str, state: &str) -> String;
    /// The next signal for `token`. Cancel-safe: dropped and called again, it
    /// loses nothing.
    fn wait<'a>(&'a self, token: &'a str) -> BoxFuture<'a, TokenSignal>;
    /// The token's task is over (answered, timed out or failed).
    fn close(&self, token: &str);
}
