//! `orderflow serve` beyond this project: started in an empty folder it
//! serves no state machine and takes CreateStateMachine; given another SAM
//! template it makes that template's resources in the emulator and registers
//! every state machine it declares, which then run through the AWS CLI.

#[path = "../../server/tests/support/aws_cli.rs"]
mod aws_cli;
#[path = "support/serve_binary.rs"]
mod serve_binary;
#[path = "support/user_app.rs"]
mod user_app;

use aws_cli::{machine, ok, on_moto, started, until_done};
use serde_json::{Value, json};
use serve_binary::{address, moto_of, serve};
use user_app::{ORDER, check_fulfilled, review_worker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_in_an_empty_folder_starts_with_no_state_machine() {
    let dir = std::env::temp_dir().join(format!("orderflow-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let serve = serve(&dir, &[]);
    assert!(serve.lines.iter().any(|l| l.starts_with("no template here")), "{:?}", serve.lines);
    let endpoint = address(&serve);
    assert_eq!(ok(&endpoint, &["list-state-machines"])["stateMachines"], json!([]));
    let arn = machine(
        &endpoint,
        "Hello",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "hi", "End": true}}}"#,
    );
    let done = until_done(&endpoint, &started(&endpoint, &arn, "{}")).await;
    assert_eq!(done["output"], "\"hi\"");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_with_another_definition_names_the_machine_with_the_parameters_given() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let args = ["--definition", "statemachine/order.asl.json", "--parameter-overrides", "Stage=prod"];
    let serve = serve(&root, &args);
    let machine = "state machine: arn:aws:states:us-east-1:123456789012:stateMachine:orderflow-prod-orders";
    assert!(serve.lines.iter().any(|l| l == machine), "{:?}", serve.lines);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_another_sam_template_s_state_machines_on_its_resources() {
    let template = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/foreign-sam/template.yaml");
    let dir = std::env::temp_dir().join(format!("orderflow-foreign-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let serve = serve(&dir, &["--template", template.to_str().unwrap()]);
    let endpoint = address(&serve);
    let moto = moto_of(&serve);
    let listed = ok(&endpoint, &["list-state-machines"]);
    let mut names: Vec<&str> =
        listed["stateMachines"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["nightly-test", "reorder-test"]);
    // The template's activity is in the server, its table and queue in the emulator.
    assert_eq!(ok(&endpoint, &["list-activities"])["activities"][0]["name"], "approvals");
    let tables = on_moto(&moto, "dynamodb", &["list-tables"]);
    assert!(tables["TableNames"].as_array().unwrap().contains(&json!("inventory-test")), "{tables}");

    let nightly = "arn:aws:states:us-east-1:123456789012:stateMachine:nightly-test";
    let done = until_done(&endpoint, &started(&endpoint, nightly, r#"{"sku": "A-1"}"#)).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["status"], "SUCCEEDED");
    assert!(output["sent"].is_string(), "{output}");
    let item = on_moto(
        &moto,
        "dynamodb",
        &["get-item", "--table-name", "inventory-test", "--key", r#"{"sku": {"S": "A-1"}}"#],
    );
    assert_eq!(item["Item"]["quantity"], json!({"N": "12"}), "{item}");
    let url = on_moto(&moto, "sqs", &["get-queue-url", "--queue-name", "restock-test"])["QueueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let received = on_moto(&moto, "sqs", &["receive-message", "--queue-url", &url]);
    let body: Value = serde_json::from_str(received["Messages"][0]["Body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"sku": "A-1", "quantity": 12}));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_sam_application_runs_through_the_aws_cli() {
    let template = user_app::template();
    let dir = std::env::temp_dir().join(format!("orderflow-user-app-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let serve = serve(&dir, &["--template", template.to_str().unwrap()]);
    let endpoint = address(&serve);
    let moto = moto_of(&serve);
    let fulfil = "arn:aws:states:us-east-1:123456789012:stateMachine:fulfil-test";
    let execution = started(&endpoint, fulfil, ORDER);
    let reviewed = review_worker(endpoint.clone()).join().unwrap();
    assert_eq!(reviewed, json!({"id": "o-7", "total": 42}));
    let done = until_done(&endpoint, &execution).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    check_fulfilled(&serde_json::from_str(done["output"].as_str().unwrap()).unwrap());

    // The child is an execution of its own, linked to this one.
    let pricing = "arn:aws:states:us-east-1:123456789012:stateMachine:pricing-test";
    let children = ok(&endpoint, &["list-executions", "--state-machine-arn", pricing]);
    let child = children["executions"][0]["executionArn"].as_str().unwrap().to_owned();
    let child = ok(&endpoint, &["describe-execution", "--execution-arn", &child]);
    assert_eq!(child["status"], "SUCCEEDED", "{child}");
    // What it wrote is in the emulator: the item (the first write; the second failed), the message.
    let item =
        on_moto(&moto, "dynamodb", &["get-item", "--table-name", "orders-test", "--key", r#"{"id": {"S": "o-7"}}"#]);
    assert_eq!(item["Item"]["status"], json!({"S": "NEW"}), "{item}");
    let url = on_moto(&moto, "sqs", &["get-queue-url", "--queue-name", "shipping-test"])["QueueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let received = on_moto(&moto, "sqs", &["receive-message", "--queue-url", &url]);
    let body: Value = serde_json::from_str(received["Messages"][0]["Body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"id": "o-7", "total": 42}));
    let _ = std::fs::remove_dir_all(&dir);
}
