//! The integration suite: Step Functions executions whose service Tasks
//! (DynamoDB, SQS, SNS, EventBridge, aws-sdk) AWS ran and recorded, replayed
//! against `orderflow serve`'s API over moto. Each case makes its resources
//! first (with the same aws-sdk calls a Task makes), runs its definition, and
//! compares the status, output, error, cause and Task* events with AWS's.
//! The Distributed Map cases (map_cases.json) read their items from S3 and
//! compare the Map Run's events, and ListMapRuns and DescribeMapRun too.
//!
//! The cases (cases.json) are taken from LocalStack's AWS-validated snapshot
//! tests (github.com/localstack/localstack, tests/aws/services/stepfunctions/v2,
//! Apache-2.0; see NOTICE beside them): the recorded outputs and the
//! definitions, with what AWS randomizes written as wildcards: `"<string>"`,
//! `"<number>"`, `"<object>"`, `"<any>"` stand for any value of that kind,
//! and `<string>` inside a text for any run of characters.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

#[path = "../../../server/tests/support/aws_cli.rs"]
mod aws_cli;
#[path = "../../../server/tests/support/no_tasks.rs"]
mod no_tasks;

use libtest_mimic::{Arguments, Failed, Trial};
use no_tasks::NoTasks;
use orderflow_asl::{Clock, RealClock};
use orderflow_emulator::Emulator;
use orderflow_integrations::Integrations;
use orderflow_server::{Config, Service};
use serde_json::{Value, json};

/// Cases known to differ from AWS, where, and why: all are moto's answers,
/// which differ from AWS's own services.
const KNOWN: &[(&str, Differs, &str)] = &[
    (
        "dynamodb optimized: putItem, updateItem (ReturnValues UPDATED_NEW), getItem",
        Differs::Output(&["updateItemOutput.ConsumedCapacity"]),
        "moto answers UpdateItem with ConsumedCapacity that was not asked for",
    ),
    (
        "sns publish: topic deleted before the execution",
        Differs::Whole,
        "moto words a deleted topic 'Endpoint does not exist', AWS 'Topic does not exist'",
    ),
    (
        "sns publish: FIFO topic without MessageGroupId",
        Differs::Whole,
        "moto does not refuse a FIFO publish without MessageGroupId with InvalidParameter",
    ),
    (
        "sns publish: FIFO topic with MessageGroupId and MessageDeduplicationId",
        Differs::Output(&["SequenceNumber"]),
        "moto's answer to a FIFO publish has no SequenceNumber",
    ),
    (
        "aws-sdk dynamodb putItem, updateItem (UPDATED_NEW), getItem",
        Differs::Output(&["updateItemOutput.ConsumedCapacity"]),
        "moto answers UpdateItem with ConsumedCapacity that was not asked for",
    ),
    (
        "aws-sdk s3 getObject: text object",
        Differs::Output(&["ServerSideEncryption"]),
        "moto does not report S3's default encryption (ServerSideEncryption AES256)",
    ),
    (
        "aws-sdk s3 getObject: object uploaded as bytes",
        Differs::Output(&["ServerSideEncryption"]),
        "moto does not report S3's default encryption (ServerSideEncryption AES256)",
    ),
    (
        "aws-sdk s3 getObject: empty object",
        Differs::Output(&["ServerSideEncryption"]),
        "moto does not report S3's default encryption (ServerSideEncryption AES256)",
    ),
    ("aws-sdk s3 putObject: Body is a JSON str", Differs::Output(PUT_OBJECT), PUT_OBJECT_WHY),
    ("aws-sdk s3 putObject: Body is a JSON dict", Differs::Output(PUT_OBJECT), PUT_OBJECT_WHY),
    ("aws-sdk s3 putObject: Body is a JSON list", Differs::Output(PUT_OBJECT), PUT_OBJECT_WHY),
    ("aws-sdk s3 putObject: Body is a JSON bool", Differs::Output(PUT_OBJECT), PUT_OBJECT_WHY),
    ("aws-sdk s3 putObject: Body is a JSON num", Differs::Output(PUT_OBJECT), PUT_OBJECT_WHY),
];

