//! A local Lambda Invoke API for deployed functions: each function is its
//! binary running as its own process behind its own Runtime API, with the
//! environment its deployment gave it, and its AWS calls sent through its own
//! proxy to the emulator. What was invoked, and every AWS call each function
//! made, is recorded: the deploy rehearsal checks each against the roles.
//! Invocations at once run in execution environments of their own (a process
//! and its Runtime API each), as Lambda scales out, up to the function's
//! reserved concurrency (past it, Lambda's throttle) or `MAX_ENVIRONMENTS`.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::EmulatorError;
use crate::fault_proxy::FaultProxy;
use crate::function_process::{FunctionProcess, Output};
use crate::http::{Request, Response, serve};
use crate::runtime_api::{Posted, RuntimeApi};

/// One deployed function: where its binary is and what its configuration says.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct FunctionSpec {
    /// The function's name (`orderflow-dev-validate-data`).
    pub name: String,
    /// Its ARN, unqualified.
    pub arn: String,
    /// The binary to run for it: the function's own, or its runtime's (`python`).
    pub binary: PathBuf,
    /// The binary's arguments (`-m awslambdaric app.lambda_handler`).
    #[serde(default)]
    pub args: Vec<String>,
    /// The folder it runs in (the function's code), else the host's own.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Its configured environment variables (the Lambda service's own are added).
    #[serde(default)]
    pub environment: Vec<(String, String)>,
    /// Its configured timeout in seconds: past it the invocation fails with
    /// `Sandbox.Timedout` and the process is replaced. None: no limit.
    #[serde(default)]
    pub timeout: Option<u64>,
    /// Its configured memory, for `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`.
    #[serde(default = "default_memory")]
    pub memory_size: u32,
    /// `ReservedConcurrentExecutions`: at most this many invocations at once;
    /// one past it is throttled, as Lambda throttles it. None: unreserved.
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    /// The folder its process sees at `/opt` (its layers), where the machine
    /// allows it (`private_opt::available`). None: `/opt` as the machine has it.
    #[serde(default)]
    pub opt: Option<PathBuf>,
}

/// How long an execution environment waits for an invocation before it is
/// let go, as Lambda reclaims idle environments; the one used last stays warm.
pub const IDLE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(300);

/// The execution environments one unreserved function may have here at once.
/// Lambda would start more; past this many, an invocation waits for one to be free.
pub const MAX_ENVIRONMENTS: usize = 10;

fn default_memory() -> u32 {
    128
}

/// What happened, in order: an invocation, or an AWS call a function made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// The Invoke API was asked for `function` (as the caller named it); `arn` is
    /// the function it found, if any.
    Invoke { function: String, arn: Option<String>, qualifier: Option<String> },
    /// A function's AWS call: the signing service, the operation and the request body.
    AwsCall { function: String, service: String, operation: String, body: String },
}

struct Hosted {
    spec: FunctionSpec,
    /// Its environment but for the Runtime API's own variables.
    environment: Vec<(String, String)>,
    output: Output,
    /// Between the function and AWS when its calls are recorded.
    proxy: Option<FaultProxy>,
    /// Its execution environments that wait for an invocation (warm). Each
    /// takes one invocation at a time, as a Lambda execution environment does;
    /// one whose process exited or timed out is not kept.
    idle: Mutex<Vec<Live>>,
    /// One permit per invocation in flight: its reserved concurrency, else
    /// `MAX_ENVIRONMENTS`. So it never has more environments than permits.
    slots: tokio::sync::Semaphore,
}

/// A function's process and the Runtime API it polls.
struct Live {
    runtime: RuntimeApi,
    process: FunctionProcess,
    /// Since when it has waited for an invocation.
    idle_since: std::time::Instant,
}

