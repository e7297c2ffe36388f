//! The HTTP Task against an API on 127.0.0.1, its authorization from an
//! EventBridge connection made in moto: the request carries the connection's
//! API key and parameters; the answer comes back as Step Functions shapes it;
//! a status outside 2xx and an API nobody serves fail with AWS's names.

use std::sync::{Arc, Mutex};

#[path = "support/http_stub.rs"]
mod http_stub;
#[path = "../../server/tests/support/no_tasks.rs"]
mod no_tasks;

use http_stub::http;
use no_tasks::NoTasks;

use orderflow_asl::{ExecutionOptions, Executor, VirtualClock};
use orderflow_emulator::Emulator;
use orderflow_integrations::Integrations;
use orderflow_value::{Value, json};

/// An API on 127.0.0.1: answers `/missing` with 404, anything else with a
/// JSON document; keeps each request's text.
fn api(seen: Arc<Mutex<Vec<String>>>) -> String {
    http_stub::serve(move |request| {
        seen.lock().unwrap().push(request.to_owned());
        if request.starts_with("GET /missing") {
            http("404 Not Found", &[], "no such x")
        } else {
            http(
                "200 OK",
                &[("Content-Type", "application/json"), ("X-Trace", "a"), ("X-Trace", "b")],
                r#"{"ok": true, "items": [1, 2]}"#,
            )
        }
    })
}

