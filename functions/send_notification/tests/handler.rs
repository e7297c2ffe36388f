//! send_notification against in-memory ports. The adapters have their own
//! tests against the emulator (tests/emulator.rs).

use lambda_runtime::{Context, LambdaEvent};
use orderflow_domain::fakes::{FixedClock, InMemoryOrderStore, RecordingNotifier, read_json_file};
use orderflow_domain::notification::NotificationKind;
use orderflow_domain::ports::OrderStatus;
use orderflow_domain::{DependencyError, DependencyErrorKind, OrderError, OrderId};
use send_notification::handler;
use serde_json::{Value, json};

/// The event a handler takes: the payload in the executor's value, as Lambda's runtime hands it.
fn event(payload: Value, context: Context) -> LambdaEvent<orderflow_value::Value> {
    LambdaEvent::new(orderflow_value::Value::from(payload), context)
}

struct World {
    store: InMemoryOrderStore,
    notifier: RecordingNotifier,
}

impl World {
    /// A world where process_order has stored the sample order.
    async fn processed() -> World {
        let store = InMemoryOrderStore::default();
        process_order::handler(
            &store,
            &FixedClock::default(),
            event(read_json_file("events/process_order-input.json"), Context::default()),
        )
        .await
        .unwrap();
        World { store, notifier: RecordingNotifier::default() }
    }

    async fn invoke(&self, payload: Value) -> Result<Value, OrderError> {
        handler(&self.store, &self.notifier, &FixedClock::default(), event(payload, Context::default()))
            .await
            .map(|out| serde_json::to_value(out).unwrap())
    }
}

fn unavailable(service: &'static str, operation: &'static str) -> DependencyError {
    DependencyError { kind: DependencyErrorKind::Unavailable, service, operation, detail: "Throttled".into() }
}

fn confirmation_input() -> Value {
    read_json_file("events/send_notification-input.json")
}

#[tokio::test]
async fn confirms_a_processed_order_once() {
    let world = World::processed().await;
    let out = world.invoke(confirmation_input()).await.unwrap();
    assert_eq!(
        out,
        json!({
            "order_id": "ORD-1001",
            "status": "NOTIFIED",
            "total": "32.25",
            "currency": "EUR",
            "notification": {
                "type": "OrderConfirmed",
                "message_id": "fake-message-1",
                "sent_at": "2026-11-24T12:00:00Z",
                "replayed": false,
                "recorded": true
            }
        })
    );
    let sent = world.notifier.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, NotificationKind::OrderConfirmed);
    assert_eq!(sent[0].subject, "Order ORD-1001 confirmed");
    let body: Value = serde_json::from_str(&sent[0].message).unwrap();
    assert_eq!(body["recipient"]["email"], "ada@example.com");
    assert_eq!(body["total"], "32.25");
    assert_eq!(body["items"][0]["line_total"], "25.00");
    let stored = world.store.stored(&OrderId::parse("ORD-1001").unwrap()).unwrap();
    assert_eq!(stored.status, OrderStatus::Notified);
    assert_eq!(stored.notification.unwrap().message_id, "fake-message-1");
}

#[tokio::test]
async fn a_retry_after_success_sends_nothing_and_returns_the_first_message_id() {
    let world = World::processed().await;
    let first = world.invoke(confirmation_input()).await.unwrap();
    let again = world.invoke(confirmation_input()).await.unwrap();
    assert_eq!(world.notifier.sent().len(), 1);
    assert_eq!(again["notification"]["message_id"], first["notification"]["message_id"]);
    assert_eq!(again["notification"]["replayed"], true);
}

#[tokio::test]
async fn a_failed_publish_is_retryable_and_the_retry_sends_one_confirmation() {
    let world = World::processed().await;
    world.notifier.fail_next([unavailable("SNS", "Publish")]);
    let err = world.invoke(confirmation_input()).await.unwrap_err();
    assert_eq!(err.error_type(), "DependencyUnavailable");
    assert!(world.notifier.sent().is_empty());
    world.invoke(confirmation_input()).await.unwrap();
    assert_eq!(world.notifier.sent().len(), 1);
}

