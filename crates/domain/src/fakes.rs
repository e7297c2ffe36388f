//! In-memory ports for handler unit tests, with failure injection. The
//! adapters' own tests run against the emulator, never against these.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use time::OffsetDateTime;

use crate::error::DependencyError;
use crate::notification::Notification;
use crate::order::{OrderId, ValidatedOrder};
use crate::ports::{
    Claim, ClaimOutcome, Clock, InsertOutcome, NotificationRecord, Notifier, OrderStatus, OrderStore, RecordOutcome,
    StoredOrder,
};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug, Default)]
pub struct InMemoryOrderStore {
    orders: Mutex<HashMap<OrderId, StoredOrder>>,
    /// Rejection notices per minute (Unix minutes).
    rejections: Mutex<HashMap<i64, u32>>,
    failures: Mutex<VecDeque<DependencyError>>,
    writes: Mutex<usize>,
}

impl InMemoryOrderStore {
    /// The next calls fail with these errors, in order, before any succeeds.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = DependencyError>) {
        lock(&self.failures).extend(errors);
    }

    /// Successful writes so far.
    pub fn writes(&self) -> usize {
        *lock(&self.writes)
    }

    /// Forgets every order and rejection count (not the write count): for a
    /// long run of executions that each use a fresh order id, so the store
    /// does not grow as a real table would not grow the process.
    pub fn clear(&self) {
        lock(&self.orders).clear();
        lock(&self.rejections).clear();
    }

    pub fn stored(&self, id: &OrderId) -> Option<StoredOrder> {
        lock(&self.orders).get(id).cloned()
    }

    fn injected(&self) -> Result<(), DependencyError> {
        lock(&self.failures).pop_front().map_or(Ok(()), Err)
    }
}

impl OrderStore for InMemoryOrderStore {
    async fn insert_if_absent(
        &self,
        record: &StoredOrder,
        // What DynamoDB stores beside the record; nothing here reads it back.
        _order: &ValidatedOrder,
    ) -> Result<InsertOutcome, DependencyError> {
        self.injected()?;
        let mut orders = lock(&self.orders);
        if let Some(existing) = orders.get(&record.order_id) {
            return Ok(InsertOutcome::AlreadyExists(existing.clone()));
        }
        orders.insert(record.order_id.clone(), record.clone());
        *lock(&self.writes) += 1;
        Ok(InsertOutcome::Inserted)
    }

    async fn get(&self, order_id: &OrderId) -> Result<Option<StoredOrder>, DependencyError> {
        self.injected()?;
        Ok(self.stored(order_id))
    }

    async fn record_notification(
        &self,
        order_id: &OrderId,
        content_hash: &str,
        notification: &NotificationRecord,
    ) -> Result<RecordOutcome, DependencyError> {
        self.injected()?;
        let mut orders = lock(&self.orders);
        let stored = orders.get_mut(order_id);
        let outcome = RecordOutcome::judge(stored.as_deref(), content_hash);
        if let (RecordOutcome::Recorded, Some(stored)) = (&outcome, stored) {
            stored.notification = Some(notification.clone());
            stored.status = OrderStatus::Notified;
            stored.claim = None;
            *lock(&self.writes) += 1;
        }
        Ok(outcome)
    }

    async fn claim_confirmation(
        &self,
        order_id: &OrderId,
        content_hash: &str,
        claim: &Claim,
        now: OffsetDateTime,
    ) -> Result<ClaimOutcome, DependencyError> {
        self.injected()?;
        let mut orders = lock(&self.orders);
        let stored = orders.get_mut(order_id);
        let outcome = ClaimOutcome::judge(stored.as_deref(), content_hash, claim, now);
        if let (ClaimOutcome::Claimed, Some(stored)) = (&outcome, stored) {
            stored.claim = Some(claim.clone());
            *lock(&self.writes) += 1;
        }
        Ok(outcome)
    }

    async fn take_rejection_slot(&self, now: OffsetDateTime) -> Result<bool, DependencyError> {
        self.injected()?;
        let mut rejections = lock(&self.rejections);
        let sent = rejections.entry(now.unix_timestamp().div_euclid(60)).or_default();
        if *sent >= crate::ports::REJECTIONS_PER_MINUTE {
            return Ok(false);
        }
        *sent += 1;
        Ok(true)
    }

    async fn release_claim(&self, order_id: &OrderId, token: &str) -> Result<(), DependencyError> {
        self.injected()?;
        if let Some(stored) = lock(&self.orders).get_mut(order_id)
            && stored.claim.as_ref().is_some_and(|c| c.token == token)
        {
            stored.claim = None;
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
pub struct RecordingNotifier {
    sent: Mutex<Vec<Notification>>,
    /// Notifications published so far, including those `clear`ed.
    published: AtomicUsize,
    failures: Mutex<VecDeque<DependencyError>>,
}

impl RecordingNotifier {
    pub fn fail_next(&self, errors: impl IntoIterator<Item = DependencyError>) {
        lock(&self.failures).extend(errors);
    }

    pub fn sent(&self) -> Vec<Notification> {
        lock(&self.sent).clone()
    }

    /// Forgets the notifications sent so far; message ids go on counting.
    pub fn clear(&self) {
        lock(&self.sent).clear();
    }
}

impl Notifier for RecordingNotifier {
    async fn publish(&self, notification: &Notification) -> Result<String, DependencyError> {
        if let Some(err) = lock(&self.failures).pop_front() {
            return Err(err);
        }
        lock(&self.sent).push(notification.clone());
        let published = self.published.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(format!("fake-message-{published}"))
    }
}

/// Always the same instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub OffsetDateTime);

impl Default for FixedClock {
    fn default() -> Self {
        FixedClock(time::macros::datetime!(2026-11-24 12:00:00 UTC))
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// Compares `actual` with the JSON file at `path` (relative to the workspace
/// root). With `ORDERFLOW_BLESS=1` it writes the file instead, for when a
/// documented sample has to change on purpose.
pub fn assert_json_file(path: &str, actual: &serde_json::Value) {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path);
    if std::env::var_os("ORDERFLOW_BLESS").is_some() {
        let text = serde_json::to_string_pretty(actual).unwrap_or_default() + "\n";
        std::fs::write(&full, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", full.display()));
        return;
    }
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()));
    let expected: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", full.display()));
    assert_eq!(
        actual, &expected,
        "{path} no longer matches what the code produces; if the change is intended, rerun with ORDERFLOW_BLESS=1"
    );
}

/// The JSON file at `path`, relative to the workspace root.
pub fn read_json_file(path: &str) -> serde_json::Value {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path);
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", full.display()))
}
