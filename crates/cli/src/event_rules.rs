//! A stack's event rules at work while `serve` runs: each rule is made on
//! the local EventBridge (its bus, its pattern, its state) with a queue of its
//! own as its target, and that queue is read for as long as the server runs.
//! Each event that matched starts an execution of the rule's state machine,
//! with the input the rule gives it, as EventBridge starts one: the whole
//! event, `Input`'s text, what `InputPath` selects, or what `InputTransformer`
//! makes (event_input.rs).
//! An event is let go once its execution has started, or when the state
//! machine refuses it; while the server cannot be reached it stays queued.

use std::sync::Arc;
use std::time::Duration;

use orderflow_definition::{RuleInput, Stack, StackRule};

use crate::event_input::{Rule, envelope, input_for};
use orderflow_integrations::Integrations;
use orderflow_server::Service;
use orderflow_value::{Value, json};
use tokio::task::JoinHandle;

/// How long one receive waits for an event (SQS long polling).
const WAIT_SECONDS: i64 = 2;

/// The readers of the rules' queues; they stop when this is dropped.
#[derive(Default)]
pub struct RuleReaders(Vec<JoinHandle<()>>);

impl Drop for RuleReaders {
    fn drop(&mut self) {
        for reader in &self.0 {
            reader.abort();
        }
    }
}

/// Makes each rule of `stack` on the local EventBridge `aws` and starts
/// reading its queue; a line per rule, made or not (with why).
pub async fn start(
    stack: &Stack,
    aws: Option<&Arc<Integrations>>,
    server: &Arc<Service>,
) -> (RuleReaders, Vec<String>) {
    let mut readers = RuleReaders::default();
    let mut said = Vec::new();
    for rule in &stack.rules {
        let head =
            format!("rule {} ({}) on the bus {}, to start {}", rule.name, rule.logical_id, rule.bus, rule.machine);
        if let Some(problem) = &rule.problem {
            said.push(format!("{} ({}): {problem}", rule.logical_id, rule.machine));
            continue;
        }
        let Some(aws) = aws else {
            said.push(format!("{head}: not made: no AWS endpoint to make it in"));
            continue;
        };
        match make(aws, rule).await {
            Ok(queue) => {
                let (region, account) = (&server.config.region, &server.config.account);
                let machine = format!("arn:aws:states:{region}:{account}:stateMachine:{}", rule.machine);
                // A rule on the default bus is `rule/NAME`; on another, `rule/BUS/NAME`.
                let bus = rule.bus.rsplit('/').next().unwrap_or(&rule.bus);
                let on = if bus == "default" { String::new() } else { format!("{bus}/") };
                let reader = Reader {
                    aws: aws.clone(),
                    server: server.clone(),
                    queue,
                    machine,
                    input: rule.input.clone(),
                    rule_name: rule.name.clone(),
                    rule_arn: format!("arn:aws:events:{region}:{account}:rule/{on}{}", rule.name),
                    bus: rule.bus.clone(),
                };
                readers.0.push(tokio::spawn(reader.run()));
                let state = if rule.enabled { "" } else { " (DISABLED: it matches nothing until enabled)" };
                said.push(format!("{head}{state}"));
            }
            Err(why) => said.push(format!("{head}: not made: {why}")),
        }
    }
    (readers, said)
}

