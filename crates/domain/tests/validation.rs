use orderflow_domain::error::ValidationFailure;
use orderflow_domain::{MAX_INPUT_BYTES, OrderError, RawOrder, ValidatedOrder, Violation, ViolationCode};
use serde_json::{Value, json};

fn valid() -> Value {
    json!({
        "order_id": "ORD-1",
        "customer": {"id": "C-1", "email": "Ada@Example.COM", "name": " Ada "},
        "items": [
            {"sku": "B", "quantity": 2, "unit_price": "12.50"},
            {"sku": "A", "quantity": 1, "unit_price": 7.25}
        ],
        "currency": "eur"
    })
}

fn ok(v: Value) -> ValidatedOrder {
    RawOrder::new(v).validate().expect("order should be valid")
}

fn violations(v: Value) -> Vec<Violation> {
    match RawOrder::new(v).validate() {
        Err(OrderError::ValidationFailed(v)) => v,
        other => panic!("expected OrderValidationFailed, got {other:?}"),
    }
}

fn violations_of(err: &OrderError) -> Vec<Violation> {
    match err {
        OrderError::ValidationFailed(v) => v.clone(),
        other => panic!("expected OrderValidationFailed, got {other:?}"),
    }
}

fn codes_at(v: Value) -> Vec<(String, ViolationCode)> {
    violations(v).into_iter().map(|v| (v.path, v.code)).collect()
}

fn with(path: &[&str], value: Value) -> Value {
    let mut order = valid();
    let mut target = &mut order;
    for key in &path[..path.len() - 1] {
        target = match key.parse::<usize>() {
            Ok(i) => &mut target[i],
            Err(_) => &mut target[*key],
        };
    }
    let last = path[path.len() - 1];
    match last.parse::<usize>() {
        Ok(i) => target[i] = value,
        Err(_) => target[last] = value,
    }
    order
}

#[test]
fn a_valid_order_is_normalized() {
    let order = ok(valid());
    let out = serde_json::to_value(&order).unwrap();
    assert_eq!(
        out,
        json!({
            "order_id": "ORD-1",
            "customer": {"id": "C-1", "email": "Ada@example.com", "name": "Ada"},
            "items": [
                {"sku": "A", "quantity": 1, "unit_price": "7.25"},
                {"sku": "B", "quantity": 2, "unit_price": "12.50"}
            ],
            "currency": "EUR"
        })
    );
    assert_eq!(order.pricing().total().to_string(), "32.25");
    assert_eq!(order.pricing().total_quantity(), 3);
    let lines: Vec<String> = order.pricing().lines().iter().map(|l| l.line_total.to_string()).collect();
    assert_eq!(lines, ["7.25", "25.00"]);
}

#[test]
fn the_normalized_order_validates_again_to_itself() {
    let order = ok(valid());
    let again = ok(serde_json::to_value(&order).unwrap());
    assert_eq!(order, again);
    assert_eq!(order.content_hash(), again.content_hash());
}

#[test]
fn formatting_and_item_order_do_not_change_the_content_hash() {
    let a = ok(valid());
    let mut reordered = valid();
    reordered["items"].as_array_mut().unwrap().reverse();
    reordered["items"][0]["unit_price"] = json!(7.250);
    let b = ok(reordered);
    assert_eq!(a.content_hash(), b.content_hash());
    assert!(a.content_hash().starts_with("sha256:") && a.content_hash().len() == 71);
    let c = ok(with(&["items", "0", "quantity"], json!(3)));
    assert_ne!(a.content_hash(), c.content_hash());
}

