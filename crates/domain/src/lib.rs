//! The orderflow domain: what an order is, when it is valid, what it costs, and
//! the ports (an order store, a notifier, a clock) through which the Lambda
//! handlers reach the outside world. Nothing here performs I/O.
#![forbid(unsafe_code)]

pub mod currency;
pub mod error;
pub mod notification;
pub mod order;
pub mod ports;
pub mod pricing;
pub mod steps;
pub mod validation;

#[cfg(feature = "fakes")]
pub mod fakes;

pub use currency::Currency;
pub use error::{DependencyError, DependencyErrorKind, OrderError, Violation, ViolationCode};
pub use order::{Customer, Email, LineItem, OrderId, Quantity, ShippingAddress, Sku, ValidatedOrder};
pub use pricing::{PricedLine, Pricing};
pub use validation::{MAX_INPUT_BYTES, MAX_ORDER_TOTAL, RawOrder};