/// The rule on its bus with its own queue as target; the queue's URL.
async fn make(aws: &Integrations, rule: &StackRule) -> Result<String, String> {
    let call = async |service: &str, action: &str, request: Value| {
        aws.sdk_call(service, action, &request).await.map_err(|f| format!("{}: {}", f.error, f.cause))
    };
    let queue = format!("orderflow-rule-{}", rule.name);
    let created = call("sqs", "createQueue", json!({"QueueName": queue.as_str()})).await?;
    let url = created.get("QueueUrl").and_then(Value::as_str).ok_or("the queue has no URL")?.to_owned();
    let attributes = json!({"QueueUrl": url.as_str(), "AttributeNames": ["QueueArn"]});
    let attributes = call("sqs", "getQueueAttributes", attributes).await?;
    let queue_arn = attributes.get("Attributes").and_then(|a| a.get("QueueArn")).and_then(Value::as_str);
    let queue_arn = queue_arn.ok_or("the queue has no ARN")?.to_owned();
    let state = if rule.enabled { "ENABLED" } else { "DISABLED" };
    let put = json!({
        "Name": rule.name.as_str(),
        "EventBusName": rule.bus.as_str(),
        "EventPattern": rule.pattern.to_string(),
        "State": state,
    });
    call("eventbridge", "putRule", put).await?;
    // The event whole: its input is made here, by EventBridge's rules (event_input.rs).
    let target = json!({"Id": "orderflow", "Arn": queue_arn});
    let targets = json!({"Rule": rule.name.as_str(), "EventBusName": rule.bus.as_str(), "Targets": [target]});
    let answer = call("eventbridge", "putTargets", targets).await?;
    match answer.get("FailedEntryCount").and_then(Value::as_i64) {
        Some(n) if n > 0 => Err(format!("its target was refused: {}", answer.to_json())),
        _ => Ok(url),
    }
}

/// One rule's queue, read until the server stops.
struct Reader {
    aws: Arc<Integrations>,
    server: Arc<Service>,
    queue: String,
    /// The state machine's ARN.
    machine: String,
    input: RuleInput,
    rule_name: String,
    rule_arn: String,
    bus: String,
}

impl Reader {
    async fn run(self) {
        let receive =
            json!({"QueueUrl": self.queue.as_str(), "MaxNumberOfMessages": 10, "WaitTimeSeconds": WAIT_SECONDS});
        loop {
            let messages = match self.aws.sdk_call("sqs", "receiveMessage", &receive).await {
                Ok(answer) => answer.get("Messages").and_then(Value::as_array).cloned().unwrap_or_default(),
                Err(_) => {
                    // The local AWS is gone or busy: tried again shortly.
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            // The local EventBridge delivers to a disabled rule's target too:
            // its state is read here, so `disable-rule` and `enable-rule` hold.
            let enabled = messages.is_empty() || self.enabled().await;
            for message in messages {
                let body = message.get("Body").and_then(Value::as_str).unwrap_or_default();
                if enabled && self.start(body).await.is_err() {
                    // Left in the queue: seen again after its visibility timeout.
                    continue;
                }
                if let Some(handle) = message.get("ReceiptHandle").and_then(Value::as_str) {
                    let delete = json!({"QueueUrl": self.queue.as_str(), "ReceiptHandle": handle});
                    let _ = self.aws.sdk_call("sqs", "deleteMessage", &delete).await;
                }
            }
        }
    }

    /// Whether the rule is enabled now; so it is taken when its state cannot be read.
    async fn enabled(&self) -> bool {
        let describe = json!({"Name": self.rule_name.as_str(), "EventBusName": self.bus.as_str()});
        match self.aws.sdk_call("eventbridge", "describeRule", &describe).await {
            Ok(rule) => rule.get("State").and_then(Value::as_str) != Some("DISABLED"),
            Err(_) => true,
        }
    }

    /// An execution of the machine for the event `body`. Err only when it
    /// should be tried again (the server did not answer); a refusal (the
    /// machine gone, an input too large) lets the event go, as EventBridge's
    /// target error does without a dead-letter queue.
    async fn start(&self, body: &str) -> Result<(), ()> {
        let rule = Rule { name: &self.rule_name, arn: &self.rule_arn };
        let event = envelope(body, &self.server.config.account);
        let Some(input) = input_for(&self.input, &rule, &event) else { return Ok(()) };
        let request = serde_json::json!({"stateMachineArn": self.machine, "input": input});
        match self.server.call("StartExecution", request.to_string().as_bytes()).await {
            Ok(_) => Ok(()),
            Err(e) if e.status() < 500 => Ok(()),
            Err(_) => Err(()),
        }
    }
}
