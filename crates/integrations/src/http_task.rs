//! The HTTP Task (`arn:aws:states:::http:invoke`): a request to any HTTP or
//! HTTPS API, as Step Functions makes it. Its authorization comes from an
//! EventBridge connection, read from the AWS endpoint as Step Functions reads
//! it (DescribeConnection, then the connection's Secrets Manager secret); the
//! connection's header, query and body parameters are merged in, its values
//! winning. The answer is `{"Headers", "ResponseBody", "StatusCode",
//! "StatusText"}`; a status outside 2xx is `States.Http.StatusCode.<code>`,
//! no answer within 60 seconds or no connection `States.Http.Socket`.

use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use orderflow_asl::{HttpExchange, HttpRequestShown, HttpResponseShown, HttpTrace, TaskFailure};
use orderflow_value::{Map, Value};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::Integrations;

/// Step Functions gives up on an HTTP Task's request after 60 seconds.
const REQUEST_LIMIT: Duration = Duration::from_secs(60);

/// Headers a definition may not set (Step Functions fails the task with States.Runtime).
const FORBIDDEN: &[&str] = &[
    "a-im",
    "accept-charset",
    "accept-datetime",
    "accept-encoding",
    "authorization",
    "cache-control",
    "connection",
    "content-encoding",
    "content-md5",
    "date",
    "expect",
    "forwarded",
    "from",
    "host",
    "http2-settings",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "max-forwards",
    "origin",
    "pragma",
    "proxy-authorization",
    "referer",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
    "warning",
];

/// What stays as it is in a URL-encoded key or value: letters, digits and `-_.~`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

type Https = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

fn client() -> Result<&'static Https, String> {
    static CLIENT: OnceLock<Result<Https, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let connector = hyper_rustls::HttpsConnectorBuilder::new()
                .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
                .map_err(|e| format!("no TLS trust roots: {e}"))?
                .https_or_http()
                .enable_http1()
                .build();
            Ok(Client::builder(TokioExecutor::new()).build(connector))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// `{key: value}`.
fn object(key: &str, value: &str) -> Value {
    let mut members = Map::new();
    members.insert(key, Value::from(value));
    Value::Object(members)
}

fn runtime(cause: impl Into<String>) -> TaskFailure {
    TaskFailure { error: "States.Runtime".into(), cause: cause.into() }
}

fn socket(cause: impl Into<String>) -> TaskFailure {
    TaskFailure { error: "States.Http.Socket".into(), cause: cause.into() }
}

/// How arrays in a URL-encoded body are written.
#[derive(Clone, Copy)]
enum ArrayFormat {
    Indices,
    Repeat,
    Commas,
    Brackets,
}

/// The task's request, its parameters read and checked.
struct Call {
    endpoint: String,
    method: http::Method,
    connection: String,
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Option<Value>,
    url_encoded: Option<ArrayFormat>,
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn read(parameters: &Value) -> Result<Call, TaskFailure> {
    let field = |name: &str| parameters.get(name).filter(|v| !v.is_null());
    let endpoint = field("ApiEndpoint")
        .and_then(Value::as_str)
        .ok_or_else(|| runtime("The HTTP Task needs ApiEndpoint, the URL to call, as a string"))?;
    if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
        return Err(runtime(format!("The value for the 'ApiEndpoint' field is not valid: {endpoint}")));
    }
    let method = field("Method").and_then(Value::as_str).unwrap_or_default().to_ascii_uppercase();
    let method = match method.as_str() {
        "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS" | "HEAD" => {
            http::Method::from_bytes(method.as_bytes()).map_err(|e| runtime(e.to_string()))?
        }
        _ => {
            return Err(runtime("The HTTP Task needs Method: one of GET, POST, PUT, DELETE, PATCH, OPTIONS or HEAD"));
        }
    };
    let connection = ["InvocationConfig", "Authentication"]
        .iter()
        .find_map(|key| field(key)?.get("ConnectionArn")?.as_str())
        .ok_or_else(|| runtime("The HTTP Task needs Authentication.ConnectionArn, an EventBridge connection's ARN"))?;
    let mut headers = Vec::new();
    if let Some(given) = field("Headers") {
        let Some(given) = given.as_object() else { return Err(runtime("Headers must be an object")) };
        for (name, value) in given.iter() {
            let lower = name.to_ascii_lowercase();
            if FORBIDDEN.contains(&lower.as_str())
                || lower.starts_with("x-forwarded")
                || lower.starts_with("x-amz-")
                || lower.starts_with("x-amzn-")
            {
                return Err(runtime(format!("The header '{name}' is not allowed in an HTTP Task")));
            }
            headers.push((name.to_string(), text_of(value)));
        }
    }
    let mut query = Vec::new();
    if let Some(given) = field("QueryParameters") {
        let Some(given) = given.as_object() else { return Err(runtime("QueryParameters must be an object")) };
        for (name, value) in given.iter() {
            flatten(name, value, ArrayFormat::Repeat, &mut query);
        }
    }
    let transform = field("Transform");
    let url_encoded = match transform.and_then(|t| t.get("RequestBodyEncoding")).and_then(Value::as_str) {
        None | Some("NONE") => None,
        Some("URL_ENCODED") => {
            let format = transform.and_then(|t| t.get("RequestEncodingOptions")).and_then(|o| o.get("ArrayFormat"));
            Some(match format.and_then(Value::as_str) {
                None | Some("INDICES") => ArrayFormat::Indices,
                Some("REPEAT") => ArrayFormat::Repeat,
                Some("COMMAS") => ArrayFormat::Commas,
                Some("BRACKETS") => ArrayFormat::Brackets,
                Some(other) => {
                    return Err(runtime(format!(
                        "ArrayFormat {other:?} is not one of INDICES, REPEAT, COMMAS, BRACKETS"
                    )));
                }
            })
        }
        Some(other) => return Err(runtime(format!("RequestBodyEncoding {other:?} is not NONE or URL_ENCODED"))),
    };
    Ok(Call {
        endpoint: endpoint.to_owned(),
        method,
        connection: connection.to_owned(),
        headers,
        query,
        body: field("RequestBody").cloned(),
        url_encoded,
    })
}