#[test]
fn every_violation_is_reported_at_once() {
    let found = codes_at(json!({
        "order_id": "bad id!",
        "customer": {"id": "C", "email": "nope", "name": "N", "phone": "1"},
        "items": [
            {"sku": "M", "quantity": 0, "unit_price": "4.999"},
            {"sku": "M", "quantity": 3, "unit_price": "-1"}
        ],
        "currency": "EUR",
        "coupon": "X"
    }));
    let expected = [
        ("$", ViolationCode::UnknownField),
        ("$.order_id", ViolationCode::InvalidFormat),
        ("$.customer", ViolationCode::UnknownField),
        ("$.customer.email", ViolationCode::InvalidFormat),
        ("$.items[0].quantity", ViolationCode::OutOfRange),
        ("$.items[0].unit_price", ViolationCode::TooManyDecimals),
        ("$.items[1].sku", ViolationCode::DuplicateSku),
        ("$.items[1].unit_price", ViolationCode::OutOfRange),
    ];
    for (path, code) in expected {
        assert!(found.contains(&(path.to_owned(), code)), "missing {path} {code:?} in {found:?}");
    }
    assert_eq!(found.len(), expected.len(), "{found:?}");
}

#[test]
fn required_fields() {
    let found = codes_at(json!({}));
    for path in ["$.order_id", "$.customer", "$.items", "$.currency"] {
        assert!(found.contains(&(path.to_owned(), ViolationCode::Required)), "{path}: {found:?}");
    }
    let found = codes_at(with(&["customer"], json!({})));
    for path in ["$.customer.id", "$.customer.email", "$.customer.name"] {
        assert!(found.contains(&(path.to_owned(), ViolationCode::Required)), "{path}: {found:?}");
    }
    assert_eq!(codes_at(with(&["order_id"], Value::Null)), [("$.order_id".to_owned(), ViolationCode::Required)]);
}

#[test]
fn order_id_rules() {
    ok(with(&["order_id"], json!("a")));
    ok(with(&["order_id"], json!("A_b-9".repeat(12) + "abcd")));
    for bad in [json!(""), json!("x".repeat(65)), json!("ORD/1"), json!("é"), json!("ORD 1")] {
        assert_eq!(codes_at(with(&["order_id"], bad)), [("$.order_id".to_owned(), ViolationCode::InvalidFormat)]);
    }
    assert_eq!(codes_at(with(&["order_id"], json!(1001))), [("$.order_id".to_owned(), ViolationCode::InvalidType)]);
}

#[test]
fn email_rules() {
    for good in ["a@b.co", "first.last+tag@sub.example.org", "x_y-z@a-b.io"] {
        ok(with(&["customer", "email"], json!(good)));
    }
    for bad in [
        "plain",
        "@example.com",
        "a@",
        "a@b",
        "a@b.c",
        "a..b@example.com",
        ".a@example.com",
        "a@-b.com",
        "a b@example.com",
        "a@b_c.com",
        "a@example.123",
    ] {
        let found = codes_at(with(&["customer", "email"], json!(bad)));
        assert_eq!(found, [("$.customer.email".to_owned(), ViolationCode::InvalidFormat)], "{bad}");
    }
    let long = format!("{}@{}.com", "a".repeat(64), "b".repeat(63));
    ok(with(&["customer", "email"], json!(long)));
    let too_long_local = format!("{}@example.com", "a".repeat(65));
    assert!(!codes_at(with(&["customer", "email"], json!(too_long_local))).is_empty());
}

#[test]
fn no_message_repeats_the_value_it_rejects() {
    let v = violations(json!({
        "order_id": "ORD-1",
        "customer": {"id": "C", "email": "secret-person@@example.com", "name": "\u{7}Secret Person"},
        "items": [{"sku": "A", "quantity": 1, "unit_price": "1"}],
        "currency": "EUR"
    }));
    let text = serde_json::to_string(&v).unwrap();
    assert!(!text.contains("secret-person") && !text.contains("Secret Person"), "{text}");
}

#[test]
fn item_count_bounds() {
    let item = |i: usize| json!({"sku": format!("SKU-{i}"), "quantity": 1, "unit_price": "1.00"});
    ok(with(&["items"], Value::Array((0..100).map(item).collect())));
    assert_eq!(
        codes_at(with(&["items"], Value::Array((0..101).map(item).collect()))),
        [("$.items".to_owned(), ViolationCode::OutOfRange)]
    );
    assert_eq!(codes_at(with(&["items"], json!([]))), [("$.items".to_owned(), ViolationCode::OutOfRange)]);
    assert_eq!(codes_at(with(&["items"], json!({}))), [("$.items".to_owned(), ViolationCode::InvalidType)]);
}

