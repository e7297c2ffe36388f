//! A local Lambda Runtime API: the real function binary polls it for events
//! and posts results to it exactly as it does in Lambda, through
//! `AWS_LAMBDA_RUNTIME_API`. Tests use it to check what goes over the wire
//! (the `errorType` in particular); benchmarks to time real invocations.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{Mutex, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use orderflow_local::{ACCOUNT, REGION};

use crate::http::{Request, Response, serve};

/// What the function answered to one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response(Value),
    /// `errorType` and `errorMessage` from the posted error body.
    Error {
        error_type: String,
        error_message: String,
    },
    /// The function failed its cold start and reported it to `/init/error`.
    InitError {
        error_type: String,
        error_message: String,
    },
}

/// What the function posted for one event, its bytes as it posted them:
/// what Lambda's Invoke API answers with (an error's body is the payload
/// Step Functions shows as the Cause).
#[derive(Debug, Clone, PartialEq)]
pub enum Posted {
    Response(Vec<u8>),
    Error(Vec<u8>),
    /// Posted to `/init/error` during the cold start.
    InitError(Vec<u8>),
}

impl Posted {
    /// An error of the Runtime API or of Lambda itself, in the shape a function posts.
    pub(crate) fn failure(error_type: &str, error_message: &str) -> Posted {
        Posted::Error(
            serde_json::json!({"errorType": error_type, "errorMessage": error_message}).to_string().into_bytes(),
        )
    }

    fn outcome(self) -> Outcome {
        match self {
            Posted::Response(body) => Outcome::Response(serde_json::from_slice(&body).unwrap_or(Value::Null)),
            Posted::Error(body) => {
                let (error_type, error_message) = diagnostic(&body);
                Outcome::Error { error_type, error_message }
            }
            Posted::InitError(body) => {
                let (error_type, error_message) = diagnostic(&body);
                Outcome::InitError { error_type, error_message }
            }
        }
    }
}

struct Pending {
    event: Vec<u8>,
    reply: oneshot::Sender<Posted>,
}

#[derive(Default)]
struct State {
    in_flight: HashMap<String, oneshot::Sender<Posted>>,
}

pub struct RuntimeApi {
    addr: SocketAddr,
    events: mpsc::UnboundedSender<Pending>,
    init_error: watch::Receiver<Option<Posted>>,
    first_poll: watch::Receiver<bool>,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl RuntimeApi {
    /// Listens on 127.0.0.1 and a free port, on the current tokio runtime.
    pub async fn start() -> std::io::Result<RuntimeApi> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (events, queue) = mpsc::unbounded_channel();
        let (init_tx, init_error) = watch::channel(None);
        let (poll_tx, first_poll) = watch::channel(false);
        let shared = Arc::new(Shared {
            queue: Mutex::new(queue),
            state: Mutex::new(State::default()),
            init_error: init_tx,
            first_poll: poll_tx,
            next_id: AtomicU64::new(1),
            instance: instance_id(&addr),
            last_id: std::sync::Mutex::new(None),
            timeout: std::sync::OnceLock::new(),
            function_arn: std::sync::OnceLock::new(),
        });
        let served = shared.clone();
        let task = tokio::spawn(serve(listener, move |request| handle(request, served.clone())));
        Ok(RuntimeApi { addr, events, init_error, first_poll, shared, task })
    }

    /// The ARN each invocation names as the invoked function's
    /// (`Lambda-Runtime-Invoked-Function-Arn`; the context's
    /// `invoked_function_arn`), instead of a local one. Only the first call counts.
    pub fn set_function_arn(&self, arn: &str) {
        let _ = self.shared.function_arn.set(arn.to_owned());
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The environment a function process needs besides its own configuration.
    pub fn environment(&self, function_name: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_LAMBDA_RUNTIME_API", self.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", function_name.to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
        ]
    }

    /// Resolves when the function first asks for an event: the end of its
    /// cold start.
    pub async fn first_poll(&self) {
        let mut rx = self.first_poll.clone();
        let _ = rx.wait_for(|polled| *polled).await;
    }

    /// Hands `event` to the function and waits for its answer, or for an init
    /// error if the function never got that far.
    pub async fn invoke(&self, event: &Value) -> Outcome {
        self.invoke_text(serde_json::to_vec(event).unwrap_or_default()).await
    }

    /// Hands a payload given as JSON text to the function: for payloads a
    /// `Value` cannot hold (a lone surrogate escape, a key twice).
    pub async fn invoke_text(&self, event: impl Into<Vec<u8>>) -> Outcome {
        self.invoke_posted(event).await.outcome()
    }

    /// The function's timeout in seconds: each invocation's deadline
    /// (`Lambda-Runtime-Deadline-Ms`) is that far off. Only the first call counts.
    pub fn set_timeout(&self, seconds: u64) {
        let _ = self.shared.timeout.set(seconds);
    }

    /// The request id of the last invocation the function took.
    pub fn last_request_id(&self) -> Option<String> {
        self.shared.last_id.lock().ok().and_then(|id| id.clone())
    }

    /// The request id of the invocation the function has taken and not yet answered, if any.
    pub async fn in_flight(&self) -> Option<String> {
        self.shared.state.lock().await.in_flight.keys().next().cloned()
    }

