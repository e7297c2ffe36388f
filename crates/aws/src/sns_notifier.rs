//! The notifier on SNS: one publish per notification, with the event type and
//! order id as message attributes so subscriptions can filter on them. On a
//! FIFO topic (the deployed one) each notice carries its deduplication id, so
//! a notice sent again (after an answer was lost) is delivered once.

use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;
use orderflow_domain::DependencyError;
use orderflow_domain::notification::Notification;
use orderflow_domain::ports::Notifier;

use crate::sdk_error::{classify, malformed};

const SERVICE: &str = "SNS";

#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: Client,
    topic_arn: String,
    fifo: bool,
}

impl SnsNotifier {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        let topic_arn = topic_arn.into();
        SnsNotifier { client, fifo: topic_arn.ends_with(".fifo"), topic_arn }
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, DependencyError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|err| malformed(SERVICE, "Publish", err.to_string()))
}

impl Notifier for SnsNotifier {
    async fn publish(&self, notification: &Notification) -> Result<String, DependencyError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&notification.subject)
            .message(&notification.message)
            .message_attributes("event_type", string_attribute(notification.kind.as_str())?);
        if let Some(order_id) = &notification.order_id {
            request = request.message_attributes("order_id", string_attribute(order_id.as_str())?);
        }
        if self.fifo {
            request = request.message_group_id(&notification.group).message_deduplication_id(&notification.dedup_id);
        }
        let output = request.send().await.map_err(|err| classify(SERVICE, "Publish", &err))?;
        output
            .message_id()
            .map(str::to_owned)
            .ok_or_else(|| malformed(SERVICE, "Publish", "the response has no MessageId".into()))
    }
}