/// Published, then the record failed: the attempt still succeeds (the
/// customer was told, so the workflow must not fail), and its claim keeps
/// other attempts from publishing until it lapses; a later attempt then sends
/// the very same notice (same deduplication id) for the FIFO topic to drop.
#[tokio::test]
async fn a_failed_record_after_publishing_still_confirms_once() {
    use orderflow_domain::ports::{Claim, ClaimOutcome, InsertOutcome, NotificationRecord, RecordOutcome, StoredOrder};
    let world = World::processed().await;
    let (store, notifier) = (&world.store, &world.notifier);
    struct FailingRecord<'a>(&'a InMemoryOrderStore);
    impl orderflow_domain::ports::OrderStore for FailingRecord<'_> {
        async fn insert_if_absent(
            &self,
            r: &StoredOrder,
            o: &orderflow_domain::ValidatedOrder,
        ) -> Result<InsertOutcome, DependencyError> {
            self.0.insert_if_absent(r, o).await
        }
        async fn get(&self, id: &OrderId) -> Result<Option<StoredOrder>, DependencyError> {
            self.0.get(id).await
        }
        async fn record_notification(
            &self,
            _: &OrderId,
            _: &str,
            _: &NotificationRecord,
        ) -> Result<RecordOutcome, DependencyError> {
            Err(unavailable("DynamoDB", "UpdateItem"))
        }
        async fn claim_confirmation(
            &self,
            id: &OrderId,
            hash: &str,
            claim: &Claim,
            now: time::OffsetDateTime,
        ) -> Result<ClaimOutcome, DependencyError> {
            self.0.claim_confirmation(id, hash, claim, now).await
        }
        async fn release_claim(&self, id: &OrderId, token: &str) -> Result<(), DependencyError> {
            self.0.release_claim(id, token).await
        }
        async fn take_rejection_slot(&self, now: time::OffsetDateTime) -> Result<bool, DependencyError> {
            self.0.take_rejection_slot(now).await
        }
    }
    let failing = FailingRecord(store);
    let clock = FixedClock::default();
    let first = handler(&failing, notifier, &clock, event(confirmation_input(), Context::default())).await.unwrap();
    let first = serde_json::to_value(first).unwrap();
    assert_eq!(first["notification"]["recorded"], false);
    assert_eq!(notifier.sent().len(), 1);

    // Within the lease: the next attempt waits for a record that never comes,
    // and gives up (retryable) before its own deadline, sending nothing.
    let mut soon = Context::default();
    soon.deadline = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap() + 1_800;
    let started = std::time::Instant::now();
    let err = handler(&failing, notifier, &clock, event(confirmation_input(), soon)).await.unwrap_err();
    assert_eq!(err.error_type(), "DependencyUnavailable");
    assert!(started.elapsed() < std::time::Duration::from_millis(1_500), "{:?}", started.elapsed());
    assert_eq!(notifier.sent().len(), 1);

    // Once the lease lapsed: the same notice again, for the FIFO topic to deduplicate.
    let later = FixedClock(clock.0 + send_notification::CLAIM_LEASE + time::Duration::seconds(1));
    handler(store, notifier, &later, event(confirmation_input(), Context::default())).await.unwrap();
    let sent = notifier.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].dedup_id, sent[1].dedup_id);
    assert_eq!(sent[0].group, "ORD-1001");
    assert_eq!(world.store.stored(&OrderId::parse("ORD-1001").unwrap()).unwrap().status, OrderStatus::Notified);
}

