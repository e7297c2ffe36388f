//! The HTTP side: hyper on a listener the caller bound (127.0.0.1), one
//! `POST /` per API call. Any Host is accepted: SDKs prefix `sync-` to the
//! endpoint's host for StartSyncExecution and TestState.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::Service;
use crate::error::{ApiError, ErrorCode};

/// Read whole, so that a request over a member's quota (a 10 MB definition)
/// gets the model's ValidationException, as from AWS.
const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;
/// A larger request is read to its end (and dropped) up to this size, so
/// that its client, still sending, gets the answer rather than a broken pipe.
const MAX_DRAINED_BYTES: usize = 1024 * 1024 * 1024;

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
    let body = match read(body).await {
        Ok(body) => body,
        Err(error) => return error_answer(&error),
    };
    match service.call(operation, &body).await {
        Ok(out) => json_answer(200, &out),
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
