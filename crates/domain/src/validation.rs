//! Parse, don't validate: a `RawOrder` is whatever arrived; `validate` turns it
//! into a `ValidatedOrder` or into every violation it has, never just the first.

use orderflow_value::{Map, Value};
use rust_decimal::Decimal;
use smol_str::{SmolStr, StrExt};

use crate::currency::Currency;
use crate::error::{OrderError, Violation, ViolationCode};
use crate::order::{CountryCode, Customer, Email, LineItem, OrderId, Quantity, ShippingAddress, Sku, ValidatedOrder};
use crate::pricing::Pricing;

/// The Step Functions payload limit: a larger input could never have been
/// passed between states, so it is refused before it is read.
pub use orderflow_local::quotas::MAX_PAYLOAD_BYTES as MAX_INPUT_BYTES;
pub const MAX_ITEMS: usize = 100;
/// An order's total may not exceed one billion units of its currency: high
/// enough for any real order in a zero-decimal currency such as JPY, low
/// enough that a typo of six extra zeros is caught.
pub const MAX_ORDER_TOTAL: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

const ORDER_FIELDS: [&str; 5] = ["order_id", "customer", "items", "currency", "shipping_address"];
const CUSTOMER_FIELDS: [&str; 3] = ["id", "email", "name"];
const ITEM_FIELDS: [&str; 3] = ["sku", "quantity", "unit_price"];
const ADDRESS_FIELDS: [&str; 6] = ["line1", "line2", "city", "region", "postal_code", "country"];

/// An order as it arrived: any JSON value at all.
#[derive(Debug, Clone, PartialEq)]
pub struct RawOrder(Value);

impl RawOrder {
    /// Any JSON value: the executor's, or serde_json's (converted).
    pub fn new(value: impl Into<Value>) -> Self {
        RawOrder(value.into())
    }

    pub fn as_value(&self) -> &Value {
        &self.0
    }

    pub fn validate(&self) -> Result<ValidatedOrder, OrderError> {
        RawOrder::validate_value(&self.0)
    }

    /// The same rules for an order that stays where it is.
    pub fn validate_value(value: &Value) -> Result<ValidatedOrder, OrderError> {
        within_limit(value, "order")?;
        validate_value(value)
    }
}

/// InputTooLarge when `value`'s JSON (`what`: the order, a step's input) is
/// over the limit.
pub(crate) fn within_limit(value: &Value, what: &str) -> Result<(), OrderError> {
    // Bounded first: an input well under the limit has its strings' bytes unread.
    let size = orderflow_json_len::json_len_against(value, MAX_INPUT_BYTES);
    if size > MAX_INPUT_BYTES {
        return Err(OrderError::ValidationFailed(vec![Violation::new(
            "$",
            ViolationCode::InputTooLarge,
            format!("{what} is {size} bytes; the limit is {MAX_INPUT_BYTES} bytes (256 KB)"),
        )]));
    }
    Ok(())
}

/// Validates an order held inside a larger document without copying it; the
/// caller has held the document to the size limit.
pub(crate) fn validate_value(value: &Value) -> Result<ValidatedOrder, OrderError> {
    let mut v = Violations::default();
    let order = validate_order(value, &mut v);
    match order {
        Some(order) if v.0.is_empty() => Ok(order),
        _ => Err(OrderError::ValidationFailed(v.0)),
    }
}

#[derive(Default)]
struct Violations(Vec<Violation>);

impl Violations {
    fn add(&mut self, at: Loc<'_>, code: ViolationCode, message: impl Into<String>) {
        self.0.push(Violation::new(at.to_string(), code, message));
    }
}

/// Where a value sits in the order. Written out only when a violation names
/// it: a valid order, the common case, costs no path text at all.
#[derive(Clone, Copy)]
enum Loc<'a> {
    Path(&'a str),
    Field(&'a Loc<'a>, &'a str),
    Item(usize),
}

impl std::fmt::Display for Loc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loc::Path(path) => f.write_str(path),
            Loc::Field(parent, key) => write!(f, "{parent}.{key}"),
            Loc::Item(i) => write!(f, "$.items[{i}]"),
        }
    }
}

