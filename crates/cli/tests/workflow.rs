//! The real statemachine/order.asl.json, with the DefinitionSubstitutions of
//! infra/template.yaml, run by the local executor against the real handlers
//! on in-memory ports, with faults injected where the scenario needs them.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::Path;
use std::sync::Mutex;

use orderflow::{InProcess, load};
use orderflow_asl::{
    BoxFuture, Execution, ExecutionOptions, ExecutionStatus, Executor, Invoker, RuleTaken, TaskFailure, VirtualClock,
};
use orderflow_domain::fakes::{FixedClock, InMemoryOrderStore, RecordingNotifier, read_json_file};
use orderflow_domain::notification::NotificationKind;
use orderflow_domain::{DependencyError, DependencyErrorKind, OrderId, RawOrder};
use orderflow_value::{Value, json};

type Ports = InProcess<InMemoryOrderStore, RecordingNotifier, FixedClock>;

/// Answers from the handlers, except for the failures queued per function.
struct Faults {
    inner: Ports,
    queued: Mutex<HashMap<&'static str, VecDeque<TaskFailure>>>,
}

impl Faults {
    fn new() -> Faults {
        Faults {
            inner: InProcess::new(InMemoryOrderStore::default(), RecordingNotifier::default(), FixedClock::default()),
            queued: Mutex::new(HashMap::new()),
        }
    }

    fn fail(self, function: &'static str, error: &str, times: usize) -> Faults {
        let failure = TaskFailure { error: error.to_owned(), cause: format!("injected {error}") };
        self.queued.lock().unwrap().entry(function).or_default().extend(std::iter::repeat_n(failure, times));
        self
    }

    fn store(&self) -> &InMemoryOrderStore {
        &self.inner.store
    }

    fn notifier(&self) -> &RecordingNotifier {
        &self.inner.notifier
    }
}

impl Invoker for Faults {
    fn invoke<'a>(&'a self, function: &'a str, payload: &'a Value) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        let injected = self.queued.lock().unwrap().get_mut(function).and_then(VecDeque::pop_front);
        match injected {
            Some(failure) => Box::pin(std::future::ready(Err(failure))),
            None => self.inner.invoke(function, payload),
        }
    }
}

fn unavailable(service: &'static str) -> DependencyError {
    DependencyError { kind: DependencyErrorKind::Unavailable, service, operation: "Call", detail: "Throttled".into() }
}

async fn run(faults: &Faults, input: Value) -> Execution {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let loaded = load(&root.join("infra/template.yaml"), None).unwrap();
    let clock = VirtualClock::starting_at(time::macros::datetime!(2026-11-24 12:00:00 UTC));
    let options =
        ExecutionOptions { name: "test".into(), state_machine_name: "OrderStateMachine".into(), ..Default::default() };
    Executor::new(&loaded.machine, faults, &clock, options).run(input).await
}

fn valid() -> Value {
    Value::from(read_json_file("events/order-valid.json"))
}

fn order_id() -> OrderId {
    OrderId::parse("ORD-1001").unwrap()
}

fn taken(execution: &Execution, state: &str, list: &str) -> Vec<usize> {
    execution.rules_taken.iter().filter(|r| &*r.state == state && r.list == list).map(|r| r.index).collect()
}

// ---------------------------------------------------------------- scenarios

async fn happy_path() -> Execution {
    let faults = Faults::new();
    let execution = run(&faults, valid()).await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded, "{:?} {:?}", execution.error, execution.cause);
    let output = execution.output.as_deref().cloned().unwrap();
    assert_eq!(output["order_id"], "ORD-1001");
    assert_eq!(output["status"], "NOTIFIED");
    assert_eq!(output["total"], "32.25");
    assert_eq!(output["currency"], "EUR");
    assert_eq!(output["notification_id"], "fake-message-1");
    assert_eq!(output.as_object().unwrap().len(), 5, "a clean summary: {output}");
    assert!(execution.rules_taken.is_empty());
    assert_eq!(faults.notifier().sent().len(), 1);
    assert!(faults.store().stored(&order_id()).unwrap().notification.is_some());
    execution
}

