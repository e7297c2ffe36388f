//! send_notification: the last step, in two modes. Given process_order's
//! output it publishes the order confirmation, once: the message id is
//! recorded on the order with a conditional write, and a retry that finds it
//! there does not publish again. Given a Catch output (`{"order", "error"}`)
//! it publishes a rejection notice that tells the customer why.

use lambda_runtime::LambdaEvent;
use lambda_runtime::tracing;
use orderflow_domain::notification::{Notification, NotificationKind, Rejection};
use orderflow_domain::order::decimal_as_string;
use orderflow_domain::ports::{Clock, NotificationRecord, Notifier, OrderStore, RecordOutcome};
use orderflow_domain::steps::NotificationRequest;
use orderflow_domain::{OrderError, OrderId, ValidatedOrder};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum NotifyOutput {
    Confirmed(Confirmed),
    Rejected(Rejected),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Confirmed {
    pub order_id: OrderId,
    /// Always `NOTIFIED`.
    pub status: &'static str,
    #[serde(serialize_with = "decimal_as_string")]
    pub total: Decimal,
    pub currency: &'static str,
    pub notification: SentNotification,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    /// Absent when the input had no valid order id.
    pub order_id: Option<OrderId>,
    /// Always `REJECTED`.
    pub status: &'static str,
    pub error: String,
    pub reasons: Vec<String>,
    pub notification: SentNotification,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentNotification {
    #[serde(rename = "type")]
    pub kind: NotificationKind,
    pub message_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    /// True when an earlier attempt had already sent it: nothing was sent now.
    pub replayed: bool,
}

pub async fn handler<S: OrderStore, N: Notifier, C: Clock>(
    store: &S,
    notifier: &N,
    clock: &C,
    event: LambdaEvent<Value>,
) -> Result<NotifyOutput, OrderError> {
    match NotificationRequest::parse(&event.payload) {
        Ok(NotificationRequest::Confirm(order)) => {
            orderflow_lambda::record_order_id(order.order_id().as_str());
            confirm(store, notifier, clock, order).await
        }
        Ok(NotificationRequest::Reject(rejection)) => {
            if let Some(id) = &rejection.order_id {
                orderflow_lambda::record_order_id(id.as_str());
            }
            reject(notifier, clock, rejection).await
        }
        Err(err) => {
            tracing::warn!("input is neither process_order's output nor a Catch output");
            Err(err)
        }
    }
}

async fn confirm<S: OrderStore, N: Notifier, C: Clock>(
    store: &S,
    notifier: &N,
    clock: &C,
    order: ValidatedOrder,
) -> Result<NotifyOutput, OrderError> {
    let order_id = order.order_id();
    let hash = order.content_hash();
    let conflict = || OrderError::Conflict { order_id: order_id.to_string() };
    let not_found = || OrderError::NotFound { order_id: order_id.to_string() };
    let stored = store.get(order_id).await?.ok_or_else(not_found)?;
    if stored.content_hash != hash {
        return Err(conflict());
    }
    let confirmed = |record: NotificationRecord, replayed: bool| {
        NotifyOutput::Confirmed(Confirmed {
            order_id: order_id.clone(),
            status: "NOTIFIED",
            total: order.pricing().total(),
            currency: order.currency().code(),
            notification: SentNotification {
                kind: NotificationKind::OrderConfirmed,
                message_id: record.message_id,
                sent_at: record.notified_at,
                replayed,
            },
        })
    };
    if let Some(previous) = stored.notification {
        tracing::info!(message_id = %previous.message_id, "confirmation was already sent; not sending again");
        return Ok(confirmed(previous, true));
    }

    let now = clock.now();
    let message_id = notifier.publish(&Notification::confirmation(&order, now)).await?;
    tracing::info!(%message_id, "confirmation published");
    let record = NotificationRecord { message_id, notified_at: now };
    match store.record_notification(order_id, &hash, &record).await? {
        RecordOutcome::Recorded => Ok(confirmed(record, false)),
        RecordOutcome::AlreadyRecorded(previous) => {
            tracing::warn!(
                duplicate_message_id = %record.message_id,
                message_id = %previous.message_id,
                "a concurrent attempt confirmed this order first; the customer got two confirmations"
            );
            Ok(confirmed(previous, true))
        }
        RecordOutcome::Missing => Err(not_found()),
        RecordOutcome::ContentMismatch => Err(conflict()),
    }
}

async fn reject<N: Notifier, C: Clock>(
    notifier: &N,
    clock: &C,
    rejection: Rejection,
) -> Result<NotifyOutput, OrderError> {
    let now = clock.now();
    let message_id = notifier.publish(&Notification::rejection(&rejection, now)).await?;
    tracing::info!(
        %message_id,
        error = %rejection.error,
        reasons = rejection.reasons.len(),
        has_recipient = rejection.recipient.is_some(),
        "rejection notice published"
    );
    Ok(NotifyOutput::Rejected(Rejected {
        order_id: rejection.order_id,
        status: "REJECTED",
        error: rejection.error,
        reasons: rejection.reasons,
        notification: SentNotification {
            kind: NotificationKind::OrderRejected,
            message_id,
            sent_at: now,
            replayed: false,
        },
    }))
}