fn validate_order(value: &Value, v: &mut Violations) -> Option<ValidatedOrder> {
    const ROOT: Loc = Loc::Path("$");
    let Some(obj) = value.as_object() else {
        v.add(ROOT, ViolationCode::InvalidType, "order must be a JSON object");
        return None;
    };
    let [order_id, customer, items, currency, shipping_address] = known_fields(obj, ROOT, &ORDER_FIELDS, v);

    let order_id = required(order_id, ROOT, "order_id", v)
        .and_then(|x| identifier(x, Loc::Field(&ROOT, "order_id"), false, v))
        .map(OrderId);
    let customer = required(customer, ROOT, "customer", v).and_then(|x| self::customer(x, v));
    let currency = required(currency, ROOT, "currency", v).and_then(|x| self::currency(x, v));
    let items = required(items, ROOT, "items", v).and_then(|x| self::items(x, currency, v));
    let shipping_address = match shipping_address {
        None | Some(Value::Null) => Some(None),
        Some(x) => address(x, v).map(Some),
    };

    let (order_id, customer, currency, mut items, shipping_address) =
        (order_id?, customer?, currency?, items?, shipping_address?);
    items.sort_by(|a, b| a.sku.cmp(&b.sku));
    let pricing = match Pricing::compute(&items, currency) {
        Ok(p) if p.total() <= MAX_ORDER_TOTAL => p,
        _ => {
            v.add(
                Loc::Path("$.items"),
                ViolationCode::TotalExceedsLimit,
                format!("order total must not exceed {MAX_ORDER_TOTAL} {}", currency.code()),
            );
            return None;
        }
    };
    Some(ValidatedOrder { order_id, customer, items, currency, shipping_address, pricing })
}

/// The values of an object's `allowed` fields, in their order, found in one
/// pass over its keys. Unknown fields are reported once per object by count
/// and position, never by name: a name is the sender's text, and the
/// violations travel on to the execution history and the rejection notice.
fn known_fields<'a, const N: usize>(
    obj: &'a Map,
    at: Loc<'_>,
    allowed: &[&str; N],
    v: &mut Violations,
) -> [Option<&'a Value>; N] {
    let mut found = [None; N];
    let mut first = None;
    let mut count = 0;
    for (position, (key, value)) in obj.iter().enumerate() {
        match allowed.iter().position(|name| name == key) {
            Some(i) => found[i] = Some(value),
            None => {
                first.get_or_insert(position);
                count += 1;
            }
        }
    }
    if let Some(first) = first {
        v.add(
            at,
            ViolationCode::UnknownField,
            format!(
                "has {count} unknown field(s), the first at position {} of {} in the order sent; expected only: {}",
                first + 1,
                obj.len(),
                allowed.join(", ")
            ),
        );
    }
    found
}

/// Characters that change how text displays without being seen: Unicode's
/// format characters (Cf: bidi overrides, zero-width space and joiners, tag
/// characters, the BOM), line and paragraph separators (Zl, Zp), and spaces
/// other than U+0020 (Zs).
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00A0}'
            | '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{1680}'
            | '\u{180E}'
            | '\u{2000}'..='\u{200F}'
            | '\u{2028}'..='\u{202F}'
            | '\u{205F}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{3000}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// `found`, the value of the field `key` of the object at `at`, unless it is missing or null.
fn required<'a>(found: Option<&'a Value>, at: Loc<'_>, key: &str, v: &mut Violations) -> Option<&'a Value> {
    match found {
        Some(Value::Null) | None => {
            v.add(Loc::Field(&at, key), ViolationCode::Required, "is required");
            None
        }
        Some(x) => Some(x),
    }
}

fn object<'a>(value: &'a Value, at: Loc<'_>, v: &mut Violations) -> Option<&'a Map> {
    let obj = value.as_object();
    if obj.is_none() {
        v.add(at, ViolationCode::InvalidType, "must be a JSON object");
    }
    obj
}

fn string<'a>(value: &'a Value, at: Loc<'_>, v: &mut Violations) -> Option<&'a str> {
    let s = value.as_str();
    if s.is_none() {
        v.add(at, ViolationCode::InvalidType, "must be a string");
    }
    s
}

/// `[A-Za-z0-9_-]`, plus `.` where `dots` is set, 1 to 64 characters.
pub(crate) fn is_identifier(s: &str, dots: bool) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (dots && b == b'.'))
}

fn identifier(value: &Value, at: Loc<'_>, dots: bool, v: &mut Violations) -> Option<SmolStr> {
    identifier_str(value, at, dots, v).map(|s| kept(value, s))
}

/// `s`, a part of `value`'s string, as the validated text to keep: the
/// string itself when `s` is all of it (most text arrives as it is kept),
/// shared rather than copied; else `s`'s own copy.
fn kept(value: &Value, s: &str) -> SmolStr {
    match value.as_shared_str() {
        Some(whole) if whole.len() == s.len() => whole.clone(),
        _ => SmolStr::new(s),
    }
}

