//! The real state machine (loaded from infra/template.yaml, with its Retry and
//! Catch lists) over the real handlers and AWS adapters, against moto behind
//! the project's fault-injecting proxy: what a bad network does to a whole
//! execution. Retry delays run on a virtual clock; notifications are counted
//! in the SQS queue subscribed to the (FIFO) topic.

use std::path::Path;

use orderflow::{InProcess, load};
use orderflow_asl::{Execution, ExecutionOptions, ExecutionStatus, Executor, VirtualClock};
use orderflow_aws::{AwsClients, DynamoDbOrderStore, SnsNotifier};
use orderflow_domain::fakes::read_json_file;
use orderflow_domain::ports::SystemClock;
use orderflow_emulator::{Emulator, Fault, FaultProxy, LocalResources, Rule, drain_notifications, endpoint_loader};
use serde_json::{Value, json};

struct World {
    _emulator: Emulator,
    proxy: FaultProxy,
    config: aws_config::SdkConfig,
    resources: LocalResources,
    tasks: InProcess<DynamoDbOrderStore, SnsNotifier, SystemClock>,
}

async fn world() -> World {
    let emulator = Emulator::start().unwrap();
    let config = emulator.config_loader().load().await;
    let resources = LocalResources::create(&config, "faults").await.unwrap();
    let proxy = FaultProxy::start(&emulator.endpoint()).await.unwrap();
    let clients = AwsClients::load(endpoint_loader(&proxy.endpoint())).await;
    let tasks = InProcess::new(
        DynamoDbOrderStore::new(clients.dynamodb(), &resources.table),
        SnsNotifier::new(clients.sns(), &resources.topic_arn),
        SystemClock,
    );
    World { _emulator: emulator, proxy, config, resources, tasks }
}

impl World {
    async fn run(&self, input: Value) -> Execution {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let loaded = load(&root.join("infra/template.yaml"), None).unwrap();
        let clock = VirtualClock::default();
        let options = ExecutionOptions { name: "faults".into(), ..Default::default() };
        Executor::new(&loaded.machine, &self.tasks, &clock, options).run(orderflow_value::Value::from(input)).await
    }

    /// (event_type, order_id) of every notification delivered so far.
    async fn delivered(&self) -> Vec<(String, String)> {
        let received = drain_notifications(&self.config, &self.resources.queue_url).await.unwrap();
        received
            .into_iter()
            .map(|n| (n.attributes["event_type"].clone(), n.attributes.get("order_id").cloned().unwrap_or_default()))
            .collect()
    }
}

fn confirmed() -> Vec<(String, String)> {
    vec![("OrderConfirmed".to_owned(), "ORD-1001".to_owned())]
}

/// The run: every UpdateItem answered 500 sent five confirmations and
/// then failed. Now the claim cannot be written, so nothing is sent, and the
/// execution fails with the dependency's error once the retries are spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_update_failing_the_execution_fails_and_no_confirmation_is_sent() {
    let world = world().await;
    world.proxy.inject(Rule::new("UpdateItem", Fault::Status(500)));
    let execution = world.run(read_json_file("events/order-valid.json")).await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.as_deref(), Some("DependencyUnavailable"));
    assert_eq!(world.delivered().await, []);
}

/// The record step alone fails, every time: one confirmation, and the
/// execution succeeds (it never fails after the customer was told).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_record_failing_the_execution_succeeds_with_one_confirmation() {
    let world = world().await;
    world.proxy.inject(Rule::new("UpdateItem", Fault::Status(500)).containing(":message_id"));
    let execution = world.run(read_json_file("events/order-valid.json")).await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded, "{:?} {:?}", execution.error, execution.cause);
    assert_eq!(world.delivered().await, confirmed());
}

/// SNS took the Publish and its answer was lost: the state machine's retry
/// sends the same notice, delivered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_publish_answer_is_retried_by_the_state_machine_and_delivered_once() {
    let world = world().await;
    world.proxy.inject(Rule::new("Publish", Fault::LoseAnswer).times(1));
    let execution = world.run(read_json_file("events/order-valid.json")).await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded, "{:?} {:?}", execution.error, execution.cause);
    let retried = execution.rules_taken.iter().filter(|r| &*r.state == "SendNotification" && r.list == "Retry").count();
    assert_eq!(retried, 1);
    assert_eq!(world.delivered().await, confirmed());
}

/// Fifty executions of the same order at once: one stored item, one confirmation.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_executions_of_one_order_confirm_it_once() {
    let world = std::sync::Arc::new(world().await);
    let runs: Vec<_> = (0..50)
        .map(|_| {
            let world = world.clone();
            tokio::spawn(async move { world.run(read_json_file("events/order-valid.json")).await.status })
        })
        .collect();
    for run in runs {
        assert_eq!(run.await.unwrap(), ExecutionStatus::Succeeded);
    }
    assert_eq!(world.delivered().await, confirmed());
}

/// The same invalid order sent five times: one rejection notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_rejection_five_times_is_one_notice() {
    let world = world().await;
    let mut invalid = read_json_file("events/order-invalid-currency.json");
    invalid["customer"]["email"] = json!("victim@example.org");
    for _ in 0..5 {
        let execution = world.run(invalid.clone()).await;
        assert_eq!(execution.error.as_deref(), Some("OrderRejected"));
    }
    let delivered = world.delivered().await;
    assert_eq!(delivered, [("OrderRejected".to_owned(), "ORD-1003".to_owned())]);
}
