use orderflow_aws::{AwsClients, DynamoDbOrderStore};
use orderflow_domain::ports::SystemClock;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    // SAFETY: first thing in main, on a current-thread runtime: no other thread yet.
    unsafe { orderflow_aws::trust_roots_from_bundle() };
    orderflow_lambda::init_logging();
    let table = match orderflow_lambda::orders_table() {
        Ok(table) => table,
        Err(err) => orderflow_lambda::fail_init(err).await,
    };
    let clients = AwsClients::from_env().await;
    let store = DynamoDbOrderStore::new(clients.dynamodb(), table);
    orderflow_lambda::run(|event| process_order::handler(&store, &SystemClock, event)).await
}