/// `value` under `key` as URL-encoded pairs: objects as `key[member]`,
/// arrays as `format` says.
fn flatten(key: &str, value: &Value, format: ArrayFormat, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(members) => {
            for (member, v) in members.iter() {
                flatten(&format!("{key}[{member}]"), v, format, out);
            }
        }
        Value::Array(items) => match format {
            ArrayFormat::Commas => out.push((key.to_owned(), items.iter().map(text_of).collect::<Vec<_>>().join(","))),
            ArrayFormat::Indices => {
                for (i, v) in items.iter().enumerate() {
                    flatten(&format!("{key}[{i}]"), v, format, out);
                }
            }
            ArrayFormat::Repeat => items.iter().for_each(|v| flatten(key, v, format, out)),
            ArrayFormat::Brackets => items.iter().for_each(|v| flatten(&format!("{key}[]"), v, format, out)),
        },
        scalar => out.push((key.to_owned(), text_of(scalar))),
    }
}

fn encode(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", utf8_percent_encode(k, UNRESERVED), utf8_percent_encode(v, UNRESERVED)))
        .collect::<Vec<_>>()
        .join("&")
}

/// What a connection adds to a request: its authorization header and its
/// invocation parameters.
#[derive(Default)]
struct Connection {
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Vec<(String, Value)>,
}

