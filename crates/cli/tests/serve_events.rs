//! State machines started by events while `serve` runs a template
//! (crates/cli/tests/fixtures/events-app): a SAM state machine's
//! `EventBridgeRule` and `CloudWatchEvent` sources and an `AWS::Events::Rule`
//! targeting a state machine, each made on the local EventBridge. Events put
//! by a state machine's `events:putEvents` Task and by the AWS CLI start
//! executions with the input each rule gives; an event no rule matches, or
//! one for a disabled rule, starts none.

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
    let deadline = Instant::now() + Duration::from_secs(30);
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
    let serve = serve(&app, &["--template", "template.yaml"]);
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