    /// As `invoke_text`, the answer as the function posted it.
    pub async fn invoke_posted(&self, event: impl Into<Vec<u8>>) -> Posted {
        let (reply, answer) = oneshot::channel();
        let pending = Pending { event: event.into(), reply };
        if self.events.send(pending).is_err() {
            return Posted::failure("RuntimeApiStopped", "the runtime API task has stopped");
        }
        let mut init = self.init_error.clone();
        tokio::select! {
            posted = answer => posted.unwrap_or_else(|_| Posted::failure("RuntimeApiStopped", "the invocation was dropped")),
            Ok(init) = async { init.wait_for(Option::is_some).await.map(|o| o.clone()) } => {
                init.unwrap_or_else(|| Posted::InitError(Vec::new()))
            }
        }
    }
}

/// Valid JSON text that serde_json's own parse refuses (nesting past its
/// limit, a lone surrogate escape, a key twice), with the violation code each
/// must get. Each wraps its hostile part under `order`, so a step that reads
/// `{"order": ...}` meets it too.
pub fn hostile_payloads() -> Vec<(String, &'static str)> {
    vec![
        (format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)), "invalid_format"),
        (r#"{"order": {"customer": {"name": "Ada \ud800"}}}"#.to_owned(), "invalid_format"),
        (r#"{"order": {"order_id": "ORD-1", "order_id": "ORD-2"}}"#.to_owned(), "duplicate_field"),
    ]
}

/// Hands each of `hostile_payloads` to the function behind `api`: Err names
/// the first that did not get `OrderValidationFailed` with its violation code.
pub async fn check_hostile_payloads(api: &RuntimeApi) -> Result<(), String> {
    for (payload, code) in hostile_payloads() {
        match api.invoke_text(payload).await {
            Outcome::Error { error_type, error_message } if error_type == "OrderValidationFailed" => {
                let body: Value = serde_json::from_str(&error_message).map_err(|e| format!("{code}: {e}"))?;
                if body["violations"][0]["code"] != code {
                    return Err(format!("{code}: {body}"));
                }
            }
            other => return Err(format!("{code}: {other:?}")),
        }
    }
    Ok(())
}

/// What a function needs to start with no AWS behind it: its configuration
/// and credentials, and an endpoint that answers nothing.
pub fn environment_without_aws() -> Vec<(&'static str, String)> {
    vec![
        ("ORDERS_TABLE", "orderflow-dev-orders".to_owned()),
        ("NOTIFICATION_TOPIC_ARN", format!("arn:aws:sns:{REGION}:{ACCOUNT}:orderflow-dev-notifications.fifo")),
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9".to_owned()),
    ]
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Shared {
    queue: Mutex<mpsc::UnboundedReceiver<Pending>>,
    state: Mutex<State>,
    init_error: watch::Sender<Option<Posted>>,
    first_poll: watch::Sender<bool>,
    next_id: AtomicU64,
    /// Tells this API's request ids from another's.
    instance: u32,
    /// The id of the last invocation handed out.
    last_id: std::sync::Mutex<Option<String>>,
    /// The function's timeout in seconds, for each invocation's deadline (else Lambda's longest, 900).
    timeout: std::sync::OnceLock<u64>,
    /// The invoked function's ARN, when set; else a local one.
    function_arn: std::sync::OnceLock<String>,
}

/// A number for this API's request ids: its port and the time it started.
fn instance_id(addr: &SocketAddr) -> u32 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    (u32::from(addr.port()) << 16) ^ nanos
}

fn diagnostic(body: &[u8]) -> (String, String) {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let field = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    (field("errorType"), field("errorMessage"))
}

async fn handle(request: Request, shared: Arc<Shared>) -> Response {
    const PREFIX: &str = "/2018-06-01/runtime/";
    let route = request.path.strip_prefix(PREFIX).unwrap_or_default();
    match (request.method.as_str(), route) {
        ("GET", "invocation/next") => {
            shared.first_poll.send_replace(true);
            let Some(pending) = shared.queue.lock().await.recv().await else {
                return Response::new(410, "the runtime API has stopped");
            };
            // Shaped as Lambda's request ids (a UUID): this API's own prefix, then the count.
            let id = format!(
                "{:08x}-0000-4000-8000-{:012x}",
                shared.instance,
                shared.next_id.fetch_add(1, Ordering::SeqCst)
            );
            shared.state.lock().await.in_flight.insert(id.clone(), pending.reply);
            if let Ok(mut last) = shared.last_id.lock() {
                *last = Some(id.clone());
            }
            let timeout = shared.timeout.get().copied().unwrap_or(900);
            let deadline = (std::time::SystemTime::now() + std::time::Duration::from_secs(timeout))
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis().to_string())
                .unwrap_or_default();
            Response::new(200, pending.event)
                .header("Content-Type", "application/json")
                .header("Lambda-Runtime-Aws-Request-Id", id)
                .header("Lambda-Runtime-Deadline-Ms", deadline)
                .header(
                    "Lambda-Runtime-Invoked-Function-Arn",
                    shared
                        .function_arn
                        .get()
                        .cloned()
                        .unwrap_or_else(|| format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:local")),
                )
                .header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
        }
        ("POST", "init/error") => {
            shared.init_error.send_replace(Some(Posted::InitError(request.body.to_vec())));
            Response::new(202, "{}")
        }
        ("POST", path) => {
            let mut parts = path.trim_start_matches("invocation/").splitn(2, '/');
            let (id, kind) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            let outcome = match kind {
                "response" => Posted::Response(request.body.to_vec()),
                _ => Posted::Error(request.body.to_vec()),
            };
            if let Some(reply) = shared.state.lock().await.in_flight.remove(id) {
                let _ = reply.send(outcome);
            }
            Response::new(202, "{}")
        }
        _ => Response::new(404, ""),
    }
}