/// What moto's PutObject answer lacks: the rest (ETag, and ChecksumCRC32,
/// the checksum of the bytes the executor sent) is checked.
const PUT_OBJECT: &[&str] = &["ChecksumType", "ServerSideEncryption"];
const PUT_OBJECT_WHY: &str = "moto echoes the request's CRC32 checksum without ChecksumType FULL_OBJECT, and does not report S3's default encryption";

/// Where a known case differs from AWS.
enum Differs {
    /// As a whole (a refusal moto does not make, an error worded otherwise):
    /// the case runs, and must differ.
    Whole,
    /// Only in these members of the output (dotted paths), which moto does
    /// not give or gives besides AWS's: left out of the comparison on both
    /// sides, the case must match AWS in everything else.
    Output(&'static [&'static str]),
}

static PASSED: AtomicUsize = AtomicUsize::new(0);
/// Known cases that differ only in their named output members, and matched in all else.
static REST_CHECKED: AtomicUsize = AtomicUsize::new(0);

struct World {
    runtime: tokio::runtime::Runtime,
    emulator: Emulator,
    aws: Integrations,
    service: Arc<Service>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let emulator = Emulator::start().expect("moto (make venv)");
        let aws = Integrations::new(&emulator.endpoint(), orderflow_local::REGION).unwrap();
        let services = Integrations::new(&emulator.endpoint(), orderflow_local::REGION).unwrap();
        let clock: Arc<dyn Clock> = Arc::new(RealClock);
        let service = runtime.block_on(async {
            Arc::new(
                Service::new(Config::default(), Arc::new(NoTasks), clock)
                    .expect("an in-memory store")
                    .with_services(Arc::new(services), Integrations::check),
            )
        });
        World { runtime, emulator, aws, service }
    })
}

/// moto forgets every resource, so each case starts from nothing.
fn reset_moto(endpoint: &str) -> Result<(), String> {
    use std::io::{Read, Write};
    let address = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).map_err(|e| e.to_string())?;
    write!(
        stream,
        "POST /moto-api/reset HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    if answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200") { Ok(()) } else { Err(answer) }
}

/// `aws s3api put-object` with the Body's bytes as they are.
fn raw_put(endpoint: &str, parameters: &Value) -> Result<(), String> {
    let body = parameters["Body"].as_str().unwrap_or_default();
    let file = std::env::temp_dir().join(format!("orderflow-suite-body-{}", std::process::id()));
    std::fs::write(&file, body).map_err(|e| e.to_string())?;
    let (bucket, key) =
        (parameters["Bucket"].as_str().unwrap_or_default(), parameters["Key"].as_str().unwrap_or_default());
    let file_arg = file.to_string_lossy().into_owned();
    let (code, _, err) =
        aws_cli::aws_service(endpoint, "s3api", &["put-object", "--bucket", bucket, "--key", key, "--body", &file_arg]);
    let _ = std::fs::remove_file(&file);
    if code == 0 { Ok(()) } else { Err(err) }
}

fn fill(value: &Value, saved: &[(String, String)]) -> Value {
    let mut text = value.to_string();
    for (name, v) in saved {
        let escaped = serde_json::to_string(v).unwrap();
        text = text.replace(&format!("{{{{{name}}}}}"), &escaped[1..escaped.len() - 1]);
    }
    serde_json::from_str(&text).unwrap()
}

