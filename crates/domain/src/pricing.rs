//! Line subtotals and the order total, in exact decimal arithmetic with every
//! multiplication and addition checked for overflow.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::currency::Currency;
use crate::order::{LineItem, Sku, decimal_as_string};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PricedLine {
    pub sku: Sku,
    pub quantity: u32,
    #[serde(serialize_with = "decimal_as_string")]
    pub unit_price: Decimal,
    #[serde(serialize_with = "decimal_as_string")]
    pub line_total: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pricing {
    lines: Vec<PricedLine>,
    item_count: usize,
    total_quantity: u32,
    #[serde(serialize_with = "decimal_as_string")]
    total: Decimal,
    currency: Currency,
}

/// The arithmetic left the range of a 96-bit decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricingOverflow;

impl Pricing {
    pub(crate) fn compute(items: &[LineItem], currency: Currency) -> Result<Pricing, PricingOverflow> {
        let scale = currency.minor_units();
        let mut total = Decimal::ZERO;
        let mut total_quantity: u32 = 0;
        let mut lines = Vec::with_capacity(items.len());
        for item in items {
            let quantity = item.quantity().get();
            let mut line_total = item.unit_price().checked_mul(Decimal::from(quantity)).ok_or(PricingOverflow)?;
            line_total.rescale(scale);
            total = total.checked_add(line_total).ok_or(PricingOverflow)?;
            total_quantity = total_quantity.checked_add(quantity).ok_or(PricingOverflow)?;
            lines.push(PricedLine { sku: item.sku().clone(), quantity, unit_price: item.unit_price(), line_total });
        }
        total.rescale(scale);
        Ok(Pricing { lines, item_count: items.len(), total_quantity, total, currency })
    }

    pub fn lines(&self) -> &[PricedLine] {
        &self.lines
    }
    pub fn item_count(&self) -> usize {
        self.item_count
    }
    pub fn total_quantity(&self) -> u32 {
        self.total_quantity
    }
    /// At exactly the currency's scale.
    pub fn total(&self) -> Decimal {
        self.total
    }
    pub fn currency(&self) -> Currency {
        self.currency
    }
}
