//! send_notification: the last step, in two modes. Given process_order's
//! output it publishes the order confirmation, once: the message id is
//! recorded on the order with a conditional write, and a retry that finds it
//! there does not publish again. Given a Catch output (`{"order", "error"}`)
//! it publishes a rejection notice that tells the customer why.
#![forbid(unsafe_code)]

use std::borrow::Borrow;

use lambda_runtime::LambdaEvent;
use lambda_runtime::tracing;
use orderflow_domain::notification::{Notification, NotificationKind, Rejection};
use orderflow_domain::order::decimal_as_string;
use orderflow_domain::ports::{Claim, ClaimOutcome, Clock, NotificationRecord, Notifier, OrderStore, RecordOutcome};
use orderflow_domain::steps::NotificationRequest;
use orderflow_domain::{DependencyError, DependencyErrorKind, OrderError, OrderId, ValidatedOrder};
use orderflow_lambda::Deadline;
use orderflow_value::Value;
use rust_decimal::Decimal;
use serde::Serialize;
use time::{Duration, OffsetDateTime};

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
    pub notification: RejectionNotice,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectionNotice {
    #[serde(rename = "type")]
    pub kind: NotificationKind,
    /// Null when the notice was withheld.
    pub message_id: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    /// Why no notice was sent: `order_is_stored` or `rate_limited`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<&'static str>,
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
    /// False when it was sent but its record could not be written (it is
    /// logged with its message id); a later attempt may then send it again
    /// with the same deduplication id.
    pub recorded: bool,
}

pub async fn handler<S: OrderStore, N: Notifier, C: Clock>(
    store: &S,
    notifier: &N,
    clock: &C,
    event: LambdaEvent<impl Borrow<Value>>,
) -> Result<NotifyOutput, OrderError> {
    let deadline = Deadline::from_epoch_millis(event.context.deadline);
    match NotificationRequest::parse(event.payload.borrow()) {
        Ok(NotificationRequest::Confirm(order)) => {
            orderflow_lambda::record_order_id(order.order_id().as_str());
            confirm(store, notifier, clock, order, &event.context.request_id, deadline).await
        }
        Ok(NotificationRequest::Reject(rejection)) => {
            if let Some(id) = &rejection.order_id {
                orderflow_lambda::record_order_id(id.as_str());
            }
            reject(store, notifier, clock, rejection, deadline).await
        }
        Err(err) => {
            tracing::warn!("input is neither process_order's output nor a Catch output");
            Err(err)
        }
    }
}

/// How long a claim keeps other attempts from publishing.
pub const CLAIM_LEASE: Duration = Duration::seconds(orderflow_domain::ports::CLAIM_LEASE_SECONDS);
/// How often an attempt that found the claim held looks for its outcome.
const POLL: std::time::Duration = std::time::Duration::from_millis(100);
/// The time a publish needs before the deadline to be started: SNS's 3 s
/// attempt timeout and a moment to record it. With less, the attempt gives
/// the claim back and fails retryable rather than risk being cut off after
/// telling the customer.
pub const PUBLISH_RESERVE: std::time::Duration = std::time::Duration::from_millis(3_500);

fn unavailable(operation: &'static str, detail: &str) -> OrderError {
    OrderError::DependencyUnavailable(DependencyError {
        kind: DependencyErrorKind::Unavailable,
        service: "orderflow",
        operation,
        detail: detail.into(),
    })
}

