use lambda_runtime::{Context, LambdaEvent};
use orderflow_domain::OrderError;
use orderflow_domain::error::ValidationFailure;
use orderflow_domain::fakes::{assert_json_file, read_json_file};
use serde_json::{Value, json};
use validate_data::handler;

async fn invoke(payload: Value) -> Result<Value, OrderError> {
    handler(LambdaEvent::new(orderflow_value::Value::from(payload), Context::default()))
        .await
        .map(|out| serde_json::to_value(out).unwrap())
}

fn violations_of(err: OrderError) -> Vec<(String, String)> {
    assert_eq!(err.error_type(), "OrderValidationFailed");
    let body: ValidationFailure = serde_json::from_str(&err.error_message()).unwrap();
    body.violations
        .into_iter()
        .map(|v| (v.path, serde_json::to_value(v.code).unwrap().as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn the_valid_sample_gives_the_documented_process_order_input() {
    let out = invoke(read_json_file("events/order-valid.json")).await.unwrap();
    assert_eq!(out["validation"]["total"], "32.25");
    assert_eq!(out["validation"]["status"], "VALID");
    assert_json_file("events/process_order-input.json", &out);
}

#[tokio::test]
async fn each_invalid_sample_names_its_violations() {
    let cases: [(&str, &[(&str, &str)]); 4] = [
        (
            "events/order-invalid-many.json",
            &[
                ("$", "unknown_field"),
                ("$.order_id", "invalid_format"),
                ("$.customer.email", "invalid_format"),
                ("$.items[0].quantity", "out_of_range"),
                ("$.items[0].unit_price", "too_many_decimals"),
                ("$.items[1].sku", "duplicate_sku"),
                ("$.items[1].unit_price", "out_of_range"),
            ],
        ),
        ("events/order-invalid-currency.json", &[("$.currency", "unknown_currency")]),
        ("events/order-invalid-empty-items.json", &[("$.items", "out_of_range")]),
        ("events/order-invalid-not-an-object.json", &[("$", "invalid_type")]),
    ];
    for (file, expected) in cases {
        let err = invoke(read_json_file(file)).await.unwrap_err();
        let expected: Vec<(String, String)> = expected.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect();
        assert_eq!(violations_of(err), expected, "{file}");
    }
}

#[tokio::test]
async fn the_rejection_sample_carries_validate_data_s_real_error() {
    let err = invoke(read_json_file("events/order-invalid-many.json")).await.unwrap_err();
    // What the state machine's Catch hands to the rejection notice: for a
    // Lambda function's error, Step Functions' Cause is Lambda's error
    // document as a JSON string.
    let cause = json!({"errorMessage": err.error_message(), "errorType": err.error_type()}).to_string();
    let catch_output = json!({
        "order": read_json_file("events/order-invalid-many.json"),
        "error": {"Error": err.error_type(), "Cause": cause},
    });
    assert_json_file("events/send_notification-rejection-input.json", &catch_output);
}
