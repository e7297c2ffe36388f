//! Sending a request to the AWS endpoint: signed with SigV4 (moto routes
//! by the signature's service name, as AWS checks it), over HTTP/1.1, each
//! call bounded in time; the answer's status, headers and body.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// What an endpoint answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The request id AWS gives an answer (`x-amzn-RequestId`, `x-amz-request-id`).
    pub fn request_id(&self) -> Option<&str> {
        self.header("x-amzn-requestid").or_else(|| self.header("x-amz-request-id"))
    }
}

/// A request before it is signed and sent.
pub struct Request {
    pub method: &'static str,
    /// The path and query, from `/`.
    pub path_and_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The service name SigV4 signs with.
    pub signing_name: String,
}

/// Where calls go, and as whom.
#[derive(Clone)]
pub struct Endpoint {
    /// `http://127.0.0.1:5000`, no trailing slash.
    base: String,
    authority: String,
    region: String,
    credentials: Credentials,
    client: Client<HttpConnector, Full<Bytes>>,
    /// The longest a call may take when the task gives no TimeoutSeconds.
    pub call_limit: Duration,
}

/// Why a request got no answer.
#[derive(Debug)]
pub enum SendError {
    /// The endpoint cannot be reached or broke off.
    Unreachable(String),
    TimedOut,
}

impl Endpoint {
    /// An `http://host:port` endpoint (a local emulator), with the
    /// environment's credentials (`AWS_ACCESS_KEY_ID`, ...) or dummy ones.
    pub fn new(url: &str, region: &str) -> Result<Endpoint, String> {
        let base = url.trim_end_matches('/').to_owned();
        let authority = base
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url}: the AWS endpoint must be an http:// URL (a local emulator)"))?
            .to_owned();
        if authority.is_empty() || authority.contains('/') {
            return Err(format!("{url}: the AWS endpoint must be http://host:port"));
        }
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let credentials = Credentials::new(
            var("AWS_ACCESS_KEY_ID").unwrap_or_else(|| "testing".into()),
            var("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|| "testing".into()),
            var("AWS_SESSION_TOKEN"),
            None,
            "orderflow",
        );
        let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build_http();
        Ok(Endpoint {
            base,
            authority,
            region: region.to_owned(),
            credentials,
            client,
            call_limit: Duration::from_secs(60),
        })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// Signs and sends `request`; the answer, whatever its status.
    pub async fn send(&self, request: Request) -> Result<Answer, SendError> {
        let uri = format!("{}{}", self.base, request.path_and_query);
        let body = Bytes::from(request.body);
        let mut builder = http::Request::builder().method(request.method).uri(&uri).header("host", &self.authority);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let mut http_request = builder
            .header("content-length", body.len().to_string())
            .body(Full::new(body.clone()))
            .map_err(|e| SendError::Unreachable(format!("a request that cannot be sent: {e}")))?;
        self.sign(&mut http_request, &body, &request.signing_name)?;
        let exchange = async {
            let response =
                self.client.request(http_request).await.map_err(|e| SendError::Unreachable(e.to_string()))?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(|e| SendError::Unreachable(e.to_string()))?.to_bytes();
            Ok(Answer { status: parts.status.as_u16(), headers: parts.headers, body })
        };
        tokio::time::timeout(self.call_limit, exchange).await.map_err(|_| SendError::TimedOut)?
    }

    fn sign(&self, request: &mut http::Request<Full<Bytes>>, body: &[u8], service: &str) -> Result<(), SendError> {
        let failed = |e: &dyn std::fmt::Display| SendError::Unreachable(format!("cannot sign the request: {e}"));
        let identity = self.credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(service)
            .time(SystemTime::now())
            .settings(settings(service))
            .build()
            .map_err(|e| failed(&e))?
            .into();
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let uri = request.uri().to_string();
        let signable = SignableRequest::new(
            request.method().as_str(),
            &uri,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .map_err(|e| failed(&e))?;
        let (instructions, _) = sign(signable, &params).map_err(|e| failed(&e))?.into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}

/// SigV4's settings for `service`: S3 signs its payload's hash in a header,
/// and its paths as they are (no normalising, no second encoding).
fn settings(service: &str) -> SigningSettings {
    let mut settings = SigningSettings::default();
    if service == "s3" {
        settings.payload_checksum_kind = aws_sigv4::http_request::PayloadChecksumKind::XAmzSha256;
        settings.uri_path_normalization_mode = aws_sigv4::http_request::UriPathNormalizationMode::Disabled;
        settings.percent_encoding_mode = aws_sigv4::http_request::PercentEncodingMode::Single;
    }
    settings
}
