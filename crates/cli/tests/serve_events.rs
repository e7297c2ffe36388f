//! State machines started by events while `serve` runs a template
//! (crates/cli/tests/fixtures/events-app): a SAM state machine's
//! `EventBridgeRule` and `CloudWatchEvent` sources and an `AWS::Events::Rule`
//! targeting a state machine, each made on the local EventBridge. Events put
//! by a state machine's `events:putEvents` Task and by the AWS CLI start
//! executions with the input each rule gives; an event no rule matches, or
//! one for a disabled rule, starts none. Scheduled rules fire at their times
//! with their Input or EventBridge's Scheduled Event. Its `Api` events are a
//! REST API that starts state machines as API Gateway's integration does.

#[path = "../../server/tests/support/aws_cli.rs"]
mod aws_cli;
#[path = "support/serve_binary.rs"]
mod serve_binary;

use std::time::{Duration, Instant};

use aws_cli::{ok, on_moto, started, until_done};
use serde_json::{Value, json};
use serve_binary::{address, moto_of, serve};

const ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine";

/// The inputs of `machine`'s executions once there are `count` of them, oldest first.
async fn inputs_when(endpoint: &str, machine: &str, count: usize) -> Vec<Value> {
    texts_when(endpoint, machine, count).await.iter().map(|text| serde_json::from_str(text).unwrap()).collect()
}

