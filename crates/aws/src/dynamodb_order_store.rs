//! The order store on DynamoDB. One item per order, keyed by `order_id`; every
//! state change is a single conditional write, so concurrent retries cannot
//! both win.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use orderflow_domain::ports::{
    Claim, ClaimOutcome, InsertOutcome, NotificationRecord, OrderStatus, OrderStore, REJECTIONS_PER_MINUTE,
    RecordOutcome, StoredOrder,
};
use orderflow_domain::{DependencyError, OrderId, ValidatedOrder};
use rust_decimal::Decimal;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::sdk_error::{classify, malformed};

const SERVICE: &str = "DynamoDB";

type Item = HashMap<String, AttributeValue>;

#[derive(Debug, Clone)]
pub struct DynamoDbOrderStore {
    client: Client,
    table: String,
}

impl DynamoDbOrderStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoDbOrderStore { client, table: table.into() }
    }

    fn key(order_id: &OrderId) -> (String, AttributeValue) {
        ("order_id".to_owned(), AttributeValue::S(order_id.to_string()))
    }
}

impl OrderStore for DynamoDbOrderStore {
    async fn insert_if_absent(
        &self,
        record: &StoredOrder,
        order: &ValidatedOrder,
    ) -> Result<InsertOutcome, DependencyError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(record, order)))
            .condition_expression("attribute_not_exists(order_id)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(InsertOutcome::Inserted),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let existing = match failed.item() {
                        Some(item) => Some(from_item(item, "PutItem")?),
                        None => self.get(&record.order_id).await?,
                    };
                    // Absent only if the order was deleted between the two calls.
                    existing.map(InsertOutcome::AlreadyExists).ok_or_else(|| {
                        malformed(SERVICE, "PutItem", "conditional write failed but no item is stored".into())
                    })
                }
                _ => Err(classify(SERVICE, "PutItem", &err)),
            },
        }
    }

    async fn get(&self, order_id: &OrderId) -> Result<Option<StoredOrder>, DependencyError> {
        let (k, v) = Self::key(order_id);
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(k, v)
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| classify(SERVICE, "GetItem", &err))?;
        output.item().map(|item| from_item(item, "GetItem")).transpose()
    }

    async fn record_notification(
        &self,
        order_id: &OrderId,
        content_hash: &str,
        notification: &NotificationRecord,
    ) -> Result<RecordOutcome, DependencyError> {
        let (k, v) = Self::key(order_id);
        let at = timestamp(notification.notified_at);
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(k, v)
            .update_expression(
                "SET #status = :notified, notification_message_id = :message_id, notified_at = :at, updated_at = :at \
                 REMOVE claim_token, claim_until",
            )
            .condition_expression(
                "attribute_exists(order_id) AND content_hash = :hash AND attribute_not_exists(notification_message_id)",
            )
            // `status` is a DynamoDB reserved word.
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":notified", AttributeValue::S(OrderStatus::Notified.as_str().into()))
            .expression_attribute_values(":message_id", AttributeValue::S(notification.message_id.clone()))
            .expression_attribute_values(":at", AttributeValue::S(at))
            .expression_attribute_values(":hash", AttributeValue::S(content_hash.into()));
        match self.conditional_update(order_id, request).await? {
            Conditional::Applied => Ok(RecordOutcome::Recorded),
            Conditional::Refused(stored) => match RecordOutcome::judge(stored.as_ref(), content_hash) {
                RecordOutcome::Recorded => Err(malformed(
                    SERVICE,
                    "UpdateItem",
                    "conditional update failed although the stored item meets its condition".into(),
                )),
                outcome => Ok(outcome),
            },
        }
    }

    async fn claim_confirmation(
        &self,
        order_id: &OrderId,
        content_hash: &str,
        claim: &Claim,
        now: OffsetDateTime,
    ) -> Result<ClaimOutcome, DependencyError> {
        let (k, v) = Self::key(order_id);
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(k, v)
            .update_expression("SET claim_token = :token, claim_until = :until")
            .condition_expression(
                "attribute_exists(order_id) AND content_hash = :hash AND attribute_not_exists(notification_message_id) \
                 AND (attribute_not_exists(claim_until) OR claim_until < :now OR claim_token = :token)",
            )
            .expression_attribute_values(":token", AttributeValue::S(claim.token.clone()))
            .expression_attribute_values(":until", AttributeValue::N(millis(claim.until).to_string()))
            .expression_attribute_values(":now", AttributeValue::N(millis(now).to_string()))
            .expression_attribute_values(":hash", AttributeValue::S(content_hash.into()));
        Ok(match self.conditional_update(order_id, request).await? {
            Conditional::Applied => ClaimOutcome::Claimed,
            Conditional::Refused(stored) => match ClaimOutcome::judge(stored.as_ref(), content_hash, claim, now) {
                // Read after the refusal, the item no longer refuses (a claim
                // lapsed or was released in between): nothing was taken.
                ClaimOutcome::Claimed if stored.and_then(|s| s.claim).is_none_or(|c| c.token != claim.token) => {
                    ClaimOutcome::Held { until: now }
                }
                outcome => outcome,
            },
        })
    }

    async fn take_rejection_slot(&self, now: OffsetDateTime) -> Result<bool, DependencyError> {
        let minute = now.unix_timestamp().div_euclid(60);
        // '#' is never in an order id, so the counter cannot meet an order.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("order_id", AttributeValue::S(format!("#rejections#{minute}")))
            .update_expression("ADD sent :one SET expires_at = :expires")
            .condition_expression("attribute_not_exists(sent) OR sent < :limit")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":limit", AttributeValue::N(REJECTIONS_PER_MINUTE.to_string()))
            // DynamoDB's TTL removes the counter a day later.
            .expression_attribute_values(":expires", AttributeValue::N((minute * 60 + 86_400).to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if matches!(err.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {
                Ok(false)
            }
            Err(err) => Err(classify(SERVICE, "UpdateItem", &err)),
        }
    }

    async fn release_claim(&self, order_id: &OrderId, token: &str) -> Result<(), DependencyError> {
        let (k, v) = Self::key(order_id);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(k, v)
            .update_expression("REMOVE claim_token, claim_until")
            .condition_expression("claim_token = :token")
            .expression_attribute_values(":token", AttributeValue::S(token.into()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Someone else's claim now, or none: nothing of ours to release.
            Err(err) if matches!(err.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {
                Ok(())
            }
            Err(err) => Err(classify(SERVICE, "UpdateItem", &err)),
        }
    }
}

/// A conditional UpdateItem's answer.
enum Conditional {
    Applied,
    /// The condition failed; the item as it was then (read again if
    /// DynamoDB did not return it), absent if there is none.
    Refused(Option<StoredOrder>),
}

impl DynamoDbOrderStore {
    async fn conditional_update(
        &self,
        order_id: &OrderId,
        request: UpdateItemFluentBuilder,
    ) -> Result<Conditional, DependencyError> {
        let result =
            request.return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld).send().await;
        let err = match result {
            Ok(_) => return Ok(Conditional::Applied),
            Err(err) => err,
        };
        let Some(UpdateItemError::ConditionalCheckFailedException(failed)) = err.as_service_error() else {
            return Err(classify(SERVICE, "UpdateItem", &err));
        };
        Ok(Conditional::Refused(match failed.item() {
            Some(item) => Some(from_item(item, "UpdateItem")?),
            None => self.get(order_id).await?,
        }))
    }
}

/// Claim expiry as epoch milliseconds: a number DynamoDB compares.
fn millis(at: OffsetDateTime) -> i128 {
    at.unix_timestamp_nanos() / 1_000_000
}

fn timestamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

fn to_item(record: &StoredOrder, order: &ValidatedOrder) -> Item {
    let created = timestamp(record.created_at);
    let order_json = serde_json::to_string(order).unwrap_or_default();
    HashMap::from([
        ("order_id".to_owned(), AttributeValue::S(record.order_id.to_string())),
        ("status".to_owned(), AttributeValue::S(record.status.as_str().to_owned())),
        ("content_hash".to_owned(), AttributeValue::S(record.content_hash.clone())),
        ("total".to_owned(), AttributeValue::N(record.total.to_string())),
        ("currency".to_owned(), AttributeValue::S(record.currency.clone())),
        ("item_count".to_owned(), AttributeValue::N(record.item_count.to_string())),
        ("created_at".to_owned(), AttributeValue::S(created.clone())),
        ("updated_at".to_owned(), AttributeValue::S(created)),
        ("order".to_owned(), AttributeValue::S(order_json)),
    ])
}

fn from_item(item: &Item, operation: &'static str) -> Result<StoredOrder, DependencyError> {
    let bad = |field: &str| malformed(SERVICE, operation, format!("stored order item has no valid `{field}`"));
    let s = |field: &'static str| match item.get(field) {
        Some(AttributeValue::S(v)) => Ok(v.as_str()),
        _ => Err(bad(field)),
    };
    let n = |field: &'static str| match item.get(field) {
        Some(AttributeValue::N(v)) => Ok(v.as_str()),
        _ => Err(bad(field)),
    };
    let time = |field: &'static str| s(field).and_then(|v| OffsetDateTime::parse(v, &Rfc3339).map_err(|_| bad(field)));
    let notification = match item.get("notification_message_id") {
        Some(AttributeValue::S(message_id)) => {
            Some(NotificationRecord { message_id: message_id.clone(), notified_at: time("notified_at")? })
        }
        _ => None,
    };
    let claim = match (item.get("claim_token"), item.get("claim_until")) {
        (Some(AttributeValue::S(token)), Some(AttributeValue::N(until))) => {
            let millis: i128 = until.parse().map_err(|_| bad("claim_until"))?;
            let until =
                OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000).map_err(|_| bad("claim_until"))?;
            Some(Claim { token: token.clone(), until })
        }
        _ => None,
    };
    Ok(StoredOrder {
        order_id: OrderId::parse(s("order_id")?).ok_or_else(|| bad("order_id"))?,
        status: OrderStatus::parse(s("status")?).ok_or_else(|| bad("status"))?,
        content_hash: s("content_hash")?.to_owned(),
        total: Decimal::from_str(n("total")?).map_err(|_| bad("total"))?,
        currency: s("currency")?.to_owned(),
        item_count: n("item_count")?.parse().map_err(|_| bad("item_count"))?,
        created_at: time("created_at")?,
        notification,
        claim,
    })
}
