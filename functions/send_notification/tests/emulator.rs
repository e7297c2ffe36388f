//! send_notification with its real adapters against moto: the real binary
//! over a local Lambda Runtime API, after process_order (in-process, with the
//! DynamoDB adapter) has stored the order. Notifications are read back from an
//! SQS queue subscribed to the topic.

use orderflow_aws::{AwsClients, DynamoDbOrderStore};
use orderflow_domain::fakes::read_json_file;
use orderflow_domain::ports::SystemClock;
use orderflow_emulator::{Emulator, FunctionProcess, LocalResources, Outcome, RuntimeApi, drain_notifications};
use serde_json::json;

const BINARY: &str = env!("CARGO_BIN_EXE_send_notification");

#[tokio::test]
async fn confirms_once_and_sends_rejections_through_sns() {
    let emulator = Emulator::start().unwrap();
    let config = emulator.config_loader().load().await;
    let resources = LocalResources::create(&config, "notify").await.unwrap();
    let clients = AwsClients::load(emulator.config_loader()).await;
    let store = DynamoDbOrderStore::new(clients.dynamodb(), &resources.table);
    let event = lambda_runtime::LambdaEvent::new(
        orderflow_value::Value::from(read_json_file("events/process_order-input.json")),
        Default::default(),
    );
    let processed = process_order::handler(&store, &SystemClock, event).await.unwrap();
    let input = json!(processed);

    let api = RuntimeApi::start().await.unwrap();
    let env =
        api.environment("send_notification").into_iter().chain(emulator.environment()).chain(resources.environment());
    let function = FunctionProcess::spawn(BINARY, env).unwrap();

    let Outcome::Response(first) = api.invoke(&input).await else { panic!("confirmation failed") };
    assert_eq!(first["status"], "NOTIFIED");
    assert_eq!(first["notification"]["replayed"], false);
    let Outcome::Response(retry) = api.invoke(&input).await else { panic!("retry failed") };
    assert_eq!(retry["notification"]["replayed"], true);
    assert_eq!(retry["notification"]["message_id"], first["notification"]["message_id"]);

    let received = drain_notifications(&config, &resources.queue_url).await.unwrap();
    assert_eq!(received.len(), 1, "a retry must not send a second confirmation: {received:?}");
    assert_eq!(received[0].message_id, first["notification"]["message_id"].as_str().unwrap());
    assert_eq!(received[0].attributes["event_type"], "OrderConfirmed");
    assert_eq!(received[0].attributes["order_id"], "ORD-1001");
    assert_eq!(received[0].message["recipient"]["email"], "ada@example.com");

    let Outcome::Response(rejected) =
        api.invoke(&read_json_file("events/send_notification-rejection-input.json")).await
    else {
        panic!("rejection failed")
    };
    assert_eq!(rejected["status"], "REJECTED");
    let received = drain_notifications(&config, &resources.queue_url).await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].attributes["event_type"], "OrderRejected");
    assert_eq!(received[0].message["reasons"], rejected["reasons"]);

    let logs =
        function.stdout_when(|text| text.contains("rejection notice published"), std::time::Duration::from_secs(10));
    assert!(logs.contains("confirmation published"), "{logs}");
    assert!(!logs.contains("ada@example.com") && !logs.contains("Ada Lovelace"), "{logs}");
    assert!(!logs.contains("Grace Hopper"), "{logs}");
}

#[tokio::test]
async fn a_missing_topic_setting_fails_the_cold_start_with_configuration_error() {
    let api = RuntimeApi::start().await.unwrap();
    let env = api
        .environment("send_notification")
        .into_iter()
        .chain([("ORDERS_TABLE", "orders".to_owned()), ("NOTIFICATION_TOPIC_ARN", "not-an-arn".to_owned())]);
    let _function = FunctionProcess::spawn(BINARY, env).unwrap();
    match api.invoke(&json!({})).await {
        Outcome::InitError { error_type, error_message } => {
            assert_eq!(error_type, "ConfigurationError");
            assert!(error_message.contains("NOTIFICATION_TOPIC_ARN must be an SNS topic ARN"), "{error_message}");
        }
        other => panic!("{other:?}"),
    }
}

/// Valid JSON text that serde_json's own parse refuses gets our errorType from
/// the real binary, before any AWS call (the endpoint here answers nothing).
#[tokio::test]
async fn hostile_payloads_get_our_error_type_before_any_call() {
    let api = orderflow_emulator::RuntimeApi::start().await.unwrap();
    let env = api.environment("send_notification").into_iter().chain(orderflow_emulator::environment_without_aws());
    let _function = orderflow_emulator::FunctionProcess::spawn(env!("CARGO_BIN_EXE_send_notification"), env).unwrap();
    orderflow_emulator::check_hostile_payloads(&api).await.unwrap();
}
