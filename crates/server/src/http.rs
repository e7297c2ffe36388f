//! The HTTP side: hyper on a listener the caller bound (127.0.0.1), one
//! `POST /` per API call. Any Host is accepted: SDKs prefix `sync-` to the
//! endpoint's host for StartSyncExecution and TestState. `GET` requests go
//! to the pages served beside the API (the console), when there are any.
//!
//! Another site's page cannot call the API: a call needs the
//! `X-Amz-Target` header, which no cross-site form sends and no cross-site
//! script may send without a CORS answer this server never gives; and a
//! browser's call that names an `Origin` other than the server's own (a page
//! of another site, or one reached through a rebound DNS name) is refused.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

use crate::Service;
use crate::error::{ApiError, ErrorCode};
use crate::workers::{Job, Workers};

/// Read whole, so that a request over a member's quota (a 10 MB definition)
/// gets the model's ValidationException, as from AWS.
const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;
/// A larger request is read to its end (and dropped) up to this size, so
/// that its client, still sending, gets the answer rather than a broken pipe.
const MAX_DRAINED_BYTES: usize = 1024 * 1024 * 1024;

type Answer = hyper::Response<Full<Bytes>>;

/// Pages served beside the API (`GET`): the console.
pub trait Pages: Send + Sync {
    /// The answer to `GET path?query`; None when no page is there (404).
    fn get<'a>(
        &'a self,
        service: &'a Arc<Service>,
        path: &'a str,
        query: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Page>> + Send + 'a>>;
}

/// A page's answer.
pub struct Page {
    pub status: u16,
    pub content_type: &'static str,
    /// Headers beside the content type (Content-Security-Policy, caching).
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

fn page_answer(page: Page) -> Answer {
    let mut answer = hyper::Response::builder().status(page.status).header("content-type", page.content_type);
    for (name, value) in &page.headers {
        answer = answer.header(*name, value.as_str());
    }
    answer.body(Full::new(page.body)).unwrap_or_default()
}

/// Whether a browser's `Origin` is this server itself (its Host, on
/// loopback): a page of another site, or of a DNS name rebound to this
/// address, is not.
fn same_origin(origin: &str, host: &str) -> bool {
    let Some(authority) = origin.strip_prefix("http://") else { return false };
    let loopback = |authority: &str| {
        let name = authority.rsplit_once(':').map_or(authority, |(name, _)| name);
        matches!(name, "127.0.0.1" | "localhost" | "[::1]")
    };
    authority == host && loopback(authority)
}

fn json_answer(status: u16, body: &serde_json::Value) -> Answer {
    // serde_json's writer, not Display's formatter: the text is written once.
    text_answer(status, serde_json::to_vec(body).unwrap_or_default())
}

/// An answer of the JSON protocol whose text is `text`.
fn text_answer(status: u16, text: Vec<u8>) -> Answer {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-requestid", "00000000-0000-0000-0000-000000000000")
        .body(Full::new(Bytes::from(text)))
        .unwrap_or_default()
}

fn error_answer(error: &ApiError) -> Answer {
    json_answer(error.status(), &error.body())
}

async fn answer(
    service: Arc<Service>,
    pages: Option<Arc<dyn Pages>>,
    request: hyper::Request<hyper::body::Incoming>,
) -> Answer {
    let (parts, body) = request.into_parts();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if let Some(origin) = parts.headers.get("origin").and_then(|v| v.to_str().ok())
        && !same_origin(origin, header("host"))
    {
        return error_answer(&ApiError::new(
            ErrorCode::AccessDeniedException,
            format!("a page of {origin} may not call this server"),
        ));
    }
    if parts.method == hyper::Method::GET
        && let Some(pages) = &pages
    {
        let (path, query) = (parts.uri.path(), parts.uri.query().unwrap_or_default());
        return match pages.get(&service, path, query).await {
            Some(page) => page_answer(page),
            None => page_answer(Page {
                status: 404,
                content_type: "text/plain; charset=utf-8",
                headers: Vec::new(),
                body: Bytes::from_static(b"Not Found"),
            }),
        };
    }
    if parts.method != hyper::Method::POST {
        return error_answer(&ApiError::new(
            ErrorCode::UnknownOperationException,
            "the Step Functions API takes POST /",
        ));
    }
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let Some(operation) = target.strip_prefix("AWSStepFunctions.") else {
        return error_answer(&ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("X-Amz-Target must be AWSStepFunctions.<Operation>, not {target:?}"),
        ));
    };
    let body = match read(body).await {
        Ok(body) => body,
        Err(error) => return error_answer(&error),
    };
    match service.answer(operation, &body).await {
        Ok(text) => text_answer(200, text),
        Err(error) => error_answer(&error),
    }
}

