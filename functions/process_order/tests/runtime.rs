//! The real process_order binary over a local Lambda Runtime API, reaching
//! moto through the standard `AWS_ENDPOINT_URL`, as `cargo lambda watch` and
//! Lambda itself run it.

use orderflow_domain::fakes::read_json_file;
use orderflow_emulator::{Emulator, FunctionProcess, LocalResources, Outcome, RuntimeApi};
use serde_json::json;

const BINARY: &str = env!("CARGO_BIN_EXE_process_order");

#[tokio::test]
async fn stores_once_replays_and_reports_conflicts_over_the_wire() {
    let emulator = Emulator::start().unwrap();
    let config = emulator.config_loader().load().await;
    let resources = LocalResources::create(&config, "wire").await.unwrap();
    let api = RuntimeApi::start().await.unwrap();
    let env = api.environment("process_order").into_iter().chain(emulator.environment()).chain(resources.environment());
    let _function = FunctionProcess::spawn(BINARY, env).unwrap();

    let input = read_json_file("events/process_order-input.json");
    let Outcome::Response(first) = api.invoke(&input).await else { panic!("first invocation failed") };
    assert_eq!(first["receipt"]["replayed"], false);
    assert_eq!(first["receipt"]["status"], "PROCESSED");
    assert_eq!(first["order"], input["order"]);

    let Outcome::Response(again) = api.invoke(&input).await else { panic!("retry failed") };
    assert_eq!(again["receipt"]["replayed"], true);
    assert_eq!(again["receipt"]["created_at"], first["receipt"]["created_at"]);

    let mut other = input.clone();
    other["order"]["items"][0]["quantity"] = json!(7);
    match api.invoke(&other).await {
        Outcome::Error { error_type, error_message } => {
            assert_eq!(error_type, "OrderConflict");
            assert_eq!(error_message, "order ORD-1001 was already processed with different content");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_table_is_dependency_unavailable() {
    let api = RuntimeApi::start().await.unwrap();
    let port = orderflow_emulator::free_port().unwrap();
    let env = api.environment("process_order").into_iter().chain([
        ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("ORDERS_TABLE", "orders".to_owned()),
    ]);
    let _function = FunctionProcess::spawn(BINARY, env).unwrap();
    match api.invoke(&read_json_file("events/process_order-input.json")).await {
        Outcome::Error { error_type, error_message } => {
            assert_eq!(error_type, "DependencyUnavailable");
            assert!(error_message.starts_with("DynamoDB PutItem failed: "), "{error_message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_missing_table_setting_fails_the_cold_start_with_configuration_error() {
    let api = RuntimeApi::start().await.unwrap();
    let mut function = FunctionProcess::spawn(BINARY, api.environment("process_order")).unwrap();
    match api.invoke(&json!({})).await {
        Outcome::InitError { error_type, error_message } => {
            assert_eq!(error_type, "ConfigurationError");
            assert!(error_message.contains("ORDERS_TABLE is not set"), "{error_message}");
        }
        other => panic!("{other:?}"),
    }
    // It exits rather than serve invocations it cannot handle.
    for _ in 0..100 {
        if let Some(status) = function.try_wait() {
            assert!(!status.success());
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("process_order kept running after a failed cold start");
}

/// Valid JSON text that serde_json's own parse refuses gets our errorType from
/// the real binary, before any AWS call (the endpoint here answers nothing).
#[tokio::test]
async fn hostile_payloads_get_our_error_type_before_any_call() {
    let api = orderflow_emulator::RuntimeApi::start().await.unwrap();
    let env = api.environment("process_order").into_iter().chain(orderflow_emulator::environment_without_aws());
    let _function = orderflow_emulator::FunctionProcess::spawn(env!("CARGO_BIN_EXE_process_order"), env).unwrap();
    orderflow_emulator::check_hostile_payloads(&api).await.unwrap();
}
