use orderflow_domain::notification::Rejection;
use orderflow_domain::steps::NotificationRequest;
use orderflow_domain::{OrderError, RawOrder};
use proptest::prelude::*;
use serde_json::{Value, json};

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Orders that are nearly right, so the deeper rules get exercised too.
fn order_like() -> impl Strategy<Value = Value> {
    let price = prop_oneof![
        (0i64..10_000_000, 0u32..4).prop_map(|(m, s)| json!(rust_decimal::Decimal::new(m, s).to_string())),
        any::<i64>().prop_map(|i| json!(i)),
        "[-0-9.e]{0,12}".prop_map(|s| json!(s)),
        any_json(),
    ];
    let quantity = prop_oneof![0i64..12_000, any::<i64>()].prop_map(|q| json!(q));
    let item = (prop_oneof![Just("A".to_owned()), Just("B".to_owned()), "[A-Z.]{0,4}"], quantity, price)
        .prop_map(|(sku, quantity, unit_price)| json!({"sku": sku, "quantity": quantity, "unit_price": unit_price}));
    (
        prop_oneof![Just(json!("ORD-1")), any_json()],
        prop_oneof![Just(json!("a@b.co")), ".{0,16}".prop_map(|s| json!(s))],
        prop::collection::vec(item, 0..5),
        prop_oneof![Just("EUR"), Just("JPY"), Just("KWD"), Just("eur"), Just("XXX")],
        any_json(),
    )
        .prop_map(|(id, email, items, currency, extra)| {
            json!({
                "order_id": id,
                "customer": {"id": "C", "email": email, "name": "N"},
                "items": items,
                "currency": currency,
                "shipping_address": if extra.is_object() { extra } else { Value::Null },
            })
        })
}

fn only_validation_errors(v: Value) -> Result<(), TestCaseError> {
    match RawOrder::new(v).validate() {
        Ok(order) => {
            let again = RawOrder::new(serde_json::to_value(&order).unwrap()).validate();
            prop_assert_eq!(again.as_ref(), Ok(&order), "the normalized order must validate to itself");
        }
        Err(OrderError::ValidationFailed(violations)) => prop_assert!(!violations.is_empty()),
        Err(other) => prop_assert!(false, "unexpected error {other:?}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_json_is_a_validated_order_or_a_validation_failure(v in any_json()) {
        only_validation_errors(v)?;
    }

    #[test]
    fn any_order_like_json_is_a_validated_order_or_a_validation_failure(v in order_like()) {
        only_validation_errors(v)?;
    }

    #[test]
    fn step_inputs_never_panic(v in any_json(), order in order_like(), cause in ".{0,40}") {
        let _ = NotificationRequest::parse(&v.clone().into());
        let _ = NotificationRequest::parse(&json!({"order": order.clone()}).into());
        let _ = NotificationRequest::parse(&json!({"order": order.clone(), "error": {"Error": "OrderValidationFailed", "Cause": cause.clone()}}).into());
        let _ = Rejection::from_catch(&v.clone().into(), "States.ALL", &cause);
    }

    /// Totals computed in integer minor units must equal the decimal ones exactly.
    #[test]
    fn totals_are_exact(lines in prop::collection::vec((1u32..=10_000, 0i64..=10_000_000), 1..=100)) {
        let items: Vec<Value> = lines.iter().enumerate().map(|(i, (q, cents))| json!({
            "sku": format!("SKU-{i}"),
            "quantity": q,
            "unit_price": rust_decimal::Decimal::new(*cents, 2).to_string(),
        })).collect();
        let order = json!({
            "order_id": "ORD-1",
            "customer": {"id": "C", "email": "a@b.co", "name": "N"},
            "items": items,
            "currency": "EUR",
        });
        let expected_cents: i128 = lines.iter().map(|(q, c)| i128::from(*q) * i128::from(*c)).sum();
        match RawOrder::new(order).validate() {
            Ok(order) => {
                let total = order.pricing().total();
                prop_assert_eq!(total.scale(), 2);
                prop_assert_eq!(total.mantissa(), expected_cents);
                let sum: rust_decimal::Decimal = order.pricing().lines().iter().map(|l| l.line_total).sum();
                prop_assert_eq!(sum, total);
            }
            Err(OrderError::ValidationFailed(v)) => {
                prop_assert!(expected_cents > 1_000_000_000 * 100, "rejected below the bound: {v:?}");
            }
            Err(other) => prop_assert!(false, "{other:?}"),
        }
    }

    /// Amounts are written on the stack: the same text as `Display`, for
    /// every 96-bit mantissa, scale and sign (negative zero included).
    #[test]
    fn amounts_are_written_as_display_writes_them(
        lo in any::<u32>(),
        mid in prop_oneof![Just(0u32), any::<u32>()],
        hi in prop_oneof![Just(0u32), any::<u32>()],
        negative in any::<bool>(),
        scale in 0u32..=28,
    ) {
        let amount = rust_decimal::Decimal::from_parts(lo, mid, hi, negative, scale);
        let mut json = Vec::new();
        orderflow_domain::order::decimal_as_string(&amount, &mut serde_json::Serializer::new(&mut json)).unwrap();
        prop_assert_eq!(String::from_utf8(json).unwrap(), format!("\"{amount}\""));
    }
}

#[test]
fn amounts_at_the_edges_are_written_as_display_writes_them() {
    use rust_decimal::Decimal;
    for amount in [
        Decimal::ZERO,
        Decimal::from_parts(0, 0, 0, true, 2),
        Decimal::from_parts(0, 0, 0, false, 28),
        Decimal::from_parts(1, 0, 0, true, 28),
        Decimal::MAX,
        Decimal::MIN,
        Decimal::from_parts(u32::MAX, u32::MAX, u32::MAX, false, 28),
        Decimal::new(5, 2),
        Decimal::new(1250, 2),
        Decimal::new(100, 0),
    ] {
        let mut json = Vec::new();
        orderflow_domain::order::decimal_as_string(&amount, &mut serde_json::Serializer::new(&mut json)).unwrap();
        assert_eq!(String::from_utf8(json).unwrap(), format!("\"{amount}\""), "{amount:?}");
    }
}

/// The email rules as first written, one `str` method per rule: the
/// reference the one-pass `parse_email` is held to.
fn email_as_first_written(s: &str) -> Option<String> {
    let s = s.trim();
    let (local, domain) = s.rsplit_once('@')?;
    let local_ok = (1..=64).contains(&local.len())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    let domain_ok = domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && domain.rsplit('.').next().is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()));
    (local_ok && domain_ok && s.len() <= 254).then(|| {
        let mut address = s.to_owned();
        address[local.len() + 1..].make_ascii_lowercase();
        address
    })
}

