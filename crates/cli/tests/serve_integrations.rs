//! A state machine that calls AWS services, run through `orderflow serve`'s
//! API by the AWS CLI: DynamoDB, SQS, SNS and Secrets Manager in moto, the
//! local AWS; what it wrote is read back from moto with the AWS CLI too.

use std::sync::Arc;

#[path = "../../server/tests/support/aws_cli.rs"]
mod aws_cli;
#[path = "../../integrations/tests/support/http_stub.rs"]
mod http_stub;

use aws_cli::{aws, machine, ok, on_moto, started, until_done};
use orderflow::InProcess;
use orderflow_asl::{Clock, RealClock};
use orderflow_domain::fakes::{FixedClock, InMemoryOrderStore, RecordingNotifier};
use orderflow_emulator::Emulator;
use orderflow_integrations::Integrations;
use orderflow_server::{Config, Service};
use serde_json::{Value, json};

async fn server(moto: &str) -> (String, tokio::task::JoinHandle<()>) {
    let invoker =
        Arc::new(InProcess::new(InMemoryOrderStore::default(), RecordingNotifier::default(), FixedClock::default()));
    let clock: Arc<dyn Clock> = Arc::new(RealClock);
    let services = Integrations::new(moto, orderflow_local::REGION).unwrap();
    let service = Arc::new(
        Service::new(Config::default(), invoker, clock)
            .expect("an in-memory store")
            .with_services(Arc::new(services), Integrations::check),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    (endpoint, tokio::spawn(orderflow_server::serve(listener, service)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_runs_a_machine_that_writes_and_reads_aws_services() {
    let emulator = Emulator::start().expect("moto");
    let moto = emulator.endpoint();
    on_moto(
        &moto,
        "dynamodb",
        &[
            "create-table",
            "--table-name",
            "orders",
            "--key-schema",
            "AttributeName=id,KeyType=HASH",
            "--attribute-definitions",
            "AttributeName=id,AttributeType=S",
            "--billing-mode",
            "PAY_PER_REQUEST",
        ],
    );
    let queue =
        on_moto(&moto, "sqs", &["create-queue", "--queue-name", "shipping"])["QueueUrl"].as_str().unwrap().to_owned();
    let topic = on_moto(&moto, "sns", &["create-topic", "--name", "news"])["TopicArn"].as_str().unwrap().to_owned();
    on_moto(&moto, "secretsmanager", &["create-secret", "--name", "api-key", "--secret-string", "s3cr3t"]);

    let definition = json!({
        "StartAt": "Put",
        "States": {
            "Put": {
                "Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": "orders", "Item": {"id": {"S.$": "$.id"}, "total": {"N": "12"}}},
                "ResultPath": null, "Next": "Get"
            },
            "Get": {
                "Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": "orders", "Key": {"id": {"S.$": "$.id"}}},
                "ResultSelector": {"total.$": "$.Item.total.N"}, "ResultPath": "$.stored", "Next": "Secret"
            },
            "Secret": {
                "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:secretsmanager:getSecretValue",
                "Parameters": {"SecretId": "api-key"},
                "ResultSelector": {"key.$": "$.SecretString"}, "ResultPath": "$.secret", "Next": "Ship"
            },
            "Ship": {
                "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"QueueUrl": queue, "MessageBody": {"id.$": "$.id", "total.$": "$.stored.total"}},
                "ResultSelector": {"id.$": "$.MessageId"}, "ResultPath": "$.shipped", "Next": "Announce"
            },
            "Announce": {
                "Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn": topic, "Message.$": "$.stored"},
                "ResultSelector": {"id.$": "$.MessageId"}, "ResultPath": "$.announced", "Next": "PutAgain"
            },
            "PutAgain": {
                "Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {
                    "TableName": "orders", "Item": {"id": {"S.$": "$.id"}},
                    "ConditionExpression": "attribute_not_exists(id)"
                },
                "ResultPath": null,
                "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.caught", "Next": "Done"}],
                "Next": "Done"
            },
            "Done": {"Type": "Succeed"}
        }
    });
    let (endpoint, _server) = server(&moto).await;
    let arn = machine(&endpoint, "Services", &definition.to_string());
    let execution = started(&endpoint, &arn, r#"{"id": "o-1"}"#);
    let described = until_done(&endpoint, &execution).await;
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    let output: Value = serde_json::from_str(described["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["stored"], json!({"total": "12"}));
    assert_eq!(output["secret"], json!({"key": "s3cr3t"}));
    assert!(output["shipped"]["id"].is_string(), "{output}");
    assert!(output["announced"]["id"].is_string(), "{output}");
    assert_eq!(output["caught"]["Error"], "DynamoDB.ConditionalCheckFailedException", "{output}");

    // What the execution wrote is in moto.
    let item = on_moto(&moto, "dynamodb", &["get-item", "--table-name", "orders", "--key", r#"{"id": {"S": "o-1"}}"#]);
    assert_eq!(item["Item"]["total"], json!({"N": "12"}));
    let received = on_moto(&moto, "sqs", &["receive-message", "--queue-url", &queue]);
    let body: Value = serde_json::from_str(received["Messages"][0]["Body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"id": "o-1", "total": "12"}));

    // The history names each service as AWS does.
    let history = ok(&endpoint, &["get-execution-history", "--execution-arn", &execution]);
    let scheduled: Vec<&Value> =
        history["events"].as_array().unwrap().iter().filter(|e| e["type"] == "TaskScheduled").collect();
    let details = &scheduled[0]["taskScheduledEventDetails"];
    assert_eq!((details["resourceType"].as_str(), details["resource"].as_str()), (Some("dynamodb"), Some("putItem")));
    assert_eq!(details["region"], orderflow_local::REGION);
    let secret = &scheduled[2]["taskScheduledEventDetails"];
    assert_eq!(secret["resourceType"], "aws-sdk:secretsmanager");
    assert_eq!(secret["resource"], "getSecretValue");

    // A service or action not called here is refused when the machine is created, by name.
    let glue = json!({"StartAt": "G", "States": {"G": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:startJobRun", "End": true}}});
    let (code, _, err) = aws(
        &endpoint,
        &["create-state-machine", "--name", "G", "--definition", &glue.to_string(), "--role-arn", aws_cli::ROLE],
    );
    assert_ne!(code, 0);
    assert!(err.contains("InvalidDefinition") && err.contains("aws-sdk:glue"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_carries_the_task_token_and_send_task_success_answers_it() {
    let emulator = Emulator::start().expect("moto");
    let moto = emulator.endpoint();
    let queue =
        on_moto(&moto, "sqs", &["create-queue", "--queue-name", "work"])["QueueUrl"].as_str().unwrap().to_owned();
    let definition = json!({
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token", "id.$": "$.id"}},
                "TimeoutSeconds": 60, "End": true
            }
        }
    });
    let (endpoint, _server) = server(&moto).await;
    let arn = machine(&endpoint, "Callback", &definition.to_string());
    let execution = started(&endpoint, &arn, r#"{"id": "o-2"}"#);
    let mut token = None;
    for _ in 0..100 {
        let received = on_moto(&moto, "sqs", &["receive-message", "--queue-url", &queue, "--wait-time-seconds", "1"]);
        if let Some(body) = received["Messages"][0]["Body"].as_str() {
            let body: Value = serde_json::from_str(body).unwrap();
            assert_eq!(body["id"], "o-2");
            token = body["token"].as_str().map(str::to_owned);
            break;
        }
    }
    let token = token.expect("the message with the task token");
    ok(&endpoint, &["send-task-success", "--task-token", &token, "--task-output", r#"{"approved": true}"#]);
    let described = until_done(&endpoint, &execution).await;
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    assert_eq!(
        serde_json::from_str::<Value>(described["output"].as_str().unwrap()).unwrap(),
        json!({"approved": true})
    );
    let history = ok(&endpoint, &["get-execution-history", "--execution-arn", &execution]);
    let events = history["events"].as_array().unwrap();
    let submitted = events.iter().find(|e| e["type"] == "TaskSubmitted").expect("TaskSubmitted");
    let details = &submitted["taskSubmittedEventDetails"];
    assert_eq!(details["resourceType"], "sqs");
    assert_eq!(details["resource"], "sendMessage.waitForTaskToken");
    let sent: Value = serde_json::from_str(details["output"].as_str().unwrap()).unwrap();
    assert!(sent["MessageId"].is_string() && sent["SdkHttpMetadata"]["HttpStatusCode"] == json!(200), "{sent}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_a_sync_child_and_an_activity_in_one_execution() {
    let emulator = Emulator::start().expect("moto");
    let moto = emulator.endpoint();
    let (endpoint, _server) = server(&moto).await;
    let activity = ok(&endpoint, &["create-activity", "--name", "review"])["activityArn"].as_str().unwrap().to_owned();
    let child = machine(
        &endpoint,
        "Pricing",
        r#"{"StartAt": "Price", "States": {"Price": {"Type": "Pass", "Parameters": {"total.$": "States.MathAdd($.base, 5)"}, "End": true}}}"#,
    );
    let definition = json!({
        "StartAt": "Announce",
        "States": {
            "Announce": {
                "Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
                "Parameters": {"Entries": [{"Source": "orderflow", "DetailType": "Started", "Detail": {"id.$": "$.id"}}]},
                "ResultSelector": {"failed.$": "$.FailedEntryCount"}, "ResultPath": "$.announced", "Next": "Price"
            },
            "Price": {
                "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {"StateMachineArn": child, "Input": {"base": 10}},
                "ResultSelector": {"total.$": "$.Output.total"}, "ResultPath": "$.priced", "Next": "Review"
            },
            "Review": {
                "Type": "Task", "Resource": activity, "Parameters": {"id.$": "$.id", "total.$": "$.priced.total"},
                "TimeoutSeconds": 60, "ResultPath": "$.review", "End": true
            }
        }
    });
    let arn = machine(&endpoint, "Everything", &definition.to_string());
    let execution = started(&endpoint, &arn, r#"{"id": "o-3"}"#);
    // The worker: the AWS CLI's GetActivityTask, then SendTaskSuccess.
    let task = ok(&endpoint, &["get-activity-task", "--activity-arn", &activity, "--worker-name", "reviewer"]);
    let input: Value = serde_json::from_str(task["input"].as_str().expect("a task")).unwrap();
    assert_eq!(input, json!({"id": "o-3", "total": 15}));
    ok(
        &endpoint,
        &["send-task-success", "--task-token", task["taskToken"].as_str().unwrap(), "--task-output", r#"{"ok": true}"#],
    );
    let described = until_done(&endpoint, &execution).await;
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    let output: Value = serde_json::from_str(described["output"].as_str().unwrap()).unwrap();
    assert_eq!(
        output,
        json!({"id": "o-3", "announced": {"failed": 0}, "priced": {"total": 15}, "review": {"ok": true}})
    );
}

/// TestState at TRACE through the AWS CLI: an HTTP Task's request and answer
/// in the inspection data, headers as `[name: value, ...]`; the API key its
/// connection adds is shown only with `--reveal-secrets`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_aws_cli_traces_an_http_task_in_test_state() {
    let emulator = Emulator::start().expect("moto");
    let moto = emulator.endpoint();
    let created = on_moto(
        &moto,
        "events",
        &[
            "create-connection",
            "--name",
            "traced",
            "--authorization-type",
            "API_KEY",
            "--auth-parameters",
            r#"{"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "s3cr3t"}}"#,
        ],
    );
    let connection = created["ConnectionArn"].as_str().unwrap().to_owned();
    let api =
        http_stub::serve(|_| http_stub::http("201 Created", &[("Content-Type", "application/json")], r#"{"id":7}"#));
    let (endpoint, _server) = server(&moto).await;
    let definition = json!({
        "Type": "Task", "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {"ApiEndpoint": format!("{api}/orders"), "Method": "POST",
            "Authentication": {"ConnectionArn": connection}, "RequestBody": {"n": 1}},
        "End": true
    })
    .to_string();
    let test = |reveal: &str| {
        ok(
            &endpoint,
            &[
                "test-state",
                "--definition",
                &definition,
                "--role-arn",
                aws_cli::ROLE,
                "--inspection-level",
                "TRACE",
                reveal,
            ],
        )
    };
    let traced = test("--no-reveal-secrets");
    assert_eq!(traced["status"], "SUCCEEDED", "{traced}");
    let data = &traced["inspectionData"];
    assert_eq!(
        data["request"],
        json!({
            "protocol": "http", "method": "POST", "url": format!("{api}/orders"),
            "headers": "[User-Agent: Amazon|StepFunctions|HttpInvoke|us-east-1, Range: bytes=0-262144, Content-Type: application/json; charset=UTF-8]",
            "body": r#"{"n":1}"#
        })
    );
    let response = &data["response"];
    assert_eq!(
        (&response["statusCode"], &response["statusMessage"], &response["body"]),
        (&json!("201"), &json!("Created"), &json!(r#"{"id":7}"#))
    );
    assert!(response["headers"].as_str().unwrap().contains("content-type: application/json"), "{response}");
    let revealed = test("--reveal-secrets");
    let headers = revealed["inspectionData"]["request"]["headers"].as_str().unwrap().to_owned();
    assert!(headers.contains(", x-api-key: s3cr3t"), "{headers}");
    // DEBUG shows no HTTP exchange.
    let debug = ok(
        &endpoint,
        &["test-state", "--definition", &definition, "--role-arn", aws_cli::ROLE, "--inspection-level", "DEBUG"],
    );
    assert!(debug["inspectionData"].get("request").is_none(), "{debug}");
}
