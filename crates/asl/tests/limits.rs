//! Hostile definitions and inputs end in bounded time and memory with AWS's
//! own errors: the 256 KiB payload quota, the 25,000-event history quota,
//! AWS's intrinsic caps, linear-time matching and set operations, and
//! checked arithmetic. Each case ran away (hung, aborted or panicked) before.

use orderflow_asl::{
    BoxFuture, Execution, ExecutionOptions, ExecutionStatus, Executor, Invoker, TaskFailure, VirtualClock, parse,
};
use orderflow_value::{Value, json};

struct NoTasks;

impl Invoker for NoTasks {
    fn invoke<'a>(&'a self, _: &'a str, _: &'a Value) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        Box::pin(async { Err(TaskFailure { error: "NoTasks".into(), cause: "no task runs here".into() }) })
    }
}

fn run(definition: Value, input: Value) -> Execution {
    let machine = parse(&definition).expect("the definition loads");
    let clock = VirtualClock::default();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    runtime.block_on(Executor::new(&machine, &NoTasks, &clock, ExecutionOptions::default()).run(input))
}

fn assert_failed(execution: &Execution, error: &str, cause_has: &str) {
    assert_eq!(execution.status, ExecutionStatus::Failed, "{:?} {:?}", execution.error, execution.cause);
    assert_eq!(execution.error.as_deref(), Some(error), "cause {:?}", execution.cause);
    let cause = execution.cause.as_deref().unwrap_or_default();
    assert!(cause.contains(cause_has), "cause {cause:?} lacks {cause_has:?}");
}

#[test]
fn a_pass_loop_ends_at_the_history_quota() {
    let execution = run(
        json!({"StartAt": "A", "TimeoutSeconds": 60, "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Choice", "Choices": [{"Variable": "$.never", "IsPresent": true, "Next": "Done"}], "Default": "A"},
            "Done": {"Type": "Succeed"}}}),
        json!({}),
    );
    assert_failed(&execution, "States.Runtime", "25000");
    assert_eq!(execution.history.len(), 25_001, "the quota, then the final event");
}

#[test]
fn twenty_thousand_chained_states_stop_at_the_quota_in_linear_time() {
    let mut states = orderflow_value::Map::new();
    for i in 0..20_000 {
        let next = if i + 1 < 20_000 {
            json!({"Type": "Pass", "Next": format!("S{}", i + 1)})
        } else {
            json!({"Type": "Pass", "End": true})
        };
        states.insert(format!("S{i}"), next);
    }
    let execution = run(json!({"StartAt": "S0", "States": states}), json!({}));
    assert_failed(&execution, "States.Runtime", "maximum number of history events");
}

#[test]
fn an_execution_input_over_256_kib_is_refused() {
    let execution = run(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}),
        json!({"x": "a".repeat(10 << 20)}),
    );
    assert_failed(&execution, "States.DataLimitExceeded", "262144");
}

#[test]
fn a_pass_result_over_256_kib_fails_the_state() {
    let execution = run(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a".repeat(257 * 1024), "End": true}}}),
        json!({}),
    );
    assert_failed(&execution, "States.DataLimitExceeded", "The state/task 'A' returned a result with a size exceeding");
}

#[test]
fn a_payload_that_doubles_in_a_loop_stops_at_the_quota() {
    let execution = run(
        json!({"StartAt": "Double", "States": {
            "Double": {"Type": "Pass", "Parameters": {"a.$": "$", "b.$": "$"}, "Next": "Again"},
            "Again": {"Type": "Choice", "Choices": [{"Variable": "$.never", "IsPresent": true, "Next": "Done"}], "Default": "Double"},
            "Done": {"Type": "Succeed"}}}),
        json!({"seed": "0123456789"}),
    );
    assert_failed(&execution, "States.DataLimitExceeded", "Double");
}

#[test]
fn a_map_over_a_hundred_thousand_items_stops_at_the_history_quota() {
    let items: Vec<Value> = (0..100_000).map(|_| json!(0)).collect();
    let execution = run(
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "End": true,
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}),
        json!({"items": items}),
    );
    assert_failed(&execution, "States.Runtime", "maximum number of history events");
}

