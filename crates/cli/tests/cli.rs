//! The `orderflow` binary as a person meets it: --help and --version on every
//! command, a flag a command does not take refused, paths found from any
//! subfolder, findings placed at file:line:column, the graph in the order
//! written with Parallel branches and Map processors as subgraphs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn orderflow(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orderflow")).args(args).current_dir(dir).output().expect("orderflow runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_command_answers_help_and_version() {
    let version = orderflow(&["--version"], &root());
    assert!(version.status.success());
    assert_eq!(text(&version.stdout).trim(), format!("orderflow {}", env!("CARGO_PKG_VERSION")));
    for (command, flag) in
        [("run", "--lambda-endpoint"), ("lint", "--output"), ("graph", "--template"), ("completions", "<SHELL>")]
    {
        let help = orderflow(&[command, "--help"], &root());
        assert!(help.status.success(), "{command} --help: {}", text(&help.stderr));
        assert!(text(&help.stdout).contains(flag), "{command} --help lacks {flag}: {}", text(&help.stdout));
    }
    assert!(orderflow(&["run", "--version"], &root()).status.success());
}

#[test]
fn a_flag_the_command_does_not_take_is_an_error() {
    let out = orderflow(&["lint", "--virtual-time"], &root());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--virtual-time"), "{}", text(&out.stderr));
}

#[test]
fn lint_works_from_a_subfolder() {
    let out = orderflow(&["lint"], &root().join("crates/cli/src"));
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("0 finding(s)"));
}

fn write_definition(name: &str, body: &str) -> PathBuf {
    write_in("files", name, body)
}

/// A file in a folder of this test run's own, `folder` apart from the other tests'.
fn write_in(folder: &str, name: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("orderflow-cli-{}", std::process::id())).join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

#[test]
fn findings_carry_file_line_and_column() {
    let path = write_definition(
        "dangling.json",
        "{\n  \"StartAt\": \"A\",\n  \"States\": {\n    \"A\": {\"Type\": \"Pass\", \"Next\": \"Nowhere\"},\n    \"B\": {\"Type\": \"Succeed\"}\n  }\n}\n",
    );
    let out = orderflow(&["lint", "--definition", path.to_str().unwrap()], &root());
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains(&format!("{}:4:", path.display())), "{stdout}");
    assert!(stdout.contains("States.A.Next"), "{stdout}");
    let json = orderflow(&["lint", "--output", "json", "--definition", path.to_str().unwrap()], &root());
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(report["findings"][0]["line"], 4, "{report}");
}

#[test]
fn the_graph_keeps_the_written_order_and_draws_subgraphs() {
    let path = write_definition(
        "fan.json",
        r#"{"StartAt": "Zeta", "States": {
            "Zeta": {"Type": "Pass", "Next": "Fan"},
            "Fan": {"Type": "Parallel", "Next": "Alpha", "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": true}}},
                {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": true}}}]},
            "Alpha": {"Type": "Succeed"}}}"#,
    );
    let out = orderflow(&["graph", "--definition", path.to_str().unwrap()], &root());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let graph = text(&out.stdout);
    let at = |needle: &str| graph.find(needle).unwrap_or_else(|| panic!("{needle} missing from\n{graph}"));
    assert!(at("    Zeta([") < at("    Fan([") && at("    Fan([") < at("    Alpha(["), "{graph}");
    assert!(graph.contains("subgraph Fan_branch_1 [\"Fan: branch 1\"]"), "{graph}");
    assert!(graph.contains("subgraph Fan_branch_2"), "{graph}");
}

#[test]
fn completions_are_printed() {
    let out = orderflow(&["completions", "bash"], &root());
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("orderflow"));
}

/// A copy of the order workflow's test file, with `edit` applied, beside a copy of its mock file.
fn order_tests_with(
    folder: &str,
    edit: impl FnOnce(&mut serde_json::Value),
    mock_edit: impl FnOnce(&mut serde_json::Value),
) -> PathBuf {
    let read = |p: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(root().join(p)).unwrap()).unwrap()
    };
    let mut tests = read("statemachine/order.tests.json");
    let mut mock = read("statemachine/order.mock.json");
    edit(&mut tests);
    mock_edit(&mut mock);
    let events = root().join("events");
    for case in tests["TestCases"].as_object_mut().unwrap().values_mut() {
        if let Some(file) = case["InputFile"].as_str() {
            case["InputFile"] = serde_json::json!(events.join(Path::new(file).file_name().unwrap()));
        }
    }
    write_in(folder, "order.mock.json", &mock.to_string());
    write_in(folder, "order.tests.json", &tests.to_string())
}

