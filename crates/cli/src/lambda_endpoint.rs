//! Tasks answered by a Lambda Invoke API, such as `cargo lambda watch` on
//! 127.0.0.1:9000, so the real function binaries run. Plain HTTP on loopback
//! is all it speaks: that is what local Invoke APIs serve.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use orderflow_asl::{BoxFuture, Invoker, TaskFailure};
use orderflow_value::Value;

pub struct LambdaEndpoint {
    host_port: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl LambdaEndpoint {
    /// `http://HOST:PORT`.
    pub fn new(url: &str) -> Result<LambdaEndpoint, String> {
        let rest =
            url.strip_prefix("http://").ok_or_else(|| format!("{url:?}: only http:// endpoints are supported"))?;
        let host_port = rest.trim_end_matches('/');
        if host_port.is_empty() || host_port.contains('/') {
            return Err(format!("{url:?} must be http://HOST:PORT"));
        }
        let client = Client::builder(TokioExecutor::new()).build_http();
        Ok(LambdaEndpoint { host_port: host_port.to_owned(), client })
    }

    async fn post(&self, path: &str, body: Vec<u8>) -> Result<(u16, Vec<(String, String)>, Bytes), String> {
        let request = hyper::Request::post(format!("http://{}{path}", self.host_port))
            .header("Content-Type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let response = self.client.request(request).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = response.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok((status, headers, body))
    }
}

impl Invoker for LambdaEndpoint {
    fn invoke<'a>(&'a self, function: &'a str, payload: &'a Value) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        Box::pin(async move {
            let path = format!("/2015-03-31/functions/{function}/invocations");
            let (status, headers, body) =
                self.post(&path, payload.to_string().into_bytes()).await.map_err(|e| TaskFailure {
                    error: "Lambda.SdkClientException".into(),
                    cause: format!("cannot reach the Lambda endpoint {}: {e}", self.host_port),
                })?;
            let json = orderflow_value::parse_bytes(&body).unwrap_or_default();
            let function_error = headers.iter().any(|(k, _)| k == "x-amz-function-error");
            match status {
                // Real Lambda: 200, with X-Amz-Function-Error when the function failed.
                200 if !function_error => Ok(json),
                // cargo lambda watch: a function error is a 500 with the error document.
                // Step Functions passes the whole error document on as the cause.
                200 | 500 if json.get("errorType").is_some() => Err(TaskFailure {
                    error: json["errorType"].as_str().unwrap_or("Unhandled").to_owned(),
                    cause: json.to_string(),
                }),
                429 => Err(TaskFailure {
                    error: "Lambda.TooManyRequestsException".into(),
                    cause: String::from_utf8_lossy(&body).into(),
                }),
                404 => Err(TaskFailure {
                    error: "Lambda.ResourceNotFoundException".into(),
                    cause: String::from_utf8_lossy(&body).into(),
                }),
                _ => Err(TaskFailure {
                    error: "Lambda.ServiceException".into(),
                    cause: format!("HTTP {status}: {}", String::from_utf8_lossy(&body)),
                }),
            }
        })
    }
}
