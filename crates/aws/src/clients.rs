//! SDK configuration, loaded once per cold start.

use std::path::PathBuf;
use std::time::Duration;

use aws_config::environment::{EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_sdk_dynamodb::config::{ConfigBag, RuntimeComponents, RuntimeComponentsBuilder, SharedHttpClient};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpConnector};

/// The SDK's per-call limits. An invocation's own deadline
/// (`orderflow_lambda::Deadline`) cuts a call sooner when less time is left;
/// a test holds the template's Lambda timeout above these plus the margin.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(7);

/// The SDK's shared configuration; clients are cheap views of it.
#[derive(Debug, Clone)]
pub struct AwsClients {
    config: SdkConfig,
}

impl AwsClients {
    /// Region, credentials and endpoint from the standard sources: in Lambda
    /// its environment, locally `AWS_ENDPOINT_URL` pointing at the emulator.
    ///
    /// Lambda gives the region and the credentials in the environment, and
    /// the SDK's default chains read the environment first: when it holds
    /// them, they are taken from there alone, which is the chains' own answer
    /// without building their other providers at cold start (an STS client
    /// for web identity, the instance metadata clients, the profile files).
    pub async fn from_env() -> AwsClients {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        if set("AWS_ACCESS_KEY_ID") && set("AWS_SECRET_ACCESS_KEY") {
            loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
        }
        if set("AWS_REGION") || set("AWS_DEFAULT_REGION") {
            loader = loader.region(EnvironmentVariableRegionProvider::new());
        }
        Self::load(loader).await
    }

    /// Like `from_env`, starting from a loader with some settings already made.
    pub async fn load(loader: ConfigLoader) -> AwsClients {
        let config = loader
            .http_client(https_client())
            // Step Functions retries DependencyUnavailable with backoff and
            // jitter; one quick SDK retry absorbs a dropped connection without
            // multiplying the state machine's attempts.
            .retry_config(RetryConfig::standard().with_max_attempts(2).with_initial_backoff(Duration::from_millis(50)))
            // Well inside the functions' 10 s Lambda timeout, so a hung
            // connection becomes DependencyUnavailable, not a Lambda timeout.
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            )
            .load()
            .await;
        AwsClients { config }
    }

    pub fn config(&self) -> &SdkConfig {
        &self.config
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.config)
    }

    /// No SDK retry for SNS: a Publish whose answer was lost may have been
    /// delivered, and sending it again is the caller's decision (under its
    /// claim, with the same deduplication id), not the SDK's.
    pub fn sns(&self) -> aws_sdk_sns::Client {
        let config = aws_sdk_sns::config::Builder::from(&self.config).retry_config(RetryConfig::disabled()).build();
        aws_sdk_sns::Client::from_conf(config)
    }
}

/// The HTTPS client every SDK client shares: rustls on ring, its trust roots
/// loaded once for the process, off the cold start's path.
///
/// The SDK's client loads the roots (reading and decoding the system's
/// bundle, most of a function's init time) when a service client is built,
/// so that the first request does not wait for them. Here they load on a
/// thread of their own, started with the client, while the function's init
/// goes on and asks the Runtime API for its first event; a request that
/// comes before they are loaded waits for them (the SDK keeps them in one
/// process-wide lazy value). Nothing is trusted differently.
pub fn https_client() -> SharedHttpClient {
    let inner = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    let warm = inner.clone();
    // If no thread can be started, the first request loads them.
    let _ = std::thread::Builder::new().name("trust-roots".into()).spawn(move || {
        let _ = warm.validate_base_client_config(&RuntimeComponentsBuilder::new("trust-roots"), &ConfigBag::base());
    });
    SharedHttpClient::new(RootsOffInit(inner))
}

/// The SDK's HTTPS client, but building a service client does not load the
/// trust roots (see [`https_client`]).
#[derive(Debug)]
struct RootsOffInit(SharedHttpClient);

impl HttpClient for RootsOffInit {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// Points the SDK's trust-root loader at the system's bundle file alone.
///
/// The SDK loads the trust roots through rustls-native-certs, which reads the
/// bundle file and then every file of the certificate directory. On Debian and
/// Amazon Linux the directory holds the same certificates again, so the most
/// expensive step of a cold start, decoding them, is done twice: measured on
/// Debian with the release build of process_order, median of 15 cold starts,
/// 8.2 ms with both, 4.9 ms with the bundle alone. The distributions generate
/// the bundle from the same sources as the directory. Does nothing when
/// SSL_CERT_FILE or SSL_CERT_DIR is set (the operator's choice stands) or when
/// no bundle file is found (the SDK then searches as before).
///
/// # Safety
/// It sets an environment variable, so no other thread may exist yet: call it
/// first thing in `main` (a current-thread tokio runtime starts no thread until
/// a blocking task is spawned), before the SDK's configuration is loaded.
pub unsafe fn trust_roots_from_bundle() {
    let set = |name| std::env::var_os(name).is_some();
    if let Some(bundle) = bundle_to_name(set(CERT_FILE) || set("SSL_CERT_DIR"), || openssl_probe::probe().cert_file) {
        // SAFETY: the caller guarantees that this is the only thread.
        unsafe { std::env::set_var(CERT_FILE, bundle) }
    }
}

const CERT_FILE: &str = "SSL_CERT_FILE";

/// The bundle file to name in SSL_CERT_FILE: none when the operator already
/// named the trust roots, else the bundle the probe finds, if any.
fn bundle_to_name(operator_set: bool, probe: impl FnOnce() -> Option<PathBuf>) -> Option<PathBuf> {
    if operator_set { None } else { probe() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operators_trust_roots_stand_and_a_found_bundle_is_named() {
        let bundle = || Some(PathBuf::from("/etc/ssl/certs/ca-certificates.crt"));
        assert_eq!(bundle_to_name(true, || panic!("no probe when the operator chose")), None);
        assert_eq!(bundle_to_name(false, bundle), bundle());
        assert_eq!(bundle_to_name(false, || None), None);
    }
}
