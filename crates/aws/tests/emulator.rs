//! The adapters against moto in server mode: the real AWS wire protocols, the
//! real SDK, a real conditional-write implementation. Each test starts its own
//! emulator, so tests share no state.

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use orderflow_aws::{AwsClients, DynamoDbOrderStore, SnsNotifier};
use orderflow_domain::notification::{Notification, NotificationKind, Rejection};
use orderflow_domain::ports::{
    InsertOutcome, NotificationRecord, Notifier, OrderStatus, OrderStore, RecordOutcome, StoredOrder,
};
use orderflow_domain::{DependencyErrorKind, OrderId, RawOrder, ValidatedOrder};
use orderflow_emulator::{Emulator, LocalResources, ThrottlingStub, drain_notifications, endpoint_loader, free_port};
use serde_json::{Value, json};
use time::macros::datetime;

struct Local {
    _emulator: Emulator,
    config: SdkConfig,
    resources: LocalResources,
    store: DynamoDbOrderStore,
    notifier: SnsNotifier,
}

async fn local() -> Local {
    let emulator = Emulator::start().expect("start moto (run `make venv` first)");
    let config = emulator.config_loader().load().await;
    let resources = LocalResources::create(&config, "test").await.unwrap();
    let clients = AwsClients::load(emulator.config_loader()).await;
    Local {
        store: DynamoDbOrderStore::new(clients.dynamodb(), &resources.table),
        notifier: SnsNotifier::new(clients.sns(), &resources.topic_arn),
        _emulator: emulator,
        config,
        resources,
    }
}

fn order_of(quantity: u32) -> ValidatedOrder {
    RawOrder::new(json!({
        "order_id": "ORD-7",
        "customer": {"id": "C-1", "email": "ada@example.com", "name": "Ada"},
        "items": [{"sku": "BOOK", "quantity": quantity, "unit_price": "12.50"}],
        "currency": "EUR"
    }))
    .validate()
    .unwrap()
}

fn id() -> OrderId {
    OrderId::parse("ORD-7").unwrap()
}

fn record(order: &ValidatedOrder) -> StoredOrder {
    StoredOrder::new(order, datetime!(2026-11-24 12:00:00 UTC))
}

fn sent(message_id: &str) -> NotificationRecord {
    NotificationRecord { message_id: message_id.into(), notified_at: datetime!(2026-11-24 12:00:05 UTC) }
}

