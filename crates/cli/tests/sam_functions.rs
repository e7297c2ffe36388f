//! A SAM application's own functions, run by `orderflow serve` and
//! `orderflow run` as Lambda runs them: each Python handler its own process
//! under the Python runtime interface client, behind a Lambda Runtime API,
//! with the template's Globals and environment; its answers and its errors'
//! payloads reach the state machine byte for byte.
//!
//! The last test runs a SAM application nobody here wrote: the Step
//! Functions sample of aws-sam-cli-app-templates (Apache-2.0), made with
//! `sam init` from a checkout of that repository named by
//! `SAM_APP_TEMPLATES` (a work tree or a git directory). Without one it
//! says so and checks nothing.

#[path = "../../server/tests/support/aws_cli.rs"]
mod aws_cli;
#[path = "support/serve_binary.rs"]
mod serve_binary;

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_cli::{ok, on_moto, started, until_done, venv};
use serde_json::{Value, json};
use serve_binary::{address, moto_of, serve};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/functions-app/template.yaml")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("orderflow-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A UUID's shape, as Lambda's request ids have.
fn uuid_shaped(text: &str) -> bool {
    let parts: Vec<usize> = text.split('-').map(str::len).collect();
    parts == [8, 4, 4, 4, 12] && text.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sam_template_s_functions_run_under_serve_as_lambda_runs_them() {
    let dir = scratch("functions-app");
    let serve = serve(&dir, &["--template", fixture().to_str().unwrap()]);
    let endpoint = address(&serve);
    let moto = moto_of(&serve);
    assert!(serve.lines[0].contains("the template's functions through the Lambda Invoke API at"), "{:?}", serve.lines);
    assert!(serve.lines.last().unwrap().ends_with("--input '{}'"), "{:?}", serve.lines);
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:greeting";

    let done = until_done(&endpoint, &started(&endpoint, machine, r#"{"name": "Ada"}"#)).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    // The function's own bytes: its keys in the order it wrote them. The
    // environment is the template's (Globals and its own), the context names it.
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:GreeterFunction";
    assert_eq!(
        done["output"].as_str().unwrap(),
        format!(
            r#"{{"zone":"greeter","name":"Ada","text":"Hello, Ada","table":"GreetingsTable","function":"GreeterFunction","invoked":"{arn}","checked":true}}"#
        )
    );
    let item = on_moto(
        &moto,
        "dynamodb",
        &["get-item", "--table-name", "GreetingsTable", "--key", r#"{"name": {"S": "Ada"}}"#],
    );
    assert_eq!(item["Item"]["text"], json!({"S": "Hello, Ada"}), "{item}");

    // The functions' Invoke API is Lambda's: the AWS CLI invokes a function
    // there, and `--log-type Tail` gives the end of its log (START, what it
    // printed, END, REPORT).
    let lambda = serve.lines[0].split("Lambda Invoke API at ").nth(1).unwrap().split(';').next().unwrap().to_owned();
    let answer_file = dir.join("answer.json");
    let (code, invoked, err) = aws_cli::aws_service(
        &lambda,
        "lambda",
        &[
            "invoke",
            "--function-name",
            arn,
            "--log-type",
            "Tail",
            "--payload",
            r#"{"name": "Lin"}"#,
            answer_file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(invoked["StatusCode"], 200, "{invoked}");
    let answer: Value = serde_json::from_slice(&std::fs::read(&answer_file).unwrap()).unwrap();
    assert_eq!(answer["text"], "Hello, Lin");
    use base64::Engine;
    let log = base64::engine::general_purpose::STANDARD.decode(invoked["LogResult"].as_str().unwrap()).unwrap();
    let log = String::from_utf8(log).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines[0].starts_with("START RequestId: ") && lines[0].ends_with(" Version: $LATEST"), "{log}");
    assert!(lines.contains(&"greeting Lin"), "{log}");
    assert!(lines[lines.len() - 2].starts_with("END RequestId: "), "{log}");
    assert!(
        lines[lines.len() - 1].starts_with("REPORT RequestId: ") && log.contains("\tMemory Size: 128 MB\t"),
        "{log}"
    );

    // A Node.js function, under orderflow's runtime client for Node.js: its
    // answer, its console line as Lambda writes it, and a thrown error as
    // Lambda's Node.js runtime shapes it.
    let invoke = |payload: &str| {
        let file = answer_file.to_str().unwrap();
        let args = ["invoke", "--function-name", "ReporterFunction", "--log-type", "Tail", "--payload", payload, file];
        let (code, invoked, err) = aws_cli::aws_service(&lambda, "lambda", &args);
        assert_eq!(code, 0, "{err}");
        let answer: Value = serde_json::from_slice(&std::fs::read(&answer_file).unwrap()).unwrap();
        let log = base64::engine::general_purpose::STANDARD.decode(invoked["LogResult"].as_str().unwrap()).unwrap();
        (invoked, answer, String::from_utf8(log).unwrap())
    };
    let (invoked, answer, log) = invoke(r#"{"name": "Ada"}"#);
    assert_eq!(invoked.get("FunctionError"), None, "{invoked}");
    assert_eq!(answer, json!({"report": "Ada was greeted", "by": "ReporterFunction", "left": true}));
    let line = log.lines().find(|l| l.ends_with("\tINFO\treporting Ada")).unwrap_or_else(|| panic!("{log}"));
    let id = line.split('\t').nth(1).unwrap();
    assert!(uuid_shaped(id) && log.starts_with(&format!("START RequestId: {id} ")), "{log}");
    let (invoked, answer, _) = invoke(r#"{"name": "Ada", "refuse": true}"#);
    assert_eq!(invoked["FunctionError"], "Unhandled", "{invoked}");
    assert_eq!(answer["errorType"], "ReportRefused", "{answer}");
    assert_eq!(answer["errorMessage"], "no report for Ada");
    assert!(answer["trace"][0].as_str().unwrap().starts_with("ReportRefused: no report for Ada"), "{answer}");
    // A custom runtime's bootstrap, run as it is.
    let file = answer_file.to_str().unwrap();
    let args = ["invoke", "--function-name", "CustomFunction", "--payload", r#"{"n": 1}"#, file];
    let (code, _, err) = aws_cli::aws_service(&lambda, "lambda", &args);
    assert_eq!(code, 0, "{err}");
    let answer: Value = serde_json::from_slice(&std::fs::read(&answer_file).unwrap()).unwrap();
    assert_eq!(answer, json!({"bootstrap": "custom", "handler": "bootstrap", "event": {"n": 1}}));
    // Code given inline in the template.
    let args = ["invoke", "--function-name", "InlineFunction", "--payload", "{}", file];
    let (code, _, err) = aws_cli::aws_service(&lambda, "lambda", &args);
    assert_eq!(code, 0, "{err}");
    let answer: Value = serde_json::from_slice(&std::fs::read(&answer_file).unwrap()).unwrap();
    assert_eq!(answer, json!({"inline": true, "table": "GreetingsTable"}));
    // Layers, as Lambda extracts them into /opt: Python imports from a
    // layer's python/ (the later layer's module over the earlier's, the
    // Globals' layer first), runs a layer's bin/ program from the PATH;
    // Node.js requires a layer's package; a custom runtime's bootstrap comes
    // from a layer.
    let invoked_answer = |function: &str, payload: &str| {
        let args = ["invoke", "--function-name", function, "--payload", payload, file];
        let (code, invoked, err) = aws_cli::aws_service(&lambda, "lambda", &args);
        assert_eq!(code, 0, "{err}");
        assert_eq!(invoked.get("FunctionError"), None, "{function}: {invoked}");
        serde_json::from_slice::<Value>(&std::fs::read(&answer_file).unwrap()).unwrap()
    };
    // /opt itself, in the function's process alone: its two layers merged
    // (the later one's module in place of the earlier's); one layer's
    // package required by its path there.
    assert_eq!(
        invoked_answer("LayeredFunction", r#"{"name": "Ada"}"#),
        json!({"source": "newer", "shout": "ADA!!", "tool": "common tool", "opt": ["bin", "nodejs", "python"], "opt_module": "newer"})
    );
    assert_eq!(
        invoked_answer("LayeredNodeFunction", r#"{"name": "Ada"}"#),
        json!({"source": "common", "shout": "ADA!", "byPath": "common"})
    );
    // The machine's own /opt is as it was.
    assert!(
        !Path::new("/opt/python/common_text.py").exists()
            && !Path::new("/opt/nodejs/node_modules/common-text").exists()
    );
    assert_eq!(
        invoked_answer("EsmLayeredFunction", r#"{"name": "Ada"}"#),
        json!({"source": "common", "shout": "ADA!", "module": "esm"})
    );
    assert_eq!(
        invoked_answer("LayerRuntimeFunction", r#"{"n": 2}"#),
        json!({"bootstrap": "custom", "handler": "bootstrap", "event": {"n": 2}})
    );
    // A handler its module does not export: Lambda's init error, by name, as the function's error.
    let args = ["invoke", "--function-name", "UnexportedFunction", "--payload", "{}", file];
    let (code, invoked, err) = aws_cli::aws_service(&lambda, "lambda", &args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(invoked["FunctionError"], "Unhandled", "{invoked}");
    let answer: Value = serde_json::from_slice(&std::fs::read(&answer_file).unwrap()).unwrap();
    assert_eq!(answer["errorType"], "Runtime.HandlerNotFound", "{answer}");
    assert_eq!(answer["errorMessage"], "index.missing is undefined or not exported");

    // A Python exception is the Task's error, named by its class; the
    // function's error payload is the Cause, as the runtime client posted it.
    let long = "Bartholomew the Great";
    let done = until_done(&endpoint, &started(&endpoint, machine, &json!({"name": long}).to_string())).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["refused"]["Error"], "NameTooLong", "{output}");
    let cause: Value = serde_json::from_str(output["refused"]["Cause"].as_str().unwrap()).unwrap();
    assert_eq!(cause["errorType"], "NameTooLong");
    assert_eq!(cause["errorMessage"], format!("'{long}' is longer than 10 characters"));
    assert!(uuid_shaped(cause["requestId"].as_str().unwrap()), "{cause}");
    let trace = cause["stackTrace"].as_array().unwrap();
    assert!(trace.iter().any(|line| line.as_str().unwrap().contains("functions/strict/app.py")), "{cause}");
    let history = ok(&endpoint, &["get-execution-history", "--execution-arn", done["executionArn"].as_str().unwrap()]);
    let failed: Vec<&Value> =
        history["events"].as_array().unwrap().iter().filter(|e| e["type"] == "TaskFailed").collect();
    assert_eq!(failed.len(), 1, "{history}");
    assert_eq!(failed[0]["taskFailedEventDetails"]["error"], "NameTooLong");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invocations_at_once_scale_out_and_past_reserved_concurrency_are_throttled() {
    let dir = scratch("functions-app-scaling");
    let serve = serve(&dir, &["--template", fixture().to_str().unwrap()]);
    let endpoint = address(&serve);
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:scaling";
    let done = until_done(&endpoint, &started(&endpoint, machine, r#"{"items": [1, 2, 3, 4]}"#)).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    // Four invocations at once, each a second long: four execution
    // environments, each its own process, as Lambda scales out.
    let pids: std::collections::BTreeSet<u64> =
        output[0].as_array().unwrap().iter().map(|answer| answer["pid"].as_u64().unwrap()).collect();
    assert_eq!(pids.len(), 4, "{output}");
    // ReservedConcurrentExecutions: 1. While one invocation runs, the others
    // are throttled as Lambda throttles them, caught by name.
    let reserved = output[1].as_array().unwrap();
    let ran: Vec<&Value> = reserved.iter().filter(|answer| answer.get("pid").is_some()).collect();
    assert_eq!(ran.len(), 1, "{output}");
    for throttled in reserved.iter().filter(|answer| answer.get("pid").is_none()) {
        assert_eq!(throttled["Error"], "Lambda.TooManyRequestsException", "{output}");
        assert!(
            throttled["Cause"].as_str().unwrap().starts_with("Rate Exceeded. (Service: AWSLambda; Status Code: 429;")
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_that_exits_or_outlasts_its_timeout_fails_as_lambda_says_and_starts_again() {
    let dir = scratch("functions-app-fragile");
    let serve = serve(&dir, &["--template", fixture().to_str().unwrap()]);
    let endpoint = address(&serve);
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:fragile";
    let run = async |input: Value| {
        let done = until_done(&endpoint, &started(&endpoint, machine, &input.to_string())).await;
        assert_eq!(done["status"], "SUCCEEDED", "{done}");
        serde_json::from_str::<Value>(done["output"].as_str().unwrap()).unwrap()
    };
    let first = run(json!({})).await;
    let pid = first["pid"].clone();
    // Lambda's own errors, caught by name; the Cause is Lambda's payload, naming the request.
    for (how, error, message) in [
        ("exit", "Runtime.ExitError", "Error: Runtime exited with error: exit status 3"),
        ("hang", "Sandbox.Timedout", "Error: Task timed out after 1.00 seconds"),
    ] {
        let output = run(json!({"how": how})).await;
        assert_eq!(output["failed"]["Error"], error, "{output}");
        let cause: Value = serde_json::from_str(output["failed"]["Cause"].as_str().unwrap()).unwrap();
        assert_eq!(cause["errorType"], error);
        let text = cause["errorMessage"].as_str().unwrap();
        let id = text.strip_prefix("RequestId: ").and_then(|t| t.strip_suffix(&format!(" {message}"))).unwrap();
        assert!(uuid_shaped(id), "{text}");
    }
    // The next invocation gets a fresh process, as after a Lambda environment is torn down.
    let after = run(json!({"pid": pid})).await;
    assert_eq!(after["pid_changed"], true, "{after}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `orderflow run` of the fixture's greeting machine on {"name": "Grace"}, in
/// `dir`, its Python functions under `python`, with `more` arguments.
fn run_greeting(dir: &Path, python: &Path, more: &[&str]) -> std::process::Output {
    let input = dir.join("input.json");
    std::fs::write(&input, r#"{"name": "Grace"}"#).unwrap();
    Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .args(["run", "--template", fixture().to_str().unwrap(), "--input", input.to_str().unwrap()])
        .args(["--state-machine", "greeting"])
        .args(more)
        .current_dir(dir)
        .env("MOTO_SERVER", venv("moto_server"))
        .env("ORDERFLOW_PYTHON", python)
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap()
}

#[test]
fn orderflow_run_runs_them_too_and_says_which_functions_do_not_run_here() {
    let dir = scratch("functions-app-run");
    let out = run_greeting(&dir, &venv("python"), &["--output", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let execution: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(execution["status"], "SUCCEEDED");
    assert_eq!(execution["output"]["text"], "Hello, Grace");
    assert_eq!(execution["output"]["checked"], true);
    for function in ["GreeterFunction", "StrictFunction"] {
        assert!(stderr.contains(&format!("function {function} (python3.12) runs here: ")), "{function}: {stderr}");
    }
    // A function whose Condition is false is not in the stack.
    assert!(!stderr.contains("FrenchFunction"), "{stderr}");
    // What a function prints is shown, each line after its name.
    assert!(stderr.contains("[GreeterFunction] greeting Grace\n"), "{stderr}");
    assert!(stderr.contains("function ReporterFunction (nodejs20.x) runs here: "), "{stderr}");
    // Its template layers at its own /opt, said; a published layer cannot
    // be had here: said, and the function runs without it.
    assert!(stderr.contains("; its layers at /opt, its own; its layer arn:aws:lambda:"), "{stderr}");
    assert!(
        stderr.contains("; its layer arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:4 is not here (a published layer, not a layer of this template): what it holds is missing\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "function UnbuiltFunction (provided.al2023) does not run here: provided.al2023: no bootstrap in "
        ) && stderr.contains(
            "functions/strict or its layers (build it first, e.g. `sam build`, and serve .aws-sam/build/template.yaml)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("function LedgerFunction (java21) does not run here: java21 functions do not run here; --lambda-endpoint sends tasks to a Lambda Invoke API that runs them"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn parameter_overrides_reach_the_template_and_what_cloudformation_refuses_is_refused() {
    let dir = scratch("functions-app-parameters");
    let out = run_greeting(&dir, &venv("python"), &["--parameter-overrides", "Greeting=Bonjour", "--output", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let execution: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(execution["output"]["text"], "Bonjour, Grace");
    // The template's Conditions see the value: a function whose Condition now holds is in the stack.
    assert!(String::from_utf8_lossy(&out.stderr).contains("function FrenchFunction (python3.12) runs here"));
    // SAM's long form, and CloudFormation's refusals in its words.
    let long = ["--parameter-overrides", "ParameterKey=Greeting,ParameterValue=hello"];
    let refused = |args: &[&str]| {
        let out = run_greeting(&dir, &venv("python"), args);
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(refused(&long).contains("template.yaml: Parameter 'Greeting' must match pattern [A-Z][a-z]+"));
    let unknown = refused(&["--parameter-overrides", "Greeting=Hi", "Salutation=Hi"]);
    assert!(unknown.contains("template.yaml: Parameters: [Salutation] do not exist in the template"), "{unknown}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_env_vars_file_sets_the_functions_variables_as_sam_local_does() {
    let dir = scratch("functions-app-env-vars");
    let file = dir.join("env.json");
    let run_with = |vars: Value| {
        std::fs::write(&file, vars.to_string()).unwrap();
        let out = run_greeting(&dir, &venv("python"), &["--env-vars", file.to_str().unwrap(), "--output", "json"]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        let execution: Value = serde_json::from_slice(&out.stdout).unwrap();
        (execution["output"]["text"].as_str().unwrap().to_owned(), stderr)
    };
    // `Parameters` sets a variable of every function that declares it.
    let (text, _) = run_with(json!({"Parameters": {"GREETING": "Hej"}}));
    assert_eq!(text, "Hej, Grace");
    // A function's own entry (by logical id or name) wins; an entry that names no function is said.
    let (text, stderr) =
        run_with(json!({"Parameters": {"GREETING": "Hej"}, "GreeterFunction": {"GREETING": "Ciao"}, "Nobody": {}}));
    assert_eq!(text, "Ciao, Grace");
    assert!(stderr.contains("env.json: Nobody names no function of the template; its values are not used"), "{stderr}");
    std::fs::write(&file, "[1]").unwrap();
    let out = run_greeting(&dir, &venv("python"), &["--env-vars", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("env.json: an environment-variables file holds a JSON object"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_python_without_the_runtime_interface_client_is_said_by_name() {
    let dir = scratch("functions-app-no-ric");
    // A Python that is not there: each Python function says why it does not
    // run, and a task naming one fails as Lambda names a missing function.
    let out = run_greeting(&dir, &dir.join("no-such-python"), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stderr.contains("function GreeterFunction (python3.12) does not run here: cannot start ")
            && stderr.contains("set ORDERFLOW_PYTHON to a Python with awslambdaric"),
        "{stderr}"
    );
    assert!(stdout.contains("FAILED") && stdout.contains("error: Lambda.ResourceNotFoundException"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The checkout of aws-sam-cli-app-templates `SAM_APP_TEMPLATES` names, if any.
fn app_templates() -> Option<PathBuf> {
    let given = PathBuf::from(std::env::var_os("SAM_APP_TEMPLATES")?);
    assert!(given.exists(), "SAM_APP_TEMPLATES={} is not there", given.display());
    Some(given)
}

/// The folder of one cookiecutter template of the checkout, taken out of it when it is a git directory.
fn template_folder(checkout: &Path, name: &str, scratch: &Path) -> PathBuf {
    if checkout.join(name).is_dir() {
        return checkout.join(name);
    }
    let archive = Command::new("git")
        .arg("--git-dir")
        .arg(checkout)
        .args(["archive", "--format=tar", "HEAD", name])
        .output()
        .unwrap();
    assert!(archive.status.success(), "git archive: {}", String::from_utf8_lossy(&archive.stderr));
    let tar = scratch.join("templates.tar");
    std::fs::write(&tar, &archive.stdout).unwrap();
    let unpacked = Command::new("tar").arg("-xf").arg(&tar).arg("-C").arg(scratch).status().unwrap();
    assert!(unpacked.success());
    scratch.join(name)
}

/// The application `sam init` makes from the cookiecutter template `name`
/// of the checkout, in `scratch`, answering no questions: its folder.
fn sam_init(checkout: &Path, name: &str, scratch: &Path) -> PathBuf {
    let location = template_folder(checkout, name, scratch);
    let made = Command::new(venv("sam"))
        .args(["init", "--no-input", "--name", "stock-trader", "--location"])
        .arg(&location)
        .current_dir(scratch)
        .env("SAM_CLI_TELEMETRY", "0")
        .output()
        .unwrap();
    assert!(made.status.success(), "sam init: {}", String::from_utf8_lossy(&made.stderr));
    let app = scratch.join("stock-trader");
    assert!(app.join("template.yaml").is_file());
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_step_functions_sample_of_sam_init_runs_through_the_aws_cli() {
    let Some(checkout) = app_templates() else {
        eprintln!(
            "not run: no checkout of aws-sam-cli-app-templates (set SAM_APP_TEMPLATES to one, a work tree or a git directory)"
        );
        return;
    };
    // The Python and the Node.js variants of the sample, each with its functions run here.
    for variant in ["python3.13/step-func", "nodejs22.x/step-func"] {
        let dir = scratch(&format!("sam-init-{}", variant.replace('/', "-")));
        let app = sam_init(&checkout, variant, &dir);
        // Served from the application's own folder, with its template.
        let serve = serve(&app, &["--template", "template.yaml"]);
        let endpoint = address(&serve);
        let moto = moto_of(&serve);
        let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:StockTradingStateMachine";
        let mut executions = Vec::new();
        for _ in 0..5 {
            executions.push(started(&endpoint, machine, "{}"));
        }
        for execution in &executions {
            let done = until_done(&endpoint, execution).await;
            assert_eq!(done["status"], "SUCCEEDED", "{variant}: {done}");
            // The state machine ends on the DynamoDB putItem: its answer as Step Functions shapes it.
            let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
            assert_eq!(output["SdkHttpMetadata"]["HttpStatusCode"], 200, "{variant}: {output}");
        }
        // Each trade is in the template's table: bought at 50 or less, sold above (the Choice).
        let scanned = on_moto(&moto, "dynamodb", &["scan", "--table-name", "TransactionTable"]);
        let items = scanned["Items"].as_array().unwrap();
        assert_eq!(items.len(), executions.len(), "{variant}: {scanned}");
        for item in items {
            let price: u32 = item["Price"]["N"].as_str().unwrap().parse().unwrap();
            let kind = item["Type"]["S"].as_str().unwrap();
            assert_eq!(kind, if price <= 50 { "buy" } else { "sell" }, "{variant}: {item}");
            let quantity: u32 = item["Quantity"]["N"].as_str().unwrap().parse().unwrap();
            assert!((1..=10).contains(&quantity), "{variant}: {item}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Every `${...}` of each line replaced by `by`, as the sample's makefile's
/// `sed -E -e 's/\$\{.+\}/.../'` does (greedy, once per line).
fn sed_placeholders(text: &str, by: &str) -> String {
    let line = |line: &str| match (line.find("${"), line.rfind('}')) {
        (Some(start), Some(end)) if end > start => format!("{}{by}{}", &line[..start], &line[end + 1..]),
        _ => line.to_owned(),
    };
    text.lines().map(line).collect::<Vec<_>>().join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_samples_own_step_functions_local_tests_pass_against_serve() {
    let Some(checkout) = app_templates() else {
        eprintln!("not run: no checkout of aws-sam-cli-app-templates (set SAM_APP_TEMPLATES)");
        return;
    };
    let dir = scratch("sam-init-mocked");
    // The Node.js sample: its functions do not run here, its own tests mock them.
    let app = sam_init(&checkout, "nodejs22.x/step-func", &dir);
    let mocks = app.join("statemachine/test/MockConfigFile.json");
    // As its makefile's `run`, with serve for Step Functions Local (and no
    // waiting out the retries' intervals).
    let serve =
        serve(&app, &["--template", "template.yaml", "--mock-config", mocks.to_str().unwrap(), "--virtual-time"]);
    let endpoint = address(&serve);
    // As its `create`: the definition with every placeholder a mock function's ARN.
    let definition = std::fs::read_to_string(app.join("statemachine/stock_trader.asl.json")).unwrap();
    let definition = sed_placeholders(&definition, "arn:aws:lambda:us-east-1:123456789012:function:mock");
    let role = "arn:aws:iam::123456789012:role/DummyRole";
    ok(
        &endpoint,
        &[
            "create-state-machine",
            "--definition",
            &definition,
            "--name",
            "StockTradingLocalTesting",
            "--role-arn",
            role,
        ],
    );
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:StockTradingLocalTesting";
    let cases = [
        ("HappyPathSellStockTest", "HappyPathSellStockTest", 0),
        ("HappyPathBuyStockTest", "HappyPathBuyStockTest", 0),
        ("checkStockErrorExecution", "CheckStockRetryOnServiceExceptionTest", 3),
        ("sellStockErrorExecution", "SellStockRetryOnServiceExceptionTest", 3),
    ];
    let config: Value = serde_json::from_str(&std::fs::read_to_string(&mocks).unwrap()).unwrap();
    let recorded = &config["MockedResponses"]["RecordTransactionDDBMockedResponse"]["0"]["Return"];
    for (name, case, failures) in cases {
        let target = format!("{machine}#{case}");
        let execution = ok(&endpoint, &["start-execution", "--name", name, "--state-machine", &target]);
        let execution = execution["executionArn"].as_str().unwrap().to_owned();
        assert_eq!(
            execution,
            format!("arn:aws:states:us-east-1:123456789012:execution:StockTradingLocalTesting:{name}")
        );
        let done = until_done(&endpoint, &execution).await;
        assert_eq!(done["status"], "SUCCEEDED", "{case}: {done}");
        // As its `history`: what Record Transaction ended with is the mocked putItem answer.
        let query = "events[?type==`TaskStateExited` && stateExitedEventDetails.name==`Record Transaction`]";
        let exited = ok(&endpoint, &["get-execution-history", "--execution-arn", &execution, "--query", query]);
        let output: Value =
            serde_json::from_str(exited[0]["stateExitedEventDetails"]["output"].as_str().unwrap()).unwrap();
        assert_eq!(&output, recorded, "{case}");
        // The retried cases failed three times (the mock's "0-2") before the answer.
        let history = ok(&endpoint, &["get-execution-history", "--execution-arn", &execution]);
        let failed: Vec<&Value> =
            history["events"].as_array().unwrap().iter().filter(|e| e["type"] == "LambdaFunctionFailed").collect();
        assert_eq!(failed.len(), failures, "{case}: {history}");
        assert!(failed.iter().all(|e| e["lambdaFunctionFailedEventDetails"]["error"] == "States.TaskFailed"), "{case}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
