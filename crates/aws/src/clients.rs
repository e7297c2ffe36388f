//! SDK configuration, loaded once per cold start.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

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
    pub async fn from_env() -> AwsClients {
        Self::load(aws_config::defaults(BehaviorVersion::latest())).await
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

/// The HTTPS client every SDK client shares: rustls on ring. Shared, it loads
/// the trust roots once, on first use, instead of once per service client at
/// cold start.
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
}
