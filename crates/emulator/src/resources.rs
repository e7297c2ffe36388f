use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use serde_json::Value;

use crate::EmulatorError;

/// The table, topic and queue orderflow uses, created in the emulator. The
/// queue is subscribed to the topic so published notifications can be read back.
#[derive(Debug, Clone)]
pub struct LocalResources {
    pub table: String,
    pub topic_arn: String,
    pub queue_url: String,
}

fn failed(what: &str, err: impl std::error::Error) -> EmulatorError {
    EmulatorError(format!("{what}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(err)))
}

/// The notification topic's kind: FIFO, as `infra/template.yaml` deploys it
/// (notices deduplicated by their id), or standard (no deduplication).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicKind {
    Fifo,
    Standard,
}

impl LocalResources {
    /// Creates `<prefix>-orders`, the FIFO topic `<prefix>-notifications.fifo`
    /// and its subscribed queue `<prefix>-notifications-inbox.fifo`. The table
    /// has the key schema of `infra/template.yaml`'s OrdersTable.
    pub async fn create(config: &SdkConfig, prefix: &str) -> Result<LocalResources, EmulatorError> {
        Self::create_with(config, prefix, TopicKind::Fifo).await
    }

    /// Like `create`, with a topic of the given kind.
    pub async fn create_with(
        config: &SdkConfig,
        prefix: &str,
        kind: TopicKind,
    ) -> Result<LocalResources, EmulatorError> {
        let suffix = if kind == TopicKind::Fifo { ".fifo" } else { "" };
        let table = format!("{prefix}-orders");
        aws_sdk_dynamodb::Client::new(config)
            .create_table()
            .table_name(&table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("order_id")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|e| failed("attribute definition", e))?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("order_id")
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(|e| failed("key schema", e))?,
            )
            .send()
            .await
            .map_err(|e| failed("CreateTable", e))?;

        let sns = aws_sdk_sns::Client::new(config);
        let mut topic = sns.create_topic().name(format!("{prefix}-notifications{suffix}"));
        if kind == TopicKind::Fifo {
            topic = topic.attributes("FifoTopic", "true").attributes("ContentBasedDeduplication", "false");
        }
        let topic_arn = topic
            .send()
            .await
            .map_err(|e| failed("CreateTopic", e))?
            .topic_arn
            .ok_or_else(|| EmulatorError("CreateTopic returned no TopicArn".into()))?;

        let sqs = aws_sdk_sqs::Client::new(config);
        let mut queue = sqs.create_queue().queue_name(format!("{prefix}-notifications-inbox{suffix}"));
        if kind == TopicKind::Fifo {
            queue = queue.attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true");
        }
        let queue_url = queue
            .send()
            .await
            .map_err(|e| failed("CreateQueue", e))?
            .queue_url
            .ok_or_else(|| EmulatorError("CreateQueue returned no QueueUrl".into()))?;
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| failed("GetQueueAttributes", e))?
            .attributes
            .and_then(|mut a| a.remove(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .ok_or_else(|| EmulatorError("GetQueueAttributes returned no QueueArn".into()))?;
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await
            .map_err(|e| failed("Subscribe", e))?;

        Ok(LocalResources { table, topic_arn, queue_url })
    }

    /// `ORDERS_TABLE` and `NOTIFICATION_TOPIC_ARN` for the functions.
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        vec![("ORDERS_TABLE", self.table.clone()), ("NOTIFICATION_TOPIC_ARN", self.topic_arn.clone())]
    }
}

/// A notification as a subscriber receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub message_id: String,
    pub subject: Option<String>,
    pub message: Value,
    pub attributes: BTreeMap<String, String>,
}

/// Every notification waiting in the inbox queue, removed from it.
pub async fn drain_notifications(config: &SdkConfig, queue_url: &str) -> Result<Vec<Notification>, EmulatorError> {
    let sqs = aws_sdk_sqs::Client::new(config);
    let mut out = Vec::new();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(0)
            .send()
            .await
            .map_err(|e| failed("ReceiveMessage", e))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(out);
        }
        for message in messages {
            let envelope: Value = serde_json::from_str(message.body().unwrap_or_default())
                .map_err(|e| EmulatorError(format!("SNS envelope is not JSON: {e}")))?;
            let message_body = envelope["Message"].as_str().unwrap_or_default();
            out.push(Notification {
                message_id: envelope["MessageId"].as_str().unwrap_or_default().to_owned(),
                subject: envelope["Subject"].as_str().map(str::to_owned),
                message: serde_json::from_str(message_body).unwrap_or(Value::String(message_body.to_owned())),
                attributes: envelope["MessageAttributes"]
                    .as_object()
                    .map(|attrs| {
                        attrs
                            .iter()
                            .map(|(k, v)| (k.clone(), v["Value"].as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
            if let Some(handle) = message.receipt_handle() {
                sqs.delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(|e| failed("DeleteMessage", e))?;
            }
        }
    }
}
