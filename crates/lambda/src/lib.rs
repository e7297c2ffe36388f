//! What the three functions share with the Lambda runtime: turning an
//! `OrderError` into a `Diagnostic` with a stable `errorType`, logging, reading
//! configuration at cold start, and reporting a failed cold start.
#![forbid(unsafe_code)]

mod config;
mod deadline;
mod init_error;
mod invocation_span;
pub mod payload;

use std::future::Future;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use orderflow_domain::OrderError;
use orderflow_value::Value;
use serde::Serialize;

pub use config::{NOTIFICATION_TOPIC_ARN, ORDERS_TABLE, notification_topic_arn, orders_table};
pub use deadline::{ANSWER_MARGIN, DEFAULT_BUDGET, Deadline};
pub use init_error::fail_init;
pub use invocation_span::{invocation_span, record_order_id};

/// The error a handler returns to the runtime. It exists only because the
/// orphan rule forbids `impl From<OrderError> for Diagnostic` outside both
/// crates, and the domain must not depend on the runtime.
pub struct FunctionError(pub OrderError);

/// The runtime logs a failed invocation with `{:?}`: make that line show the
/// `errorType` and message, not Rust type names.
impl std::fmt::Debug for FunctionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.error_type(), self.0.error_message())
    }
}

impl From<OrderError> for FunctionError {
    fn from(err: OrderError) -> Self {
        FunctionError(err)
    }
}

impl From<FunctionError> for Diagnostic {
    fn from(err: FunctionError) -> Diagnostic {
        Diagnostic { error_type: err.0.error_type().to_owned(), error_message: err.0.error_message() }
    }
}

/// JSON or text logs as Lambda's advanced logging controls ask
/// (`AWS_LAMBDA_LOG_FORMAT`, `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`; INFO by
/// default), as the runtime's own default subscriber writes them. Every line
/// of an invocation sits in its span, with `requestId` and `order_id`.
pub fn init_logging() {
    use lambda_runtime::tracing::subscriber;
    let collector = subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(log_filter(std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).ok()));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json { collector.json().init() } else { collector.init() }
}

/// The level asked for, with the runtime's own targets held at DEBUG at most:
/// at TRACE lambda_runtime logs every raw event, customers' emails and names
/// with it, which no log level of ours may let through.
pub fn log_filter(level: Option<String>) -> lambda_runtime::tracing::subscriber::EnvFilter {
    use std::str::FromStr;

    use lambda_runtime::tracing::subscriber::filter::{Directive, EnvFilter, LevelFilter};
    let level = LevelFilter::from_str(level.as_deref().unwrap_or("INFO")).unwrap_or(LevelFilter::INFO);
    let mut filter = EnvFilter::builder().with_default_directive(level.into()).parse_lossy("");
    for target in ["lambda_runtime=debug", "lambda_runtime_api_client=debug"] {
        if let Ok(directive) = Directive::from_str(target) {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Runs `handler` for every invocation. The runtime hands over the payload's
/// text, which `payload::parse` reads (bounded, with our own errors) before
/// the handler sees it as untyped JSON; so malformed input reaches our
/// validation, which names every problem, never the runtime's deserializer,
/// whose `errorType` would be a Rust type name.
pub async fn run<F, Fut, Out>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(LambdaEvent<Value>) -> Fut,
    Fut: Future<Output = Result<Out, OrderError>>,
    Out: Serialize,
{
    let service = service_fn(|event: LambdaEvent<payload::Incoming>| {
        let parsed =
            payload::parse_incoming(&event.payload).map(|value| handler(LambdaEvent::new(value, event.context)));
        async move {
            match parsed {
                Ok(invocation) => invocation.await.map_err(FunctionError),
                Err(err) => Err(FunctionError(err)),
            }
        }
    });
    lambda_runtime::Runtime::new(service).layer(invocation_span::InvocationSpanLayer).run().await
}

#[cfg(test)]
mod tests {
    use orderflow_domain::{Violation, ViolationCode};

    use super::*;

    #[test]
    fn diagnostic_carries_the_stable_error_type_and_json_message() {
        let err =
            OrderError::ValidationFailed(vec![Violation::new("$.order_id", ViolationCode::Required, "is required")]);
        let diagnostic = Diagnostic::from(FunctionError(err));
        assert_eq!(diagnostic.error_type, "OrderValidationFailed");
        let body: serde_json::Value = serde_json::from_str(&diagnostic.error_message).unwrap();
        assert_eq!(body["violations"][0]["path"], "$.order_id");
    }

    #[test]
    fn no_error_type_is_a_rust_type_name() {
        for name in orderflow_domain::error::ERROR_TYPES {
            assert!(!name.contains("::") && !name.contains('<'), "{name}");
        }
    }
}
