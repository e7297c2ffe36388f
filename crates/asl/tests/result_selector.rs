//! A Task's ResultSelector whose paths are definite and apart moves what it
//! selects out of the task result instead of copying it; TaskSucceeded keeps
//! the rest and puts the result back together when the history is read.
//! The state's output, the history and every error must be what copying gives.

use orderflow_asl::model::Selection;
use orderflow_asl::{
    BoxFuture, EventType, Execution, ExecutionOptions, ExecutionStatus, Executor, Invoker, TaskFailure, VirtualClock,
    parse,
};
use orderflow_value::{Value, json};

/// Answers every call with its value.
struct Fixed(Value);

impl Invoker for Fixed {
    fn invoke<'a>(&'a self, _function: &'a str, _payload: &'a Value) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        Box::pin(async { Ok(self.0.clone()) })
    }
}

fn result() -> Value {
    json!({
        "order": {"id": "A-1", "items": [{"sku": "X", "n": 1}, {"sku": "Y", "n": 2}]},
        "receipt": {"hash": "sha256:00", "total": "12.50"},
        "list": [{"a": 1}, {"b": 2}, {"c": 3}],
        "n": 3
    })
}

/// Runs one Task (lambda:invoke, whose result is wrapped, or a function
/// ARN, whose is not) with `extra` fields, on `{"keep": true}`; the function
/// answers `result()`.
fn run(resource: &str, extra: Value) -> (Execution, Selection) {
    run_answering(result(), resource, extra)
}

fn run_answering(answer: Value, resource: &str, extra: Value) -> (Execution, Selection) {
    let mut state = json!({"Type": "Task", "Resource": resource, "End": true});
    if resource.ends_with("lambda:invoke") {
        state["Parameters"] = json!({"FunctionName": "f", "Payload.$": "$"});
    }
    for (k, v) in extra.as_object().unwrap() {
        state[k.as_str()] = v.clone();
    }
    let machine = parse(&json!({"StartAt": "T", "States": {"T": state}})).expect("the definition loads");
    let moves = machine.states[0].io.result_selection;
    let clock = VirtualClock::default();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let execution = runtime.block_on(
        Executor::new(&machine, &Fixed(answer), &clock, ExecutionOptions::default()).run(json!({"keep": true})),
    );
    (execution, moves)
}

const INVOKE: &str = "arn:aws:states:::lambda:invoke";
const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

/// The TaskSucceeded (or LambdaFunctionSucceeded) event's output, as
/// GetExecutionHistory gives it.
fn task_output(execution: &Execution) -> Value {
    let events = execution.history.events();
    let succeeded = events
        .iter()
        .find(|e| matches!(e.kind, EventType::TaskSucceeded | EventType::LambdaFunctionSucceeded))
        .expect("a TaskSucceeded event");
    let (_, details) = succeeded.details.iter().next().expect("its details");
    assert_eq!(details["outputDetails"], json!({"truncated": false}));
    orderflow_value::parse(details["output"].as_str().expect("output text")).expect("output JSON")
}

fn output(execution: &Execution) -> Value {
    assert_eq!(execution.status, ExecutionStatus::Succeeded, "{:?} {:?}", execution.error, execution.cause);
    execution.output.as_deref().expect("an output").clone()
}

#[test]
fn a_moving_selector_gives_the_selection_and_the_history_the_whole_result() {
    let selector = json!({
        "order.$": "$.Payload.order",
        "receipt.$": "$.Payload.receipt",
        "lit": {"k": ["v"]},
        "nested": {"first.$": "$.Payload.list[0]", "third.$": "$.Payload.list[2].c"},
        "pair": [{"n.$": "$.Payload.n"}, "two"]
    });
    let (execution, moves) = run(INVOKE, json!({"ResultSelector": selector}));
    assert_eq!(moves, Selection::MovesFromPayload, "this selector moves out of the answer");
    let r = result();
    assert_eq!(
        output(&execution),
        json!({"order": r["order"], "receipt": r["receipt"], "lit": {"k": ["v"]},
               "nested": {"first": {"a": 1}, "third": 3}, "pair": [{"n": 3}, "two"]})
    );
    let whole = task_output(&execution);
    assert_eq!(whole["Payload"], r, "the history shows the result as the function gave it");
    assert_eq!(whole["StatusCode"], json!(200));
}

#[test]
fn a_function_arns_result_is_selected_unwrapped_and_shown_whole() {
    let (execution, moves) =
        run(FUNCTION, json!({"ResultSelector": {"id.$": "$.order.id", "rest.$": "$.list[1]"}, "ResultPath": "$.r"}));
    assert_eq!(moves, Selection::Moves, "a function ARN's result has no envelope");
    assert_eq!(output(&execution), json!({"keep": true, "r": {"id": "A-1", "rest": {"b": 2}}}));
    assert_eq!(task_output(&execution), result());
}

