//! Service integrations against moto, the real local AWS: requests written
//! from the models reach it, and its answers come back as task results.

use orderflow_asl::model::{Resource, ServiceTask};
use orderflow_asl::{Services, TaskFailure};
use orderflow_emulator::Emulator;
use orderflow_integrations::Integrations;
use orderflow_value::{Value, json};

fn task(arn: &str) -> ServiceTask {
    let definition = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": arn, "End": true}}});
    let machine = orderflow_asl::parse(&definition).expect("a definition");
    match &machine.states[0].kind {
        orderflow_asl::model::Kind::Task { resource: Resource::Service(task), .. } => (**task).clone(),
        other => panic!("{other:?}"),
    }
}

async fn call(integrations: &Integrations, arn: &str, parameters: Value) -> Result<Value, TaskFailure> {
    let task = task(arn);
    Integrations::check(&task).expect("a service and action this executor calls");
    let caller = orderflow_asl::Caller {
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:m:e",
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m",
    };
    integrations.call(&task, &parameters, caller).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_sqs_and_sns_through_their_models() {
    let emulator = Emulator::start().expect("moto");
    let aws = Integrations::new(&emulator.endpoint(), "us-east-1").unwrap();

    // DynamoDB (JSON 1.0): create a table, write, read, a failed condition.
    call(
        &aws,
        "arn:aws:states:::aws-sdk:dynamodb:createTable",
        json!({
            "TableName": "items",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST"
        }),
    )
    .await
    .unwrap();
    let put = call(
        &aws,
        "arn:aws:states:::dynamodb:putItem",
        json!({"TableName": "items", "Item": {"id": {"S": "a"}, "n": {"N": "1"}}}),
    )
    .await
    .unwrap();
    // DynamoDB's optimized results carry the SDK's HTTP metadata, members in name order.
    let keys: Vec<&str> = put.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(keys, ["SdkHttpMetadata", "SdkResponseMetadata"], "{put}");
    assert_eq!(put["SdkHttpMetadata"]["HttpStatusCode"], json!(200), "{put}");
    assert!(put["SdkHttpMetadata"]["AllHttpHeaders"]["Content-Type"].is_array(), "{put}");
    assert!(put["SdkResponseMetadata"]["RequestId"].is_string(), "{put}");
    let got = call(
        &aws,
        "arn:aws:states:::aws-sdk:dynamodb:getItem",
        json!({"TableName": "items", "Key": {"id": {"S": "a"}}}),
    )
    .await
    .unwrap();
    assert_eq!(got, json!({"Item": {"id": {"S": "a"}, "n": {"N": "1"}}}));
    let refused = call(
        &aws,
        "arn:aws:states:::dynamodb:putItem",
        json!({"TableName": "items", "Item": {"id": {"S": "a"}}, "ConditionExpression": "attribute_not_exists(id)"}),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.error, "DynamoDB.ConditionalCheckFailedException", "{refused:?}");
    assert!(
        refused.cause.contains(
            "(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ConditionalCheckFailedException; Request ID: "
        ),
        "{refused:?}"
    );
    let missing = call(
        &aws,
        "arn:aws:states:::aws-sdk:dynamodb:getItem",
        json!({"TableName": "nope", "Key": {"id": {"S": "a"}}}),
    )
    .await
    .unwrap_err();
    // The SDK integrations name errors as AWS's Java SDK v2 does.
    assert_eq!(missing.error, "DynamoDb.ResourceNotFoundException", "{missing:?}");
    assert!(missing.cause.contains("(Service: DynamoDb, Status Code: 400, Request ID: "), "{missing:?}");

    // SQS (JSON 1.0): a message whose body is given as JSON is sent as its text.
    let queue = call(&aws, "arn:aws:states:::aws-sdk:sqs:createQueue", json!({"QueueName": "q"})).await.unwrap();
    let url = queue["QueueUrl"].as_str().unwrap().to_owned();
    let sent = call(&aws, "arn:aws:states:::sqs:sendMessage", json!({"QueueUrl": url, "MessageBody": {"order": 7}}))
        .await
        .unwrap();
    assert!(sent["MessageId"].is_string(), "{sent}");
    let received = call(&aws, "arn:aws:states:::aws-sdk:sqs:receiveMessage", json!({"QueueUrl": url})).await.unwrap();
    assert_eq!(received["Messages"][0]["Body"], json!("{\"order\":7}"), "{received}");

    // SNS (query protocol, XML answers).
    let topic = call(&aws, "arn:aws:states:::aws-sdk:sns:createTopic", json!({"Name": "t"})).await.unwrap();
    let arn = topic["TopicArn"].as_str().unwrap().to_owned();
    let published = call(&aws, "arn:aws:states:::sns:publish", json!({"TopicArn": arn, "Message": {"hello": "world"}}))
        .await
        .unwrap();
    assert!(published["MessageId"].is_string(), "{published}");
    let listed = call(&aws, "arn:aws:states:::aws-sdk:sns:listTopics", json!({})).await.unwrap();
    assert_eq!(listed["Topics"][0]["TopicArn"], json!(arn), "{listed}");
    let nowhere =
        call(&aws, "arn:aws:states:::sns:publish", json!({"TopicArn": format!("{arn}-gone"), "Message": "x"}))
            .await
            .unwrap_err();
    assert_eq!(nowhere.error, "SNS.NotFoundException", "{nowhere:?}");
    assert!(nowhere.cause.contains("(Service: AmazonSNS; Status Code: 404; Error Code: NotFound;"), "{nowhere:?}");

    // Step Functions (JSON 1.0, camelCase members): Parameters and results in
    // PascalCase, members in alphabetical order, timestamps as ISO 8601.
    let created = call(
        &aws,
        "arn:aws:states:::aws-sdk:sfn:createStateMachine",
        json!({
            "Name": "child",
            "Definition": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
            "RoleArn": "arn:aws:iam::123456789012:role/r"
        }),
    )
    .await
    .unwrap();
    let keys: Vec<&str> = created.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(keys, ["CreationDate", "StateMachineArn"], "{created}");
    let date = created["CreationDate"].as_str().unwrap();
    assert!(date.len() >= 20 && date.ends_with('Z') && date.as_bytes()[10] == b'T', "{date}");
    let gone = call(
        &aws,
        "arn:aws:states:::aws-sdk:sfn:describeExecution",
        json!({"ExecutionArn": "arn:aws:states:us-east-1:123456789012:execution:child:nope"}),
    )
    .await
    .unwrap_err();
    assert_eq!(gone.error, "Sfn.ExecutionDoesNotExistException", "{gone:?}");

    // Parameters that do not fit the model are refused before sending.
    let wrong = call(&aws, "arn:aws:states:::aws-sdk:dynamodb:getItem", json!({"TableName": "items", "Kee": {}}))
        .await
        .unwrap_err();
    assert!(wrong.cause.contains("\"Kee\" is not a parameter"), "{wrong:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_and_lambda_through_their_rest_models() {
    let emulator = Emulator::start().expect("moto");
    let aws = Integrations::new(&emulator.endpoint(), "us-east-1").unwrap();
    call(&aws, "arn:aws:states:::aws-sdk:s3:createBucket", json!({"Bucket": "data"})).await.unwrap();
    // A Body is stored as its compact JSON text: a string with its quotes, as AWS stores it.
    let put = call(
        &aws,
        "arn:aws:states:::aws-sdk:s3:putObject",
        json!({"Bucket": "data", "Key": "in/a b.json", "Body": {"x": [1, 2]}}),
    )
    .await
    .unwrap();
    assert!(put["ETag"].is_string(), "{put}");
    call(&aws, "arn:aws:states:::aws-sdk:s3:putObject", json!({"Bucket": "data", "Key": "t.txt", "Body": "text data"}))
        .await
        .unwrap();
    let got = call(&aws, "arn:aws:states:::aws-sdk:s3:getObject", json!({"Bucket": "data", "Key": "in/a b.json"}))
        .await
        .unwrap();
    assert_eq!(got["Body"], json!("{\"x\":[1,2]}"), "{got}");
    assert_eq!(got["ContentLength"], json!(11), "{got}");
    let keys: Vec<&str> = got.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(keys.last(), Some(&"Body"), "the streamed body comes last: {got}");
    let mut sorted = keys[..keys.len() - 1].to_vec();
    sorted.sort_unstable();
    assert_eq!(&keys[..keys.len() - 1], &sorted[..], "{got}");
    let text =
        call(&aws, "arn:aws:states:::aws-sdk:s3:getObject", json!({"Bucket": "data", "Key": "t.txt"})).await.unwrap();
    assert_eq!(text["Body"], json!("\"text data\""));
    let listed = call(&aws, "arn:aws:states:::aws-sdk:s3:listObjectsV2", json!({"Bucket": "data", "Prefix": "in/"}))
        .await
        .unwrap();
    assert_eq!(listed["KeyCount"], json!(1), "{listed}");
    assert_eq!(listed["Contents"][0]["Key"], json!("in/a b.json"), "{listed}");
    let missing = call(&aws, "arn:aws:states:::aws-sdk:s3:getObject", json!({"Bucket": "data", "Key": "nope"}))
        .await
        .unwrap_err();
    assert_eq!(missing.error, "S3.NoSuchKeyException", "{missing:?}");
    assert!(missing.cause.contains("(Service: S3, Status Code: 404, Request ID: "), "{missing:?}");
    let no_bucket =
        call(&aws, "arn:aws:states:::aws-sdk:s3:listObjectsV2", json!({"Bucket": "nowhere"})).await.unwrap_err();
    assert_eq!(no_bucket.error, "S3.NoSuchBucketException", "{no_bucket:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventbridge_events_reach_a_rule_s_target_naming_the_execution() {
    let emulator = Emulator::start().expect("moto");
    let aws = Integrations::new(&emulator.endpoint(), "us-east-1").unwrap();
    let queue = call(&aws, "arn:aws:states:::aws-sdk:sqs:createQueue", json!({"QueueName": "events"})).await.unwrap();
    let url = queue["QueueUrl"].as_str().unwrap().to_owned();
    let attributes = call(
        &aws,
        "arn:aws:states:::aws-sdk:sqs:getQueueAttributes",
        json!({"QueueUrl": url, "AttributeNames": ["QueueArn"]}),
    )
    .await
    .unwrap();
    let queue_arn = attributes["Attributes"]["QueueArn"].as_str().unwrap().to_owned();
    call(
        &aws,
        "arn:aws:states:::aws-sdk:eventbridge:putRule",
        json!({"Name": "orders", "EventPattern": {"source": ["orderflow"]}}),
    )
    .await
    .unwrap();
    call(
        &aws,
        "arn:aws:states:::aws-sdk:eventbridge:putTargets",
        json!({"Rule": "orders", "Targets": [{"Id": "q", "Arn": queue_arn}]}),
    )
    .await
    .unwrap();
    let put = call(
        &aws,
        "arn:aws:states:::events:putEvents",
        json!({"Entries": [{"Source": "orderflow", "DetailType": "OrderPlaced", "Detail": {"id": "o-1"}, "Resources": ["r"]}]}),
    )
    .await
    .unwrap();
    // EventBridge's optimized result is the answer alone.
    assert_eq!(put["FailedEntryCount"], json!(0), "{put}");
    assert!(put.get("SdkHttpMetadata").is_none(), "{put}");
    let received = call(&aws, "arn:aws:states:::aws-sdk:sqs:receiveMessage", json!({"QueueUrl": url})).await.unwrap();
    let event: serde_json::Value = serde_json::from_str(received["Messages"][0]["Body"].as_str().unwrap()).unwrap();
    assert_eq!(event["detail"], serde_json::json!({"id": "o-1"}), "{event}");
    assert_eq!(
        event["resources"],
        serde_json::json!([
            "r",
            "arn:aws:states:us-east-1:123456789012:stateMachine:m",
            "arn:aws:states:us-east-1:123456789012:execution:m:e"
        ]),
        "{event}"
    );
}
