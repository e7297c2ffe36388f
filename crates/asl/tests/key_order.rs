//! Object keys keep the input's order, as AWS keeps them: in JSONata's
//! functions that list keys (`$keys`, `$each`, `$spread`, `$sift`, `*`,
//! `$string`), in intrinsics that write JSON, and in every state's output.
//! Each case's input lists its keys out of name order, so a value that
//! sorted keys (as serde_json's maps do) fails it.

use orderflow_asl::{
    BoxFuture, Execution, ExecutionOptions, ExecutionStatus, Executor, Invoker, TaskFailure, VirtualClock, parse,
};
use orderflow_value::Value;

struct NoTasks;

impl Invoker for NoTasks {
    fn invoke<'a>(&'a self, _: &'a str, _: &'a Value) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        Box::pin(async { Err(TaskFailure { error: "NoTasks".into(), cause: "no task runs here".into() }) })
    }
}

const INPUT: &str = r#"{"zeta": 1, "alpha": {"y": true, "b": null}, "mid": "m"}"#;

fn run(definition: &str) -> Execution {
    let machine = parse(&orderflow_value::parse(definition).expect("JSON")).expect("the definition loads");
    let input = orderflow_value::parse(INPUT).expect("JSON");
    let clock = VirtualClock::default();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    runtime.block_on(Executor::new(&machine, &NoTasks, &clock, ExecutionOptions::default()).run(input))
}

/// The output of a one-state JSONata machine whose Output is `expression`, as JSON text.
fn jsonata(expression: &str) -> String {
    let definition = format!(
        r#"{{"QueryLanguage": "JSONata", "StartAt": "S", "States": {{"S": {{"Type": "Pass", "Output": "{{% {expression} %}}", "End": true}}}}}}"#
    );
    output(&run(&definition))
}

fn output(execution: &Execution) -> String {
    assert_eq!(execution.status, ExecutionStatus::Succeeded, "{:?} {:?}", execution.error, execution.cause);
    execution.output.as_deref().expect("an output").to_json()
}

#[test]
fn keys_lists_names_in_input_order() {
    assert_eq!(jsonata("$keys($states.input)"), r#"["zeta","alpha","mid"]"#);
    assert_eq!(jsonata("$keys($states.input.alpha)"), r#"["y","b"]"#);
}

#[test]
fn each_visits_members_in_input_order() {
    assert_eq!(jsonata("$each($states.input, function($v, $k) { $k })"), r#"["zeta","alpha","mid"]"#);
}

#[test]
fn spread_splits_in_input_order() {
    assert_eq!(jsonata("$spread($states.input.alpha)"), r#"[{"y":true},{"b":null}]"#);
}

#[test]
fn sift_keeps_input_order() {
    assert_eq!(jsonata("$sift($states.input, function($v, $k) { $k != 'alpha' })"), r#"{"zeta":1,"mid":"m"}"#);
}

#[test]
fn wildcard_selects_in_input_order() {
    assert_eq!(jsonata("[$states.input.*]"), r#"[1,{"y":true,"b":null},"m"]"#);
}

#[test]
fn string_writes_in_input_order() {
    assert_eq!(jsonata("$string($states.input.alpha)"), r#""{\"y\":true,\"b\":null}""#);
}

#[test]
fn jsonpath_outputs_and_intrinsics_keep_input_order() {
    let execution = run(
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"copy.$": "$", "text.$": "States.JsonToString($.alpha)"}, "ResultPath": "$.out", "End": true}}}"#,
    );
    assert_eq!(
        output(&execution),
        r#"{"zeta":1,"alpha":{"y":true,"b":null},"mid":"m","out":{"copy":{"zeta":1,"alpha":{"y":true,"b":null},"mid":"m"},"text":"{\"y\":true,\"b\":null}"}}"#
    );
}