/// Whether `actual` is what `expected` (with wildcards) says.
fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(e), _) if e == "<any>" => true,
        (Value::String(e), Value::String(_)) if e == "<string>" => true,
        (Value::String(e), Value::Number(_)) if e == "<number>" => true,
        (Value::String(e), Value::Object(_)) if e == "<object>" => true,
        (Value::String(e), Value::String(a)) if e.contains("<string>") => text_matches(e, a),
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len() && e.iter().all(|(k, v)| a.get(k).is_some_and(|av| matches(v, av)))
        }
        (Value::Array(e), Value::Array(a)) => e.len() == a.len() && e.iter().zip(a).all(|(e, a)| matches(e, a)),
        // A string holding JSON compares as that JSON.
        (Value::String(e), Value::String(a)) => {
            e == a
                || matches!((serde_json::from_str::<Value>(e), serde_json::from_str::<Value>(a)), (Ok(ev @ (Value::Object(_) | Value::Array(_))), Ok(av)) if matches(&ev, &av))
        }
        (e, a) => e == a,
    }
}

/// `pattern` with each `<string>` standing for any run of characters.
fn text_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split("<string>").collect();
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty()
}

/// Runs a case; whether its output matched AWS's with nothing left out
/// (`leave_out` names members of the output compared on neither side).
fn run_case(index: usize, case: &Value, leave_out: &[&str]) -> Result<bool, String> {
    let world = world();
    reset_moto(&world.emulator.endpoint())?;
    world.runtime.block_on(async {
        let mut saved: Vec<(String, String)> = Vec::new();
        for step in case["setup"].as_array().into_iter().flatten() {
            let call = step["call"].as_str().ok_or("a setup step without call")?;
            let parts: Vec<&str> = call.split(':').collect();
            let [_, service, action] = parts.as_slice() else { return Err(format!("setup call {call}")) };
            let parameters = orderflow_value::Value::from(&fill(&step["parameters"], &saved));
            let answer = if step["raw"] == json!(true) {
                // An object stored as the test's own client stored it: its bytes as they are.
                raw_put(&world.emulator.endpoint(), &Value::from(&parameters))?;
                orderflow_value::Value::Object(Default::default())
            } else if *service == "sfn" {
                // State machines live in the server, as the aws-sdk:sfn Tasks under test see them.
                let task = orderflow_asl::model::ServiceTask {
                    service: "sfn".into(),
                    action: (*action).into(),
                    sdk: true,
                    pattern: orderflow_asl::model::Pattern::RequestResponse,
                    resource_type: "aws-sdk:sfn".into(),
                    resource: (*action).into(),
                };
                world.service.sdk_sfn(&task, &parameters)
                .await
                .map_err(|f| format!("setup {call}: {} {}", f.error, f.cause))?
            } else {
                world.aws.sdk_call(service, action, &parameters).await.map_err(|f| format!("setup {call}: {} {}", f.error, f.cause))?
            };
            let answer = Value::from(&answer);
            for (name, key) in step["save"].as_object().into_iter().flatten() {
                // A key of the answer, or a dotted path into it (`TableDescription.TableArn`).
                let found = key.as_str().unwrap_or_default().split('.').try_fold(&answer, |v, k| v.get(k));
                let value = found.and_then(Value::as_str).ok_or(format!("setup {call}: no {key} in {answer}"))?;
                saved.push((name.clone(), value.to_owned()));
            }
        }
        let definition = fill(&case["definition"], &saved);
        let input = fill(&case["input"], &saved);
        let name = format!("case-{index}");
        let created = world
            .service
            .call("CreateStateMachine", json!({"name": name, "definition": definition.to_string(), "roleArn": "arn:aws:iam::123456789012:role/r"}).to_string().as_bytes())
            .await
            .map_err(|e| format!("CreateStateMachine: {e}"))?;
        let started = world
            .service
            .call("StartExecution", json!({"stateMachineArn": created["stateMachineArn"], "input": input.to_string()}).to_string().as_bytes())
            .await
            .map_err(|e| format!("StartExecution: {e}"))?;
        let arn = json!({"executionArn": started["executionArn"]}).to_string();
        let mut described = Value::Null;
        for _ in 0..600 {
            described = world.service.call("DescribeExecution", arn.as_bytes()).await.map_err(|e| e.to_string())?;
            if described["status"] != "RUNNING" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let history = world.service.call("GetExecutionHistory", arn.as_bytes()).await.map_err(|e| e.to_string())?;
        let whole = compare(&case["expect"], &described, &history, &saved, leave_out)?;
        if let Some(api) = case["expect"].get("map_run_api").filter(|a| !a.is_null()) {
            map_run_api(&world.service, api, &arn).await?;
        }
        Ok(whole)
    })
}

/// ListMapRuns and DescribeMapRun for the execution's Map Run, as AWS
/// answered them. The recording predates Map Run redrive (redriveCount,
/// failuresNotRedrivable, pendingRedrive), so the fields AWS gave are compared.
async fn map_run_api(service: &Arc<Service>, api: &Value, arn: &str) -> Result<(), String> {
    let listed = service.call("ListMapRuns", arn.as_bytes()).await.map_err(|e| format!("ListMapRuns: {e}"))?;
    if let Some(expected) = api.get("list_map_runs")
        && !contains(expected, &listed)
    {
        return Err(format!("ListMapRuns\nAWS:  {expected}\nours: {listed}"));
    }
    let map_run_arn = listed["mapRuns"][0]["mapRunArn"].clone();
    let request = json!({"mapRunArn": map_run_arn}).to_string();
    let described =
        service.call("DescribeMapRun", request.as_bytes()).await.map_err(|e| format!("DescribeMapRun: {e}"))?;
    if let Some(expected) = api.get("describe_map_run")
        && !contains(expected, &described)
    {
        return Err(format!("DescribeMapRun\nAWS:  {expected}\nours: {described}"));
    }
    Ok(())
}

/// Whether `actual` has every field `expected` has, matching (arrays alike in length).
fn contains(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|av| contains(v, av))),
        (Value::Array(e), Value::Array(a)) => e.len() == a.len() && e.iter().zip(a).all(|(e, a)| contains(e, a)),
        (e, a) => matches(e, a),
    }
}

