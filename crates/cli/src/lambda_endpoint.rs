//! Tasks answered by a Lambda Invoke API, such as `cargo lambda watch` on
//! 127.0.0.1:9000, so the real function binaries run. Plain HTTP on loopback
//! is all it speaks: that is what local Invoke APIs serve.

use orderflow_asl::{BoxFuture, Invoker, TaskFailure};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct LambdaEndpoint {
    host_port: String,
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
        Ok(LambdaEndpoint { host_port: host_port.to_owned() })
    }

    async fn post(&self, path: &str, body: &[u8]) -> std::io::Result<(u16, Vec<(String, String)>, Vec<u8>)> {
        let mut stream = TcpStream::connect(&self.host_port).await?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.host_port,
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed HTTP response");
        let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(bad)?;
        let head = String::from_utf8_lossy(&raw[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let status: u16 =
            lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let mut body = raw[end + 4..].to_vec();
        if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked")) {
            body = dechunk(&body).ok_or_else(bad)?;
        }
        Ok((status, headers, body))
    }
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..line_end]).ok()?.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

impl Invoker for LambdaEndpoint {
    fn invoke<'a>(&'a self, function: &'a str, payload: Value) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        Box::pin(async move {
            let path = format!("/2015-03-31/functions/{function}/invocations");
            let (status, headers, body) =
                self.post(&path, payload.to_string().as_bytes()).await.map_err(|e| TaskFailure {
                    error: "Lambda.SdkClientException".into(),
                    cause: format!("cannot reach the Lambda endpoint {}: {e}", self.host_port),
                })?;
            let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
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