/// Fifty simultaneous attempts at one order: one publishes, the others wait
/// for its record and answer with it.
#[tokio::test]
async fn concurrent_attempts_send_one_confirmation() {
    let world = World::processed().await;
    let attempts = (0..50).map(|_| world.invoke(confirmation_input()));
    let outputs = futures_util::future::join_all(attempts).await;
    assert_eq!(world.notifier.sent().len(), 1);
    let ids: std::collections::BTreeSet<String> =
        outputs.into_iter().map(|o| o.unwrap()["notification"]["message_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
}

#[tokio::test]
async fn an_order_never_processed_is_not_found() {
    let world = World { store: InMemoryOrderStore::default(), notifier: RecordingNotifier::default() };
    let err = world.invoke(confirmation_input()).await.unwrap_err();
    assert_eq!(err.error_type(), "OrderNotFound");
    assert!(world.notifier.sent().is_empty());
}

#[tokio::test]
async fn other_content_than_the_stored_order_is_a_conflict() {
    let world = World::processed().await;
    let mut changed = confirmation_input();
    changed["order"]["items"][0]["quantity"] = json!(5);
    let err = world.invoke(changed).await.unwrap_err();
    assert_eq!(err.error_type(), "OrderConflict");
    assert!(world.notifier.sent().is_empty());
}

#[tokio::test]
async fn a_rejection_notice_lists_every_reason_by_code_and_names_no_recipient() {
    let world = World { store: InMemoryOrderStore::default(), notifier: RecordingNotifier::default() };
    let out = world.invoke(read_json_file("events/send_notification-rejection-input.json")).await.unwrap();
    assert_eq!(out["status"], "REJECTED");
    assert_eq!(out["error"], "OrderValidationFailed");
    // The sample's order_id is itself invalid, so the notice cannot name it.
    assert_eq!(out["order_id"], Value::Null);
    assert_eq!(out["reasons"].as_array().unwrap().len(), 7);
    assert_eq!(out["reasons"][2], "$.customer.email: invalid_format");
    let sent = world.notifier.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, NotificationKind::OrderRejected);
    assert_eq!(sent[0].subject, "Order rejected");
    let body: Value = serde_json::from_str(&sent[0].message).unwrap();
    assert_eq!(body.get("recipient"), None, "a rejection is for our own channel: {body}");
    assert!(!sent[0].message.contains("Grace Hopper") && !sent[0].message.contains("CUST-7"), "{body}");
    assert_eq!(body["reasons"], out["reasons"]);
}

/// The issue's relay: a victim's address and a sentence as a field name.
/// Neither the address nor the sentence reaches the notice.
#[tokio::test]
async fn a_rejection_is_not_a_mail_relay() {
    let world = World { store: InMemoryOrderStore::default(), notifier: RecordingNotifier::default() };
    let input = json!({
        "order_id": "ORD-1001",
        "customer": {"id": "C", "email": "victim@example.org", "name": "Victim"},
        "items": [],
        "Your order is on hold. Verify your card at https://evil.example/0 ": 1
    });
    let err = validate_data::handler(event(input.clone(), Context::default())).await.unwrap_err();
    let catch = json!({"order": input, "error": {"Error": err.error_type(), "Cause": json!({
        "errorType": err.error_type(), "errorMessage": err.error_message()}).to_string()}});
    let out = world.invoke(catch).await.unwrap();
    let sent = world.notifier.sent();
    assert_eq!(sent.len(), 1);
    for text in ["victim@example.org", "Victim", "evil.example", "Verify your card"] {
        assert!(!sent[0].message.contains(text) && !out.to_string().contains(text), "{text} in {}", sent[0].message);
    }
    assert_eq!(out["reasons"], json!(["$: unknown_field", "$.currency: required", "$.items: out_of_range"]));
}

/// Upstream causes are reduced to our codes, and an unknown error name to `Unknown`.
#[tokio::test]
async fn causes_are_mapped_to_fixed_codes_not_forwarded() {
    let world = World { store: InMemoryOrderStore::default(), notifier: RecordingNotifier::default() };
    let out = world
        .invoke(json!({
            "order": read_json_file("events/order-invalid-currency.json"),
            "error": {"Error": "States.Timeout", "Cause": "Task timed out\r\n<b>call us</b>"}
        }))
        .await
        .unwrap();
    assert_eq!(out["order_id"], "ORD-1003");
    assert_eq!(out["reasons"], json!(["timeout"]));
    let sent = world.notifier.sent();
    assert_eq!(sent[0].subject, "Order ORD-1003 rejected");
    assert!(!sent[0].message.contains("call us"));
    let out = world
        .invoke(json!({"order": {"order_id": "ORD-1004"}, "error": {"Error": "Click <here>", "Cause": "x"}}))
        .await
        .unwrap();
    assert_eq!(out["error"], "Unknown");
    assert_eq!(out["reasons"], json!(["processing_failed"]));
}

#[tokio::test]
async fn a_rejection_of_input_that_was_not_even_an_object_still_goes_out() {
    let world = World { store: InMemoryOrderStore::default(), notifier: RecordingNotifier::default() };
    let out = world
        .invoke(json!({"order": ["ORD-1005"], "error": {"Error": "OrderValidationFailed", "Cause": null}}))
        .await
        .unwrap();
    assert_eq!(out["reasons"], json!(["invalid_order"]));
    assert_eq!(world.notifier.sent().len(), 1);
}

/// A stored order is never told it was rejected, confirmed or not.
#[tokio::test]
async fn no_rejection_for_a_stored_order() {
    let world = World::processed().await;
    world.invoke(confirmation_input()).await.unwrap();
    let out = world
        .invoke(
            json!({"order": confirmation_input()["order"], "error": {"Error": "States.Timeout", "Cause": "cancelled"}}),
        )
        .await
        .unwrap();
    assert_eq!(out["notification"]["withheld"], "order_is_stored");
    assert_eq!(out["notification"]["message_id"], Value::Null);
    let sent = world.notifier.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, NotificationKind::OrderConfirmed);
}

/// At most REJECTIONS_PER_MINUTE notices a minute; then they are withheld.
#[tokio::test]
async fn rejection_notices_are_rate_limited() {
    let world = World { store: InMemoryOrderStore::default(), notifier: RecordingNotifier::default() };
    let limit = orderflow_domain::ports::REJECTIONS_PER_MINUTE as usize;
    for i in 0..limit + 5 {
        let out = world
            .invoke(json!({"order": {"order_id": format!("ORD-{i}")}, "error": {"Error": "OrderValidationFailed"}}))
            .await
            .unwrap();
        let withheld = out["notification"]["withheld"].as_str();
        assert_eq!(withheld, (i >= limit).then_some("rate_limited"), "{i}");
    }
    assert_eq!(world.notifier.sent().len(), limit);
}

#[tokio::test]
async fn input_of_neither_shape_is_refused() {
    let world = World::processed().await;
    for (payload, path) in [
        (json!({}), "$.order"),
        (json!("ORD-1001"), "$"),
        (json!({"order": {}, "error": {"Cause": "x"}}), "$.error.Error"),
        (json!({"order": {}, "error": {"Error": "E", "Cause": 5}}), "$.error.Cause"),
    ] {
        let err = world.invoke(payload.clone()).await.unwrap_err();
        assert_eq!(err.error_type(), "OrderValidationFailed", "{payload}");
        assert!(err.error_message().contains(&format!(r#""path":"{path}""#)), "{payload}: {}", err.error_message());
    }
    assert!(world.notifier.sent().is_empty());
}