#[test]
fn quantity_bounds() {
    ok(with(&["items", "0", "quantity"], json!(10_000)));
    for bad in [json!(0), json!(10_001), json!(-1), json!(u64::MAX)] {
        assert_eq!(
            codes_at(with(&["items", "0", "quantity"], bad.clone())),
            [("$.items[0].quantity".to_owned(), ViolationCode::OutOfRange)],
            "{bad}"
        );
    }
    for bad in [json!(1.5), json!("2"), json!(true)] {
        assert_eq!(
            codes_at(with(&["items", "0", "quantity"], bad.clone())),
            [("$.items[0].quantity".to_owned(), ViolationCode::InvalidType)],
            "{bad}"
        );
    }
}

#[test]
fn prices_are_exact_and_respect_the_currency_minor_unit() {
    let price = |p: Value, currency: &str| {
        let mut order = with(&["items", "0", "unit_price"], p);
        order["items"][1]["unit_price"] = json!("1");
        order["currency"] = json!(currency);
        RawOrder::new(order).validate()
    };
    let accepted = |p: Value, currency: &str| -> String {
        let order = price(p, currency).expect("price accepted");
        let first = order.items().iter().find(|i| i.sku().as_str() == "B").unwrap();
        first.unit_price().to_string()
    };
    assert_eq!(accepted(json!("0"), "EUR"), "0.00");
    assert_eq!(accepted(json!(0.1), "EUR"), "0.10");
    assert_eq!(accepted(json!("12.500"), "EUR"), "12.50");
    assert_eq!(accepted(json!(1.5e2), "EUR"), "150.00");
    assert_eq!(accepted(json!(1500), "JPY"), "1500");
    assert_eq!(accepted(json!("1.234"), "KWD"), "1.234");
    let code = |p: Value, currency: &str| match price(p, currency) {
        Err(OrderError::ValidationFailed(v)) => v[0].code,
        other => panic!("{other:?}"),
    };
    assert_eq!(code(json!("1.5"), "JPY"), ViolationCode::TooManyDecimals);
    assert_eq!(code(json!("0.001"), "EUR"), ViolationCode::TooManyDecimals);
    assert_eq!(code(json!("-0.01"), "EUR"), ViolationCode::OutOfRange);
    for bad in ["1e3", "1,00", "1_000", " 1", "", ".5", "5.", "+1", "0x10", "NaN", "1.2.3"] {
        assert_eq!(code(json!(bad), "EUR"), ViolationCode::InvalidFormat, "{bad}");
    }
    assert_eq!(code(json!("1".repeat(40)), "EUR"), ViolationCode::InvalidFormat);
    assert_eq!(code(json!(null), "EUR"), ViolationCode::Required);
    assert_eq!(code(json!([1]), "EUR"), ViolationCode::InvalidType);
}

#[test]
fn currency_rules() {
    assert_eq!(ok(with(&["currency"], json!(" usd "))).currency().code(), "USD");
    for bad in ["EURO", "XXX", "", "XAU"] {
        assert_eq!(
            codes_at(with(&["currency"], json!(bad))),
            [("$.currency".to_owned(), ViolationCode::UnknownCurrency)]
        );
    }
    assert_eq!(codes_at(with(&["currency"], json!(978))), [("$.currency".to_owned(), ViolationCode::InvalidType)]);
}

#[test]
fn duplicate_skus_are_refused() {
    let found = codes_at(with(&["items", "1", "sku"], json!("B")));
    assert_eq!(found, [("$.items[1].sku".to_owned(), ViolationCode::DuplicateSku)]);
}

