//! The HTTP Task against an API on 127.0.0.1, its authorization from an
//! EventBridge connection made in moto: the request carries the connection's
//! API key and parameters; the answer comes back as Step Functions shapes it;
//! a status outside 2xx and an API nobody serves fail with AWS's names.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use orderflow_asl::{ExecutionOptions, Executor, Invoker, VirtualClock};
use orderflow_emulator::Emulator;
use orderflow_integrations::Integrations;
use orderflow_value::{Value, json};

/// An API on 127.0.0.1: answers `/missing` with 404, anything else with a
/// JSON document; keeps each request's text.
fn api(seen: Arc<Mutex<Vec<String>>>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let text = String::from_utf8_lossy(&request).into_owned();
            let response = if text.starts_with("GET /missing") {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nno such x".to_owned()
            } else {
                let body = r#"{"ok": true, "items": [1, 2]}"#;
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Trace: a\r\nX-Trace: b\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            };
            seen.lock().unwrap().push(text);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    url
}

struct NoFunctions;

impl Invoker for NoFunctions {
    fn invoke<'a>(
        &'a self,
        f: &'a str,
        _: &'a Value,
    ) -> orderflow_asl::BoxFuture<'a, Result<Value, orderflow_asl::TaskFailure>> {
        Box::pin(std::future::ready(Err(orderflow_asl::TaskFailure { error: "NoFunctions".into(), cause: f.into() })))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_task_calls_an_api_with_its_connections_authorization() {
    let emulator = Emulator::start().expect("moto");
    let aws = Integrations::new(&emulator.endpoint(), "us-east-1").unwrap();
    let created = aws
        .sdk_call(
            "eventbridge",
            "createConnection",
            &json!({
                "Name": "shop-api",
                "AuthorizationType": "API_KEY",
                "AuthParameters": {
                    "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "s3cr3t"},
                    "InvocationHttpParameters": {
                        "HeaderParameters": [{"Key": "x-tenant", "Value": "t-1", "IsValueSecret": false}],
                        "QueryStringParameters": [{"Key": "region", "Value": "eu", "IsValueSecret": false}],
                        "BodyParameters": [{"Key": "source", "Value": "orderflow", "IsValueSecret": false}]
                    }
                }
            }),
        )
        .await
        .expect("a connection");
    let connection = created["ConnectionArn"].as_str().unwrap().to_owned();
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
    let execution = Executor::new(&machine, &NoFunctions, &clock, ExecutionOptions::default())
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
