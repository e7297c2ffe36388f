//! A stack's event rules at work while `serve` runs. Each rule is made on
//! the local EventBridge (its bus, its pattern or schedule, its state). A
//! rule on an event pattern gets a queue of its own as its target, read for
//! as long as the server runs: each event that matched starts an execution of
//! the rule's state machine. A scheduled rule fires here at its times
//! (schedule_expression.rs) with EventBridge's Scheduled Event. Either way
//! the input is the one the rule gives, as EventBridge starts an execution:
//! the whole event, `Input`'s text, what `InputPath` selects, or what
//! `InputTransformer` makes (event_input.rs); and the rule's state is read
//! from the local EventBridge each time, so `enable-rule` and `disable-rule`
//! hold. An event is let go once its execution has started, or when the
//! state machine refuses it; while the server cannot be reached it stays
//! queued.

use std::sync::Arc;
use std::time::Duration;

use orderflow_definition::{RuleInput, Stack, StackRule, Trigger};
use orderflow_integrations::Integrations;
use orderflow_server::Service;
use orderflow_value::{Value, json};
use time::OffsetDateTime;
use tokio::task::JoinHandle;

use crate::event_input::{Rule, envelope, input_for};
use crate::schedule_expression::{Schedule, event_time};

/// How long one receive waits for an event (SQS long polling).
const WAIT_SECONDS: i64 = 2;

/// The rules' readers and schedules; they stop when this is dropped.
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
/// reading its queue or keeping its schedule; a line per rule, made or not (with why).
pub async fn start(
    stack: &Stack,
    aws: Option<&Arc<Integrations>>,
    server: &Arc<Service>,
) -> (RuleReaders, Vec<String>) {
    let mut readers = RuleReaders::default();
    let mut said = Vec::new();
    for rule in &stack.rules {
        if let Some(problem) = &rule.problem {
            said.push(format!("{} ({}): {problem}", rule.logical_id, rule.machine));
            continue;
        }
        let on = match &rule.trigger {
            Trigger::Pattern(_) => format!("on the bus {}", rule.bus),
            Trigger::Schedule(expression) => expression.clone(),
        };
        let head = format!("rule {} ({}) {on}, to start {}", rule.name, rule.logical_id, rule.machine);
        let schedule = match &rule.trigger {
            Trigger::Schedule(expression) => match Schedule::parse(expression) {
                Ok(schedule) => Some(schedule),
                Err(why) => {
                    said.push(format!("{head}: not made: {why}"));
                    continue;
                }
            },
            Trigger::Pattern(_) => None,
        };
        let Some(aws) = aws else {
            said.push(format!("{head}: not made: no AWS endpoint to make it in"));
            continue;
        };
        let target = Target::new(aws, server, rule);
        let task = match (make(aws, rule).await, schedule) {
            (Ok(_), Some(schedule)) => tokio::spawn(target.keep(schedule)),
            (Ok(Some(queue)), None) => tokio::spawn(target.read(queue)),
            (Ok(None), None) => continue,
            (Err(why), _) => {
                said.push(format!("{head}: not made: {why}"));
                continue;
            }
        };
        readers.0.push(task);
        let state = if rule.enabled { "" } else { " (DISABLED: it starts nothing until enabled)" };
        said.push(format!("{head}{state}"));
    }
    (readers, said)
}

/// The rule on the local EventBridge; for an event pattern, with its own
/// queue as its target: that queue's URL.
async fn make(aws: &Integrations, rule: &StackRule) -> Result<Option<String>, String> {
    let call = async |service: &str, action: &str, request: Value| {
        aws.sdk_call(service, action, &request).await.map_err(|f| format!("{}: {}", f.error, f.cause))
    };
    let state = if rule.enabled { "ENABLED" } else { "DISABLED" };
    let mut put = json!({"Name": rule.name.as_str(), "EventBusName": rule.bus.as_str(), "State": state});
    let pattern = match &rule.trigger {
        Trigger::Schedule(expression) => {
            // Fired here; the local EventBridge holds its state.
            put["ScheduleExpression"] = Value::from(expression.as_str());
            call("eventbridge", "putRule", put).await?;
            return Ok(None);
        }
        Trigger::Pattern(pattern) => pattern,
    };
    put["EventPattern"] = Value::from(pattern.to_string());
    let queue = format!("orderflow-rule-{}", rule.name);
    let created = call("sqs", "createQueue", json!({"QueueName": queue.as_str()})).await?;
    let url = created.get("QueueUrl").and_then(Value::as_str).ok_or("the queue has no URL")?.to_owned();
    let attributes = json!({"QueueUrl": url.as_str(), "AttributeNames": ["QueueArn"]});
    let attributes = call("sqs", "getQueueAttributes", attributes).await?;
    let queue_arn = attributes.get("Attributes").and_then(|a| a.get("QueueArn")).and_then(Value::as_str);
    let queue_arn = queue_arn.ok_or("the queue has no ARN")?.to_owned();
    call("eventbridge", "putRule", put).await?;
    // The event whole: its input is made here, by EventBridge's rules (event_input.rs).
    let target = json!({"Id": "orderflow", "Arn": queue_arn});
    let targets = json!({"Rule": rule.name.as_str(), "EventBusName": rule.bus.as_str(), "Targets": [target]});
    let answer = call("eventbridge", "putTargets", targets).await?;
    match answer.get("FailedEntryCount").and_then(Value::as_i64) {
        Some(n) if n > 0 => Err(format!("its target was refused: {}", answer.to_json())),
        _ => Ok(Some(url)),
    }
}

