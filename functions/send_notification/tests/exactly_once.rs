//! One confirmation per order, proven against moto with the real adapters and
//! the real SDK: 50 simultaneous invocations, and a fault-injecting proxy in
//! front of moto (an answer lost after the publish, a hung publish, 500s on
//! the store's writes). Confirmations are counted in an SQS queue subscribed
//! to the topic.

use std::sync::Arc;

use lambda_runtime::{Context, LambdaEvent};
use orderflow_aws::{AwsClients, DynamoDbOrderStore, SnsNotifier};
use orderflow_domain::fakes::read_json_file;
use orderflow_domain::ports::SystemClock;
use orderflow_domain::{OrderError, OrderId};
use orderflow_emulator::{
    Emulator, Fault, FaultProxy, LocalResources, Rule, TopicKind, drain_notifications, endpoint_loader,
};
use serde_json::{Value, json};

/// The event a handler takes: the payload in the executor's value, as Lambda's runtime hands it.
fn event(payload: Value, context: Context) -> LambdaEvent<orderflow_value::Value> {
    LambdaEvent::new(orderflow_value::Value::from(payload), context)
}

struct Setup {
    _emulator: Emulator,
    proxy: FaultProxy,
    config: aws_config::SdkConfig,
    resources: LocalResources,
    store: DynamoDbOrderStore,
    notifier: SnsNotifier,
    input: Value,
}

/// moto with the project's resources, process_order's stored order, and the
/// functions' adapters talking to moto through the fault proxy.
async fn setup(kind: TopicKind) -> Setup {
    let emulator = Emulator::start().unwrap();
    let config = emulator.config_loader().load().await;
    let resources = LocalResources::create_with(&config, "once", kind).await.unwrap();
    let direct = DynamoDbOrderStore::new(AwsClients::load(emulator.config_loader()).await.dynamodb(), &resources.table);
    let event = event(read_json_file("events/process_order-input.json"), Context::default());
    let processed = process_order::handler(&direct, &SystemClock, event).await.unwrap();
    let proxy = FaultProxy::start(&emulator.endpoint()).await.unwrap();
    let clients = AwsClients::load(endpoint_loader(&proxy.endpoint())).await;
    let store = DynamoDbOrderStore::new(clients.dynamodb(), &resources.table);
    let notifier = SnsNotifier::new(clients.sns(), &resources.topic_arn);
    Setup { _emulator: emulator, proxy, config, resources, store, notifier, input: json!(processed) }
}

impl Setup {
    async fn invoke(&self) -> Result<Value, OrderError> {
        let event = event(self.input.clone(), Context::default());
        send_notification::handler(&self.store, &self.notifier, &SystemClock, event)
            .await
            .map(|out| serde_json::to_value(out).unwrap())
    }

    async fn confirmations(&self) -> usize {
        let received = drain_notifications(&self.config, &self.resources.queue_url).await.unwrap();
        assert!(received.iter().all(|n| n.attributes["event_type"] == "OrderConfirmed"), "{received:?}");
        received.len()
    }

    async fn stored_status(&self) -> String {
        let clients = AwsClients::load(endpoint_loader(&self._emulator.endpoint())).await;
        let store = DynamoDbOrderStore::new(clients.dynamodb(), &self.resources.table);
        let stored = orderflow_domain::ports::OrderStore::get(&store, &OrderId::parse("ORD-1001").unwrap()).await;
        stored.unwrap().unwrap().status.as_str().to_owned()
    }
}