/// A fresh process of the function behind a fresh Runtime API (a cold start).
async fn launch(spec: &FunctionSpec, environment: &[(String, String)], output: &Output) -> Result<Live, EmulatorError> {
    let runtime = RuntimeApi::start().await.map_err(|e| EmulatorError(e.to_string()))?;
    runtime.set_function_arn(&spec.arn);
    if let Some(timeout) = spec.timeout {
        runtime.set_timeout(timeout);
    }
    // The function's own configuration wins (its log format), but for where its Runtime API is.
    let mut environment = environment.to_vec();
    let own = runtime.environment(&spec.name);
    let given = |key: &str| key != "AWS_LAMBDA_RUNTIME_API" && environment.iter().any(|(k, _)| k == key);
    let own: Vec<(String, String)> =
        own.into_iter().filter(|(k, _)| !given(k)).map(|(k, v)| (k.to_owned(), v)).collect();
    environment.retain(|(k, _)| k != "AWS_LAMBDA_RUNTIME_API");
    environment.extend(own);
    environment.retain(|(k, _)| k != "AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
    environment.push(("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), spec.memory_size.to_string()));
    let process = FunctionProcess::spawn_with(
        &spec.binary,
        &spec.args,
        spec.dir.as_deref(),
        environment,
        output.clone(),
        spec.opt.as_deref(),
    )?;
    Ok(Live { runtime, process, idle_since: std::time::Instant::now() })
}

impl Hosted {
    /// One invocation, as Lambda answers it: the function's result or error
    /// payload; `Runtime.ExitError` when its process ends meanwhile and
    /// `Sandbox.Timedout` past its timeout, after which a fresh process
    /// takes the next invocation.
    /// With `tail`, also the end of its log for this invocation, base64, as
    /// Lambda's `X-Amz-Log-Result`: START, what it wrote, END and REPORT, its last 4 KB.
    /// Err when the function's reserved concurrency is all in use (Lambda's throttle).
    async fn invoke(&self, body: Vec<u8>, tail: bool) -> Result<(Posted, Option<String>), Throttled> {
        let _permit = match self.spec.reserved_concurrency {
            Some(_) => self.slots.try_acquire().map_err(|_| Throttled)?,
            None => self.slots.acquire().await.map_err(|_| Throttled)?,
        };
        // A warm environment if one waits, else a new one (a cold start).
        let warm = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut live = match warm {
            Some(live) => live,
            None => match launch(&self.spec, &self.environment, &self.output).await {
                Ok(live) => live,
                Err(e) => {
                    // Lambda's error for an entry point that cannot be started.
                    return Ok((Posted::failure("Runtime.InvalidEntrypoint", &format!("Error: {e}")), None));
                }
            },
        };
        let started = std::time::Instant::now();
        let mark = live.process.written();
        let limit = self.spec.timeout.map(std::time::Duration::from_secs);
        // What the function answered, and whether its environment is spent.
        let (posted, spent) = {
            let Live { runtime, process, .. } = &mut live;
            let invocation = runtime.invoke_posted(body);
            tokio::pin!(invocation);
            loop {
                tokio::select! {
                    posted = &mut invocation => {
                        let spent = matches!(posted, Posted::InitError(_)) || process.try_wait().is_some();
                        break (posted, spent);
                    }
                    () = tokio::time::sleep(std::time::Duration::from_millis(50)) => {}
                }
                let failure = match (process.try_wait(), limit) {
                    (Some(status), _) => {
                        let status = match status.code() {
                            Some(code) => format!("exit status {code}"),
                            None => "signal: killed".to_owned(),
                        };
                        ("Runtime.ExitError", format!("Runtime exited with error: {status}"))
                    }
                    (None, Some(limit)) if started.elapsed() >= limit => {
                        ("Sandbox.Timedout", format!("Task timed out after {:.2} seconds", limit.as_secs_f64()))
                    }
                    _ => continue,
                };
                let id = runtime.in_flight().await.unwrap_or_default();
                break (Posted::failure(failure.0, &format!("RequestId: {id} Error: {}", failure.1)), true);
            }
        };
        let log = match tail {
            true => Some(log_tail(&live, mark, started.elapsed(), self.spec.memory_size).await),
            false => None,
        };
        // A spent process is killed as it is dropped: the next invocation starts cold.
        if !spent {
            live.idle_since = std::time::Instant::now();
            self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(live);
        }
        Ok((posted, log))
    }

    /// Lets go of the environments idle for `IDLE_LIFETIME` at `now` but the
    /// one used last; how many went (their processes are killed).
    fn reap(&self, now: std::time::Instant) -> usize {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let last_used = idle.iter().map(|live| live.idle_since).max();
        let (kept, gone): (Vec<Live>, Vec<Live>) = std::mem::take(&mut *idle)
            .into_iter()
            .partition(|live| Some(live.idle_since) == last_used || now - live.idle_since < IDLE_LIFETIME);
        *idle = kept;
        drop(idle);
        gone.len()
    }
}

/// An invocation past the function's reserved concurrency.
struct Throttled;

/// The last 4 KB of an invocation's log, base64: START, what the function
/// wrote since `mark`, END and REPORT, as Lambda's `X-Amz-Log-Result`.
async fn log_tail(live: &Live, mark: u64, took: std::time::Duration, memory: u32) -> String {
    use base64::Engine;
    // Its last lines reach us through a pipe a moment after its answer.
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    let id = live.runtime.last_request_id().unwrap_or_default();
    let ms = took.as_secs_f64() * 1000.0;
    let used = live.process.peak_rss_bytes().map_or(0, |b| b.div_ceil(1024 * 1024));
    let log = format!(
        "START RequestId: {id} Version: $LATEST\n{}END RequestId: {id}\nREPORT RequestId: {id}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {memory} MB\tMax Memory Used: {used} MB\t\n",
        live.process.stdout_since(mark),
        ms.ceil().max(1.0) as u64
    );
    let bytes = log.as_bytes();
    let last = &bytes[bytes.len().saturating_sub(4096)..];
    base64::engine::general_purpose::STANDARD.encode(last)
}

pub struct FunctionHost {
    endpoint: String,
    functions: Arc<Vec<Hosted>>,
    /// What was invoked, when the host records (None: nothing is kept).
    invocations: Option<Arc<Mutex<Vec<Record>>>>,
    task: JoinHandle<()>,
    /// Lets go of environments idle past `IDLE_LIFETIME`.
    reaper: JoinHandle<()>,
}

impl FunctionHost {
    /// Starts every function (cold starts included) and the Invoke API on
    /// 127.0.0.1 and a free port; the functions' AWS calls go to `upstream`
    /// through a proxy each, and what is invoked and called is recorded
    /// until `take_records` takes it (the deploy rehearsal's host).
    pub async fn start(specs: Vec<FunctionSpec>, upstream: &str) -> Result<FunctionHost, EmulatorError> {
        Self::start_with(specs, upstream, true).await
    }

    /// As `start`, but the functions call `upstream` directly and nothing is
    /// recorded: a host that serves for as long as a server runs, and keeps
    /// no more the longer it runs. Each function's output is shown on stderr.
    pub async fn start_unrecorded(specs: Vec<FunctionSpec>, upstream: &str) -> Result<FunctionHost, EmulatorError> {
        Self::start_with(specs, upstream, false).await
    }

    async fn start_with(specs: Vec<FunctionSpec>, upstream: &str, record: bool) -> Result<FunctionHost, EmulatorError> {
        let io = |e: std::io::Error| EmulatorError(e.to_string());
        let mut functions = Vec::with_capacity(specs.len());
        for spec in specs {
            let proxy = match record {
                true => Some(FaultProxy::start(upstream).await.map_err(io)?),
                false => None,
            };
            let mut environment: Vec<(String, String)> = spec.environment.clone();
            environment.retain(|(k, _)| k != "AWS_ENDPOINT_URL");
            let aws = proxy.as_ref().map_or_else(|| upstream.to_owned(), FaultProxy::endpoint);
            environment.push(("AWS_ENDPOINT_URL".into(), aws));
            for (key, value) in [
                ("AWS_REGION", orderflow_local::REGION),
                ("AWS_DEFAULT_REGION", orderflow_local::REGION),
                ("AWS_ACCESS_KEY_ID", "testing"),
                ("AWS_SECRET_ACCESS_KEY", "testing"),
                ("AWS_SESSION_TOKEN", "testing"),
            ] {
                if !environment.iter().any(|(k, _)| k == key) {
                    environment.push((key.into(), value.into()));
                }
            }
            // A host that serves as long as a server runs shows its functions' logs and keeps only their tail.
            let output = match record {
                true => Output::Kept,
                false => Output::Echoed { prefix: format!("[{}]", spec.name) },
            };
            // One environment from the start, so that a function that cannot start is said at once.
            let idle = Mutex::new(vec![launch(&spec, &environment, &output).await?]);
            let permits = spec.reserved_concurrency.map_or(MAX_ENVIRONMENTS, |n| n as usize);
            let slots = tokio::sync::Semaphore::new(permits);
            functions.push(Hosted { spec, environment, output, proxy, idle, slots });
        }
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.map_err(io)?;
        let endpoint = format!("http://{}", listener.local_addr().map_err(io)?);
        let functions = Arc::new(functions);
        let invocations = record.then(|| Arc::new(Mutex::new(Vec::new())));
        let (shared, records) = (functions.clone(), invocations.clone());
        let task = tokio::spawn(serve(listener, move |request| handle(request, shared.clone(), records.clone())));
        let reaped = functions.clone();
        let reaper = tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(30));
            loop {
                every.tick().await;
                for hosted in reaped.iter() {
                    hosted.reap(std::time::Instant::now());
                }
            }
        });
        Ok(FunctionHost { endpoint, functions, invocations, task, reaper })
    }

    /// `http://127.0.0.1:PORT`: the Lambda endpoint to give Step Functions.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// What happened since the last call, invocations and AWS calls, in order of
    /// invocation (each function's calls after the invocations before them).
    /// Nothing when the host does not record.
    pub fn take_records(&self) -> Vec<Record> {
        take_records(&self.functions, self.invocations.as_deref())
    }

    /// The functions it runs: (name, ARN) of each.
    pub fn functions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.functions.iter().map(|h| (h.spec.name.as_str(), h.spec.arn.as_str()))
    }
}