impl Integrations {
    /// The EventBridge connection `arn` as Step Functions reads it: its
    /// description, then its secret for the credentials.
    async fn connection(&self, arn: &str) -> Result<Connection, TaskFailure> {
        let name = arn.split_once(":connection/").map(|(_, rest)| rest.split('/').next().unwrap_or(rest));
        let name = name.filter(|n| !n.is_empty()).ok_or_else(|| TaskFailure {
            error: "Events.ConnectionResource.ResourceNotFound".into(),
            cause: format!("'{arn}' is not an EventBridge connection's ARN"),
        })?;
        let described =
            self.sdk_call("eventbridge", "describeConnection", &object("Name", name)).await.map_err(|f| {
                let kind = if f.error.contains("ResourceNotFound") { "ResourceNotFound" } else { "InternalError" };
                TaskFailure { error: format!("Events.ConnectionResource.{kind}"), cause: f.cause }
            })?;
        let state = described.get("ConnectionState").and_then(Value::as_str).unwrap_or("AUTHORIZED");
        if !matches!(state, "AUTHORIZED" | "AUTHORIZING") {
            return Err(TaskFailure {
                error: "Events.ConnectionResource.InvalidConnectionState".into(),
                cause: format!("The connection {name} is {state}"),
            });
        }
        // The credentials, from the connection's secret as AWS keeps them.
        let secret = match described.get("SecretArn").and_then(Value::as_str) {
            Some(secret) => {
                let read =
                    self.sdk_call("secretsmanager", "getSecretValue", &object("SecretId", secret)).await.map_err(
                        |f| TaskFailure { error: "Events.ConnectionResource.AccessDenied".into(), cause: f.cause },
                    )?;
                let text = read.get("SecretString").and_then(Value::as_str).unwrap_or("{}").to_owned();
                orderflow_value::parse(&text).unwrap_or_default()
            }
            None => Value::Null,
        };
        let auth = described.get("AuthParameters").cloned().unwrap_or_default();
        let secret_text = |key: &str| secret.get(key).and_then(Value::as_str).map(str::to_owned);
        let mut connection = Connection::default();
        match described.get("AuthorizationType").and_then(Value::as_str) {
            Some("API_KEY") => {
                let given = auth.get("ApiKeyAuthParameters");
                let key_name = secret_text("api_key_name")
                    .or_else(|| given?.get("ApiKeyName")?.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let value = secret_text("api_key_value")
                    .or_else(|| given?.get("ApiKeyValue")?.as_str().map(str::to_owned))
                    .unwrap_or_default();
                connection.headers.push((key_name, value));
            }
            Some("BASIC") => {
                let given = auth.get("BasicAuthParameters");
                let user = secret_text("username")
                    .or_else(|| given?.get("Username")?.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let password = secret_text("password")
                    .or_else(|| given?.get("Password")?.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                connection.headers.push(("Authorization".into(), format!("Basic {basic}")));
            }
            Some("OAUTH_CLIENT_CREDENTIALS") => {
                let token = self.oauth_token(&auth, &secret).await?;
                connection.headers.push(("Authorization".into(), format!("Bearer {token}")));
            }
            _ => {}
        }
        if let Some(parameters) = auth.get("InvocationHttpParameters") {
            let pairs = |key: &str| -> Vec<(String, Value)> {
                parameters
                    .get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| {
                        Some((p.get("Key")?.as_str()?.to_owned(), p.get("Value").cloned().unwrap_or_default()))
                    })
                    .collect()
            };
            connection.headers.extend(pairs("HeaderParameters").into_iter().map(|(k, v)| (k, text_of(&v))));
            connection.query.extend(pairs("QueryStringParameters").into_iter().map(|(k, v)| (k, text_of(&v))));
            connection.body.extend(pairs("BodyParameters"));
        }
        Ok(connection)
    }

    /// An OAuth client-credentials connection's access token: the client's
    /// id and secret as Basic authorization to its authorization endpoint.
    async fn oauth_token(&self, auth: &Value, secret: &Value) -> Result<String, TaskFailure> {
        let failed = |cause: String| TaskFailure { error: "Events.ConnectionResource.AuthInProgress".into(), cause };
        let given = auth.get("OAuthParameters").cloned().unwrap_or_default();
        let client = secret.get("client_parameters").unwrap_or(secret);
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let id = text(client.get("client_id"))
            .or_else(|| text(given.get("ClientParameters").and_then(|c| c.get("ClientID"))));
        let secret_value = text(client.get("client_secret"))
            .or_else(|| text(given.get("ClientParameters").and_then(|c| c.get("ClientSecret"))));
        let url = text(secret.get("authorization_endpoint")).or_else(|| text(given.get("AuthorizationEndpoint")));
        let method =
            text(secret.get("http_method")).or_else(|| text(given.get("HttpMethod"))).unwrap_or_else(|| "POST".into());
        let url = url.ok_or_else(|| failed("the OAuth connection has no authorization endpoint".into()))?;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            id.unwrap_or_default(),
            secret_value.unwrap_or_default()
        ));
        let request = http::Request::builder()
            .method(method.as_str())
            .uri(&url)
            .header("Authorization", format!("Basic {basic}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from_static(b"grant_type=client_credentials")))
            .map_err(|e| failed(e.to_string()))?;
        let answer = send(request).await.map_err(|f| failed(f.cause))?;
        let body = orderflow_value::parse_bytes(&answer.2).unwrap_or_default();
        body.get("access_token")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| failed(format!("{url} gave no access_token (HTTP {})", answer.0)))
    }

    /// Runs an HTTP Task with its Parameters: its result as Step Functions gives it.
    /// With `trace` (TestState at TRACE), the request sent and the answer
    /// got are left there, the request as the task alone makes it unless
    /// the trace may reveal what the connection adds.
    pub(crate) async fn http_invoke(
        &self,
        parameters: &Value,
        trace: Option<&HttpTrace>,
    ) -> Result<Value, TaskFailure> {
        let call = read(parameters)?;
        let connection = self.connection(&call.connection).await?;
        let region = self.endpoint.region();
        let sent = call.request(Some(connection), region)?;
        let Some(trace) = trace else {
            let (status, headers, body, reason) = send(sent.http(&call.method)?).await?;
            return answer(status, &headers, &body, reason);
        };
        let shown = if trace.reveal_secrets { sent.clone() } else { call.request(None, region)? };
        let protocol = if sent.url.starts_with("https:") { "https" } else { "http" };
        let mut exchange = HttpExchange {
            request: HttpRequestShown {
                protocol: protocol.to_owned(),
                method: call.method.to_string(),
                url: shown.url,
                headers: shown.headers,
                body: String::from_utf8_lossy(&shown.body).into_owned(),
            },
            response: None,
        };
        let answered = send(sent.http(&call.method)?).await;
        if let Ok((status, headers, body, reason)) = &answered {
            exchange.response = Some(HttpResponseShown {
                protocol: protocol.to_owned(),
                status_code: *status,
                status_message: status_text(*status, reason.clone()),
                headers: headers
                    .iter()
                    .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                    .collect(),
                body: String::from_utf8_lossy(body).into_owned(),
            });
        }
        if let Ok(mut kept) = trace.exchange.lock() {
            *kept = Some(exchange);
        }
        let (status, headers, body, reason) = answered?;
        answer(status, &headers, &body, reason)
    }
}

/// A request ready to send: its URL, headers in order, and body.
#[derive(Clone)]
struct Ready {
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Ready {
    fn http(&self, method: &http::Method) -> Result<http::Request<Full<Bytes>>, TaskFailure> {
        let mut request = http::Request::builder().method(method.clone()).uri(&self.url);
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        request.body(Full::new(Bytes::from(self.body.clone()))).map_err(|e| runtime(format!("{}: {e}", self.url)))
    }
}

impl Call {
    /// The request this task makes, with `connection`'s parameters merged
    /// in (its values win), or as the task alone makes it.
    fn request(&self, connection: Option<Connection>, region: &str) -> Result<Ready, TaskFailure> {
        let connection = connection.unwrap_or_default();
        let mut headers = self.headers.clone();
        for (name, value) in connection.headers {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
            headers.push((name, value));
        }
        let mut query = self.query.clone();
        for (name, value) in connection.query {
            query.retain(|(n, _)| *n != name);
            query.push((name, value));
        }
        let mut body = self.body.clone();
        if !connection.body.is_empty() {
            match &mut body {
                Some(Value::Object(members)) => {
                    for (name, value) in connection.body {
                        members.insert(name.as_str(), value);
                    }
                }
                None => {
                    let mut members = Map::new();
                    for (name, value) in connection.body {
                        members.insert(name.as_str(), value);
                    }
                    body = Some(Value::Object(members));
                }
                Some(_) => {
                    return Err(runtime(
                        "The connection has body parameters, which cannot be merged into a RequestBody that is not an object",
                    ));
                }
            }
        }
        let has = |headers: &[(String, String)], name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
        let bytes = match (&body, self.url_encoded) {
            (None, _) => Vec::new(),
            (Some(Value::String(text)), _) => text.as_bytes().to_vec(),
            (Some(value @ Value::Object(_)), Some(format)) => {
                let mut pairs = Vec::new();
                if let Value::Object(members) = value {
                    for (name, v) in members.iter() {
                        flatten(name, v, format, &mut pairs);
                    }
                }
                encode(&pairs).into_bytes()
            }
            (Some(value), _) => {
                if !has(&headers, "content-type") {
                    headers.push(("Content-Type".into(), "application/json; charset=UTF-8".into()));
                }
                value.to_string().into_bytes()
            }
        };
        let mut url = self.endpoint.clone();
        if !query.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&encode(&query));
        }
        let mut all = vec![
            ("User-Agent".to_owned(), format!("Amazon|StepFunctions|HttpInvoke|{region}")),
            ("Range".to_owned(), "bytes=0-262144".to_owned()),
        ];
        all.extend(headers);
        Ok(Ready { url, headers: all, body: bytes })
    }
}