#[test]
fn total_bound_and_overflow() {
    // 10,000 x 100,000 = 1e9: exactly the bound, accepted.
    let mut at_limit = with(&["items"], json!([{"sku": "A", "quantity": 10_000, "unit_price": "100000"}]));
    at_limit["currency"] = json!("EUR");
    assert_eq!(ok(at_limit.clone()).pricing().total().to_string(), "1000000000.00");
    at_limit["items"][0]["unit_price"] = json!("100000.01");
    assert_eq!(codes_at(at_limit.clone()), [("$.items".to_owned(), ViolationCode::TotalExceedsLimit)]);
    // Close to the top of the decimal range: the multiplication must not wrap or panic.
    at_limit["items"][0]["unit_price"] = json!("79228162514264337593543950335");
    at_limit["currency"] = json!("JPY");
    assert_eq!(codes_at(at_limit), [("$.items".to_owned(), ViolationCode::TotalExceedsLimit)]);
}

#[test]
fn shipping_address() {
    let address =
        json!({"line1": "1 Main St", "line2": null, "city": "Springfield", "postal_code": "12345", "country": "us"});
    let order = ok(with(&["shipping_address"], address.clone()));
    assert_eq!(order.shipping_address().unwrap().country().as_str(), "US");
    ok(with(&["shipping_address"], Value::Null));
    let mut bad = address;
    bad["country"] = json!("USA");
    bad["zip"] = json!("1");
    bad["city"] = json!("");
    let found = codes_at(with(&["shipping_address"], bad));
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.contains(&("$.shipping_address.country".to_owned(), ViolationCode::InvalidFormat)));
    assert!(found.contains(&("$.shipping_address".to_owned(), ViolationCode::UnknownField)));
    assert!(found.contains(&("$.shipping_address.city".to_owned(), ViolationCode::OutOfRange)));
}

/// A field name is the sender's text: reported by count and position only,
/// so no violation (and no rejection notice) carries it anywhere.
#[test]
fn unknown_fields_are_counted_never_named() {
    let mut order = valid();
    let sentence = "Your order is on hold. Verify your card at https://evil.example/0 ";
    order[sentence] = json!(1);
    for i in 0..2_000 {
        order[format!("x{i}")] = json!(1);
    }
    let err = RawOrder::new(order).validate().unwrap_err();
    let message = err.error_message();
    assert!(!message.contains("evil.example") && !message.contains("x1999"), "{message}");
    let found = violations_of(&err);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].path, "$");
    assert!(found[0].message.starts_with("has 2001 unknown field(s), the first at position "), "{}", found[0].message);
}

/// However many violations an input has, its error message lists the first
/// 20 and counts them all, far inside a Step Functions Cause (32,768 characters).
#[test]
fn the_error_message_is_bounded() {
    let items: Vec<Value> =
        (0..100).map(|i| json!({"sku": format!("S{i}"), "quantity": 0, "unit_price": "x"})).collect();
    let mut order = valid();
    order["items"] = json!(items);
    let err = RawOrder::new(order).validate().unwrap_err();
    let message = err.error_message();
    let parsed: ValidationFailure = serde_json::from_str(&message).unwrap();
    assert_eq!(parsed.violations.len(), 20);
    assert_eq!(parsed.total, 200);
    assert!(message.len() < 8_192, "{}", message.len());
}

#[test]
fn invisible_and_direction_changing_characters_are_refused_in_text() {
    for text in [
        "\u{202e}ecalevoL adA",
        "Ada\u{200b}Lovelace",
        "Ada\u{2028}Lovelace",
        "Ada\u{e0041}",
        "Ada\u{a0}L",
        "\u{feff}Ada",
    ] {
        let found = codes_at(with(&["customer", "name"], json!(text)));
        assert_eq!(found, [("$.customer.name".to_owned(), ViolationCode::InvalidFormat)], "{text:?}");
    }
    ok(with(&["customer", "name"], json!("Ada Lovelace-Byron, née Byron")));
}

#[test]
fn non_objects_and_oversized_inputs() {
    for v in [json!(null), json!([]), json!("order"), json!(42)] {
        assert_eq!(codes_at(v), [("$".to_owned(), ViolationCode::InvalidType)]);
    }
    let mut big = valid();
    big["customer"]["name"] = json!("x".repeat(MAX_INPUT_BYTES));
    assert_eq!(codes_at(big), [("$".to_owned(), ViolationCode::InputTooLarge)]);
}