fn take_records(functions: &[Hosted], invocations: Option<&Mutex<Vec<Record>>>) -> Vec<Record> {
    {
        let Some(invocations) = invocations else { return Vec::new() };
        let mut records = std::mem::take(&mut *invocations.lock().unwrap_or_else(|p| p.into_inner()));
        for hosted in functions {
            let Some(proxy) = &hosted.proxy else { continue };
            records.extend(proxy.take_calls().into_iter().map(|call| Record::AwsCall {
                function: hosted.spec.name.clone(),
                service: call.service,
                operation: call.operation,
                body: call.body,
            }));
        }
        records
    }
}

impl Drop for FunctionHost {
    fn drop(&mut self) {
        self.task.abort();
        self.reaper.abort();
    }
}

fn lambda_error(status: u16, code: &str, message: String) -> Response {
    Response::new(status, json!({"Type": "User", "Message": message}).to_string())
        .header("content-type", "application/json")
        .header("x-amzn-errortype", code)
}

/// `FUNCTION`, `FUNCTION:QUALIFIER`, an ARN or a qualified ARN: (name or ARN, qualifier).
fn split_qualifier(function: &str) -> (&str, Option<&str>) {
    let parts = function.split(':').count();
    match (function.starts_with("arn:"), parts) {
        (true, 8) | (false, 2) => {
            let (base, qualifier) = function.rsplit_once(':').unwrap_or((function, ""));
            (base, Some(qualifier))
        }
        _ => (function, None),
    }
}