#[test]
fn overlapping_repeated_or_from_the_end_paths_are_copied_and_agree() {
    let cases = [
        (json!({"a.$": "$.order", "b.$": "$.order.id"}), json!({"a": result()["order"], "b": "A-1"})),
        (json!({"a.$": "$.n", "b.$": "$.n"}), json!({"a": 3, "b": 3})),
        (json!({"a.$": "$.list[-1]", "b.$": "$.list[2]"}), json!({"a": {"c": 3}, "b": {"c": 3}})),
        (json!({"all.$": "$", "n.$": "$.n"}), json!({"all": result(), "n": 3})),
        (json!({"skus.$": "$.order.items[*].sku"}), json!({"skus": ["X", "Y"]})),
        (json!({"id.$": "$.order.id", "uuid.$": "States.Format('{}', $.n)"}), json!({"id": "A-1", "uuid": "3"})),
    ];
    for (selector, expected) in cases {
        let (execution, moves) = run(FUNCTION, json!({"ResultSelector": selector}));
        assert_eq!(moves, Selection::Copies, "{selector} copies");
        assert_eq!(output(&execution), expected, "{selector}");
        assert_eq!(task_output(&execution), result(), "{selector}");
    }
}

#[test]
fn an_assign_reads_the_whole_result_so_its_selector_copies() {
    let (execution, moves) =
        run(FUNCTION, json!({"ResultSelector": {"o.$": "$.order.id"}, "Assign": {"n.$": "$.n", "id.$": "$.order.id"}}));
    assert_eq!(moves, Selection::Copies);
    assert_eq!(output(&execution), json!({"o": "A-1"}));
    let events = execution.history.events();
    let exited = events.iter().find(|e| e.kind == EventType::TaskStateExited).unwrap();
    let assigned = &exited.details["stateExitedEventDetails"]["assignedVariables"];
    assert_eq!(assigned, &json!({"n": "3", "id": "\"A-1\""}));
}

#[test]
fn a_missing_path_fails_as_copying_does_and_names_the_whole_result() {
    let (execution, moves) = run(FUNCTION, json!({"ResultSelector": {"id.$": "$.order.id", "x.$": "$.nope"}}));
    assert_eq!(moves, Selection::Moves);
    assert_eq!(execution.status, ExecutionStatus::Failed);
    assert_eq!(execution.error.as_deref(), Some("States.Runtime"));
    let cause = execution.cause.as_deref().unwrap();
    let expected = format!(
        "An error occurred while executing the state 'T' (entered at the event id #2). The JSONPath '$.nope' specified for the field 'x.$' could not be found in the input '{}'",
        result()
    );
    assert_eq!(cause, expected);
    assert_eq!(task_output(&execution), result());
}

#[test]
fn a_missing_path_under_payload_names_the_whole_envelope() {
    let selector = json!({"id.$": "$.Payload.order.id", "x.$": "$.Payload.nope"});
    let (execution, moves) = run(INVOKE, json!({"ResultSelector": selector}));
    assert_eq!(moves, Selection::MovesFromPayload);
    let whole = task_output(&execution);
    assert_eq!(whole["Payload"], result());
    assert_eq!(whole["ExecutedVersion"], json!("$LATEST"));
    let cause = execution.cause.as_deref().unwrap();
    assert!(cause.ends_with(&format!("could not be found in the input '{whole}'")), "{cause}");
}

/// The envelope left to the history is the one a copying selector's
/// history shows, request id included.
#[test]
fn an_envelope_built_when_read_is_the_one_built_at_once() {
    let moving = json!({"order.$": "$.Payload.order", "n.$": "$.Payload.n"});
    let copying =
        json!({"order.$": "$.Payload.order", "n.$": "$.Payload.n", "c.$": "States.Format('{}', $.StatusCode)"});
    let (moved, moves) = run(INVOKE, json!({"ResultSelector": moving}));
    let (copied, copies) = run(INVOKE, json!({"ResultSelector": copying}));
    assert_eq!((moves, copies), (Selection::MovesFromPayload, Selection::Copies));
    let whole = task_output(&copied);
    assert_eq!(task_output(&moved), whole);
    assert_eq!(whole["SdkHttpMetadata"], json!({"HttpStatusCode": 200}));
    assert_eq!(whole["StatusCode"], json!(200));
    assert_eq!(whole["SdkResponseMetadata"]["RequestId"].as_str().map(str::len), Some(36));
    assert_eq!(output(&copied)["c"], json!("200"));
}

/// The 256 KiB quota counts the envelope that is not built yet.
#[test]
fn the_quota_counts_an_envelope_not_built_yet() {
    let selector = json!({"b.$": "$.Payload.big"});
    let copying = json!({"b.$": "$.Payload.big", "c.$": "States.Format('{}', $.StatusCode)"});
    let quota = orderflow_asl::MAX_PAYLOAD_BYTES;
    // The whole result's length for an answer of `n` characters: measured
    // on the copying selector's history.
    let (small, _) = run_answering(json!({"big": ""}), INVOKE, json!({"ResultSelector": copying}));
    let overhead = task_output(&small).to_string().len();
    for (n, ok) in [(quota - overhead, true), (quota - overhead + 1, false)] {
        for template in [&selector, &copying] {
            let answer = json!({"big": "x".repeat(n)});
            let (execution, _) = run_answering(answer, INVOKE, json!({"ResultSelector": template}));
            if ok {
                assert_eq!(execution.status, ExecutionStatus::Succeeded, "{n} {template}: {:?}", execution.cause);
            } else {
                assert_eq!(execution.error.as_deref(), Some("States.DataLimitExceeded"), "{n} {template}");
                assert_eq!(
                    execution.cause.as_deref(),
                    Some(
                        "The state/task 'lambda' returned a result with a size exceeding the maximum number of bytes service limit."
                    ),
                    "{n} {template}"
                );
            }
        }
    }
}