/// The details of each event `wanted` picks, as `[type, details]` (`{}` for none).
fn events_of(history: &Value, wanted: impl Fn(&str) -> bool) -> Vec<(String, Value)> {
    history["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"].as_str().is_some_and(&wanted))
        .map(|e| {
            let kind = e["type"].as_str().unwrap_or_default().to_owned();
            let key = format!("{}{}EventDetails", kind[..1].to_ascii_lowercase(), &kind[1..]);
            let details = e.get(&key).cloned().unwrap_or_else(|| json!({}));
            (kind, details)
        })
        .collect()
}

/// `value` without the member at the dotted `path`.
fn without(value: &Value, path: &str) -> Value {
    let mut value = value.clone();
    let mut at = &mut value;
    let mut steps = path.split('.').peekable();
    while let Some(step) = steps.next() {
        let Some(object) = at.as_object_mut() else { break };
        if steps.peek().is_none() {
            object.remove(step);
            break;
        }
        let Some(next) = object.get_mut(step) else { break };
        at = next;
    }
    value
}

/// Compares an execution with AWS's; Ok(whether the output matched with
/// nothing of `leave_out` left out).
fn compare(
    expect: &Value,
    described: &Value,
    history: &Value,
    saved: &[(String, String)],
    leave_out: &[&str],
) -> Result<bool, String> {
    let expect = fill(expect, saved);
    if described["status"] != expect["status"] {
        return Err(format!(
            "status {} (error {}, cause {}), AWS {}",
            described["status"], described["error"], described["cause"], expect["status"]
        ));
    }
    let mut whole = true;
    if let Some(output) = expect.get("output") {
        let ours: Value =
            described["output"].as_str().and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null);
        whole = matches(output, &ours);
        let rest = |v: &Value| leave_out.iter().fold(v.clone(), |v, path| without(&v, path));
        if !whole && (leave_out.is_empty() || !matches(&rest(output), &rest(&ours))) {
            return Err(format!("output\nAWS:  {output}\nours: {ours}"));
        }
    }
    for key in ["error", "cause"] {
        if let Some(e) = expect.get(key)
            && !matches(e, &described[key])
        {
            return Err(format!("{key}\nAWS:  {e}\nours: {}", described[key]));
        }
    }
    if let Some(events) = expect.get("map_events").and_then(Value::as_array) {
        // The Map Run's events and the execution's failure, whole.
        let ours = events_of(history, |t| {
            (t.starts_with("Map") && t != "MapStateEntered" && t != "MapStateExited") || t == "ExecutionFailed"
        });
        let ours = Value::Array(ours.into_iter().map(|(k, d)| json!([k, d])).collect());
        if !matches(&Value::Array(events.clone()), &ours) {
            return Err(format!("Map events\nAWS:  {}\nours: {ours}", Value::Array(events.clone())));
        }
    }
    if let Some(events) = expect.get("task_events").and_then(Value::as_array) {
        let ours = events_of(history, |t| t.starts_with("Task") && !t.starts_with("TaskState"));
        if ours.len() != events.len() {
            return Err(format!(
                "Task events: ours {:?}, AWS {events:?}",
                ours.iter().map(|(k, _)| k).collect::<Vec<_>>()
            ));
        }
        for ((kind, details), expected) in ours.iter().zip(events) {
            if expected[0] != json!(kind) {
                return Err(format!("Task event {kind}, AWS {}", expected[0]));
            }
            for (k, v) in expected[1].as_object().into_iter().flatten() {
                if !matches(v, &details[k]) {
                    return Err(format!("{kind}.{k}: ours {}, AWS {v}", details[k]));
                }
            }
        }
    }
    Ok(whole)
}