async fn handle(request: Request, functions: Arc<Vec<Hosted>>, records: Option<Arc<Mutex<Vec<Record>>>>) -> Response {
    // Not part of Lambda's API: how the rehearsal collects what happened.
    if request.method == "GET" && request.path == "/records" {
        let taken = take_records(&functions, records.as_deref());
        return Response::new(200, serde_json::to_vec(&taken).unwrap_or_default())
            .header("content-type", "application/json");
    }
    let Some(named) = request
        .path
        .strip_prefix("/2015-03-31/functions/")
        .and_then(|rest| rest.strip_suffix("/invocations"))
        .filter(|_| request.method == "POST")
    else {
        return lambda_error(404, "UnknownOperationException", format!("{} {}", request.method, request.path));
    };
    // SDKs percent-encode an ARN or a `$LATEST` qualifier in the path.
    let named = percent_encoding::percent_decode_str(named).decode_utf8_lossy().into_owned();
    let (base, qualifier) = split_qualifier(&named);
    let hosted = functions.iter().find(|h| h.spec.name == base || h.spec.arn == base);
    if let Some(Ok(mut records)) = records.as_ref().map(|r| r.lock()) {
        records.push(Record::Invoke {
            function: named.clone(),
            arn: hosted.map(|h| h.spec.arn.clone()),
            qualifier: qualifier.map(str::to_owned),
        });
    }
    let Some(hosted) = hosted.filter(|_| qualifier.is_none_or(|q| q == "$LATEST")) else {
        let arn = match hosted {
            Some(h) => format!("{}:{}", h.spec.arn, qualifier.unwrap_or("$LATEST")),
            None => named.clone(),
        };
        return lambda_error(404, "ResourceNotFoundException", format!("Function not found: {arn}"));
    };
    // The function's bytes, as Lambda answers them: its result, or its error's payload.
    let tail = request.header("x-amz-log-type").is_some_and(|t| t.eq_ignore_ascii_case("Tail"));
    let Ok((posted, log)) = hosted.invoke(request.body.to_vec(), tail).await else {
        // Lambda's answer to an invocation past the function's reserved concurrency.
        let body = json!({"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded."});
        return Response::new(429, body.to_string())
            .header("content-type", "application/json")
            .header("x-amzn-errortype", "TooManyRequestsException");
    };
    let answer = match posted {
        Posted::Response(body) => Response::new(200, body).header("content-type", "application/json"),
        Posted::Error(body) | Posted::InitError(body) => Response::new(200, body)
            .header("content-type", "application/json")
            .header("x-amz-function-error", "Unhandled"),
    };
    match log {
        Some(log) => answer.header("x-amz-log-result", log),
        None => answer,
    }
}