/// The request's body, read to its end; an error past MAX_REQUEST_BYTES
/// (the rest drained first) or when it cannot be read.
async fn read(mut body: hyper::body::Incoming) -> Result<Bytes, ApiError> {
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::validation(format!("the request could not be read: {e}")))?;
        let Ok(data) = frame.into_data() else { continue };
        total += data.len();
        if total <= MAX_REQUEST_BYTES {
            kept.extend_from_slice(&data);
        } else if total > MAX_DRAINED_BYTES {
            break;
        }
    }
    if total > MAX_REQUEST_BYTES {
        return Err(ApiError::validation(format!(
            "the request is larger than {MAX_REQUEST_BYTES} bytes, more than this server reads"
        )));
    }
    Ok(Bytes::from(kept))
}

/// Serves every connection `listener` accepts until the task is dropped.
pub async fn serve(listener: TcpListener, service: Arc<Service>) {
    serve_with_pages(listener, service, None).await
}

/// As `serve`, with `pages` answering `GET` requests beside the API. Each
/// connection is served on one of the connection threads (workers.rs).
pub async fn serve_with_pages(listener: TcpListener, service: Arc<Service>, pages: Option<Arc<dyn Pages>>) {
    let workers = Workers::start();
    while let Ok((stream, _)) = listener.accept().await {
        let (service, pages) = (service.clone(), pages.clone());
        let Some(workers) = &workers else {
            tokio::spawn(connection(stream, service, pages));
            continue;
        };
        // Moved as a std socket: it registers with the runtime of the thread that takes it.
        let Ok(std_stream) = stream.into_std() else { continue };
        let job: Job = Box::new(move || {
            if let Ok(stream) = TcpStream::from_std(std_stream) {
                tokio::spawn(connection(stream, service, pages));
            }
        });
        if let Err(job) = workers.hand(job) {
            // A connection thread has gone: serve here rather than drop the client.
            job();
        }
    }
}

async fn connection(stream: TcpStream, service: Arc<Service>, pages: Option<Arc<dyn Pages>>) {
    // Each answer is one write; nothing is gained by holding it back for more.
    let _ = stream.set_nodelay(true);
    let handler = service_fn(move |request| {
        let (service, pages) = (service.clone(), pages.clone());
        async move { Ok::<_, Infallible>(answer(service, pages, request).await) }
    });
    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), handler).await;
}

#[cfg(test)]
mod tests {
    use super::same_origin;

    #[test]
    fn only_this_servers_own_pages_are_its_origin() {
        assert!(same_origin("http://127.0.0.1:8083", "127.0.0.1:8083"));
        assert!(same_origin("http://localhost:8083", "localhost:8083"));
        assert!(!same_origin("http://127.0.0.1:9999", "127.0.0.1:8083"));
        assert!(!same_origin("https://evil.example", "127.0.0.1:8083"));
        // A DNS name rebound to this address keeps its own Host: not loopback, refused.
        assert!(!same_origin("http://rebound.example:8083", "rebound.example:8083"));
        assert!(!same_origin("null", "127.0.0.1:8083"));
    }
}
