//! The context object as AWS builds it, in both query languages: an
//! EXPRESS execution's (its `express:` execution ARN, no `RedriveCount`)
//! against a STANDARD one's, and a Map iteration's `Map.Item`. And what AWS
//! leaves to run time: a JSONata expression naming a variable nobody set
//! loads (and lints clean) and fails only when it runs.

use orderflow_asl::{
    BoxFuture, Execution, ExecutionOptions, ExecutionStatus, Executor, Invoker, MachineType, TaskFailure, VirtualClock,
    parse,
};
use orderflow_value::{Value, json};

struct NoTasks;

impl Invoker for NoTasks {
    fn invoke<'a>(&'a self, _: &'a str, _: &'a Value) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        Box::pin(async { Err(TaskFailure { error: "NoTasks".into(), cause: "no task runs here".into() }) })
    }
}

fn run(definition: Value, input: Value, machine_type: MachineType) -> Execution {
    let machine = parse(&definition).expect("the definition loads");
    let clock = VirtualClock::default();
    let options = ExecutionOptions {
        name: "exec-1".into(),
        state_machine_name: "shop".into(),
        machine_type,
        ..Default::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    runtime.block_on(Executor::new(&machine, &NoTasks, &clock, options).run(input))
}

fn output(execution: &Execution) -> Value {
    assert_eq!(execution.status, ExecutionStatus::Succeeded, "{:?} {:?}", execution.error, execution.cause);
    (**execution.output.as_ref().expect("an output")).clone()
}

#[test]
fn an_express_executions_context_has_its_express_arn_and_no_redrive_count() {
    let jsonpath = json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "Parameters": {"execution.$": "$$.Execution"}, "End": true}}});
    let jsonata = json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {"Type": "Pass",
        "Output": {"execution": "{% $states.context.Execution %}"}, "End": true}}});
    for definition in [jsonpath, jsonata] {
        let express = output(&run(definition.clone(), json!({"n": 1}), MachineType::Express));
        let execution = &express["execution"];
        let id = execution["Id"].as_str().unwrap();
        // AWS's EXPRESS execution ARN: `...:express:<machine>:<name>:<id>`.
        assert!(id.starts_with("arn:aws:states:") && id.contains(":express:shop:exec-1:"), "{id}");
        assert!(execution.get("RedriveCount").is_none(), "{execution}");
        assert_eq!(execution["Input"], json!({"n": 1}));

        let standard = output(&run(definition, json!({"n": 1}), MachineType::Standard));
        let execution = &standard["execution"];
        assert!(execution["Id"].as_str().unwrap().ends_with(":execution:shop:exec-1"), "{execution}");
        assert_eq!(execution["RedriveCount"], json!(0));
    }
}

#[test]
fn a_map_iterations_item_context_in_both_query_languages() {
    let input = json!({"lines": [{"sku": "a"}, {"sku": "b"}]});
    let jsonpath = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.lines",
        "ItemSelector": {"index.$": "$$.Map.Item.Index", "value.$": "$$.Map.Item.Value", "sku.$": "$$.Map.Item.Value.sku"},
        "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true}}});
    let jsonata = json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {"Type": "Map",
        "Items": "{% $states.input.lines %}",
        "ItemSelector": {"index": "{% $states.context.Map.Item.Index %}", "value": "{% $states.context.Map.Item.Value %}",
            "sku": "{% $states.context.Map.Item.Value.sku %}"},
        "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true}}});
    let expected = json!([
        {"index": 0, "value": {"sku": "a"}, "sku": "a"},
        {"index": 1, "value": {"sku": "b"}, "sku": "b"}
    ]);
    for definition in [jsonpath, jsonata] {
        assert_eq!(output(&run(definition, input.clone(), MachineType::Standard)), expected);
    }
}

#[test]
fn an_unset_variable_in_jsonata_loads_and_fails_at_run_time() {
    let definition = json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {"Type": "Pass",
        "Output": {"total": "{% $price * 2 %}"}, "End": true}}});
    let machine = parse(&definition).expect("AWS accepts it at CreateStateMachine");
    assert!(orderflow_asl::lint::lint(&machine).is_empty(), "lint leaves it to run time");
    let failed = run(definition, json!({}), MachineType::Standard);
    assert_eq!(failed.status, ExecutionStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("States.QueryEvaluationError"));
    let cause = failed.cause.as_deref().unwrap_or_default();
    assert!(cause.contains("The JSONata expression '$price * 2' specified for the field 'Output/total'"), "{cause}");
}