/// The same, as the input texts.
async fn texts_when(endpoint: &str, machine: &str, count: usize) -> Vec<String> {
    // Long enough for a schedule of every minute to fire.
    let deadline = Instant::now() + Duration::from_secs(75);
    loop {
        let listed = ok(endpoint, &["list-executions", "--state-machine-arn", &format!("{ARN}:{machine}")]);
        let executions = listed["executions"].as_array().cloned().unwrap_or_default();
        if executions.len() >= count || Instant::now() > deadline {
            assert_eq!(executions.len(), count, "{machine}: {listed}");
            let mut inputs = Vec::new();
            for execution in executions.iter().rev() {
                let done = until_done(endpoint, execution["executionArn"].as_str().unwrap()).await;
                assert_eq!(done["status"], "SUCCEEDED", "{done}");
                inputs.push(done["input"].as_str().unwrap().to_owned());
            }
            return inputs;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn put_events(moto: &str, entries: Value) {
    let answer = on_moto(moto, "events", &["put-events", "--entries", &entries.to_string()]);
    assert_eq!(answer["FailedEntryCount"], 0, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_that_match_a_rule_start_its_state_machine_with_the_input_it_gives() {
    let app = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/events-app");
    let serve = serve(&app, &["--template", "template.yaml", "--api-port", "0"]);
    let (endpoint, moto) = (address(&serve), moto_of(&serve));

    // A state machine's putEvents on the template's bus starts fulfil, with
    // the detail its InputPath selects; an order of total 0 is not matched
    // (the pattern's numeric condition).
    for order in [json!({"order_id": "A-1", "total": 12.5}), json!({"order_id": "A-0", "total": 0})] {
        let done = until_done(&endpoint, &started(&endpoint, &format!("{ARN}:place"), &order.to_string())).await;
        assert_eq!(done["status"], "SUCCEEDED", "{done}");
    }
    assert_eq!(inputs_when(&endpoint, "fulfil", 1).await, [json!({"order_id": "A-1", "total": 12.5})]);

    // Events put with the AWS CLI on the default bus: the whole event, in
    // EventBridge's envelope; an InputTransformer's template; a rule
    // resource's constant Input; nothing for a disabled rule or no rule.
    put_events(
        &moto,
        json!([
            {"Source": "orderflow.audit", "DetailType": "Seen", "Detail": "{\"x\": 1}"},
            {"Source": "orderflow.paused", "DetailType": "Paused", "Detail": "{}"},
            {"Source": "orderflow.nobody", "DetailType": "Lost", "Detail": "{}"},
        ]),
    );
    let text = &texts_when(&endpoint, "audit", 1).await[0];
    let members = ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"];
    let at: Vec<usize> = members.iter().map(|m| text.find(&format!("\"{m}\":")).expect(m)).collect();
    assert!(at.is_sorted(), "{text}");
    let event: Value = serde_json::from_str(text).unwrap();
    assert_eq!(event.as_object().unwrap().len(), members.len(), "{text}");
    assert_eq!(
        (&event["source"], &event["detail-type"], &event["account"], &event["detail"]),
        (&json!("orderflow.audit"), &json!("Seen"), &json!("123456789012"), &json!({"x": 1}))
    );
    put_events(
        &moto,
        json!([{"Source": "orderflow.labels", "DetailType": "Label", "Detail": "{\"label\": \"gift \\\"wrapped\\\"\"}"}]),
    );
    let inputs = inputs_when(&endpoint, "audit", 2).await;
    assert_eq!(inputs[1], json!({"label": "gift \"wrapped\"", "from": "transformer"}));
    put_events(&moto, json!([{"Source": "orderflow.fixed", "DetailType": "Fixed", "Detail": "{}"}]));
    let inputs = inputs_when(&endpoint, "audit", 3).await;
    assert_eq!(inputs[2], json!({"fixed": true}));

    // Enabled on the local EventBridge, the paused rule starts audit from then on.
    on_moto(&moto, "events", &["enable-rule", "--name", "AuditPaused"]);
    put_events(&moto, json!([{"Source": "orderflow.paused", "DetailType": "Resumed", "Detail": "{}"}]));
    let inputs = inputs_when(&endpoint, "audit", 4).await;
    assert_eq!(inputs[3]["detail-type"], "Resumed");
    // Nothing more came of the events no enabled rule matched.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(inputs_when(&endpoint, "audit", 4).await.len(), 4);
    assert_eq!(inputs_when(&endpoint, "fulfil", 1).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_rules_start_their_state_machines_at_their_times() {
    let app = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/events-app");
    let serve = serve(&app, &["--template", "template.yaml", "--api-port", "0"]);
    let endpoint = address(&serve);
    // cron(* * * * ? *) fires at the next whole minute, rate(1 minute) a
    // minute after the rule was made: within about a minute, two executions.
    let mut inputs = inputs_when(&endpoint, "tick", 2).await;
    inputs.sort_by_key(|input| input.get("tick").is_none());
    assert_eq!(inputs[0], json!({"tick": true}));
    let event = &inputs[1];
    assert_eq!(
        (&event["detail-type"], &event["source"], &event["account"], &event["region"], &event["detail"]),
        (&json!("Scheduled Event"), &json!("aws.events"), &json!("123456789012"), &json!("us-east-1"), &json!({}))
    );
    assert_eq!(event["resources"], json!(["arn:aws:events:us-east-1:123456789012:rule/tick-events"]));
    assert!(event["time"].as_str().unwrap().ends_with('Z') && event["id"].as_str().unwrap().len() == 36, "{event}");
}

/// `method path` with `body` on `api` (`http://127.0.0.1:PORT`): the status and the body.
fn call(api: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    use std::io::{Read, Write};
    let address = api.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let (_, text) = answer.split_once("\r\n\r\n").unwrap();
    (status, serde_json::from_str(text).unwrap_or(Value::String(text.to_owned())))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_events_start_their_state_machines_as_api_gateways_integration_does() {
    let app = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/events-app");
    let serve = serve(&app, &["--template", "template.yaml", "--api-port", "0"]);
    let endpoint = address(&serve);
    let routes: Vec<&String> = serve.lines.iter().filter(|l| l.starts_with("api: ")).collect();
    assert_eq!(routes.len(), 2, "{:?}", serve.lines);
    let url = routes[0].split_whitespace().nth(2).unwrap();
    let api = url.split('/').take(3).collect::<Vec<_>>().join("/");
    assert_eq!(routes[0], &format!("api: ANY {api}/audit/{{proxy+}} starts audit (Audit.Notes)"));
    assert_eq!(routes[1], &format!("api: POST {api}/orders starts place (Place.Submit)"));

    // POST /orders: StartExecution's answer; its input the body, and the
    // event place puts starts fulfil in turn.
    let (status, started) = call(&api, "POST", "/orders", r#"{ "order_id": "B-2", "total": 3 }"#);
    assert_eq!(status, 200, "{started}");
    let execution = started["executionArn"].as_str().unwrap();
    assert!(execution.starts_with("arn:aws:states:us-east-1:123456789012:execution:place:"), "{started}");
    assert!(started["startDate"].is_number(), "{started}");
    let done = until_done(&endpoint, execution).await;
    assert_eq!(done["input"], r#"{"order_id":"B-2","total":3}"#);
    assert_eq!(inputs_when(&endpoint, "fulfil", 1).await, [json!({"order_id": "B-2", "total": 3})]);

    // A single quote in the body breaks SAM's default request template, as on
    // AWS: Step Functions' 400, and nothing started. With
    // UnescapeMappingTemplate, it goes through.
    let (status, refused) = call(&api, "POST", "/orders", r#"{"name": "O'Hara"}"#);
    assert_eq!(status, 400, "{refused}");
    let (status, started) = call(&api, "PUT", "/audit/notes/1", r#"{"name": "O'Hara"}"#);
    assert_eq!(status, 200, "{started}");
    assert_eq!(inputs_when(&endpoint, "audit", 1).await, [json!({"name": "O'Hara"})]);
    assert_eq!(
        ok(&endpoint, &["list-executions", "--state-machine-arn", &format!("{ARN}:place")])["executions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // What the API does not have: API Gateway's 403.
    for (method, path) in [("GET", "/orders"), ("POST", "/nothing"), ("GET", "/audit")] {
        let (status, answer) = call(&api, method, path, "");
        assert_eq!((status, answer), (403, json!({"message": "Missing Authentication Token"})), "{method} {path}");
    }
}
