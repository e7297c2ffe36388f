//! The HTTP side: hyper on a listener the caller bound (127.0.0.1), one
//! `POST /` per API call. Any Host is accepted: SDKs prefix `sync-` to the
//! endpoint's host for StartSyncExecution and TestState.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::Service;
use crate::error::{ApiError, ErrorCode};

/// A definition (1 MB) and its JSON escapes fit; anything larger is refused unread.
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

type Answer = hyper::Response<Full<Bytes>>;

fn json_answer(status: u16, body: &serde_json::Value) -> Answer {
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-requestid", "00000000-0000-0000-0000-000000000000")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_default()
}

fn error_answer(error: &ApiError) -> Answer {
    json_answer(error.status(), &error.body())
}

async fn answer(service: Arc<Service>, request: hyper::Request<hyper::body::Incoming>) -> Answer {
    let (parts, body) = request.into_parts();
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
    let body = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return error_answer(&ApiError::validation(format!(
                "the request is larger than {MAX_REQUEST_BYTES} bytes or could not be read"
            )));
        }
    };
    match service.call(operation, &body).await {
        Ok(out) => json_answer(200, &out),
        Err(error) => error_answer(&error),
    }
}

/// Serves every connection `listener` accepts until the task is dropped.
pub async fn serve(listener: TcpListener, service: Arc<Service>) {
    while let Ok((stream, _)) = listener.accept().await {
        let service = service.clone();
        tokio::spawn(async move {
            let handler = service_fn(move |request| {
                let service = service.clone();
                async move { Ok::<_, Infallible>(answer(service, request).await) }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), handler).await;
        });
    }
}
