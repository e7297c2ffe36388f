//! Numbers keep their exact text through parsing, copying and printing, in
//! the executor's value (orderflow-value) and in serde_json with the
//! workspace's arbitrary_precision (the order steps' crates), alike: a number
//! that crosses from one to the other reads the same.

use serde_json::{Number, Value, json};

#[test]
fn a_number_keeps_its_text_short_or_long() {
    // serde_json writes an exponent as `e` and its sign: the only change it makes.
    let texts = [
        ("0", "0"),
        ("-0", "-0"),
        ("7", "7"),
        ("-12", "-12"),
        ("0.1", "0.1"),
        ("12.50", "12.50"),
        ("1e400", "1e+400"),
        ("1.5E+10", "1.5e+10"),
        ("-2.5e-7", "-2.5e-7"),
        ("9223372036854775807", "9223372036854775807"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("18446744073709551615", "18446744073709551615"),
        ("18446744073709551616", "18446744073709551616"),
        (
            "-343412345678910111213141516171819202122232425262728293031",
            "-343412345678910111213141516171819202122232425262728293031",
        ),
        (
            "3.14159265358979323846264338327950288419716939937510582097494459",
            "3.14159265358979323846264338327950288419716939937510582097494459",
        ),
    ];
    for (written, text) in texts {
        let parsed: Value = serde_json::from_str(written).unwrap();
        let copy = parsed.clone();
        assert_eq!(copy.to_string(), text, "{text} printed");
        assert_eq!(copy, parsed);
        let in_array: Value = serde_json::from_str(&format!("[{written}, {written}]")).unwrap();
        assert_eq!(in_array.clone().to_string(), format!("[{text},{text}]"));
        let number: Number = serde_json::from_str(written).unwrap();
        assert_eq!(number.as_str(), text);
        let ours = orderflow_value::parse(written).unwrap();
        assert_eq!(ours.to_json(), text, "{text} printed by the executor's value");
        assert_eq!(orderflow_value::Value::from(&parsed), ours, "{text} bridged");
        assert_eq!(serde_json::Value::from(&ours), parsed, "{text} bridged back");
    }
}

#[test]
fn numbers_made_from_rust_values_print_as_rust_does() {
    assert_eq!(json!(u64::MAX).to_string(), u64::MAX.to_string());
    assert_eq!(json!(i64::MIN).to_string(), i64::MIN.to_string());
    assert_eq!(json!(i128::MIN).to_string(), i128::MIN.to_string());
    assert_eq!(json!(0.1_f64).to_string(), "0.1");
    assert_eq!(json!(-1.5e300_f64).to_string(), "-1.5e+300");
    assert_eq!(json!(7).as_i64(), Some(7));
    assert_eq!(json!(2.5).as_f64(), Some(2.5));
    assert!(json!(1.0) != json!(1), "1.0 and 1 are different texts, as before");
}