async fn rejected() -> Execution {
    let faults = Faults::new();
    let execution = run(&faults, Value::from(read_json_file("events/order-invalid-many.json"))).await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.as_deref(), Some("OrderRejected"));
    // The cause keeps every violation, as Lambda reported them.
    let cause: Value = orderflow_value::parse(execution.cause.as_deref().unwrap()).unwrap();
    assert_eq!(cause["errorType"], "OrderValidationFailed");
    let violations: Value = orderflow_value::parse(cause["errorMessage"].as_str().unwrap()).unwrap();
    assert_eq!(violations["violations"].as_array().unwrap().len(), 7);
    let sent = faults.notifier().sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, NotificationKind::OrderRejected);
    let notice: Value = orderflow_value::parse(&sent[0].message).unwrap();
    assert_eq!(notice["reasons"].as_array().unwrap().len(), 7, "the customer is told every reason: {notice}");
    assert_eq!(faults.store().writes(), 0);
    assert_eq!(taken(&execution, "ValidateData", "Catch"), [0]);
    execution
}

async fn conflict() -> Execution {
    let faults = Faults::new();
    // ORD-1001 was already processed with other content.
    let mut other = valid();
    *other.get_mut("items").and_then(|i| i.get_mut(0)).and_then(|l| l.get_mut("quantity")).unwrap() = json!(9);
    let order = RawOrder::new(serde_json::Value::from(other)).validate().unwrap();
    let record = orderflow_domain::ports::StoredOrder::new(&order, time::macros::datetime!(2026-11-01 00:00:00 UTC));
    orderflow_domain::ports::OrderStore::insert_if_absent(faults.store(), &record, &order).await.unwrap();
    let execution = run(&faults, valid()).await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.as_deref(), Some("OrderConflict"));
    assert!(execution.cause.as_deref().unwrap().contains("already processed with different content"));
    assert!(faults.notifier().sent().is_empty());
    assert_eq!(taken(&execution, "ProcessOrder", "Catch"), [0]);
    execution
}

async fn dependency_unavailable_twice_then_success() -> Execution {
    let faults = Faults::new();
    faults.store().fail_next([unavailable("DynamoDB"), unavailable("DynamoDB")]);
    let execution = run(&faults, valid()).await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
    assert_eq!(taken(&execution, "ProcessOrder", "Retry"), [1, 1], "two retries of DependencyUnavailable");
    // One stored order (insert, the confirmation's claim, its record), one confirmation.
    assert_eq!(faults.store().writes(), 3);
    assert_eq!(faults.notifier().sent().len(), 1);
    execution
}

async fn notification_keeps_failing() -> Execution {
    let faults = Faults::new();
    faults.notifier().fail_next(std::iter::repeat_n(unavailable("SNS"), 10));
    let execution = run(&faults, valid()).await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.as_deref(), Some("DependencyUnavailable"), "OrderFailed keeps the error");
    assert!(
        execution.cause.as_deref().unwrap().contains("SNS Call failed: Throttled"),
        "and the cause: {:?}",
        execution.cause
    );
    assert_eq!(taken(&execution, "SendNotification", "Retry"), [1, 1, 1, 1]);
    assert_eq!(taken(&execution, "SendNotification", "Catch"), [1]);
    assert!(faults.notifier().sent().is_empty());
    execution
}

async fn lambda_service_errors_on_every_step() -> Execution {
    let faults = Faults::new()
        .fail("validate_data", "Lambda.ServiceException", 1)
        .fail("process_order", "Lambda.TooManyRequestsException", 1)
        .fail("send_notification", "Lambda.AWSLambdaException", 1);
    let execution = run(&faults, valid()).await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
    for state in ["ValidateData", "ProcessOrder", "SendNotification"] {
        assert_eq!(taken(&execution, state, "Retry"), [0], "{state}");
    }
    assert_eq!(faults.notifier().sent().len(), 1);
    execution
}

async fn unexpected_validation_failure() -> Execution {
    let faults = Faults::new().fail("validate_data", "Lambda.Unknown", 1);
    let execution = run(&faults, valid()).await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.as_deref(), Some("Lambda.Unknown"));
    assert_eq!(taken(&execution, "ValidateData", "Catch"), [1]);
    execution
}

async fn process_order_refused() -> Execution {
    let faults = Faults::new();
    faults.store().fail_next([DependencyError { kind: DependencyErrorKind::Rejected, ..unavailable("DynamoDB") }]);
    let execution = run(&faults, valid()).await;
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.as_deref(), Some("DependencyFailed"), "not retried, kept");
    assert_eq!(taken(&execution, "ProcessOrder", "Catch"), [1]);
    execution
}

async fn conflict_at_notification() -> Execution {
    let faults = Faults::new().fail("send_notification", "OrderConflict", 1);
    let execution = run(&faults, valid()).await;
    assert_eq!(execution.error.as_deref(), Some("OrderConflict"));
    assert_eq!(taken(&execution, "SendNotification", "Catch"), [0]);
    execution
}

