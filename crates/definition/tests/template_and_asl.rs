//! infra/template.yaml and statemachine/order.asl.json held together: what one
//! names, the other provides, and both agree with the code.

use std::collections::{BTreeMap, BTreeSet};

use orderflow_definition::{Intrinsic, Template, placeholders, substitute, workspace_root};
use orderflow_domain::error::ERROR_TYPES;
use serde_json::Value;

fn template() -> Template {
    Template::load_default().unwrap()
}

fn definition_text() -> String {
    let machine = template().state_machine().unwrap();
    std::fs::read_to_string(&machine.definition_path).unwrap()
}

/// The definition as Step Functions gets it, with made-up ARNs.
fn definition() -> Value {
    let machine = template().state_machine().unwrap();
    let values: BTreeMap<String, String> = machine
        .substitutions
        .keys()
        .map(|k| (k.clone(), format!("arn:aws:lambda:us-east-1:123456789012:function:{k}")))
        .collect();
    serde_json::from_str(&substitute(&definition_text(), &values).unwrap()).unwrap()
}

fn tasks(definition: &Value) -> Vec<(&String, &Value)> {
    definition["States"].as_object().unwrap().iter().filter(|(_, s)| s["Type"] == "Task").collect()
}

#[test]
fn the_state_machine_runs_the_definition_in_this_repository() {
    let machine = template().state_machine().unwrap();
    assert_eq!(
        machine.definition_path.canonicalize().unwrap(),
        workspace_root().join("statemachine/order.asl.json").canonicalize().unwrap()
    );
}

#[test]
fn every_placeholder_is_a_substitution_and_every_substitution_is_used() {
    let machine = template().state_machine().unwrap();
    let used = placeholders(&definition_text());
    let provided: BTreeSet<String> = machine.substitutions.keys().cloned().collect();
    assert_eq!(used, provided);
}

