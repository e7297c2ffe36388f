//! process_order against in-memory ports. The DynamoDB adapter has its own
//! tests against the emulator (tests/emulator.rs).

use lambda_runtime::{Context, LambdaEvent};
use orderflow_domain::fakes::{FixedClock, InMemoryOrderStore, assert_json_file, read_json_file};
use orderflow_domain::ports::OrderStatus;
use orderflow_domain::{DependencyError, DependencyErrorKind, OrderError, OrderId};
use process_order::handler;
use serde_json::{Value, json};

async fn invoke(store: &InMemoryOrderStore, payload: Value) -> Result<Value, OrderError> {
    handler(store, &FixedClock::default(), LambdaEvent::new(orderflow_value::Value::from(payload), Context::default()))
        .await
        .map(|out| serde_json::to_value(out).unwrap())
}

fn input() -> Value {
    read_json_file("events/process_order-input.json")
}

#[tokio::test]
async fn stores_a_new_order_and_gives_the_documented_send_notification_input() {
    let store = InMemoryOrderStore::default();
    let out = invoke(&store, input()).await.unwrap();
    assert_eq!(out["receipt"]["replayed"], false);
    assert_eq!(out["receipt"]["status"], "PROCESSED");
    assert_eq!(out["receipt"]["total"], "32.25");
    assert_eq!(store.writes(), 1);
    let stored = store.stored(&OrderId::parse("ORD-1001").unwrap()).unwrap();
    assert_eq!(stored.status, OrderStatus::Processed);
    assert_eq!(stored.total.to_string(), "32.25");
    assert_json_file("events/send_notification-input.json", &out);
}

#[tokio::test]
async fn a_retry_returns_the_stored_receipt_without_writing() {
    let store = InMemoryOrderStore::default();
    let first = invoke(&store, input()).await.unwrap();
    let later = FixedClock(FixedClock::default().0 + time::Duration::minutes(5));
    let again = handler(&store, &later, LambdaEvent::new(orderflow_value::Value::from(input()), Context::default()))
        .await
        .unwrap();
    let again = serde_json::to_value(again).unwrap();
    assert_eq!(store.writes(), 1);
    assert_eq!(again["receipt"]["replayed"], true);
    // The receipt is the stored one: same creation time, not the retry's.
    assert_eq!(again["receipt"]["created_at"], first["receipt"]["created_at"]);
    assert_eq!(again["order"], first["order"]);
}

#[tokio::test]
async fn the_same_order_written_differently_is_still_a_retry() {
    let store = InMemoryOrderStore::default();
    invoke(&store, input()).await.unwrap();
    let mut reformatted = input();
    reformatted["order"]["items"].as_array_mut().unwrap().reverse();
    // BOOK-ANALYTICAL-ENGINE, now second, at "12.50" written as a number.
    reformatted["order"]["items"][1]["unit_price"] = json!(12.5);
    let out = invoke(&store, reformatted).await.unwrap();
    assert_eq!(out["receipt"]["replayed"], true);
    assert_eq!(store.writes(), 1);
}

#[tokio::test]
async fn other_content_under_the_same_id_is_a_conflict() {
    let store = InMemoryOrderStore::default();
    invoke(&store, input()).await.unwrap();
    let mut changed = input();
    changed["order"]["items"][0]["quantity"] = json!(3);
    let err = invoke(&store, changed).await.unwrap_err();
    assert_eq!(err.error_type(), "OrderConflict");
    assert_eq!(err.error_message(), "order ORD-1001 was already processed with different content");
    assert_eq!(store.writes(), 1);
}

#[tokio::test]
async fn a_throttled_store_is_retryable_and_writes_nothing() {
    let store = InMemoryOrderStore::default();
    store.fail_next([DependencyError {
        kind: DependencyErrorKind::Unavailable,
        service: "DynamoDB",
        operation: "PutItem",
        detail: "ThrottlingException".into(),
    }]);
    let err = invoke(&store, input()).await.unwrap_err();
    assert_eq!(err.error_type(), "DependencyUnavailable");
    assert_eq!(store.writes(), 0);
    // The state machine's retry then succeeds.
    assert_eq!(invoke(&store, input()).await.unwrap()["receipt"]["replayed"], false);
}

#[tokio::test]
async fn input_that_is_not_validate_data_output_is_refused_with_paths() {
    let store = InMemoryOrderStore::default();
    let err = invoke(&store, read_json_file("events/order-valid.json")).await.unwrap_err();
    assert_eq!(err.error_type(), "OrderValidationFailed");
    assert!(err.error_message().contains(r#""path":"$.order""#), "{}", err.error_message());

    let mut tampered = input();
    tampered["order"]["items"][0]["quantity"] = json!(0);
    let err = invoke(&store, tampered).await.unwrap_err();
    assert!(err.error_message().contains(r#""path":"$.order.items[0].quantity""#), "{}", err.error_message());
    assert_eq!(store.writes(), 0);
}