async fn rejection_notice_retried() -> Execution {
    let faults = Faults::new().fail("send_notification", "Lambda.SdkClientException", 1);
    faults.notifier().fail_next([unavailable("SNS")]);
    let execution = run(&faults, Value::from(read_json_file("events/order-invalid-currency.json"))).await;
    assert_eq!(execution.error.as_deref(), Some("OrderRejected"));
    assert_eq!(taken(&execution, "SendRejectionNotice", "Retry"), [0, 1]);
    assert_eq!(faults.notifier().sent().len(), 1);
    execution
}

async fn rejection_notice_lost() -> Execution {
    let faults = Faults::new();
    faults.notifier().fail_next(std::iter::repeat_n(unavailable("SNS"), 10));
    let execution = run(&faults, Value::from(read_json_file("events/order-invalid-empty-items.json"))).await;
    // Still rejected, with the validation cause, though the customer could not be told.
    assert_eq!(execution.error.as_deref(), Some("OrderRejected"));
    assert!(execution.cause.as_deref().unwrap().contains("OrderValidationFailed"));
    assert_eq!(taken(&execution, "SendRejectionNotice", "Catch"), [0]);
    execution
}

#[tokio::test]
async fn happy_path_confirms_once_with_a_clean_summary() {
    happy_path().await;
}

#[tokio::test]
async fn an_invalid_order_is_rejected_and_its_customer_told_why() {
    rejected().await;
}

#[tokio::test]
async fn a_conflicting_order_fails_as_order_conflict() {
    conflict().await;
}

#[tokio::test]
async fn dependency_unavailable_twice_is_retried_then_stored_once() {
    dependency_unavailable_twice_then_success().await;
}

#[tokio::test]
async fn a_notification_that_keeps_failing_fails_the_execution_keeping_the_cause() {
    notification_keeps_failing().await;
}

#[tokio::test]
async fn every_retry_and_catch_entry_of_the_definition_is_taken_across_the_suite() {
    let executions = [
        happy_path().await,
        rejected().await,
        conflict().await,
        dependency_unavailable_twice_then_success().await,
        notification_keeps_failing().await,
        lambda_service_errors_on_every_step().await,
        unexpected_validation_failure().await,
        process_order_refused().await,
        conflict_at_notification().await,
        rejection_notice_retried().await,
        rejection_notice_lost().await,
    ];
    let covered: BTreeSet<(String, &str, usize)> = executions
        .iter()
        .flat_map(|e| e.rules_taken.iter())
        .map(|RuleTaken { state, list, index, .. }| (state.to_string(), *list, *index))
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let machine = load(&root.join("infra/template.yaml"), None).unwrap().machine;
    let mut all = BTreeSet::new();
    for state in &machine.states {
        all.extend((0..state.retry.len()).map(|i| (state.name.to_string(), "Retry", i)));
        all.extend((0..state.catch.len()).map(|i| (state.name.to_string(), "Catch", i)));
    }
    let missing: Vec<_> = all.difference(&covered).collect();
    assert!(missing.is_empty(), "entries no scenario takes: {missing:?}");
    assert_eq!(all.len(), 14, "the definition changed: add scenarios for its new entries");
}

/// lambda:invoke with `LogType: Tail` in-process: Lambda's platform lines
/// around the invocation, base64, beside the answer.
#[tokio::test]
async fn in_process_log_tail_is_lambdas_platform_lines() {
    use base64::Engine;
    let invoker = InProcess::new(InMemoryOrderStore::default(), RecordingNotifier::default(), FixedClock::default());
    let definition = json!({"StartAt": "V", "States": {"V": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "validate_data", "Payload.$": "$", "LogType": "Tail"}, "End": true}}});
    let machine = orderflow_asl::parse(&definition).unwrap();
    let clock = VirtualClock::default();
    let input = Value::from(read_json_file("events/order-valid.json"));
    let done = Executor::new(&machine, &invoker, &clock, ExecutionOptions::default()).run(input).await;
    let output = done.output.as_deref().expect("an output");
    let log = base64::engine::general_purpose::STANDARD.decode(output["LogResult"].as_str().unwrap()).unwrap();
    let log = String::from_utf8(log).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines[0].starts_with("START RequestId: local-") && lines[0].ends_with(" Version: $LATEST"), "{log}");
    assert!(lines[1].starts_with("END RequestId: local-") && lines[2].starts_with("REPORT RequestId: local-"), "{log}");
    assert!(lines[2].contains("\tDuration: ") && lines[2].contains("\tBilled Duration: "), "{log}");
}
