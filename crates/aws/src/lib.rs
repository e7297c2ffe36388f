//! AWS adapters for the orderflow ports: the order store on DynamoDB, the
//! notifier on SNS, and `AwsClients`, the one place SDK clients are built.

mod clients;
mod dynamodb_order_store;
mod sdk_error;
mod sns_notifier;

pub use clients::{
    ATTEMPT_TIMEOUT, AwsClients, CONNECT_TIMEOUT, OPERATION_TIMEOUT, https_client, trust_roots_from_bundle,
};
pub use dynamodb_order_store::DynamoDbOrderStore;
pub use sns_notifier::SnsNotifier;