#[test]
fn the_order_workflows_cases_pass_at_full_coverage() {
    let junit = std::env::temp_dir().join(format!("orderflow-junit-{}.xml", std::process::id()));
    let out = orderflow(&["test", "--min-coverage", "100", "--junit", junit.to_str().unwrap()], &root());
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains(": 100.0%"), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testsuite") && xml.contains("failures=\"0\"") && xml.contains("name=\"HappyPath\""),
        "{xml}"
    );
}

#[test]
fn a_broken_expectation_fails_with_the_difference() {
    let file = order_tests_with(
        "broken",
        |t| t["TestCases"]["HappyPath"]["Expect"]["Output"]["status"] = "SHIPPED".into(),
        |_| {},
    );
    let out = orderflow(&["test", file.to_str().unwrap()], &root());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL  HappyPath"), "{stdout}");
    assert!(stdout.contains("output differs: $.status is \"NOTIFIED\", expected \"SHIPPED\""), "{stdout}");
    assert!(stdout.contains("8 passed, 1 failed"), "{stdout}");
}

#[test]
fn coverage_below_the_minimum_fails() {
    let file = order_tests_with(
        "coverage",
        |t| {
            let cases = t["TestCases"].as_object_mut().unwrap();
            cases.retain(|name, _| name == "HappyPath");
        },
        |_| {},
    );
    let out = orderflow(&["test", file.to_str().unwrap(), "--min-coverage", "100"], &root());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("not covered: ") && stdout.contains("OrderConflict"), "{stdout}");
}

#[test]
fn a_malformed_mock_file_is_refused_naming_the_entry() {
    let file = order_tests_with(
        "malformed",
        |_| {},
        |m| {
            m["MockedResponses"]["ProcessOk"]["one"] = serde_json::json!({"Return": {}});
        },
    );
    let out = orderflow(&["test", file.to_str().unwrap()], &root());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("MockedResponses.ProcessOk.\"one\""), "{stderr}");
    assert!(text(&out.stdout).is_empty(), "nothing runs: {}", text(&out.stdout));
}

/// `orderflow test` on another template's state machine: a service Task the
/// case does not mock fails it by name, as an unmocked function does.
#[test]
fn an_unmocked_service_task_fails_the_case_by_name() {
    let template = root().join("crates/cli/tests/fixtures/user-app/template.yaml");
    let mock = serde_json::json!({
        "StateMachines": {"fulfil-test": {"TestCases": {"Partly": {"Put": "Stored"}}}},
        "MockedResponses": {"Stored": {"0": {"Return": {}}}}
    });
    write_in("unmocked", "user.mock.json", &mock.to_string());
    let tests = serde_json::json!({
        "StateMachine": "fulfil-test",
        "MockConfigFile": "user.mock.json",
        "TestCases": {"Partly": {"Input": {"id": "o-1", "items": []}, "Expect": {"Status": "FAILED"}}}
    });
    let file = write_in("unmocked", "user.tests.json", &tests.to_string());
    let out = orderflow(
        &["test", "--template", template.to_str().unwrap(), "--state-machine", "Fulfil", file.to_str().unwrap()],
        &root(),
    );
    let stdout = text(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("a task called dynamodb:putItem, which this case does not mock"), "{stdout}");
}

/// AWS's other optimized integrations (ECS, Batch, Glue, API Gateway, ...)
/// load, with the patterns AWS gives each, and are refused by name where
/// they would run: this machine has no AWS compute (they run with a mock).
#[test]
fn an_integration_that_needs_aws_compute_is_named_by_lint() {
    let definition = serde_json::json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::ecs:runTask.sync", "Parameters": {"Cluster": "c"}, "Next": "A"},
        "A": {"Type": "Task", "Resource": "arn:aws:states:::apigateway:invoke.waitForTaskToken", "Parameters": {"ApiEndpoint": "x"}, "End": true}
    }});
    let file = write_in("compute", "ecs.asl.json", &definition.to_string());
    let out = orderflow(&["lint", "--definition", file.to_str().unwrap()], &root());
    let stdout = text(&out.stdout) + &text(&out.stderr);
    assert!(!out.status.success(), "{stdout}");
    for named in
        ["ecs:runTask.sync runs on AWS's own compute", "apigateway:invoke.waitForTaskToken runs on AWS's own compute"]
    {
        assert!(stdout.contains(named), "{named}: {stdout}");
    }
    let wrong = serde_json::json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::apigateway:invoke.sync", "End": true}
    }});
    let file = write_in("compute", "wrong.asl.json", &wrong.to_string());
    let out = orderflow(&["lint", "--definition", file.to_str().unwrap()], &root());
    assert!(
        text(&out.stderr).contains("does not support the .sync pattern")
            || text(&out.stdout).contains("does not support the .sync pattern")
    );
}