/// Parallel states nested `depth` deep, two branches each, three Pass states
/// at each leaf; every state named apart, as Step Functions requires.
fn nested_parallel(depth: usize) -> Value {
    fn build(depth: usize, next: &mut usize) -> Value {
        *next += 1;
        let n = *next;
        if depth == 0 {
            return json!({"StartAt": format!("A{n}"), "States": {
                format!("A{n}"): {"Type": "Pass", "Next": format!("B{n}")},
                format!("B{n}"): {"Type": "Pass", "Next": format!("C{n}")},
                format!("C{n}"): {"Type": "Pass", "End": true}}});
        }
        let branches = [build(depth - 1, next), build(depth - 1, next)];
        json!({"StartAt": format!("P{n}"), "States": {format!("P{n}"): {"Type": "Parallel", "Branches": branches, "End": true}}})
    }
    build(depth, &mut 0)
}

#[test]
fn parallel_nested_twelve_deep_stops_at_the_history_quota() {
    let execution = run(nested_parallel(12), json!({}));
    assert_failed(&execution, "States.Runtime", "maximum number of history events");
}

#[test]
fn a_definition_over_one_megabyte_is_refused() {
    let big = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a".repeat(1 << 20), "End": true}}});
    let error = parse(&big).unwrap_err();
    assert!(error.message.contains("1 MB"), "{error}");
}

#[test]
fn array_unique_is_linear() {
    let items: Vec<Value> = (0..60_000).map(|i| json!(i % 1000)).collect();
    let execution = run(
        json!({"StartAt": "U", "States": {"U": {"Type": "Pass", "Parameters": {"n.$": "States.ArrayLength(States.ArrayUnique($.items))"}, "End": true}}}),
        json!({"items": items}),
    );
    assert_eq!(execution.output.as_deref(), Some(&json!({"n": 1000})), "{:?}", execution.cause);
}

#[test]
fn string_matches_is_linear() {
    let execution = run(
        json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.text", "StringMatches": "*a".repeat(1000), "Next": "Yes"}], "Default": "No"},
            "Yes": {"Type": "Succeed"}, "No": {"Type": "Succeed", "OutputPath": null}}}),
        json!({"text": "b".repeat(200_000)}),
    );
    assert_eq!(execution.output.as_deref(), Some(&json!({})));
}

#[test]
fn array_range_near_the_integer_limit_fails_without_overflow() {
    let execution = run(
        json!({"StartAt": "R", "States": {"R": {"Type": "Pass",
            "Parameters": {"r.$": "States.ArrayRange(9223372036854775800, 9223372036854775807, 5)"}, "End": true}}}),
        json!({}),
    );
    assert_eq!(execution.output.as_deref(), Some(&json!({"r": [9223372036854775800i64, 9223372036854775805i64]})));
    let execution = run(
        json!({"StartAt": "R", "States": {"R": {"Type": "Pass",
            "Parameters": {"r.$": "States.ArrayRange(-9223372036854775808, 9223372036854775807, 1)"}, "End": true}}}),
        json!({}),
    );
    assert_failed(&execution, "States.IntrinsicFailure", "1000");
}

#[test]
fn math_add_overflow_is_an_intrinsic_failure() {
    let execution = run(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass",
            "Parameters": {"r.$": "States.MathAdd(9223372036854775807, 1)"}, "End": true}}}),
        json!({}),
    );
    assert_failed(&execution, "States.IntrinsicFailure", "overflow");
}

#[test]
fn overlapping_matches_are_counted_against_the_quota() {
    // `$..*` selects every nested array: about 300 KB of matches out of a 1 KB input.
    let mut nested = json!([]);
    for _ in 0..550 {
        nested = json!([nested]);
    }
    let execution = run(
        json!({"StartAt": "All", "States": {"All": {"Type": "Pass", "Parameters": {"all.$": "$..*"}, "End": true}}}),
        json!({"nested": nested}),
    );
    assert_failed(&execution, "States.DataLimitExceeded", "All");
}