#[cfg(test)]
mod tests {
    use super::{FunctionHost, split_qualifier};
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    /// A function `name` run as `binary args`, with no configuration beyond Lambda's defaults.
    fn spec_of(name: &str, binary: std::path::PathBuf, args: &[&str]) -> super::FunctionSpec {
        super::FunctionSpec {
            name: name.into(),
            arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
            binary,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            dir: None,
            environment: Vec::new(),
            timeout: None,
            memory_size: 128,
            reserved_concurrency: None,
            opt: None,
        }
    }

    /// (status, x-amzn-errortype, body) of one request to the host.
    async fn call(method: &str, url: String) -> (u16, Option<String>, serde_json::Value) {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let request = hyper::Request::builder().method(method).uri(url).body(Full::new(Bytes::from("{}"))).unwrap();
        let answer = client.request(request).await.unwrap();
        let status = answer.status().as_u16();
        let kind = answer.headers().get("x-amzn-errortype").map(|v| v.to_str().unwrap().to_owned());
        let body = answer.into_body().collect().await.unwrap().to_bytes();
        (status, kind, serde_json::from_slice(&body).unwrap())
    }

    #[test]
    fn a_function_the_host_does_not_run_is_lambdas_resource_not_found() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let host = FunctionHost::start(Vec::new(), "http://127.0.0.1:9").await.unwrap();
            let arn = "arn:aws:lambda:us-east-1:123456789012:function:missing";
            let encoded = arn.replace(':', "%3A");
            let url = format!("{}/2015-03-31/functions/{encoded}/invocations", host.endpoint());
            let (status, kind, body) = call("POST", url).await;
            assert_eq!(status, 404);
            assert_eq!(kind.as_deref(), Some("ResourceNotFoundException"));
            assert_eq!(body["Message"], format!("Function not found: {arn}"));

