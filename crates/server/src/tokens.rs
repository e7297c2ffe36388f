//! Task tokens for the callback pattern (`.waitForTaskToken`): issued to a
//! task's attempt, answered by SendTaskSuccess, SendTaskFailure and
//! SendTaskHeartbeat, forgotten when the task is over.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use orderflow_asl::{BoxFuture, TaskFailure, TaskTokens, TokenSignal};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::error::{ApiError, ErrorCode};
use crate::{Service, executions};

struct Channel {
    /// The execution the token was issued in.
    execution: String,
    tx: mpsc::UnboundedSender<TokenSignal>,
    rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<TokenSignal>>,
}

#[derive(Default)]
pub struct Tokens {
    open: Mutex<HashMap<String, Arc<Channel>>>,
    rng: Mutex<Option<orderflow_asl::rng::Rng>>,
}

impl Tokens {
    /// Closes every token of `execution` (it was stopped while a task waited).
    pub fn close_execution(&self, execution: &str) {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).retain(|_, c| c.execution != execution);
    }

    fn channel(&self, token: &str) -> Option<Arc<Channel>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).get(token).cloned()
    }

    /// Hands `signal` to the task waiting on `token`. A token this server
    /// issued whose task is over (answered, timed out, its execution ended)
    /// is AWS's TaskTimedOut; anything else is not a token (InvalidToken).
    fn send(&self, token: &str, signal: TokenSignal) -> Result<(), ApiError> {
        let over = || ApiError::new(ErrorCode::TaskTimedOut, "Task Timed Out: 'Provided task does not exist anymore'");
        let Some(channel) = self.channel(token) else {
            return Err(match is_issued_form(token) {
                true => over(),
                false => ApiError::new(ErrorCode::InvalidToken, "Invalid Token: 'Invalid token'"),
            });
        };
        channel.tx.send(signal).map_err(|_| over())
    }
}

impl TaskTokens for Tokens {
    fn issue(&self, execution: &str, state: &str) -> String {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let rng = rng.get_or_insert_with(|| {
            let seed =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(7, |d| d.as_nanos() as u64);
            orderflow_asl::rng::Rng::new(seed ^ u64::from(std::process::id()))
        });
        // Opaque, as Step Functions' are.
        let _ = state;
        let token = format!("{TOKEN_PREFIX}{}-{}", rng.uuid_v4(), rng.uuid_v4());
        let (tx, rx) = mpsc::unbounded_channel();
        let channel = Arc::new(Channel { execution: execution.to_owned(), tx, rx: tokio::sync::Mutex::new(rx) });
        self.open.lock().unwrap_or_else(|p| p.into_inner()).insert(token.clone(), channel);
        token
    }

    fn wait<'a>(&'a self, token: &'a str) -> BoxFuture<'a, TokenSignal> {
        Box::pin(async move {
            let Some(channel) = self.channel(token) else {
                return TokenSignal::Failure(TaskFailure {
                    error: "States.Runtime".into(),
                    cause: "the task token is not open".into(),
                });
            };
            let mut rx = channel.rx.lock().await;
            rx.recv().await.unwrap_or(TokenSignal::Failure(TaskFailure {
                error: "States.Runtime".into(),
                cause: "the task token was closed".into(),
            }))
        })
    }

    fn close(&self, token: &str) {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).remove(token);
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Success {
    task_token: String,
    output: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fail {
    task_token: String,
    error: Option<String>,
    cause: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Heartbeat {
    task_token: String,
}

/// How the tokens this server issues begin: two UUIDs follow.
const TOKEN_PREFIX: &str = "orderflow-task-token-";

/// Whether `token` has the form of the tokens this server issues.
fn is_issued_form(token: &str) -> bool {
    token.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
        rest.len() == 73 && rest.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') && rest.as_bytes()[36] == b'-'
    })
}

pub fn success(service: &Arc<Service>, r: Success) -> Result<Value, ApiError> {
    if r.output.len() > executions::MAX_INPUT_BYTES {
        return Err(ApiError::new(ErrorCode::InvalidOutput, "Invalid Output: the output is larger than 256 KiB"));
    }
    let output = orderflow_value::parse(&r.output)
        .map_err(|e| ApiError::new(ErrorCode::InvalidOutput, format!("Invalid Output: not JSON: {e}")))?;
    service.tokens.send(&r.task_token, TokenSignal::Success(output))?;
    Ok(json!({}))
}

pub fn failure(service: &Arc<Service>, r: Fail) -> Result<Value, ApiError> {
    let failure = TaskFailure { error: r.error.unwrap_or_default(), cause: r.cause.unwrap_or_default() };
    service.tokens.send(&r.task_token, TokenSignal::Failure(failure))?;
    Ok(json!({}))
}

pub fn heartbeat(service: &Arc<Service>, r: Heartbeat) -> Result<Value, ApiError> {
    service.tokens.send(&r.task_token, TokenSignal::Heartbeat)?;
    Ok(json!({}))
}