fn main() {
    let mut args = Arguments::from_args();
    // The cases share one moto, reset before each.
    args.test_threads = Some(1);
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration_suite");
    let cases: Vec<Value> = ["cases.json", "map_cases.json"]
        .iter()
        .flat_map(|file| {
            let path = folder.join(file);
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let cases: Vec<Value> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            cases
        })
        .collect();
    let total = cases.len();
    let trials: Vec<Trial> = cases
        .into_iter()
        .enumerate()
        .map(|(i, case)| {
            let name = format!("{i:02} {}", case["name"].as_str().unwrap_or("case"));
            let known = KNOWN.iter().find(|(n, _, _)| *n == case["name"].as_str().unwrap_or_default());
            Trial::test(name, move || {
                match known {
                    None => run_case(i, &case, &[]).map(|_| {
                        PASSED.fetch_add(1, Ordering::Relaxed);
                    }),
                    Some((_, Differs::Whole, _)) => match run_case(i, &case, &[]) {
                        Ok(_) => Err("passes now: take it off KNOWN".to_owned()),
                        Err(_) => Ok(()),
                    },
                    Some((_, Differs::Output(leave_out), _)) => match run_case(i, &case, leave_out)? {
                        true => Err("passes now, its output whole: take it off KNOWN".to_owned()),
                        false => {
                            REST_CHECKED.fetch_add(1, Ordering::Relaxed);
                            Ok(())
                        }
                    },
                }
                .map_err(Failed::from)
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    println!(
        "AWS-validated integration cases (LocalStack's snapshots): {total} in all; {} passed; {} known to differ (KNOWN), of which {} only in output members moto lacks or adds and matched in the rest; {} failed; {} not run",
        PASSED.load(Ordering::Relaxed),
        KNOWN.len(),
        REST_CHECKED.load(Ordering::Relaxed),
        conclusion.num_failed,
        conclusion.num_filtered_out
    );
    conclusion.exit();
}