async fn raw_item(local: &Local) -> HashMap<String, AttributeValue> {
    aws_sdk_dynamodb::Client::new(&local.config)
        .get_item()
        .table_name(&local.resources.table)
        .key("order_id", AttributeValue::S("ORD-7".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("item stored")
}

async fn item_count(local: &Local) -> i32 {
    aws_sdk_dynamodb::Client::new(&local.config).scan().table_name(&local.resources.table).send().await.unwrap().count
}

#[tokio::test]
async fn first_write_stores_the_order_with_totals_status_and_timestamps() {
    let local = local().await;
    let order = order_of(2);
    let record = record(&order);
    assert_eq!(local.store.insert_if_absent(&record, &order).await.unwrap(), InsertOutcome::Inserted);
    assert_eq!(local.store.get(&id()).await.unwrap(), Some(record.clone()));

    let item = raw_item(&local).await;
    assert_eq!(item["status"], AttributeValue::S("PROCESSED".into()));
    assert_eq!(item["total"], AttributeValue::N("25.00".into()));
    assert_eq!(item["currency"], AttributeValue::S("EUR".into()));
    assert_eq!(item["created_at"], AttributeValue::S("2026-11-24T12:00:00Z".into()));
    assert_eq!(item["updated_at"], item["created_at"]);
    assert_eq!(item["content_hash"], AttributeValue::S(order.content_hash()));
    let stored_order: Value = serde_json::from_str(item["order"].as_s().unwrap()).unwrap();
    assert_eq!(stored_order, serde_json::to_value(&order).unwrap());
}

#[tokio::test]
async fn a_repeated_write_changes_nothing_and_returns_the_stored_order() {
    let local = local().await;
    let order = order_of(2);
    let first = record(&order);
    local.store.insert_if_absent(&first, &order).await.unwrap();
    let mut retry = first.clone();
    retry.created_at = datetime!(2026-11-24 12:07:00 UTC);
    match local.store.insert_if_absent(&retry, &order).await.unwrap() {
        InsertOutcome::AlreadyExists(existing) => assert_eq!(existing, first),
        other => panic!("{other:?}"),
    }
    assert_eq!(item_count(&local).await, 1);
    assert_eq!(raw_item(&local).await["created_at"], AttributeValue::S("2026-11-24T12:00:00Z".into()));
}

#[tokio::test]
async fn other_content_under_the_same_id_is_reported_not_overwritten() {
    let local = local().await;
    let original = order_of(2);
    local.store.insert_if_absent(&record(&original), &original).await.unwrap();
    let other = order_of(3);
    match local.store.insert_if_absent(&record(&other), &other).await.unwrap() {
        InsertOutcome::AlreadyExists(existing) => {
            assert_eq!(existing.content_hash, original.content_hash())
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(raw_item(&local).await["total"], AttributeValue::N("25.00".into()));
}

#[tokio::test]
async fn a_notification_is_recorded_once() {
    let local = local().await;
    let order = order_of(2);
    local.store.insert_if_absent(&record(&order), &order).await.unwrap();
    let hash = order.content_hash();
    assert_eq!(local.store.record_notification(&id(), &hash, &sent("m-1")).await.unwrap(), RecordOutcome::Recorded);
    assert_eq!(
        local.store.record_notification(&id(), &hash, &sent("m-2")).await.unwrap(),
        RecordOutcome::AlreadyRecorded(sent("m-1"))
    );
    let stored = local.store.get(&id()).await.unwrap().unwrap();
    assert_eq!(stored.status, OrderStatus::Notified);
    assert_eq!(stored.notification, Some(sent("m-1")));
    assert_eq!(raw_item(&local).await["updated_at"], AttributeValue::S("2026-11-24T12:00:05Z".into()));
}

#[tokio::test]
async fn a_notification_for_a_missing_or_different_order_is_not_recorded() {
    let local = local().await;
    let order = order_of(2);
    assert_eq!(
        local.store.record_notification(&id(), &order.content_hash(), &sent("m-1")).await.unwrap(),
        RecordOutcome::Missing
    );
    assert_eq!(item_count(&local).await, 0, "the update must not create an item");
    local.store.insert_if_absent(&record(&order), &order).await.unwrap();
    assert_eq!(
        local.store.record_notification(&id(), &order_of(9).content_hash(), &sent("m-1")).await.unwrap(),
        RecordOutcome::ContentMismatch
    );
    assert_eq!(local.store.get(&id()).await.unwrap().unwrap().notification, None);
}

#[tokio::test]
async fn a_published_notification_reaches_subscribers_with_its_attributes() {
    let local = local().await;
    let order = order_of(2);
    let notification = Notification::confirmation(&order, &order.content_hash(), datetime!(2026-11-24 12:00:05 UTC));
    let message_id = local.notifier.publish(&notification).await.unwrap();

    let received = drain_notifications(&local.config, &local.resources.queue_url).await.unwrap();
    assert_eq!(received.len(), 1);
    let got = &received[0];
    assert_eq!(got.message_id, message_id);
    assert_eq!(got.subject.as_deref(), Some("Order ORD-7 confirmed"));
    assert_eq!(got.attributes["event_type"], "OrderConfirmed");
    assert_eq!(got.attributes["order_id"], "ORD-7");
    assert_eq!(got.message["recipient"]["email"], "ada@example.com");
    assert_eq!(got.message["total"], "25.00");
}

#[tokio::test]
async fn a_rejection_without_an_order_id_has_no_order_id_attribute() {
    let local = local().await;
    let rejection = Rejection::from_catch(&json!([1]).into(), "OrderValidationFailed", "");
    let notification = Notification::rejection(&rejection, datetime!(2026-11-24 12:00:05 UTC));
    assert_eq!(notification.kind, NotificationKind::OrderRejected);
    local.notifier.publish(&notification).await.unwrap();
    let received = drain_notifications(&local.config, &local.resources.queue_url).await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].attributes.get("order_id"), None);
    assert_eq!(received[0].attributes["event_type"], "OrderRejected");
}

#[tokio::test]
async fn a_missing_table_or_topic_is_a_non_retryable_failure() {
    let local = local().await;
    let clients = AwsClients::load(endpoint_loader(&local._emulator.endpoint())).await;
    let store = DynamoDbOrderStore::new(clients.dynamodb(), "no-such-table");
    let err = store.get(&id()).await.unwrap_err();
    assert_eq!(err.kind, DependencyErrorKind::Rejected, "{err}");
    assert!(err.detail.contains("ResourceNotFoundException"), "{err}");

    let notifier = SnsNotifier::new(clients.sns(), "arn:aws:sns:us-east-1:123456789012:no-such-topic");
    let err = notifier
        .publish(&Notification::confirmation(
            &order_of(1),
            &order_of(1).content_hash(),
            datetime!(2026-11-24 12:00:00 UTC),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind, DependencyErrorKind::Rejected, "{err}");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_retryable() {
    // Nothing listens on a port that was free a moment ago.
    let endpoint = format!("http://127.0.0.1:{}", free_port().unwrap());
    let clients = AwsClients::load(endpoint_loader(&endpoint)).await;
    let store = DynamoDbOrderStore::new(clients.dynamodb(), "orders");
    let order = order_of(1);
    let err = store.insert_if_absent(&record(&order), &order).await.unwrap_err();
    assert_eq!((err.kind, err.service, err.operation), (DependencyErrorKind::Unavailable, "DynamoDB", "PutItem"));
    let err = store.get(&id()).await.unwrap_err();
    assert_eq!(err.kind, DependencyErrorKind::Unavailable);
    let err = store.record_notification(&id(), "h", &sent("m")).await.unwrap_err();
    assert_eq!(err.kind, DependencyErrorKind::Unavailable);
    let notifier = SnsNotifier::new(clients.sns(), "arn:aws:sns:us-east-1:123456789012:t");
    let err = notifier
        .publish(&Notification::confirmation(&order, &order.content_hash(), datetime!(2026-11-24 12:00:00 UTC)))
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.service), (DependencyErrorKind::Unavailable, "SNS"));
}

#[tokio::test]
async fn throttling_is_retryable_after_one_quick_sdk_retry() {
    let stub = ThrottlingStub::start().await.unwrap();
    let clients = AwsClients::load(endpoint_loader(&stub.endpoint())).await;
    let store = DynamoDbOrderStore::new(clients.dynamodb(), "orders");
    let order = order_of(1);
    let err = store.insert_if_absent(&record(&order), &order).await.unwrap_err();
    assert_eq!(err.kind, DependencyErrorKind::Unavailable, "{err}");
    assert!(err.detail.contains("ThrottlingException"), "{err}");
    assert_eq!(stub.requests(), 2, "the SDK tries twice, then Step Functions takes over");

    let notifier = SnsNotifier::new(clients.sns(), "arn:aws:sns:us-east-1:123456789012:t");
    let err = notifier
        .publish(&Notification::confirmation(&order, &order.content_hash(), datetime!(2026-11-24 12:00:00 UTC)))
        .await
        .unwrap_err();
    assert_eq!(err.kind, DependencyErrorKind::Unavailable, "{err}");
    assert!(err.detail.contains("Throttled"), "{err}");
}

#[tokio::test]
async fn a_claim_is_exclusive_until_it_lapses_and_a_record_drops_it() {
    use orderflow_domain::ports::{Claim, ClaimOutcome};
    let local = local().await;
    let order = order_of(2);
    local.store.insert_if_absent(&record(&order), &order).await.unwrap();
    let hash = order.content_hash();
    let now = datetime!(2026-11-24 12:00:00 UTC);
    let claim = |token: &str, at| Claim { token: token.into(), until: at + time::Duration::seconds(15) };
    let first = claim("a", now);
    assert_eq!(local.store.claim_confirmation(&id(), &hash, &first, now).await.unwrap(), ClaimOutcome::Claimed);
    let held = local.store.claim_confirmation(&id(), &hash, &claim("b", now), now).await.unwrap();
    assert_eq!(held, ClaimOutcome::Held { until: first.until });
    assert_eq!(local.store.get(&id()).await.unwrap().unwrap().claim, Some(first.clone()));
    // Released by its holder only.
    local.store.release_claim(&id(), "b").await.unwrap();
    assert!(local.store.get(&id()).await.unwrap().unwrap().claim.is_some());
    // Lapsed: another attempt takes it.
    let later = now + time::Duration::seconds(16);
    let taken = local.store.claim_confirmation(&id(), &hash, &claim("c", later), later).await.unwrap();
    assert_eq!(taken, ClaimOutcome::Claimed);
    assert_eq!(
        local.store.claim_confirmation(&id(), "sha256:other", &claim("d", later), later).await.unwrap(),
        ClaimOutcome::ContentMismatch
    );
    local.store.record_notification(&id(), &hash, &sent("m-1")).await.unwrap();
    let stored = local.store.get(&id()).await.unwrap().unwrap();
    assert_eq!(stored.claim, None);
    let after = local.store.claim_confirmation(&id(), &hash, &claim("e", later), later).await.unwrap();
    assert_eq!(after, ClaimOutcome::AlreadyRecorded(sent("m-1")));
    let missing = OrderId::parse("ORD-404").unwrap();
    assert_eq!(
        local.store.claim_confirmation(&missing, &hash, &claim("f", later), later).await.unwrap(),
        ClaimOutcome::Missing
    );
}

#[tokio::test]
async fn rejection_slots_run_out_each_minute() {
    let local = local().await;
    let minute = datetime!(2026-11-24 12:00:10 UTC);
    let limit = orderflow_domain::ports::REJECTIONS_PER_MINUTE;
    for _ in 0..limit {
        assert!(local.store.take_rejection_slot(minute).await.unwrap());
    }
    assert!(!local.store.take_rejection_slot(minute + time::Duration::seconds(40)).await.unwrap());
    assert!(local.store.take_rejection_slot(minute + time::Duration::seconds(60)).await.unwrap());
}