/// Exactly one confirmation per order: of all attempts (retries, concurrent
/// duplicates) only the one holding the order's claim publishes; the others
/// wait for its record and answer with it. A publish that fails releases the
/// claim; one whose answer was lost is sent again by the next claimant with
/// the same deduplication id, which the FIFO topic delivers once.
async fn confirm<S: OrderStore, N: Notifier, C: Clock>(
    store: &S,
    notifier: &N,
    clock: &C,
    order: ValidatedOrder,
    request_id: &str,
    deadline: Deadline,
) -> Result<NotifyOutput, OrderError> {
    let order_id = order.order_id();
    let hash = order.content_hash();
    let conflict = || OrderError::Conflict { order_id: order_id.to_string() };
    let not_found = || OrderError::NotFound { order_id: order_id.to_string() };
    let stored = deadline.bound("DynamoDB", "GetItem", store.get(order_id)).await?.ok_or_else(not_found)?;
    if stored.content_hash != hash {
        return Err(conflict());
    }
    let confirmed = |record: NotificationRecord, replayed: bool, recorded: bool| {
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
                recorded,
            },
        })
    };
    if let Some(previous) = stored.notification {
        tracing::info!(message_id = %previous.message_id, "confirmation was already sent; not sending again");
        return Ok(confirmed(previous, true, true));
    }

    let token = claim_token(request_id, clock.now());
    loop {
        let now = clock.now();
        let claim = Claim { token: token.clone(), until: now + CLAIM_LEASE };
        match deadline.bound("DynamoDB", "UpdateItem", store.claim_confirmation(order_id, &hash, &claim, now)).await? {
            ClaimOutcome::Claimed => break,
            ClaimOutcome::AlreadyRecorded(previous) => {
                tracing::info!(message_id = %previous.message_id, "another attempt sent the confirmation");
                return Ok(confirmed(previous, true, true));
            }
            ClaimOutcome::Held { .. } => {
                if deadline.remaining() <= POLL {
                    tracing::warn!("another attempt is sending this confirmation; giving up for now");
                    return Err(unavailable(
                        "ClaimConfirmation",
                        "another attempt is sending this order's confirmation; retry later",
                    ));
                }
                tokio::time::sleep(POLL).await;
            }
            ClaimOutcome::Missing => return Err(not_found()),
            ClaimOutcome::ContentMismatch => return Err(conflict()),
        }
    }

    let release = || async {
        if let Err(err) = deadline.bound("DynamoDB", "UpdateItem", store.release_claim(order_id, &token)).await {
            tracing::warn!(error = %err, "could not release the claim; it lapses on its own");
        }
    };
    if deadline.remaining() < PUBLISH_RESERVE {
        release().await;
        return Err(unavailable("Publish", "too little of the invocation's time is left to publish and record"));
    }
    let now = clock.now();
    let message_id =
        match deadline.bound("SNS", "Publish", notifier.publish(&Notification::confirmation(&order, &hash, now))).await
        {
            Ok(id) => id,
            Err(err) => {
                release().await;
                return Err(err.into());
            }
        };
    tracing::info!(%message_id, "confirmation published");
    let record = NotificationRecord { message_id, notified_at: now };
    // The customer has been told: from here on the attempt succeeds, so a
    // workflow never fails after confirming. A record that cannot be written
    // leaves the claim to lapse; a later attempt then sends the same notice
    // again under the same deduplication id.
    match deadline.bound("DynamoDB", "UpdateItem", store.record_notification(order_id, &hash, &record)).await {
        Ok(RecordOutcome::Recorded) => Ok(confirmed(record, false, true)),
        Ok(RecordOutcome::AlreadyRecorded(previous)) => {
            tracing::warn!(
                duplicate_message_id = %record.message_id,
                message_id = %previous.message_id,
                "this attempt's claim lapsed and another attempt recorded the confirmation first"
            );
            Ok(confirmed(previous, true, true))
        }
        Ok(RecordOutcome::Missing | RecordOutcome::ContentMismatch) => {
            tracing::warn!(message_id = %record.message_id, "the order changed under its claim; the confirmation stands");
            Ok(confirmed(record, false, false))
        }
        Err(err) => {
            tracing::warn!(message_id = %record.message_id, error = %err, "confirmation published but not recorded");
            Ok(confirmed(record, false, false))
        }
    }
}

/// A claim token unique to this invocation.
fn claim_token(request_id: &str, now: OffsetDateTime) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    // Asked once: each getpid is a system call.
    static PROCESS: std::sync::LazyLock<u32> = std::sync::LazyLock::new(std::process::id);
    use std::fmt::Write;
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = now.unix_timestamp_nanos();
    let mut token = String::with_capacity(request_id.len() + 48);
    // An i64 is written without 128-bit divisions, which are library calls;
    // i64 nanoseconds reach the year 2262.
    let _ = match i64::try_from(nanos) {
        Ok(nanos) => write!(token, "{request_id}/{}/{nanos}/{n}", *PROCESS),
        Err(_) => write!(token, "{request_id}/{}/{nanos}/{n}", *PROCESS),
    };
    token
}

/// A rejection notice, for the company's own channel: never for an order the
/// store holds (the rejection path is for orders that were never stored), at
/// most `REJECTIONS_PER_MINUTE` a minute, and the FIFO topic drops a second
/// notice for the same order id within five minutes.
async fn reject<S: OrderStore, N: Notifier, C: Clock>(
    store: &S,
    notifier: &N,
    clock: &C,
    rejection: Rejection,
    deadline: Deadline,
) -> Result<NotifyOutput, OrderError> {
    let now = clock.now();
    let rejected = |rejection: Rejection, message_id: Option<String>, withheld: Option<&'static str>| {
        NotifyOutput::Rejected(Rejected {
            order_id: rejection.order_id,
            status: "REJECTED",
            error: rejection.error,
            reasons: rejection.reasons,
            notification: RejectionNotice {
                kind: NotificationKind::OrderRejected,
                sent_at: message_id.is_some().then_some(now),
                message_id,
                withheld,
            },
        })
    };
    let withheld = |reason: &'static str, rejection: Rejection| {
        tracing::warn!(reason, "rejection notice withheld");
        rejected(rejection, None, Some(reason))
    };
    if let Some(id) = &rejection.order_id
        && deadline.bound("DynamoDB", "GetItem", store.get(id)).await?.is_some()
    {
        return Ok(withheld("order_is_stored", rejection));
    }
    if !deadline.bound("DynamoDB", "UpdateItem", store.take_rejection_slot(now)).await? {
        return Ok(withheld("rate_limited", rejection));
    }
    let notice = Notification::rejection(&rejection, now);
    let message_id = deadline.bound("SNS", "Publish", notifier.publish(&notice)).await?;
    tracing::info!(%message_id, error = %rejection.error, reasons = rejection.reasons.len(), "rejection notice published");
    Ok(rejected(rejection, Some(message_id), None))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    #[test]
    fn a_claim_token_shows_the_request_the_process_the_time_and_a_count() {
        for now in [datetime!(2026-12-03 12:00:00.123456789 UTC), datetime!(1969-12-31 23:59:59.5 UTC)] {
            let (a, b) = (super::claim_token("req-1", now), super::claim_token("req-1", now));
            let parts: Vec<&str> = a.split('/').collect();
            assert_eq!(parts[..3], ["req-1", &std::process::id().to_string(), &now.unix_timestamp_nanos().to_string()]);
            assert_ne!(a, b, "two invocations never share a token");
        }
    }
}
