//! A validated order and the small types it is made of. Each type can only be
//! built by `validation`, so holding one is proof that its rules hold. They
//! serialize back to the input shape, normalized (amounts as strings at the
//! currency's scale, items sorted by SKU), so a validated order can be parsed
//! again by the next step with the same rules.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use smol_str::SmolStr;

use crate::currency::Currency;
use crate::pricing::Pricing;

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident($text:ty)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub(crate) $text);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// As its text alone.
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    };
}

string_newtype!(
    /// 1 to 64 of `[A-Za-z0-9_-]`: safe in a DynamoDB key, a log line and a URL.
    OrderId(SmolStr)
);
string_newtype!(
    /// 1 to 64 of `[A-Za-z0-9._-]`. An order's pricing names each line by
    /// the same text as its item: a clone copies no heap text.
    Sku(SmolStr)
);
string_newtype!(
    /// A syntactically valid address, domain lower-cased. Personal data: never log it.
    Email(SmolStr)
);
string_newtype!(
    /// ISO 3166-1 alpha-2, upper case.
    CountryCode(SmolStr)
);

impl OrderId {
    /// Parses an order id on its own, as a rejection notice must do with
    /// whatever arrived.
    pub fn parse(s: &str) -> Option<OrderId> {
        crate::validation::is_identifier(s, false).then(|| OrderId(SmolStr::new(s)))
    }
}

/// 1 to 10,000 units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Quantity(pub(crate) u32);

impl Quantity {
    pub const MAX: u32 = 10_000;

    pub fn get(self) -> u32 {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Customer {
    pub(crate) id: SmolStr,
    pub(crate) email: Email,
    pub(crate) name: SmolStr,
}

impl Customer {
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Personal data: never log it.
    pub fn email(&self) -> &Email {
        &self.email
    }
    /// Personal data: never log it.
    pub fn name(&self) -> &str {
        &self.name
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineItem {
    pub(crate) sku: Sku,
    pub(crate) quantity: Quantity,
    #[serde(serialize_with = "decimal_as_string")]
    pub(crate) unit_price: Decimal,
}

impl LineItem {
    pub fn sku(&self) -> &Sku {
        &self.sku
    }
    pub fn quantity(&self) -> Quantity {
        self.quantity
    }
    /// Non-negative, at exactly the currency's scale.
    pub fn unit_price(&self) -> Decimal {
        self.unit_price
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShippingAddress {
    pub(crate) line1: SmolStr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) line2: Option<SmolStr>,
    pub(crate) city: SmolStr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) region: Option<SmolStr>,
    pub(crate) postal_code: SmolStr,
    pub(crate) country: CountryCode,
}

impl ShippingAddress {
    pub fn country(&self) -> &CountryCode {
        &self.country
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidatedOrder {
    pub(crate) order_id: OrderId,
    pub(crate) customer: Customer,
    pub(crate) items: Vec<LineItem>,
    pub(crate) currency: Currency,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) shipping_address: Option<ShippingAddress>,
    /// Computed once, during validation, which is also where its bound is checked.
    #[serde(skip)]
    pub(crate) pricing: Pricing,
}

impl ValidatedOrder {
    pub fn pricing(&self) -> &Pricing {
        &self.pricing
    }

    pub fn order_id(&self) -> &OrderId {
        &self.order_id
    }
    pub fn customer(&self) -> &Customer {
        &self.customer
    }
    /// Sorted by SKU; SKUs are unique.
    pub fn items(&self) -> &[LineItem] {
        &self.items
    }
    pub fn currency(&self) -> Currency {
        self.currency
    }
    pub fn shipping_address(&self) -> Option<&ShippingAddress> {
        self.shipping_address.as_ref()
    }

    /// `sha256:<hex>` of the normalized order's JSON. Two inputs that differ
    /// only in formatting, item order or `12.5` versus `"12.50"` hash the same,
    /// which is what makes a retry recognisable as a retry.
    pub fn content_hash(&self) -> String {
        // Written whole into a buffer sized for a typical order (serde_json
        // writes to a Vec in large, inlined pieces), then hashed at once.
        let mut canonical = Vec::with_capacity(1024);
        serde_json::to_writer(&mut canonical, self).expect("a validated order always serializes");
        let mut sha = Sha256::new();
        sha.update(&canonical);
        let mut out = String::with_capacity(7 + 64);
        out.push_str("sha256:");
        push_hex(&mut out, sha);
        out
    }
}

/// The lower-case hex SHA-256 of the parts joined by NUL bytes (one part:
/// its plain hash, so stored content hashes keep their value).
pub fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update([0]);
        }
        hasher.update(part);
    }
    let mut out = String::with_capacity(64);
    push_hex(&mut out, hasher);
    out
}

fn push_hex(out: &mut String, hasher: Sha256) {
    for byte in hasher.finalize() {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Amounts travel as JSON strings so no consumer parses them into a float.
pub fn decimal_as_string<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(DecimalText::new().write(value))
}

/// A decimal's text, as its `Display` writes it (every digit of its scale,
/// `-` for a negative sign), made on the stack: every amount of every step's
/// output passes here, and `Display` goes through the formatting machinery.
struct DecimalText {
    /// 29 digits at most, a point, a sign, and "0." before a fraction: 32 bytes.
    buf: [u8; 40],
    /// Where the text starts: it is written from the end, lowest digit first.
    at: usize,
    digits: usize,
    scale: usize,
}

impl DecimalText {
    fn new() -> DecimalText {
        DecimalText { buf: [0; 40], at: 40, digits: 0, scale: 0 }
    }

    fn put(&mut self, byte: u8) {
        self.at -= 1;
        self.buf[self.at] = byte;
    }

    fn digit(&mut self, digit: u8) {
        self.put(b'0' + digit);
        self.digits += 1;
        if self.digits == self.scale {
            self.put(b'.');
        }
    }

    fn write(&mut self, value: &Decimal) -> &str {
        self.scale = value.scale() as usize;
        let mantissa = value.mantissa().unsigned_abs();
        // Most amounts fit 64 bits, whose division is a machine instruction.
        if let Ok(mut small) = u64::try_from(mantissa) {
            while small != 0 {
                self.digit((small % 10) as u8);
                small /= 10;
            }
        } else {
            let mut large = mantissa;
            while large != 0 {
                self.digit((large % 10) as u8);
                large /= 10;
            }
        }
        // Zeros up to the point, and one before it.
        while self.digits <= self.scale {
            self.digit(0);
        }
        if value.is_sign_negative() {
            self.put(b'-');
        }
        std::str::from_utf8(&self.buf[self.at..]).unwrap_or_default()
    }
}