fn identifier_str<'a>(value: &'a Value, at: Loc<'_>, dots: bool, v: &mut Violations) -> Option<&'a str> {
    let s = string(value, at, v)?;
    if is_identifier(s, dots) {
        Some(s)
    } else {
        let allowed = if dots { "letters, digits, '.', '_' and '-'" } else { "letters, digits, '_' and '-'" };
        v.add(at, ViolationCode::InvalidFormat, format!("must be 1 to 64 of {allowed}"));
        None
    }
}

/// Free text: trimmed, `min..=max` characters, no control characters.
fn text(value: &Value, at: Loc<'_>, max: usize, v: &mut Violations) -> Option<SmolStr> {
    let s = string(value, at, v)?.trim();
    // Most text is ASCII, where a byte is a character and nothing is invisible.
    let ascii = s.is_ascii();
    let len = if ascii { s.len() } else { s.chars().count() };
    if len == 0 || len > max {
        v.add(at, ViolationCode::OutOfRange, format!("must be 1 to {max} characters"));
        None
    } else if s.chars().any(char::is_control) {
        v.add(at, ViolationCode::InvalidFormat, "must not contain control characters");
        None
    } else if !ascii && s.chars().any(is_invisible) {
        v.add(
            at,
            ViolationCode::InvalidFormat,
            "must not contain invisible or direction-changing characters (Unicode format characters, separators, spaces other than U+0020)",
        );
        None
    } else {
        Some(kept(value, s))
    }
}

fn optional_text(
    found: Option<&Value>,
    at: Loc<'_>,
    key: &str,
    max: usize,
    v: &mut Violations,
) -> Option<Option<SmolStr>> {
    match found {
        None | Some(Value::Null) => Some(None),
        Some(x) => text(x, Loc::Field(&at, key), max, v).map(Some),
    }
}

fn customer(value: &Value, v: &mut Violations) -> Option<Customer> {
    const C: Loc = Loc::Path("$.customer");
    let obj = object(value, C, v)?;
    let [id, email, name] = known_fields(obj, C, &CUSTOMER_FIELDS, v);
    let id = required(id, C, "id", v).and_then(|x| text(x, Loc::Field(&C, "id"), 64, v));
    let email = required(email, C, "email", v).and_then(|x| self::email(x, Loc::Field(&C, "email"), v));
    let name = required(name, C, "name", v).and_then(|x| text(x, Loc::Field(&C, "name"), 200, v));
    Some(Customer { id: id?, email: email?, name: name? })
}

fn email(value: &Value, at: Loc<'_>, v: &mut Violations) -> Option<Email> {
    let s = string(value, at, v)?;
    let parsed = parse_email(s);
    if parsed.is_none() {
        v.add(at, ViolationCode::InvalidFormat, "must be a valid email address");
    }
    parsed
}

/// A practical subset of RFC 5321: dot-atom local part, a DNS host name with a
/// TLD, 254 characters at most. Quoted local parts and IP literals are refused:
/// no mail system we notify through accepts them.
pub fn parse_email(s: &str) -> Option<Email> {
    let s = s.trim();
    let (local, domain) = s.rsplit_once('@')?;
    if !(s.len() <= 254 && local_part_ok(local) && domain_ok(domain)) {
        return None;
    }
    // The domain lower-cased, on the stack: 254 bytes at most, all ASCII (checked above).
    let mut address = [0u8; 254];
    address[..local.len()].copy_from_slice(local.as_bytes());
    address[local.len()] = b'@';
    let lowered = &mut address[local.len() + 1..s.len()];
    lowered.copy_from_slice(domain.as_bytes());
    lowered.make_ascii_lowercase();
    std::str::from_utf8(&address[..s.len()]).ok().map(|text| Email(SmolStr::new(text)))
}

/// What a dot-atom local part may hold besides letters and digits.
const LOCAL_PART_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = (i as u8).is_ascii_alphanumeric();
        i += 1;
    }
    let symbols = b"!#$%&'*+/=?^_`{|}~.-";
    let mut j = 0;
    while j < symbols.len() {
        table[symbols[j] as usize] = true;
        j += 1;
    }
    table
};