async fn fifty_at_once(kind: TopicKind) {
    let setup = Arc::new(setup(kind).await);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let setup = setup.clone();
            tokio::spawn(async move { setup.invoke().await })
        })
        .collect();
    let mut message_ids = std::collections::BTreeSet::new();
    for task in tasks {
        let out = task.await.unwrap().expect("every attempt answers with the one confirmation");
        message_ids.insert(out["notification"]["message_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(message_ids.len(), 1, "{message_ids:?}");
    assert_eq!(setup.confirmations().await, 1);
    assert_eq!(setup.stored_status().await, "NOTIFIED");
}

/// The claim alone: a standard topic deduplicates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_simultaneous_invocations_send_one_confirmation_on_a_standard_topic() {
    fifty_at_once(TopicKind::Standard).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_simultaneous_invocations_send_one_confirmation_on_the_fifo_topic() {
    fifty_at_once(TopicKind::Fifo).await;
}

/// SNS took the Publish, then its answer was lost: no SDK retry sends it
/// again; the attempt fails retryable, and the state machine's retry sends
/// the same notice, which the FIFO topic delivers once.
#[tokio::test]
async fn a_publish_whose_answer_was_lost_is_delivered_once() {
    let setup = setup(TopicKind::Fifo).await;
    setup.proxy.inject(Rule::new("Publish", Fault::LoseAnswer).times(1));
    let err = setup.invoke().await.unwrap_err();
    assert_eq!(err.error_type(), "DependencyUnavailable");
    assert_eq!(setup.proxy.injected(), [("Publish".to_owned(), Fault::LoseAnswer)], "one Publish, not retried");
    let retry = setup.invoke().await.unwrap();
    assert_eq!(retry["notification"]["recorded"], true);
    assert_eq!(setup.confirmations().await, 1);
    assert_eq!(setup.stored_status().await, "NOTIFIED");
}

/// Publish sent, then no answer: the SDK's attempt timeout ends it (3 s), and
/// the retry's notice is the same one.
#[tokio::test]
async fn a_publish_that_hangs_after_sending_is_delivered_once() {
    let setup = setup(TopicKind::Fifo).await;
    setup.proxy.inject(Rule::new("Publish", Fault::Hang).times(1));
    let err = setup.invoke().await.unwrap_err();
    assert_eq!(err.error_type(), "DependencyUnavailable");
    setup.invoke().await.unwrap();
    assert_eq!(setup.confirmations().await, 1);
}

/// Every UpdateItem answered 500: the claim cannot be taken, so nothing is
/// published; the attempt fails retryable and the customer hears nothing.
#[tokio::test]
async fn with_every_store_write_failing_nothing_is_sent() {
    let setup = setup(TopicKind::Fifo).await;
    setup.proxy.inject(Rule::new("UpdateItem", Fault::Status(500)));
    for _ in 0..5 {
        let err = setup.invoke().await.unwrap_err();
        assert_eq!(err.error_type(), "DependencyUnavailable");
        // A line for the execution history, not the SDK's Debug dump.
        let message = err.error_message();
        assert!(message.starts_with("DynamoDB UpdateItem failed: InternalServerError: "), "{message}");
        assert!(message.contains("(HTTP 500, request id ") && message.len() < 200, "{message}");
    }
    assert_eq!(setup.confirmations().await, 0);
    assert_eq!(setup.stored_status().await, "PROCESSED");
}

/// The record step alone answered 500, every time: the confirmation went out
/// once, and the attempt succeeds (the workflow never fails after the
/// customer was told); a retry within the claim's lease sends nothing.
#[tokio::test]
async fn with_the_record_step_failing_the_confirmation_is_sent_once_and_the_attempt_succeeds() {
    let setup = setup(TopicKind::Fifo).await;
    setup.proxy.inject(Rule::new("UpdateItem", Fault::Status(500)).containing(":message_id"));
    let out = setup.invoke().await.unwrap();
    assert_eq!(out["status"], "NOTIFIED");
    assert_eq!(out["notification"]["recorded"], false);
    assert_eq!(setup.confirmations().await, 1);
    let mut soon = Context::default();
    soon.deadline = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap() + 2_000;
    let again =
        send_notification::handler(&setup.store, &setup.notifier, &SystemClock, event(setup.input.clone(), soon)).await;
    assert_eq!(again.unwrap_err().error_type(), "DependencyUnavailable");
    assert_eq!(setup.confirmations().await, 0);
}

/// The timeline: every first attempt of the store's calls hangs and
/// its SDK retry answers. The calls share one deadline, so the attempt stops
/// before publishing (too little time left to publish and record), inside
/// the Lambda timeout, retryable; the retry sends the one confirmation.
#[tokio::test]
async fn slow_calls_share_one_deadline_and_never_publish_too_late() {
    let setup = setup(TopicKind::Fifo).await;
    setup.proxy.inject(Rule::new("GetItem", Fault::Hang).times(1));
    setup.proxy.inject(Rule::new("UpdateItem", Fault::Hang).times(1));
    let mut lambda = Context::default();
    let now_ms = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap();
    lambda.deadline = now_ms + 10_000;
    let started = std::time::Instant::now();
    let event = event(setup.input.clone(), lambda);
    let err = send_notification::handler(&setup.store, &setup.notifier, &SystemClock, event).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.error_type(), "DependencyUnavailable", "{err}");
    assert!(took < std::time::Duration::from_millis(8_600), "answered after {took:?}, past the margin");
    assert_eq!(setup.confirmations().await, 0, "nothing published that late");
    let retry = setup.invoke().await.unwrap();
    assert_eq!(retry["notification"]["recorded"], true);
    assert_eq!(setup.confirmations().await, 1);
}