/// Sends `request`, within REQUEST_LIMIT: status, headers, body and reason phrase.
async fn send(
    request: http::Request<Full<Bytes>>,
) -> Result<(u16, http::HeaderMap, Bytes, Option<String>), TaskFailure> {
    let uri = request.uri().to_string();
    let exchange = async {
        let answer = client().map_err(runtime)?.request(request).await.map_err(|e| {
            use std::error::Error;
            let mut why = e.to_string();
            let mut source = e.source();
            while let Some(s) = source {
                why = format!("{why}: {s}");
                source = s.source();
            }
            socket(format!("The request to {uri} failed: {why}"))
        })?;
        let status = answer.status();
        let reason = answer
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned());
        let headers = answer.headers().clone();
        let body = answer
            .into_body()
            .collect()
            .await
            .map_err(|e| socket(format!("The answer of {uri} broke off: {e}")))?
            .to_bytes();
        Ok((status.as_u16(), headers, body, reason))
    };
    match tokio::time::timeout(REQUEST_LIMIT, exchange).await {
        Ok(answer) => answer,
        Err(_) => Err(socket(format!("The request to {uri} timed out after {} seconds", REQUEST_LIMIT.as_secs()))),
    }
}

/// The answer's reason phrase, or the status's usual one.
fn status_text(status: u16, reason: Option<String>) -> String {
    reason
        .filter(|r| !r.is_empty())
        .or_else(|| http::StatusCode::from_u16(status).ok()?.canonical_reason().map(str::to_owned))
        .unwrap_or_default()
}