/// 1 to 64 bytes of the dot-atom set, no dot first, last or twice in a row.
fn local_part_ok(local: &str) -> bool {
    let bytes = local.as_bytes();
    (1..=64).contains(&bytes.len())
        && bytes[0] != b'.'
        && bytes[bytes.len() - 1] != b'.'
        && bytes.iter().all(|&b| LOCAL_PART_BYTES[usize::from(b)])
        && !bytes.windows(2).any(|pair| pair == b"..")
}

/// A DNS host name of 253 bytes at most with at least two labels, each 1 to
/// 63 letters, digits and inner hyphens; the last (the TLD) two or more letters.
fn domain_ok(domain: &str) -> bool {
    if domain.len() > 253 || !domain.contains('.') {
        return false;
    }
    let label_ok = |label: &[u8]| {
        (1..=63).contains(&label.len())
            && label[0] != b'-'
            && label[label.len() - 1] != b'-'
            && label.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let mut labels = domain.as_bytes().split(|&b| b == b'.').peekable();
    while let Some(label) = labels.next() {
        if !label_ok(label) {
            return false;
        }
        if labels.peek().is_none() {
            return label.len() >= 2 && label.iter().all(u8::is_ascii_alphabetic);
        }
    }
    false
}

fn currency(value: &Value, v: &mut Violations) -> Option<Currency> {
    let s = string(value, Loc::Path("$.currency"), v)?;
    // Every code is three ASCII letters, upper-cased here on the stack.
    let found = <[u8; 3]>::try_from(s.trim().as_bytes()).ok().and_then(|mut code| {
        code.make_ascii_uppercase();
        std::str::from_utf8(&code).ok().and_then(Currency::from_code)
    });
    if found.is_none() {
        v.add(
            Loc::Path("$.currency"),
            ViolationCode::UnknownCurrency,
            "must be an ISO 4217 currency code such as EUR or USD",
        );
    }
    found
}

fn items(value: &Value, currency: Option<Currency>, v: &mut Violations) -> Option<Vec<LineItem>> {
    let Some(array) = value.as_array() else {
        v.add(Loc::Path("$.items"), ViolationCode::InvalidType, "must be an array");
        return None;
    };
    if array.is_empty() || array.len() > MAX_ITEMS {
        v.add(
            Loc::Path("$.items"),
            ViolationCode::OutOfRange,
            format!("must hold 1 to {MAX_ITEMS} items, not {}", array.len()),
        );
        return None;
    }
    let repeats = repeated_skus(array);
    let mut out = Vec::with_capacity(array.len());
    let mut all_ok = true;
    for (i, item) in array.iter().enumerate() {
        let at = Loc::Item(i);
        if repeats[i] {
            v.add(
                Loc::Field(&at, "sku"),
                ViolationCode::DuplicateSku,
                "repeats the SKU of an earlier item; merge them into one line",
            );
            all_ok = false;
        }
        match line_item(item, at, currency, v) {
            Some(line) => out.push(line),
            None => all_ok = false,
        }
    }
    all_ok.then_some(out)
}

/// Which items repeat the SKU of an earlier item. Checked on the SKU alone,
/// so a duplicate is reported even when the rest of either line is invalid
/// too. Sorted on the stack (at most `MAX_ITEMS`): no allocation, n log n.
fn repeated_skus(array: &[Value]) -> [bool; MAX_ITEMS] {
    let mut repeats = [false; MAX_ITEMS];
    let mut skus: [(&str, usize); MAX_ITEMS] = [("", 0); MAX_ITEMS];
    let mut n = 0;
    for (i, item) in array.iter().enumerate().take(MAX_ITEMS) {
        if let Some(sku) = item.get("sku").and_then(Value::as_str).filter(|s| is_identifier(s, true)) {
            skus[n] = (sku, i);
            n += 1;
        }
    }
    let skus = &mut skus[..n];
    // By SKU, then by position: the first of equal SKUs is the earliest.
    skus.sort_unstable();
    for pair in skus.windows(2) {
        if pair[0].0 == pair[1].0 {
            repeats[pair[1].1] = true;
        }
    }
    repeats
}

fn line_item(value: &Value, at: Loc<'_>, currency: Option<Currency>, v: &mut Violations) -> Option<LineItem> {
    let obj = object(value, at, v)?;
    let [sku, quantity, unit_price] = known_fields(obj, at, &ITEM_FIELDS, v);
    let sku = required(sku, at, "sku", v).and_then(|x| identifier(x, Loc::Field(&at, "sku"), true, v)).map(Sku);
    let quantity =
        required(quantity, at, "quantity", v).and_then(|x| self::quantity(x, Loc::Field(&at, "quantity"), v));
    let unit_price =
        required(unit_price, at, "unit_price", v).and_then(|x| price(x, Loc::Field(&at, "unit_price"), currency, v));
    Some(LineItem { sku: sku?, quantity: quantity?, unit_price: unit_price? })
}

fn quantity(value: &Value, at: Loc<'_>, v: &mut Violations) -> Option<Quantity> {
    let range = || format!("must be a whole number from 1 to {}", Quantity::MAX);
    let Value::Number(n) = value else {
        v.add(at, ViolationCode::InvalidType, range());
        return None;
    };
    match n.as_u64() {
        Some(q @ 1..) if q <= u64::from(Quantity::MAX) => Some(Quantity(q as u32)),
        Some(_) => {
            v.add(at, ViolationCode::OutOfRange, range());
            None
        }
        // Negative or not a whole number: both outside the allowed range.
        None if n.is_i64() => {
            v.add(at, ViolationCode::OutOfRange, range());
            None
        }
        None => {
            v.add(at, ViolationCode::InvalidType, range());
            None
        }
    }
}

/// A price given as a JSON string ("12.50") or number (12.5), read exactly.
fn price(value: &Value, at: Loc<'_>, currency: Option<Currency>, v: &mut Violations) -> Option<Decimal> {
    let parsed = match value {
        Value::String(s) => parse_plain_decimal(s),
        // With serde_json's arbitrary_precision the number keeps its digits.
        Value::Number(n) => parse_json_number(n.as_str()),
        _ => {
            v.add(at, ViolationCode::InvalidType, "must be a decimal number or a string such as \"12.50\"");
            return None;
        }
    };
    let Some(amount) = parsed else {
        v.add(at, ViolationCode::InvalidFormat, "must be a decimal amount such as \"12.50\" with at most 28 digits");
        return None;
    };
    if amount.is_sign_negative() && !amount.is_zero() {
        v.add(at, ViolationCode::OutOfRange, "must not be negative");
        return None;
    }
    let currency = currency?;
    let normalized = amount.normalize();
    if normalized.scale() > currency.minor_units() {
        v.add(
            at,
            ViolationCode::TooManyDecimals,
            format!("{} allows at most {} decimal(s)", currency.code(), currency.minor_units()),
        );
        return None;
    }
    let mut exact = normalized.abs();
    exact.rescale(currency.minor_units());
    Some(exact)
}

/// `-?digits(.digits)?`, nothing else: no exponent, sign or separator tricks.
fn parse_plain_decimal(s: &str) -> Option<Decimal> {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return None;
    }
    Decimal::from_str_exact(s).ok()
}

