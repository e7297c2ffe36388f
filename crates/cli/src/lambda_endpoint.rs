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

    async fn post(&self, path: &str, body: Vec<u8>, tail: bool) -> Result<(u16, Vec<(String, String)>, Bytes), String> {
        let mut request =
            hyper::Request::post(format!("http://{}{path}", self.host_port)).header("Content-Type", "application/json");
        if tail {
            request = request.header("X-Amz-Log-Type", "Tail");
        }
        let request = request.body(Full::new(Bytes::from(body))).map_err(|e| e.to_string())?;
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
        Box::pin(async move { self.call(function, payload, false).await.map(|(answer, _)| answer) })
    }

    fn invoke_tail<'a>(
        &'a self,
        function: &'a str,
        payload: &'a Value,
    ) -> BoxFuture<'a, Result<(Value, Option<String>), TaskFailure>> {
        Box::pin(self.call(function, payload, true))
    }
}

impl LambdaEndpoint {
    /// One Invoke: the answer, and the log's tail (`X-Amz-Log-Result`) when `tail` asked for it.
    async fn call(&self, function: &str, payload: &Value, tail: bool) -> Result<(Value, Option<String>), TaskFailure> {
        let path = format!("/2015-03-31/functions/{function}/invocations");
        let (status, headers, body) =
            self.post(&path, payload.to_string().into_bytes(), tail).await.map_err(|e| TaskFailure {
                error: "Lambda.SdkClientException".into(),
                cause: format!("cannot reach the Lambda endpoint {}: {e}", self.host_port),
            })?;
        let json = orderflow_value::parse_bytes(&body).unwrap_or_default();
        let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        match status {
            // Real Lambda: 200, with X-Amz-Function-Error when the function failed.
            200 if header("x-amz-function-error").is_none() => {
                Ok((json, header("x-amz-log-result").map(str::to_owned)))
            }
            // cargo lambda watch: a function error is a 500 with the error document.
            // Step Functions passes the function's error document on as the cause, its bytes as they came.
            200 | 500 if json.get("errorType").is_some() || status == 200 => Err(TaskFailure {
                error: json.get("errorType").and_then(Value::as_str).unwrap_or("Unhandled").to_owned(),
                cause: String::from_utf8_lossy(&body).into_owned(),
            }),
            // The Invoke API's own errors, as Step Functions names them.
            _ => {
                let code = header("x-amzn-errortype").map(|t| t.split(':').next().unwrap_or(t).to_owned());
                let message = json.get("Message").or_else(|| json.get("message")).and_then(Value::as_str);
                Err(invoke_api_error(function, status, code.as_deref(), message, header("x-amzn-requestid")))
            }
        }
    }
}

/// An error of the Lambda Invoke API itself (no such function, throttled,
/// the service failing) as Step Functions reports it: `Lambda.<Code>` and
/// the AWS SDK for Java's text, naming the function's `$LATEST` ARN when
/// Lambda gives no message of its own.
pub fn invoke_api_error(
    function: &str,
    status: u16,
    code: Option<&str>,
    message: Option<&str>,
    request_id: Option<&str>,
) -> TaskFailure {
    let code = code.unwrap_or(match status {
        404 => "ResourceNotFoundException",
        429 => "TooManyRequestsException",
        400..=499 => "InvalidRequestContentException",
        _ => "ServiceException",
    });
    let message = match message {
        Some(message) => message.to_owned(),
        None if code == "ResourceNotFoundException" => format!("Function not found: {}", latest_arn(function)),
        None if code == "TooManyRequestsException" => "Rate Exceeded.".to_owned(),
        None => format!("HTTP {status} from the Lambda Invoke API"),
    };
    let request_id = request_id.map_or_else(|| format!("{:08x}-local", status), str::to_owned);
    TaskFailure {
        error: format!("Lambda.{code}"),
        cause: format!(
            "{message} (Service: AWSLambda; Status Code: {status}; Error Code: {code}; Request ID: {request_id}; Proxy: null)"
        ),
    }
}

/// A function's name or ARN as the ARN Lambda names in its errors: unqualified ones at `$LATEST`.
pub fn latest_arn(function: &str) -> String {
    let arn = match function.starts_with("arn:") {
        true => function.to_owned(),
        false => crate::loader::local_function_arn(function),
    };
    // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
    if arn.split(':').count() == 7 { format!("{arn}:$LATEST") } else { arn }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoke_api_errors_read_as_step_functions_reports_them() {
        let missing = invoke_api_error("nope", 404, None, None, Some("r-1"));
        assert_eq!(missing.error, "Lambda.ResourceNotFoundException");
        assert_eq!(
            missing.cause,
            "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope:$LATEST (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: r-1; Proxy: null)"
        );
        let throttled =
            invoke_api_error("f", 429, Some("TooManyRequestsException"), Some("Rate Exceeded."), Some("r-2"));
        assert_eq!(throttled.error, "Lambda.TooManyRequestsException");
        assert!(throttled.cause.starts_with("Rate Exceeded. (Service: AWSLambda; Status Code: 429;"));
        assert_eq!(
            latest_arn("arn:aws:lambda:us-east-1:1:function:f:live"),
            "arn:aws:lambda:us-east-1:1:function:f:live"
        );
        assert_eq!(invoke_api_error("f", 502, None, None, None).error, "Lambda.ServiceException");
    }
}