            let (status, kind, body) = call("POST", format!("{}/elsewhere", host.endpoint())).await;
            assert_eq!((status, kind.as_deref()), (404, Some("UnknownOperationException")));
            assert_eq!(body["Message"], "POST /elsewhere");

            // What was asked for is recorded as the caller named it, decoded, with no function found.
            let (_, _, records) = call("GET", format!("{}/records", host.endpoint())).await;
            assert_eq!(
                records,
                serde_json::json!([{"kind": "invoke", "function": arn, "arn": null, "qualifier": null}])
            );
        });
    }

    #[test]
    fn environments_idle_past_their_lifetime_are_let_go_but_the_one_used_last() {
        use super::{IDLE_LIFETIME, launch};
        use std::time::{Duration, Instant};
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            // A process that never polls: enough to stand for an environment here.
            let spec = spec_of("waiting", "sleep".into(), &["60"]);
            let host = FunctionHost::start_unrecorded(vec![spec], "http://127.0.0.1:9").await.unwrap();
            let hosted = &host.functions[0];
            let long_ago = Instant::now().checked_sub(IDLE_LIFETIME + Duration::from_secs(1)).unwrap();
            for _ in 0..2 {
                let mut old = launch(&hosted.spec, &hosted.environment, &hosted.output).await.unwrap();
                old.idle_since = long_ago;
                hosted.idle.lock().unwrap().push(old);
            }
            // The two idle past the lifetime go; the one started with the host stays.
            assert_eq!(hosted.reap(Instant::now()), 2);
            assert_eq!(hosted.idle.lock().unwrap().len(), 1);
            // Long after, the one used last still stays warm.
            assert_eq!(hosted.reap(Instant::now() + IDLE_LIFETIME * 2), 0);
            assert_eq!(hosted.idle.lock().unwrap().len(), 1);
        });
    }

    #[test]
    fn an_environment_that_cannot_start_answers_lambdas_invalid_entrypoint() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            // A bootstrap that ends at once: its first invocation spends its environment.
            let dir = std::env::temp_dir().join(format!("orderflow-entrypoint-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let bootstrap = dir.join("bootstrap");
            std::fs::write(&bootstrap, "#!/bin/sh\nexit 3\n").unwrap();
            std::fs::set_permissions(&bootstrap, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
            let spec = spec_of("gone", bootstrap.clone(), &[]);
            let host = FunctionHost::start_unrecorded(vec![spec], "http://127.0.0.1:9").await.unwrap();
            let url = format!("{}/2015-03-31/functions/gone/invocations", host.endpoint());
            let (status, _, body) = call("POST", url.clone()).await;
            assert_eq!((status, body["errorType"].as_str()), (200, Some("Runtime.ExitError")), "{body}");
            // Its entry point is gone when the next invocation needs a new environment.
            std::fs::remove_dir_all(&dir).unwrap();
            let (status, _, body) = call("POST", url).await;
            assert_eq!(status, 200);
            assert_eq!(body["errorType"], "Runtime.InvalidEntrypoint", "{body}");
            let message = body["errorMessage"].as_str().unwrap();
            assert!(message.starts_with("Error: ") && message.contains("bootstrap"), "{message}");
        });
    }

    #[test]
    fn qualifiers_are_split_from_names_and_arns() {
        assert_eq!(split_qualifier("f"), ("f", None));
        assert_eq!(split_qualifier("f:prod"), ("f", Some("prod")));
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:f";
        assert_eq!(split_qualifier(arn), (arn, None));
        assert_eq!(split_qualifier(&format!("{arn}:$LATEST")), (arn, Some("$LATEST")));
    }
}
