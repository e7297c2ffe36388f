//! No customer field reaches the logs at any log level, TRACE included (the
//! template no longer allows it, and the runtime's own targets, which log the
//! raw event at TRACE, are held at DEBUG): the real binary, through the local
//! Runtime API, with a valid and an invalid order at each level.

use orderflow_domain::fakes::read_json_file;
use orderflow_emulator::{FunctionProcess, Outcome, RuntimeApi};
use serde_json::json;

#[tokio::test]
async fn no_customer_field_is_logged_at_any_level() {
    let valid = read_json_file("events/order-valid.json");
    let mut invalid = valid.clone();
    invalid["customer"]["email"] = json!("grace@@example.com");
    invalid["customer"]["name"] = json!("Grace Hopper");
    for level in ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"] {
        let api = RuntimeApi::start().await.unwrap();
        let mut env = api.environment("validate_data");
        env.push(("AWS_LAMBDA_LOG_LEVEL", level.to_owned()));
        let function = FunctionProcess::spawn(env!("CARGO_BIN_EXE_validate_data"), env).unwrap();
        assert!(matches!(api.invoke(&valid).await, Outcome::Response(_)), "{level}");
        assert!(matches!(api.invoke(&invalid).await, Outcome::Error { .. }), "{level}");
        // The invalid order's failure is logged at ERROR, so every level has a line to read.
        let logs =
            function.stdout_when(|text| text.contains("OrderValidationFailed"), std::time::Duration::from_secs(10));
        assert!(logs.contains("OrderValidationFailed"), "{level}: {logs}");
        for secret in ["ada@example.com", "Ada Lovelace", "grace@@example.com", "Grace Hopper", "12 Rue de la Paix"] {
            assert!(!logs.contains(secret), "{level} logs {secret}:\n{logs}");
        }
    }
}
