//! process_order: the second step. Stores the validated order once, with its
//! totals, status and content hash. A retry of the same order returns what is
//! stored without writing again; other content under the same id is an
//! `OrderConflict`.
#![forbid(unsafe_code)]

use std::borrow::Borrow;

use lambda_runtime::LambdaEvent;
use lambda_runtime::tracing;
use orderflow_domain::order::decimal_as_string;
use orderflow_domain::ports::{Clock, InsertOutcome, OrderStatus, OrderStore, StoredOrder};
use orderflow_domain::steps::order_from_step_input;
use orderflow_domain::{OrderError, OrderId, ValidatedOrder};
use orderflow_value::Value;
use rust_decimal::Decimal;
use serde::Serialize;
use time::OffsetDateTime;

#[derive(Debug, Clone, Serialize)]
pub struct ProcessOutput {
    /// The order as validated: the input send_notification takes.
    pub order: ValidatedOrder,
    pub receipt: Receipt,
}

/// What the store holds for the order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Receipt {
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub content_hash: String,
    #[serde(serialize_with = "decimal_as_string")]
    pub total: Decimal,
    pub currency: String,
    pub item_count: usize,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// True when the order was already stored by an earlier attempt.
    pub replayed: bool,
}

impl Receipt {
    fn new(stored: StoredOrder, replayed: bool) -> Receipt {
        Receipt {
            order_id: stored.order_id,
            status: stored.status,
            content_hash: stored.content_hash,
            total: stored.total,
            currency: stored.currency,
            item_count: stored.item_count,
            created_at: stored.created_at,
            replayed,
        }
    }
}

pub async fn handler<S: OrderStore, C: Clock>(
    store: &S,
    clock: &C,
    event: LambdaEvent<impl Borrow<Value>>,
) -> Result<ProcessOutput, OrderError> {
    let order = order_from_step_input(event.payload.borrow())?;
    orderflow_lambda::record_order_id(order.order_id().as_str());
    process(store, clock, order, orderflow_lambda::Deadline::from_epoch_millis(event.context.deadline)).await
}

async fn process<S: OrderStore, C: Clock>(
    store: &S,
    clock: &C,
    order: ValidatedOrder,
    deadline: orderflow_lambda::Deadline,
) -> Result<ProcessOutput, OrderError> {
    let record = StoredOrder::new(&order, clock.now());
    let receipt = match deadline.bound("DynamoDB", "PutItem", store.insert_if_absent(&record, &order)).await? {
        InsertOutcome::Inserted => {
            tracing::info!(total = %record.total, currency = %record.currency, "order stored");
            Receipt::new(record, false)
        }
        InsertOutcome::AlreadyExists(existing) if existing.content_hash == record.content_hash => {
            tracing::info!(
                status = existing.status.as_str(),
                "order was already stored by an earlier attempt; nothing written"
            );
            Receipt::new(existing, true)
        }
        InsertOutcome::AlreadyExists(existing) => {
            tracing::warn!(
                stored_hash = %existing.content_hash,
                input_hash = %record.content_hash,
                "order id already used for other content"
            );
            return Err(OrderError::Conflict { order_id: order.order_id().to_string() });
        }
    };
    Ok(ProcessOutput { order, receipt })
}