/// An EventBridge connection in moto whose API key is `x-api-key: s3cr3t`,
/// with `parameters` as its invocation parameters: its ARN.
async fn api_key_connection(aws: &Integrations, name: &str, parameters: Value) -> String {
    let created = aws
        .sdk_call(
            "eventbridge",
            "createConnection",
            &json!({
                "Name": name,
                "AuthorizationType": "API_KEY",
                "AuthParameters": {
                    "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "s3cr3t"},
                    "InvocationHttpParameters": parameters
                }
            }),
        )
        .await
        .expect("a connection");
    created["ConnectionArn"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_task_calls_an_api_with_its_connections_authorization() {
    let emulator = Emulator::start().expect("moto");
    let aws = Integrations::new(&emulator.endpoint(), "us-east-1").unwrap();
    let connection = api_key_connection(
        &aws,
        "shop-api",
        json!({
            "HeaderParameters": [{"Key": "x-tenant", "Value": "t-1", "IsValueSecret": false}],
            "QueryStringParameters": [{"Key": "region", "Value": "eu", "IsValueSecret": false}],
            "BodyParameters": [{"Key": "source", "Value": "orderflow", "IsValueSecret": false}]
        }),
    )
    .await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let url = api(seen.clone());

    let definition = json!({
        "StartAt": "Post",
        "States": {
            "Post": {
                "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
                "Parameters": {
                    "ApiEndpoint": format!("{url}/orders"), "Method": "POST",
                    "Authentication": {"ConnectionArn": connection},
                    "Headers": {"x-order": "o-1"},
                    "QueryParameters": {"page": "2"},
                    "RequestBody": {"id.$": "$.id", "tags": ["a b", "c"]}
                },
                "ResultPath": "$.posted", "Next": "Missing"
            },
            "Missing": {
                "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
                "Parameters": {"ApiEndpoint": format!("{url}/missing"), "Method": "GET", "Authentication": {"ConnectionArn": connection}},
                "Catch": [{"ErrorEquals": ["States.Http.StatusCode.404"], "ResultPath": "$.missing", "Next": "Nobody"}],
                "End": true
            },
            "Nobody": {
                "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
                "Parameters": {"ApiEndpoint": "http://127.0.0.1:9/x", "Method": "GET", "Authentication": {"ConnectionArn": connection}},
                "Catch": [{"ErrorEquals": ["States.Http.Socket"], "ResultPath": "$.nobody", "Next": "Done"}],
                "End": true
            },
            "Done": {"Type": "Succeed"}
        }
    });
    let machine = orderflow_asl::parse(&definition).expect("a definition");
    let clock = VirtualClock::default();
    let execution = Executor::new(&machine, &NoTasks, &clock, ExecutionOptions::default())
        .with_services(&aws)
        .run(json!({"id": "o-1"}))
        .await;
    assert_eq!(execution.error, None, "{:?}", execution.cause);
    let output = execution.output.unwrap();

    // The answer, as Step Functions gives it: headers as lists, a JSON body parsed.
    let posted = &output["posted"];
    let keys: Vec<&str> = posted.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(keys, ["Headers", "ResponseBody", "StatusCode", "StatusText"], "{posted}");
    assert_eq!(posted["ResponseBody"], json!({"ok": true, "items": [1, 2]}));
    assert_eq!((posted["StatusCode"].clone(), posted["StatusText"].clone()), (json!(200), json!("OK")));
    assert_eq!(posted["Headers"]["x-trace"], json!(["a", "b"]));
    assert_eq!(output["missing"], json!({"Error": "States.Http.StatusCode.404", "Cause": "Not Found"}));
    assert_eq!(output["nobody"]["Error"], "States.Http.Socket");

    // The request: the connection's key, header, query and body parameters with the task's.
    let requests = seen.lock().unwrap().clone();
    let post = &requests[0];
    let (head, body) = post.split_once("\r\n\r\n").unwrap();
    let head = head.to_ascii_lowercase();
    assert!(head.starts_with("post /orders?page=2&region=eu http/1.1"), "{head}");
    for header in [
        "x-api-key: s3cr3t",
        "x-tenant: t-1",
        "x-order: o-1",
        "content-type: application/json; charset=utf-8",
        "user-agent: amazon|stepfunctions|httpinvoke|us-east-1",
        "range: bytes=0-262144",
    ] {
        assert!(head.lines().any(|l| l == header), "{header} in {head}");
    }
    let sent: Value = orderflow_value::parse(body).unwrap();
    assert_eq!(sent, json!({"id": "o-1", "tags": ["a b", "c"], "source": "orderflow"}));
}

/// TestState at TRACE: the request an HTTP Task sent and the answer it got,
/// the connection's additions (its API key, header, query and body
/// parameters) shown only with `revealSecrets`; what the definition gives
/// and the answer are always shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_state_traces_an_http_task_and_reveals_secrets_only_when_asked() {
    use orderflow_asl::HttpTrace;
    use orderflow_asl::test_state::{TestSetup, test_state};

    let emulator = Emulator::start().expect("moto");
    let aws = Integrations::new(&emulator.endpoint(), "us-east-1").unwrap();
    let connection = api_key_connection(
        &aws,
        "traced-api",
        json!({
            "QueryStringParameters": [{"Key": "region", "Value": "eu", "IsValueSecret": false}],
            "BodyParameters": [{"Key": "source", "Value": "orderflow", "IsValueSecret": false}]
        }),
    )
    .await;
    let url = api(Arc::new(Mutex::new(Vec::new())));
    let machine = orderflow_asl::compile::parse_unchecked(&json!({"StartAt": "Post", "States": {"Post": {
        "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {
            "ApiEndpoint": format!("{url}/orders"), "Method": "POST",
            "Authentication": {"ConnectionArn": connection},
            "Headers": {"x-order": "o-1"}, "QueryParameters": {"page": "2"}, "RequestBody": {"id": "o-1"}
        },
        "End": true
    }}}))
    .unwrap();
    let clock = VirtualClock::default();
    let traced = |reveal_secrets: bool| {
        let setup = TestSetup {
            mock: None,
            retry_count: 0,
            context: None,
            variables: Default::default(),
            map_item_reader_data: None,
            map_iteration_failure_count: None,
            http_trace: Some(HttpTrace { reveal_secrets, ..Default::default() }),
        };
        let options = ExecutionOptions::default();
        let (machine, aws, clock) = (&machine, &aws, &clock);
        async move { test_state(&machine.states[0], json!({}), setup, &NoTasks, Some(aws), clock, &options).await.unwrap() }
    };
    let hidden = traced(false).await;
    assert_eq!(hidden.error, None, "{:?}", hidden.cause);
    let request = hidden.inspection.request.expect("the request");
    assert_eq!((request.protocol.as_str(), request.method.as_str()), ("http", "POST"));
    assert_eq!(request.url, format!("{url}/orders?page=2"));
    let names: Vec<&str> = request.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["User-Agent", "Range", "x-order", "Content-Type"]);
    assert_eq!(request.body, r#"{"id":"o-1"}"#);
    let response = hidden.inspection.response.expect("the answer");
    assert_eq!((response.status_code, response.status_message.as_str()), (200, "OK"));
    assert_eq!(response.body, r#"{"ok": true, "items": [1, 2]}"#);
    let traces: Vec<&str> = response.headers.iter().filter(|(n, _)| n == "x-trace").map(|(_, v)| v.as_str()).collect();
    assert_eq!(traces, ["a", "b"]);

    let revealed = traced(true).await.inspection.request.expect("the request");
    assert_eq!(revealed.url, format!("{url}/orders?page=2&region=eu"));
    assert!(revealed.headers.contains(&("x-api-key".to_owned(), "s3cr3t".to_owned())), "{:?}", revealed.headers);
    assert_eq!(revealed.body, r#"{"id":"o-1","source":"orderflow"}"#);
}
