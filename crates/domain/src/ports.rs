//! The ports: what the handlers need from the outside world, as traits. The
//! `orderflow-aws` crate implements them on DynamoDB and SNS; `fakes`
//! implements them in memory for unit tests.

use std::future::Future;

use rust_decimal::Decimal;
use serde::Serialize;
use time::OffsetDateTime;

use crate::error::DependencyError;
use crate::notification::Notification;
use crate::order::{OrderId, ValidatedOrder};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Stored by process_order.
    Processed,
    /// Its confirmation was published and recorded by send_notification.
    Notified,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Processed => "PROCESSED",
            OrderStatus::Notified => "NOTIFIED",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        match s {
            "PROCESSED" => Some(OrderStatus::Processed),
            "NOTIFIED" => Some(OrderStatus::Notified),
            _ => None,
        }
    }
}

/// The confirmation sent for an order, as recorded on its item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotificationRecord {
    pub message_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub notified_at: OffsetDateTime,
}

/// An order as the store holds it: enough to answer a retry without the
/// order's content, which the caller already has (its hash proves it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOrder {
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub content_hash: String,
    pub total: Decimal,
    pub currency: String,
    pub item_count: usize,
    pub created_at: OffsetDateTime,
    pub notification: Option<NotificationRecord>,
    /// An unfinished confirmation attempt's claim, if one was taken.
    pub claim: Option<Claim>,
}

impl StoredOrder {
    /// The record process_order writes for a newly accepted order.
    pub fn new(order: &ValidatedOrder, created_at: OffsetDateTime) -> StoredOrder {
        StoredOrder {
            order_id: order.order_id().clone(),
            status: OrderStatus::Processed,
            content_hash: order.content_hash(),
            total: order.pricing().total(),
            currency: order.currency().code().to_owned(),
            item_count: order.items().len(),
            created_at,
            notification: None,
            claim: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// The order was new and is now stored.
    Inserted,
    /// An order with this id was already stored; here it is, untouched.
    AlreadyExists(StoredOrder),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    Recorded,
    /// A confirmation was recorded before this one (a concurrent retry).
    AlreadyRecorded(NotificationRecord),
    /// No order with this id is stored.
    Missing,
    /// The stored order has other content than the one being confirmed.
    ContentMismatch,
}

/// How long a confirmation claim keeps other attempts from publishing: past
/// send_notification's Lambda timeout (a test holds the template to it), so a
/// live holder is never overtaken.
pub const CLAIM_LEASE_SECONDS: i64 = 15;

/// One send_notification attempt's exclusive right to publish an order's
/// confirmation, until `until`. Taken before publishing, so of any number of
/// concurrent attempts exactly one publishes; it lapses on its own if its
/// holder dies, so the order is never left unconfirmable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub token: String,
    pub until: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This attempt holds the claim and may publish.
    Claimed,
    /// The confirmation was already sent and recorded.
    AlreadyRecorded(NotificationRecord),
    /// Another attempt holds an unexpired claim.
    Held {
        until: OffsetDateTime,
    },
    Missing,
    ContentMismatch,
}

/// Rejection notices sent per minute at most, across all executions: an
/// attacker who can start executions cannot flood the channel.
pub const REJECTIONS_PER_MINUTE: u32 = 60;

impl ClaimOutcome {
    /// What a stored order says of `claim` at `now`: `Claimed` when the claim
    /// may be taken (the condition of the store's conditional write holds).
    pub fn judge(stored: Option<&StoredOrder>, content_hash: &str, claim: &Claim, now: OffsetDateTime) -> ClaimOutcome {
        match stored {
            None => ClaimOutcome::Missing,
            Some(s) if s.content_hash != content_hash => ClaimOutcome::ContentMismatch,
            Some(StoredOrder { notification: Some(previous), .. }) => ClaimOutcome::AlreadyRecorded(previous.clone()),
            // Another attempt's, unexpired; the same token again is this attempt's own.
            Some(StoredOrder { claim: Some(held), .. }) if held.until >= now && held.token != claim.token => {
                ClaimOutcome::Held { until: held.until }
            }
            Some(_) => ClaimOutcome::Claimed,
        }
    }
}

impl RecordOutcome {
    /// What a stored order says of recording a confirmation: `Recorded` when
    /// it may be (the condition of the store's conditional write holds).
    pub fn judge(stored: Option<&StoredOrder>, content_hash: &str) -> RecordOutcome {
        match stored {
            None => RecordOutcome::Missing,
            Some(s) if s.content_hash != content_hash => RecordOutcome::ContentMismatch,
            Some(StoredOrder { notification: Some(previous), .. }) => RecordOutcome::AlreadyRecorded(previous.clone()),
            Some(_) => RecordOutcome::Recorded,
        }
    }
}

pub trait OrderStore: Send + Sync {
    /// Stores `record` unless an order with its id exists, in one conditional
    /// write; `order` is the content stored beside it.
    fn insert_if_absent(
        &self,
        record: &StoredOrder,
        order: &ValidatedOrder,
    ) -> impl Future<Output = Result<InsertOutcome, DependencyError>> + Send;

    /// A strongly consistent read.
    fn get(&self, order_id: &OrderId) -> impl Future<Output = Result<Option<StoredOrder>, DependencyError>> + Send;

    /// Takes `claim` on the order's confirmation, in one conditional write:
    /// only if the order exists with `content_hash`, has no notification
    /// recorded, and no other claim is unexpired at `now` (the same token
    /// again is this attempt's own claim, e.g. an SDK retry of the write).
    fn claim_confirmation(
        &self,
        order_id: &OrderId,
        content_hash: &str,
        claim: &Claim,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<ClaimOutcome, DependencyError>> + Send;

    /// Gives up the claim with `token`, if it is still held: a publish that
    /// failed leaves the order free for the next attempt at once.
    fn release_claim(
        &self,
        order_id: &OrderId,
        token: &str,
    ) -> impl Future<Output = Result<(), DependencyError>> + Send;

    /// Takes one of the `REJECTIONS_PER_MINUTE` rejection notices of the
    /// minute `now` falls in, in one conditional write: false when none is left.
    fn take_rejection_slot(&self, now: OffsetDateTime) -> impl Future<Output = Result<bool, DependencyError>> + Send;

    /// Marks the order notified with `notification` (and drops any claim),
    /// only if it exists with `content_hash` and has no notification yet, in
    /// one conditional write.
    fn record_notification(
        &self,
        order_id: &OrderId,
        content_hash: &str,
        notification: &NotificationRecord,
    ) -> impl Future<Output = Result<RecordOutcome, DependencyError>> + Send;
}

pub trait Notifier: Send + Sync {
    /// Publishes and returns the message id.
    fn publish(&self, notification: &Notification) -> impl Future<Output = Result<String, DependencyError>> + Send;
}

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}
