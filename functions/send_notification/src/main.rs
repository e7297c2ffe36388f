use orderflow_aws::{AwsClients, DynamoDbOrderStore, SnsNotifier};
use orderflow_domain::ports::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    // SAFETY: first thing in main, on a current-thread runtime: no other thread yet.
    unsafe { orderflow_aws::trust_roots_from_bundle() };
    orderflow_lambda::init_logging();
    let config = orderflow_lambda::orders_table().and_then(|t| Ok((t, orderflow_lambda::notification_topic_arn()?)));
    let (table, topic_arn) = match config {
        Ok(config) => config,
        Err(err) => orderflow_lambda::fail_init(err).await,
    };
    let clients = AwsClients::from_env().await;
    let store = DynamoDbOrderStore::new(clients.dynamodb(), table);
    let notifier = SnsNotifier::new(clients.sns(), topic_arn);
    orderflow_lambda::run(|event| send_notification::handler(&store, &notifier, &SystemClock, event)).await
}