/// A rule's state machine, and what the rule gives it.
struct Target {
    aws: Arc<Integrations>,
    server: Arc<Service>,
    /// The state machine's ARN.
    machine: String,
    input: RuleInput,
    rule_name: String,
    rule_arn: String,
    bus: String,
}

impl Target {
    fn new(aws: &Arc<Integrations>, server: &Arc<Service>, rule: &StackRule) -> Target {
        let (region, account) = (&server.config.region, &server.config.account);
        // A rule on the default bus is `rule/NAME`; on another, `rule/BUS/NAME`.
        let bus = rule.bus.rsplit('/').next().unwrap_or(&rule.bus);
        let on = if bus == "default" { String::new() } else { format!("{bus}/") };
        Target {
            aws: aws.clone(),
            server: server.clone(),
            machine: server.config.state_machine_arn(&rule.machine),
            input: rule.input.clone(),
            rule_name: rule.name.clone(),
            rule_arn: format!("arn:aws:events:{region}:{account}:rule/{on}{}", rule.name),
            bus: rule.bus.clone(),
        }
    }

    /// The rule's queue, read until the server stops.
    async fn read(self, queue: String) {
        let receive = json!({"QueueUrl": queue.as_str(), "MaxNumberOfMessages": 10, "WaitTimeSeconds": WAIT_SECONDS});
        loop {
            let messages = match self.aws.sdk_call("sqs", "receiveMessage", &receive).await {
                Ok(answer) => answer.get("Messages").and_then(Value::as_array).cloned().unwrap_or_default(),
                Err(_) => {
                    // The local AWS is gone or busy: tried again shortly.
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            // The local EventBridge delivers to a disabled rule's target too.
            let enabled = messages.is_empty() || self.enabled().await;
            for message in messages {
                let body = message.get("Body").and_then(Value::as_str).unwrap_or_default();
                if enabled && self.start(body).await.is_err() {
                    // Left in the queue: seen again after its visibility timeout.
                    continue;
                }
                if let Some(handle) = message.get("ReceiptHandle").and_then(Value::as_str) {
                    let delete = json!({"QueueUrl": queue.as_str(), "ReceiptHandle": handle});
                    let _ = self.aws.sdk_call("sqs", "deleteMessage", &delete).await;
                }
            }
        }
    }

    /// The rule's schedule, kept until the server stops: at each of its
    /// times, EventBridge's Scheduled Event when the rule is enabled then.
    async fn keep(self, schedule: Schedule) {
        let since = OffsetDateTime::now_utc();
        let ids = orderflow_asl::rng::Rng::new(since.unix_timestamp_nanos() as u64);
        let mut after = since;
        while let Some(at) = schedule.next_after(after, since) {
            let wait = (at - OffsetDateTime::now_utc()).max(time::Duration::ZERO);
            tokio::time::sleep(wait.unsigned_abs()).await;
            after = at;
            if self.enabled().await {
                let event = json!({
                    "version": "0",
                    "id": ids.uuid_v4(),
                    "detail-type": "Scheduled Event",
                    "source": "aws.events",
                    "account": self.server.config.account.as_str(),
                    "time": event_time(at),
                    "region": self.server.config.region.as_str(),
                    "resources": [self.rule_arn.as_str()],
                    "detail": {},
                });
                let _ = self.start(&event.to_json()).await;
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