fn parsed_email(s: &str) -> Option<String> {
    orderflow_domain::validation::parse_email(s).map(|email| email.as_str().to_owned())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Nearly-addresses: the alphabets of each part, the separators doubled,
    /// first and last, and lengths around every limit.
    #[test]
    fn emails_are_parsed_as_first_written(
        space in prop_oneof![Just(""), Just(" "), Just("\t")],
        local in prop_oneof!["[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~@ é-]{0,70}", "a{60,66}"],
        domain in prop_oneof![
            "[a-zA-Z0-9.-]{0,40}",
            "([a-zA-Z0-9-]{1,8}\\.){1,4}[a-zA-Z0-9]{0,4}",
            "([a-z]{60,64}\\.){3,4}[a-z]{2,3}",
            "[A-Z0-9é._-]{0,12}",
        ],
    ) {
        let address = format!("{space}{local}@{domain}{space}");
        prop_assert_eq!(parsed_email(&address), email_as_first_written(&address), "{:?}", address);
        prop_assert_eq!(parsed_email(&local), email_as_first_written(&local), "{:?}", local);
    }
}

#[test]
fn emails_at_the_edges_are_parsed_as_first_written() {
    let long_local = "a".repeat(64);
    let labels = ["b".repeat(63), "c".repeat(63), "d".repeat(63), "e".repeat(59)].join(".");
    for address in [
        "Ada@Example.COM".to_owned(),
        "a@b.co".to_owned(),
        "a@b.c".to_owned(),
        "a@b.c0".to_owned(),
        "a@-b.co".to_owned(),
        "a@b-.co".to_owned(),
        "a@b..co".to_owned(),
        "a@.b.co".to_owned(),
        "a@b.co.".to_owned(),
        ".a@b.co".to_owned(),
        "a.@b.co".to_owned(),
        "a..b@b.co".to_owned(),
        "a@b@c.co".to_owned(),
        "@b.co".to_owned(),
        format!("{long_local}@b.co"),
        format!("{long_local}a@b.co"),
        format!("{long_local}@{labels}.io"),
        format!("a@{labels}.io"),
        format!("a@{}.io", "f".repeat(64)),
    ] {
        assert_eq!(parsed_email(&address), email_as_first_written(&address), "{address}");
    }
}
