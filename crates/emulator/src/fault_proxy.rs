//! A fault-injecting proxy in front of the emulator: every request goes on to
//! moto unchanged, except those a rule matches, which get the rule's fault:
//! an HTTP 500 in place of the call (nothing reaches moto), or the call made
//! and its answer lost (the connection closed) or never sent (the connection
//! left hanging). This is how a bad network is reproduced against the real
//! SDK and the real wire protocols: a lost answer is the case an SDK retry
//! or a Step Functions retry turns into a duplicate side effect.
//!
//! The proxy also hands moto one request at a time. moto's server is
//! threaded and checks a conditional write's condition and applies it in two
//! steps with no lock between them, so two concurrent conditional writes can
//! both pass there; in DynamoDB each request is atomic. One at a time, moto
//! has DynamoDB's atomicity, and concurrency tests test the code, not moto.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What a matched request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answered with this status and a service-error body; moto never sees it.
    Status(u16),
    /// Made upstream, then the connection is closed without an answer.
    LoseAnswer,
    /// Made upstream, then no answer ever: the client's timeout decides.
    Hang,
}

/// Which requests a fault applies to, and how many times.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The API operation: `UpdateItem` (from `X-Amz-Target`), `Publish`
    /// (from the query protocol's `Action`).
    pub operation: String,
    /// Only requests whose body contains this text.
    pub body_contains: Option<String>,
    pub fault: Fault,
    /// How many matching requests get the fault; `None` for all of them.
    pub times: Option<u32>,
}

impl Rule {
    pub fn new(operation: &str, fault: Fault) -> Rule {
        Rule { operation: operation.to_owned(), body_contains: None, fault, times: None }
    }

    pub fn containing(mut self, text: &str) -> Rule {
        self.body_contains = Some(text.to_owned());
        self
    }

    pub fn times(mut self, n: u32) -> Rule {
        self.times = Some(n);
        self
    }
}

/// One request that went through the proxy, as the caller signed and sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The signing name of the credential scope (`dynamodb`, `sns`), as IAM names the service.
    pub service: String,
    /// The API operation (`PutItem`, `Publish`).
    pub operation: String,
    /// The request's body, for the resource it names.
    pub body: String,
}

#[derive(Debug, Default)]
struct State {
    rules: Vec<Rule>,
    /// (operation, fault) of every fault injected, in order.
    injected: Vec<(String, Fault)>,
    /// Every request, in order.
    calls: Vec<Call>,
}

pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl FaultProxy {
    /// Listens on 127.0.0.1 and a free port, forwarding to `upstream`
    /// (`http://127.0.0.1:PORT`), on the current tokio runtime.
    pub async fn start(upstream: &str) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let task = tokio::spawn(serve(listener, upstream.trim_end_matches('/').to_owned(), state.clone()));
        Ok(FaultProxy { addr, state, task })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn inject(&self, rule: Rule) {
        lock(&self.state).rules.push(rule);
    }

    pub fn clear(&self) {
        lock(&self.state).rules.clear();
    }

    /// Every request made through the proxy so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.state).calls.clone()
    }

    /// The requests made since the last call of `take_calls`, in order.
    pub fn take_calls(&self) -> Vec<Call> {
        std::mem::take(&mut lock(&self.state).calls)
    }

    /// The faults injected so far, as (operation, fault).
    pub fn injected(&self) -> Vec<(String, Fault)> {
        lock(&self.state).injected.clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The operation a request calls, in either of the protocols the SDK speaks.
fn operation(target: Option<&str>, body: &[u8]) -> String {
    if let Some(target) = target {
        return target.rsplit('.').next().unwrap_or_default().to_owned();
    }
    let text = String::from_utf8_lossy(body);
    text.split('&').find_map(|pair| pair.strip_prefix("Action=")).unwrap_or_default().to_owned()
}

/// The service of a SigV4 `Authorization` header: `Credential=KEY/DATE/REGION/SERVICE/aws4_request`.
fn signing_service(authorization: &str) -> &str {
    authorization.split("Credential=").nth(1).and_then(|credential| credential.split('/').nth(3)).unwrap_or_default()
}

/// The fault for this request, if a rule with uses left matches it.
fn fault_for(state: &Mutex<State>, operation: &str, body: &[u8]) -> Option<Fault> {
    let mut state = lock(state);
    let text = String::from_utf8_lossy(body);
    let rule = state.rules.iter_mut().find(|r| {
        r.operation == operation
            && r.times != Some(0)
            && r.body_contains.as_deref().is_none_or(|needle| text.contains(needle))
    })?;
    if let Some(n) = &mut rule.times {
        *n -= 1;
    }
    let fault = rule.fault;
    state.injected.push((operation.to_owned(), fault));
    Some(fault)
}

type Answer = hyper::Response<Full<Bytes>>;

/// The proxy's own failure, which makes hyper close the connection unanswered.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("answer dropped by the fault proxy")
    }
}

impl std::error::Error for Dropped {}

async fn serve(listener: TcpListener, upstream: String, state: Arc<Mutex<State>>) {
    let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let one_at_a_time = Arc::new(tokio::sync::Mutex::new(()));
    while let Ok((stream, _)) = listener.accept().await {
        let (client, upstream, state, serial) =
            (client.clone(), upstream.clone(), state.clone(), one_at_a_time.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let (client, upstream, state, serial) =
                    (client.clone(), upstream.clone(), state.clone(), serial.clone());
                async move { handle(&client, &upstream, &state, &serial, request).await }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn handle(
    client: &Client<HttpConnector, Full<Bytes>>,
    upstream: &str,
    state: &Mutex<State>,
    serial: &tokio::sync::Mutex<()>,
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<Answer, Dropped> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    let operation = operation(target, &body);
    let authorization = parts.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    lock(state).calls.push(Call {
        service: signing_service(authorization).to_owned(),
        operation: operation.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let fault = fault_for(state, &operation, &body);
    if let Some(Fault::Status(status)) = fault {
        // The service's own error shape: JSON for X-Amz-Target protocols, XML for the query protocol.
        let (content_type, body) = match target {
            Some(_) => (
                "application/x-amz-json-1.0",
                format!(r#"{{"__type":"InternalServerError","message":"injected by the fault proxy ({status})"}}"#),
            ),
            None => (
                "text/xml",
                format!(
                    "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code>\
                     <Message>injected by the fault proxy ({status})</Message></Error>\
                     <RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
                ),
            ),
        };
        return Ok(hyper::Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))
            .unwrap_or_default());
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut forward = hyper::Request::builder().method(parts.method.clone()).uri(format!("{upstream}{path}"));
    for (name, value) in &parts.headers {
        forward = forward.header(name, value);
    }
    let Ok(forward) = forward.body(Full::new(body)) else {
        return Err(Dropped);
    };
    // Held for the call only: a hung or lost answer does not hold up others.
    let upstream_call = async {
        let _one = serial.lock().await;
        let answer = client.request(forward).await.ok()?;
        let (parts, body) = answer.into_parts();
        Some((parts, body.collect().await.map(|b| b.to_bytes()).unwrap_or_default()))
    };
    let Some((answer_parts, answer_body)) = upstream_call.await else {
        return Ok(status_only(502));
    };
    match fault {
        Some(Fault::LoseAnswer) => Err(Dropped),
        Some(Fault::Hang) => {
            std::future::pending::<()>().await;
            Err(Dropped)
        }
        _ => Ok(hyper::Response::from_parts(answer_parts, Full::new(answer_body))),
    }
}

fn status_only(status: u16) -> Answer {
    hyper::Response::builder().status(status).body(Full::new(Bytes::new())).unwrap_or_default()
}
