//! A lambda:invoke Task's Parameters that only select from the state's input
//! are not filled in per execution: the function is handed its Payload where
//! it lies, and TaskScheduled shows the filled parameters when the history is
//! read. What the function receives, what the history shows and how a missing
//! path fails must be exactly what a filled template gives.

use std::sync::Mutex;

use orderflow_asl::{
    BoxFuture, EventType, Execution, ExecutionOptions, ExecutionStatus, Executor, Invoker, TaskFailure, VirtualClock,
    parse,
};
use orderflow_value::{Value, json};

/// Answers every call with `{"ok": true}` and remembers what it was handed.
#[derive(Default)]
struct Recording {
    calls: Mutex<Vec<(String, Value)>>,
}

impl Invoker for Recording {
    fn invoke<'a>(&'a self, function: &'a str, payload: &'a Value) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        self.calls.lock().unwrap().push((function.to_owned(), payload.clone()));
        Box::pin(async { Ok(json!({"ok": true})) })
    }
}

fn run(parameters: Value, input: Value) -> (Execution, Vec<(String, Value)>) {
    let definition = json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "InputPath": "$.inner", "Parameters": parameters, "End": true}}});
    let machine = parse(&definition).expect("the definition loads");
    let invoker = Recording::default();
    let clock = VirtualClock::default();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let execution = runtime.block_on(Executor::new(&machine, &invoker, &clock, ExecutionOptions::default()).run(input));
    (execution, invoker.calls.into_inner().unwrap())
}

/// The TaskScheduled event's parameters, as GetExecutionHistory gives them.
fn scheduled_parameters(execution: &Execution) -> String {
    let events = execution.history.events();
    let scheduled = events.iter().find(|e| e.kind == EventType::TaskScheduled).expect("a TaskScheduled event");
    scheduled.details["taskScheduledEventDetails"]["parameters"].as_str().expect("parameters text").to_owned()
}

fn input() -> Value {
    json!({"inner": {"fn": "by-path", "order": {"id": "A-1", "items": [{"x": 1}, {"x": 2}]}, "n": 7}})
}

#[test]
fn selected_payload_reaches_the_function_and_the_history_shows_the_filled_parameters() {
    let (execution, calls) = run(
        json!({"FunctionName": "fn-a", "Payload.$": "$.order", "Extra": {"n.$": "$.n", "lit": [1, "two"]},
               "xs.$": "$.order.items[*].x"}),
        input(),
    );
    assert_eq!(execution.status, ExecutionStatus::Succeeded, "{:?}", execution.cause);
    assert_eq!(calls, vec![("fn-a".to_owned(), input()["inner"]["order"].clone())]);
    let expected = json!({"FunctionName": "fn-a", "Payload": {"id": "A-1", "items": [{"x": 1}, {"x": 2}]},
                          "Extra": {"n": 7, "lit": [1, "two"]}, "xs": [1, 2]});
    assert_eq!(scheduled_parameters(&execution), expected.to_string());
}

#[test]
fn a_payload_template_and_a_function_name_path_are_filled_from_the_input() {
    let (execution, calls) =
        run(json!({"FunctionName.$": "$.fn", "Payload": {"id.$": "$.order.id", "k": "v"}}), input());
    assert_eq!(execution.status, ExecutionStatus::Succeeded, "{:?}", execution.cause);
    assert_eq!(calls, vec![("by-path".to_owned(), json!({"id": "A-1", "k": "v"}))]);
    assert_eq!(
        scheduled_parameters(&execution),
        json!({"FunctionName": "by-path", "Payload": {"id": "A-1", "k": "v"}}).to_string()
    );
}

#[test]
fn without_a_payload_the_function_gets_an_empty_object() {
    let (execution, calls) = run(json!({"FunctionName": "fn-a", "Note.$": "$.n"}), input());
    assert_eq!(execution.status, ExecutionStatus::Succeeded, "{:?}", execution.cause);
    assert_eq!(calls, vec![("fn-a".to_owned(), json!({}))]);
}

#[test]
fn a_path_found_nowhere_fails_before_the_call_with_awss_cause() {
    let (execution, calls) =
        run(json!({"FunctionName": "fn-a", "Payload.$": "$.order", "Later.$": "$.missing"}), input());
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.as_deref(), Some("States.Runtime"));
    let cause = execution.cause.unwrap_or_default();
    assert!(
        cause.contains("The JSONPath '$.missing' specified for the field 'Later.$' could not be found in the input"),
        "{cause}"
    );
    assert!(calls.is_empty(), "no call for a failed Parameters");
}

#[test]
fn a_function_name_that_is_not_a_string_is_refused() {
    let (execution, calls) = run(json!({"FunctionName.$": "$.n", "Payload.$": "$"}), input());
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.as_deref(), Some("States.Runtime"));
    assert!(execution.cause.unwrap_or_default().contains("need a FunctionName string"));
    assert!(calls.is_empty());
}

#[test]
fn a_function_is_named_by_the_name_in_its_arn() {
    use orderflow_asl::model::function_name;
    for (given, name) in [
        ("validate_data", "validate_data"),
        ("arn:aws:lambda:us-east-1:123456789012:function:validate_data", "validate_data"),
        ("arn:aws:lambda:us-east-1:123456789012:function:validate_data:$LATEST", "validate_data"),
        ("arn:aws:lambda:us-east-1:123456789012:function:validate_data:live:extra", "validate_data"),
        ("arn:aws-cn:lambda:cn-north-1:123456789012:function:f", "f"),
        // Not a function's ARN: kept whole.
        ("arn:aws:lambda:us-east-1:123456789012:function", "arn:aws:lambda:us-east-1:123456789012:function"),
        ("arn:aws:lambda:us-east-1:123456789012:layer:l", "arn:aws:lambda:us-east-1:123456789012:layer:l"),
        ("arn:aws:states:us-east-1:123456789012:function:f", "arn:aws:states:us-east-1:123456789012:function:f"),
        ("arn:aws:lambda:é:1:function:ü", "ü"),
        ("", ""),
        (":::::::", ":::::::"),
        ("arn:x:lambda:::function:", ""),
    ] {
        assert_eq!(function_name(given), name, "{given}");
    }
}