#[test]
fn every_function_is_reached_by_the_state_machine_and_may_be_invoked_by_it() {
    let template = template();
    let machine = template.state_machine().unwrap();
    let functions: BTreeSet<String> = template.functions().into_iter().map(|f| f.logical_id).collect();
    assert_eq!(functions.len(), 3);
    let substituted: BTreeSet<String> = machine
        .substitutions
        .values()
        .filter_map(|v| match v {
            Intrinsic::GetAtt(resource, attribute) if attribute == "Arn" => Some(resource.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(substituted, functions, "each function's ARN is a DefinitionSubstitution");
    assert_eq!(machine.invokable_functions, functions, "a LambdaInvokePolicy for each function, and no other");
}

#[test]
fn each_function_builds_its_own_workspace_binary() {
    let binaries: BTreeSet<String> = template().functions().into_iter().filter_map(|f| f.binary).collect();
    let expected = BTreeSet::from(["validate_data", "process_order", "send_notification"].map(str::to_owned));
    assert_eq!(binaries, expected);
    for binary in &expected {
        assert!(workspace_root().join("functions").join(binary).join("src/main.rs").exists(), "{binary}");
    }
}

#[test]
fn the_functions_get_the_environment_their_code_reads() {
    let template = template();
    let env: BTreeMap<String, BTreeSet<String>> = template
        .functions()
        .into_iter()
        .map(|f| (f.binary.unwrap_or_default(), f.environment.into_keys().collect()))
        .collect();
    let table = orderflow_lambda::ORDERS_TABLE.to_owned();
    let topic = orderflow_lambda::NOTIFICATION_TOPIC_ARN.to_owned();
    assert_eq!(env["validate_data"], BTreeSet::new());
    assert_eq!(env["process_order"], BTreeSet::from([table.clone()]));
    assert_eq!(env["send_notification"], BTreeSet::from([table, topic]));
}

#[test]
fn the_table_key_is_the_one_the_adapter_writes() {
    let template = template();
    let table = template.resource("OrdersTable").unwrap();
    let properties = &table["Properties"];
    assert_eq!(properties["KeySchema"][0]["AttributeName"].as_str(), Some("order_id"));
    assert_eq!(properties["KeySchema"][0]["KeyType"].as_str(), Some("HASH"));
    assert_eq!(properties["AttributeDefinitions"][0]["AttributeType"].as_str(), Some("S"));
    assert_eq!(properties["KeySchema"].as_sequence().unwrap().len(), 1);
}

#[test]
fn every_task_uses_the_optimized_lambda_integration_with_a_timeout() {
    let definition = definition();
    assert!(definition["TimeoutSeconds"].as_u64().is_some_and(|t| t > 0));
    let tasks = tasks(&definition);
    assert_eq!(tasks.len(), 4);
    for (name, task) in tasks {
        assert_eq!(task["Resource"], "arn:aws:states:::lambda:invoke", "{name}");
        assert!(task["Parameters"]["FunctionName"].as_str().unwrap().starts_with("arn:aws:lambda:"), "{name}");
        assert!(task["TimeoutSeconds"].as_u64().is_some_and(|t| (1..=60).contains(&t)), "{name}");
        assert!(task["ResultSelector"].is_object(), "{name}: the result is unwrapped from Payload");
    }
}

#[test]
fn every_task_retries_lambda_service_errors_with_full_jitter() {
    let service_errors = [
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
    ];
    for (name, task) in tasks(&definition()) {
        let retriers = task["Retry"].as_array().unwrap();
        let lambda = retriers.iter().find(|r| r["ErrorEquals"][0] == "Lambda.ServiceException").unwrap();
        let errors: Vec<&str> = lambda["ErrorEquals"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
        assert_eq!(errors, service_errors, "{name}");
        for retrier in retriers {
            assert_eq!(retrier["JitterStrategy"], "FULL", "{name}");
            assert!(retrier["MaxDelaySeconds"].as_u64().is_some(), "{name}");
            assert!(retrier["BackoffRate"].as_f64().is_some_and(|b| b > 1.0), "{name}");
        }
    }
}

#[test]
fn the_steps_that_call_aws_retry_dependency_unavailable_and_validation_does_not() {
    let definition = definition();
    for (name, task) in tasks(&definition) {
        let retries_dependency = task["Retry"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["ErrorEquals"].as_array().unwrap().iter().any(|e| e == "DependencyUnavailable"));
        assert_eq!(retries_dependency, name != "ValidateData", "{name}");
    }
}

#[test]
fn every_error_name_matched_is_one_the_functions_raise_or_a_service_error() {
    let definition = definition();
    for (name, state) in definition["States"].as_object().unwrap() {
        for list in ["Retry", "Catch"] {
            for entry in state[list].as_array().into_iter().flatten() {
                for error in entry["ErrorEquals"].as_array().unwrap() {
                    let error = error.as_str().unwrap();
                    assert!(
                        ERROR_TYPES.contains(&error)
                            || error.starts_with("Lambda.")
                            || error.starts_with("States.")
                            // Lambda's errorType for a function it stopped at its timeout.
                            || error == "Sandbox.Timedout",
                        "{name}.{list}: {error} is raised by nothing"
                    );
                }
            }
        }
    }
}

#[test]
fn a_rejection_notifies_the_customer_then_fails_keeping_the_cause() {
    let definition = definition();
    let states = &definition["States"];
    let catch = &states["ValidateData"]["Catch"][0];
    assert_eq!(catch["ErrorEquals"][0], "OrderValidationFailed");
    assert_eq!(catch["Next"], "SendRejectionNotice");
    assert_eq!(states["SendRejectionNotice"]["Next"], "OrderRejected");
    assert_eq!(states["OrderRejected"]["Type"], "Fail");
    assert_eq!(states["OrderRejected"]["CausePath"], "$.error.Cause");
    assert_eq!(states["OrderConflict"]["Error"], "OrderConflict");
    assert_eq!(states["OrderFailed"]["ErrorPath"], "$.error.Error");
}

/// One confirmation per order rests on three things the template must keep:
/// a FIFO topic (a notice sent again is delivered once), a claim that
/// outlives the function that holds it, and a state machine that gives the
/// function its whole Lambda timeout before it times the task out.
#[test]
fn notifications_go_to_a_fifo_topic_under_a_claim_that_outlives_its_holder() {
    let template = template();
    let topic = template.resource("NotificationTopic").unwrap()["Properties"].clone();
    assert_eq!(topic["FifoTopic"].as_bool(), Some(true));
    assert_eq!(topic["ContentBasedDeduplication"].as_bool(), Some(false));
    assert!(topic["TopicName"].as_str().is_some_and(|n| n.ends_with(".fifo")));

    let lambda_timeout = template.function_timeout("SendNotificationFunction").unwrap();
    let lease = u64::try_from(orderflow_domain::ports::CLAIM_LEASE_SECONDS).unwrap();
    assert!(lease > lambda_timeout, "claim lease {lease} s must outlast the Lambda timeout {lambda_timeout} s");
    let definition = definition();
    for state in ["SendNotification", "SendRejectionNotice"] {
        let task_timeout = definition["States"][state]["TimeoutSeconds"].as_u64().unwrap();
        assert!(
            task_timeout >= lambda_timeout,
            "{state}: TimeoutSeconds {task_timeout} < Lambda timeout {lambda_timeout}"
        );
    }
}

/// The time budgets nest: the SDK's per-call limit and the margin to answer
/// fit inside the Lambda timeout; the state machine waits out the Lambda
/// timeout; and a function that was killed anyway (`Sandbox.Timedout`) is
/// retried like any unavailable dependency, which is safe because every step
/// that writes is idempotent (a conditional write, a claim).
#[test]
fn timeouts_nest_and_a_timed_out_function_is_retried() {
    let template = template();
    let definition = definition();
    let margin = orderflow_lambda::ANSWER_MARGIN;
    for (state, function) in [
        ("ValidateData", "ValidateDataFunction"),
        ("ProcessOrder", "ProcessOrderFunction"),
        ("SendNotification", "SendNotificationFunction"),
        ("SendRejectionNotice", "SendNotificationFunction"),
    ] {
        let lambda = std::time::Duration::from_secs(template.function_timeout(function).unwrap());
        assert!(orderflow_aws::OPERATION_TIMEOUT + margin <= lambda, "{function}: {lambda:?}");
        let task = &definition["States"][state];
        assert!(task["TimeoutSeconds"].as_u64().unwrap() >= lambda.as_secs(), "{state}");
        if state != "ValidateData" {
            let retried: Vec<&str> = task["Retry"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| r["ErrorEquals"].as_array().unwrap().iter().filter_map(Value::as_str))
                .collect();
            for error in ["DependencyUnavailable", "Sandbox.Timedout"] {
                assert!(retried.contains(&error), "{state} does not retry {error}");
            }
        }
    }
    assert!(
        send_notification::PUBLISH_RESERVE >= orderflow_aws::ATTEMPT_TIMEOUT,
        "a publish is started only with its whole attempt time left"
    );
}