#[test]
fn the_error_message_lists_the_violations_as_json() {
    let err = RawOrder::new(json!({"order_id": "x"})).validate().unwrap_err();
    assert_eq!(err.error_type(), "OrderValidationFailed");
    let body: ValidationFailure = serde_json::from_str(&err.error_message()).unwrap();
    assert_eq!(body.violations.len(), 3);
    assert!(body.violations.iter().all(|v| v.code == ViolationCode::Required));
}

/// An oversized order, and an oversized step input around a valid order:
/// OrderValidationFailed, each message naming what was measured and its size.
#[test]
fn oversized_orders_and_step_inputs_name_their_size() {
    let mut big = valid();
    big["customer"]["name"] = json!("x".repeat(MAX_INPUT_BYTES));
    let size = serde_json::to_string(&big).unwrap().len();
    let err = RawOrder::new(big).validate().unwrap_err();
    assert_eq!(err.error_type(), "OrderValidationFailed");
    let found = violations_of(&err);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, ViolationCode::InputTooLarge);
    assert_eq!(found[0].message, format!("order is {size} bytes; the limit is {MAX_INPUT_BYTES} bytes (256 KB)"));

    let step_input = json!({"order": valid(), "padding": "x".repeat(MAX_INPUT_BYTES)});
    let size = serde_json::to_string(&step_input).unwrap().len();
    let step_input = orderflow_value::Value::from(step_input);
    for err in [
        orderflow_domain::steps::order_from_step_input(&step_input).unwrap_err(),
        orderflow_domain::steps::NotificationRequest::parse(&step_input).unwrap_err(),
    ] {
        assert_eq!(err.error_type(), "OrderValidationFailed");
        let found = violations_of(&err);
        assert_eq!((found.len(), found[0].path.as_str(), found[0].code), (1, "$", ViolationCode::InputTooLarge));
        assert_eq!(found[0].message, format!("input is {size} bytes; the limit is {MAX_INPUT_BYTES} bytes (256 KB)"));
    }
}

#[test]
fn each_repeat_of_a_sku_is_reported_at_its_own_position() {
    let line = |sku: &str| json!({"sku": sku, "quantity": 1, "unit_price": "1.00"});
    let items = json!([line("B"), line("A"), line("B"), line("bad sku"), line("B"), line("bad sku"), line("A")]);
    let duplicates: Vec<String> = codes_at(with(&["items"], items))
        .into_iter()
        .filter(|(_, code)| *code == ViolationCode::DuplicateSku)
        .map(|(path, _)| path)
        .collect();
    // An invalid SKU is reported as invalid, never as a repeat.
    assert_eq!(duplicates, ["$.items[2].sku", "$.items[4].sku", "$.items[6].sku"]);

    let hundred: Vec<Value> = (0..100).map(|i| line(&format!("SKU-{}", 99 - i))).collect();
    assert_eq!(ok(with(&["items"], Value::Array(hundred))).items().len(), 100);
}

#[test]
fn currency_codes_are_read_trimmed_and_in_any_case() {
    for code in ["eur", " Eur ", "EUR", "\tuSd\n"] {
        ok(with(&["currency"], json!(code)));
    }
    // "€" is three bytes, as a code is; "EURO", "EU" and "" are not codes.
    for code in ["€", "EURO", "EU", "", "E R", "XXY"] {
        assert_eq!(
            codes_at(with(&["currency"], json!(code))),
            [("$.currency".to_owned(), ViolationCode::UnknownCurrency)],
            "{code:?}"
        );
    }
}

#[test]
fn the_content_hash_is_the_sha256_of_the_normalized_json() {
    let order = ok(valid());
    let canonical = serde_json::to_vec(&order).unwrap();
    let expected = format!("sha256:{}", orderflow_domain::order::sha256_hex(&[&canonical]));
    assert_eq!(order.content_hash(), expected);
    // Stored hashes keep their value: this is the hash of `valid()` as stored.
    assert_eq!(order.content_hash(), "sha256:d4c88ba71336f10d0c53f80a62f5e0bbf518091ff1eaf9204ab3fd7ee4ccdc35");
}

