//! Tasks through a Lambda Invoke API (`--lambda-endpoint`): a function's
//! error document reaches the Cause as Step Functions passes it on (its
//! bytes with the function's ARN as the Resource, compact JSON in the
//! function's member order with lambda:invoke), and the Invoke API's own
//! errors become AWS's names and texts. The API here is a stand-in that
//! answers every request with one fixed HTTP response.

#[path = "../../integrations/tests/support/http_stub.rs"]
mod http_stub;

use http_stub::http;
use orderflow::LambdaEndpoint;
use orderflow_asl::{Execution, ExecutionOptions, Executor, VirtualClock};
use orderflow_value::json;

/// An Invoke API on 127.0.0.1 that gives `response` to every request.
fn invoke_api(response: String) -> String {
    invoke_api_seeing(response, std::sync::Arc::default())
}

/// As [`invoke_api`], keeping each request's text in `seen`.
fn invoke_api_seeing(response: String, seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>) -> String {
    http_stub::serve(move |request| {
        seen.lock().unwrap().push(request.to_owned());
        response.clone()
    })
}

async fn run(endpoint: &str, task: orderflow_value::Value) -> Execution {
    let definition = json!({"StartAt": "Call", "States": {"Call": task}});
    let machine = orderflow_asl::compile::parse(&definition).expect("a definition");
    let invoker = LambdaEndpoint::new(endpoint).unwrap();
    let clock = VirtualClock::default();
    Executor::new(&machine, &invoker, &clock, ExecutionOptions::default()).run(json!({"id": 1})).await
}

const DOCUMENT: &str = r#"{"errorMessage": "boom", "errorType": "Oops", "stackTrace": ["  File \"app.py\", line 3"]}"#;

#[tokio::test]
async fn a_functions_error_document_is_the_cause() {
    let api = invoke_api(http("200 OK", &[("X-Amz-Function-Error", "Unhandled")], DOCUMENT));
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:app";
    let legacy = run(&api, json!({"Type": "Task", "Resource": arn, "End": true})).await;
    assert_eq!((legacy.error.as_deref(), legacy.cause.as_deref()), (Some("Oops"), Some(DOCUMENT)));
    let invoke = run(
        &api,
        json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": arn, "Payload.$": "$"}, "End": true}),
    )
    .await;
    assert_eq!(invoke.error.as_deref(), Some("Oops"));
    assert_eq!(
        invoke.cause.as_deref(),
        Some(r#"{"errorMessage":"boom","errorType":"Oops","stackTrace":["  File \"app.py\", line 3"]}"#)
    );
}

#[tokio::test]
async fn the_invoke_apis_own_errors_read_as_aws_reports_them() {
    let missing = invoke_api(http(
        "404 Not Found",
        &[("x-amzn-ErrorType", "ResourceNotFoundException"), ("x-amzn-RequestId", "req-404")],
        r#"{"Type": "User", "Message": "Function not found: arn:aws:lambda:us-east-1:123456789012:function:gone:$LATEST"}"#,
    ));
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "gone"}, "End": true});
    let done = run(&missing, task.clone()).await;
    assert_eq!(done.error.as_deref(), Some("Lambda.ResourceNotFoundException"));
    assert_eq!(
        done.cause.as_deref(),
        Some(
            "Function not found: arn:aws:lambda:us-east-1:123456789012:function:gone:$LATEST (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: req-404; Proxy: null)"
        )
    );
    let throttled = invoke_api(http("429 Too Many Requests", &[], r#"{"message": "Rate Exceeded."}"#));
    let done = run(&throttled, task).await;
    assert_eq!(done.error.as_deref(), Some("Lambda.TooManyRequestsException"));
    assert!(done.cause.as_deref().unwrap().starts_with("Rate Exceeded. (Service: AWSLambda; Status Code: 429;"));
}

#[tokio::test]
async fn lambda_invoke_results_keep_aws_order_and_carry_the_log_tail_when_asked() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let api =
        invoke_api_seeing(http("200 OK", &[("X-Amz-Log-Result", "U1RBUlQgbG9n")], r#"{"ok": true}"#), seen.clone());
    let task = |log: Option<&str>| {
        let mut parameters = json!({"FunctionName": "app", "Payload.$": "$"});
        if let Some(log) = log {
            parameters["LogType"] = json!(log);
        }
        json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": parameters, "End": true})
    };
    let keys = |e: &Execution| -> Vec<String> {
        e.output.as_deref().unwrap().as_object().unwrap().keys().map(|k| k.to_string()).collect()
    };
    let tailed = run(&api, task(Some("Tail"))).await;
    assert_eq!(
        keys(&tailed),
        ["ExecutedVersion", "LogResult", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"]
    );
    assert_eq!(tailed.output.as_deref().unwrap()["LogResult"], json!("U1RBUlQgbG9n"));
    assert!(seen.lock().unwrap()[0].to_ascii_lowercase().contains("x-amz-log-type: tail"));
    let plain = run(&api, task(None)).await;
    assert_eq!(keys(&plain), ["ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"]);
    assert!(!seen.lock().unwrap()[1].to_ascii_lowercase().contains("x-amz-log-type"));
}