/// The task's result, or its failure for a status outside 2xx.
fn answer(status: u16, headers: &http::HeaderMap, body: &Bytes, reason: Option<String>) -> Result<Value, TaskFailure> {
    let status_text = status_text(status, reason);
    if !(200..300).contains(&status) {
        // Step Functions keeps the reason phrase, not the body.
        return Err(TaskFailure { error: format!("States.Http.StatusCode.{status}"), cause: status_text });
    }
    let content_type =
        headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let binary = ["application/octet-stream", "image/", "video/", "audio/"].iter().any(|t| content_type.starts_with(t));
    let text = std::str::from_utf8(body).ok().filter(|_| !binary).ok_or_else(|| {
        runtime(format!("The answer's body ({content_type}) is not text, which an HTTP Task cannot pass on"))
    })?;
    let json = content_type.contains("json");
    let response_body = match json {
        true => orderflow_value::parse(text).unwrap_or_else(|_| Value::from(text)),
        false => Value::from(text),
    };
    let mut grouped = Map::new();
    for name in headers.keys() {
        let values: Vec<Value> = headers
            .get_all(name)
            .iter()
            .map(|v| Value::from(String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        grouped.insert(name.as_str(), Value::Array(values.into()));
    }
    let mut out = Map::new();
    out.insert("Headers", Value::Object(grouped));
    out.insert("ResponseBody", response_body);
    out.insert("StatusCode", Value::from(u64::from(status)));
    out.insert("StatusText", Value::from(status_text));
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoded_bodies_follow_the_array_format() {
        let body =
            orderflow_value::json!({"array": ["a", "b"], "metadata": {"order details": "monthly report"}, "n": 1});
        let pairs = |format| {
            let mut out = Vec::new();
            for (k, v) in body.as_object().unwrap().iter() {
                flatten(k, v, format, &mut out);
            }
            encode(&out)
        };
        assert_eq!(
            pairs(ArrayFormat::Indices),
            "array%5B0%5D=a&array%5B1%5D=b&metadata%5Border%20details%5D=monthly%20report&n=1"
        );
        assert_eq!(pairs(ArrayFormat::Repeat), "array=a&array=b&metadata%5Border%20details%5D=monthly%20report&n=1");
        assert_eq!(pairs(ArrayFormat::Commas), "array=a%2Cb&metadata%5Border%20details%5D=monthly%20report&n=1");
        assert_eq!(
            pairs(ArrayFormat::Brackets),
            "array%5B%5D=a&array%5B%5D=b&metadata%5Border%20details%5D=monthly%20report&n=1"
        );
    }

    #[test]
    fn forbidden_headers_and_missing_fields_fail_the_task() {
        let task = |extra: Value| {
            let mut p = orderflow_value::json!({"ApiEndpoint": "https://example.com", "Method": "GET",
                "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:1:connection/c/x"}});
            for (k, v) in extra.as_object().unwrap().iter() {
                p[k.as_str()] = v.clone();
            }
            read(&p).err().map(|f| (f.error, f.cause))
        };
        assert_eq!(task(orderflow_value::json!({})), None);
        let refused = task(orderflow_value::json!({"Headers": {"X-Amz-Date": "now"}})).unwrap();
        assert_eq!(refused.0, "States.Runtime");
        assert!(task(orderflow_value::json!({"Method": "FETCH"})).is_some());
        assert!(task(orderflow_value::json!({"ApiEndpoint": "example.com"})).is_some());
    }
}