fn parse_json_number(s: &str) -> Option<Decimal> {
    if s.contains(['e', 'E']) {
        // from_scientific rounds silently past 28 digits; refuse such inputs.
        let d = Decimal::from_scientific(s).ok()?;
        let mantissa_digits = s.split(['e', 'E']).next()?.bytes().filter(u8::is_ascii_digit).count();
        (mantissa_digits <= 28).then_some(d)
    } else {
        parse_plain_decimal(s)
    }
}

fn address(value: &Value, v: &mut Violations) -> Option<ShippingAddress> {
    const P: Loc = Loc::Path("$.shipping_address");
    let obj = object(value, P, v)?;
    let [line1, line2, city, region, postal_code, country] = known_fields(obj, P, &ADDRESS_FIELDS, v);
    let line1 = required(line1, P, "line1", v).and_then(|x| text(x, Loc::Field(&P, "line1"), 200, v));
    let line2 = optional_text(line2, P, "line2", 200, v);
    let city = required(city, P, "city", v).and_then(|x| text(x, Loc::Field(&P, "city"), 100, v));
    let region = optional_text(region, P, "region", 100, v);
    let postal_code =
        required(postal_code, P, "postal_code", v).and_then(|x| text(x, Loc::Field(&P, "postal_code"), 16, v));
    let country = required(country, P, "country", v).and_then(|x| {
        let at = Loc::Field(&P, "country");
        let s = string(x, at, v)?.trim().to_ascii_uppercase_smolstr();
        if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
            Some(CountryCode(s))
        } else {
            v.add(at, ViolationCode::InvalidFormat, "must be an ISO 3166-1 alpha-2 country code such as FR");
            None
        }
    });
    Some(ShippingAddress {
        line1: line1?,
        line2: line2?,
        city: city?,
        region: region?,
        postal_code: postal_code?,
        country: country?,
    })
}