/// The limit is on the exact length: a step input of exactly 256 KiB (its
/// padding escaped, so a bound from string lengths alone would pass the
/// limit) is read, one byte more is refused.
#[test]
fn a_step_input_of_exactly_the_limit_is_read() {
    let sized = |total: usize| {
        let mut input = json!({"order": valid(), "padding": ""});
        let base = serde_json::to_string(&input).unwrap().len();
        // Each "\n" is two bytes of JSON: an odd remainder gets one "x".
        let room = total - base;
        input["padding"] = json!(format!("{}{}", "\n".repeat(room / 2), "x".repeat(room % 2)));
        assert_eq!(serde_json::to_string(&input).unwrap().len(), total);
        input
    };
    let at_limit = orderflow_value::Value::from(sized(MAX_INPUT_BYTES));
    assert!(orderflow_domain::steps::order_from_step_input(&at_limit).is_ok());
    let over = orderflow_value::Value::from(sized(MAX_INPUT_BYTES + 1));
    let err = orderflow_domain::steps::order_from_step_input(&over).unwrap_err();
    assert_eq!(violations_of(&err)[0].code, ViolationCode::InputTooLarge);
}

#[test]
fn a_long_order_hashes_its_whole_normalized_json() {
    let items: Vec<Value> =
        (0..100).map(|i| json!({"sku": format!("SKU-{i:03}"), "quantity": 1 + i % 5, "unit_price": "3.10"})).collect();
    let order = ok(with(&["items"], Value::Array(items)));
    let canonical = serde_json::to_vec(&order).unwrap();
    assert!(canonical.len() > 4000);
    assert_eq!(order.content_hash(), format!("sha256:{}", orderflow_domain::order::sha256_hex(&[&canonical])));
}

#[test]
fn amounts_are_written_as_their_exact_decimal_text() {
    #[derive(serde::Serialize)]
    struct Amount(#[serde(serialize_with = "orderflow_domain::order::decimal_as_string")] rust_decimal::Decimal);
    for text in ["0", "0.00", "12.50", "-7.125", "79228162514264337593543950335", "-0.0000000000000000000000000001"] {
        let amount = Amount(text.parse().unwrap());
        assert_eq!(serde_json::to_value(&amount).unwrap(), json!(text));
        assert_eq!(serde_json::to_string(&amount).unwrap(), format!("\"{text}\""));
    }
}

/// Text is kept inline up to 23 bytes and on the heap past that: both keep
/// what they are given, normalized the same way.
#[test]
fn short_and_long_text_normalize_alike() {
    for (email, expected) in [
        ("Ada@Example.COM", "Ada@example.com"),
        (" Ada.Lovelace@Analytical-Engine.Example.ORG ", "Ada.Lovelace@analytical-engine.example.org"),
    ] {
        let order = ok(with(&["customer", "email"], json!(email)));
        assert_eq!(order.customer().email().as_str(), expected);
    }
    for name in ["Ada", "Augusta Ada King, Countess of Lovelace, née Byron"] {
        let order = ok(with(&["customer", "name"], json!(format!("  {name} "))));
        assert_eq!(order.customer().name(), name);
        // Text already as kept is the input's own string, shared.
        let order = ok(with(&["customer", "name"], json!(name)));
        assert_eq!(order.customer().name(), name);
    }
    let long_sku = "SKU-".to_owned() + &"X".repeat(60);
    let order = ok(with(&["items", "0", "sku"], json!(long_sku)));
    assert!(order.items().iter().any(|item| item.sku().as_str() == long_sku));
    assert!(order.pricing().lines().iter().any(|line| line.sku.as_str() == long_sku));
    let json = serde_json::to_value(&order).unwrap();
    assert_eq!(RawOrder::new(json).validate().as_ref(), Ok(&order), "the normalized order validates to itself");
}
