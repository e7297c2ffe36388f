//! orderflow: the order workflow on a laptop.
//!
//!   orderflow run   [--input FILE|-] [--definition PATH] [--template PATH]
//!                   [--lambda-endpoint URL] [--virtual-time] [--json] [-v]
//!   orderflow lint  [--definition PATH] [--template PATH]
//!   orderflow graph [--definition PATH] [--template PATH]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use aws_sdk_dynamodb::types::AttributeValue;
use orderflow::{InProcess, LambdaEndpoint, Loaded, load};
use orderflow_asl::{
    Clock, Execution, ExecutionOptions, ExecutionStatus, Executor, Invoker, RealClock, VirtualClock, trace,
};
use orderflow_aws::{AwsClients, DynamoDbOrderStore, SnsNotifier};
use orderflow_domain::ports::SystemClock;
use orderflow_emulator::{Emulator, LocalResources};
use serde_json::{Value, json};

// The executor allocates many small JSON nodes; mimalloc serves them about a
// third faster than the system allocator (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage:
  orderflow run   [--input FILE|-] [--definition PATH] [--template PATH]
                  [--lambda-endpoint URL] [--virtual-time] [--json] [-v]
      Runs one execution of the state machine locally and prints its history,
      its output and the stored order. Tasks call the function handlers
      in-process (default) or a Lambda Invoke API such as `cargo lambda watch`
      (--lambda-endpoint http://127.0.0.1:9000). In-process, AWS is the local
      emulator (moto, started here) unless AWS_ENDPOINT_URL, ORDERS_TABLE and
      NOTIFICATION_TOPIC_ARN are set. Exit 0 on SUCCEEDED, 1 otherwise.
  orderflow lint  [--definition PATH] [--template PATH]
      Parses the definition and runs the static checks.
  orderflow graph [--definition PATH] [--template PATH]
      Prints a Mermaid flowchart of the state machine.

Defaults: --template infra/template.yaml (its DefinitionUri names the
definition), --input events/order-valid.json.";

struct Options {
    input: Option<String>,
    definition: Option<PathBuf>,
    template: PathBuf,
    endpoint: Option<String>,
    virtual_time: bool,
    json: bool,
    verbose: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        input: None,
        definition: None,
        template: PathBuf::from("infra/template.yaml"),
        endpoint: None,
        virtual_time: false,
        json: false,
        verbose: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{arg} needs a value\n\n{USAGE}"));
        match arg.as_str() {
            "--input" => o.input = Some(value()?),
            "--definition" => o.definition = Some(PathBuf::from(value()?)),
            "--template" => o.template = PathBuf::from(value()?),
            "--lambda-endpoint" => o.endpoint = Some(value()?),
            "--virtual-time" => o.virtual_time = true,
            "--json" => o.json = true,
            "-v" | "--verbose" => o.verbose = true,
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    Ok(o)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]).await,
        Some("lint") => lint(&args[1..]),
        Some("graph") => graph(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(USAGE.to_owned()),
    };
    result.unwrap_or_else(|message| {
        eprintln!("orderflow: {message}");
        ExitCode::from(2)
    })
}

fn lint(args: &[String]) -> Result<ExitCode, String> {
    let o = parse_options(args)?;
    let loaded = load(&o.template, o.definition.as_deref())?;
    let findings = orderflow_asl::lint::lint(&loaded.machine);
    for f in &findings {
        println!("{}: {f}", loaded.definition_path.display());
    }
    println!(
        "{}: {} states, {} finding(s)",
        loaded.definition_path.display(),
        loaded.machine.states.len(),
        findings.len()
    );
    Ok(if findings.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn graph(args: &[String]) -> Result<ExitCode, String> {
    let o = parse_options(args)?;
    let loaded = load(&o.template, o.definition.as_deref())?;
    print!("{}", orderflow::graph::mermaid(&loaded.machine));
    Ok(ExitCode::SUCCESS)
}

fn read_input(input: Option<&str>) -> Result<(String, Value), String> {
    let (name, text) = match input {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| format!("cannot read stdin: {e}"))?;
            ("stdin".to_owned(), text)
        }
        other => {
            let path = other.unwrap_or("events/order-valid.json");
            (path.to_owned(), std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?)
        }
    };
    let value = serde_json::from_str(&text).map_err(|e| format!("{name} is not JSON: {e}"))?;
    Ok((name, value))
}

async fn execute(loaded: &Loaded, invoker: &dyn Invoker, virtual_time: bool, input: Value) -> Execution {
    let real = RealClock;
    let fake = VirtualClock::default();
    let clock: &dyn Clock = if virtual_time { &fake } else { &real };
    let options = ExecutionOptions {
        name: format!("local-{}", std::process::id()),
        state_machine_name: loaded.state_machine_name.clone(),
        seed: u64::from(std::process::id()),
        ..Default::default()
    };
    Executor::new(&loaded.machine, invoker, clock, options).run(input).await
}

/// A DynamoDB item as plain JSON, for printing.
fn item_json(item: &std::collections::HashMap<String, AttributeValue>) -> Value {
    let map: BTreeMap<&String, Value> = item
        .iter()
        .map(|(k, v)| {
            let value = match v {
                AttributeValue::S(s) if k == "order" => serde_json::from_str(s).unwrap_or(Value::String(s.clone())),
                AttributeValue::S(s) | AttributeValue::N(s) => Value::String(s.clone()),
                AttributeValue::Bool(b) => Value::Bool(*b),
                other => Value::String(format!("{other:?}")),
            };
            (k, value)
        })
        .collect();
    json!(map)
}

async fn run(args: &[String]) -> Result<ExitCode, String> {
    let o = parse_options(args)?;
    if o.verbose {
        lambda_runtime::tracing::subscriber::fmt().with_writer(std::io::stderr).with_target(false).init();
    }
    let loaded = load(&o.template, o.definition.as_deref())?;
    if let Some(finding) = orderflow_asl::lint::lint(&loaded.machine).first() {
        return Err(format!(
            "{}: {finding} (orderflow lint lists every finding; the executor runs no definition with one)",
            loaded.definition_path.display()
        ));
    }
    let (input_name, input) = read_input(o.input.as_deref())?;
    let order_id = input.get("order_id").and_then(Value::as_str).map(str::to_owned);

    let (execution, stored, mode) = match &o.endpoint {
        Some(url) => {
            let invoker = LambdaEndpoint::new(url)?;
            (
                execute(&loaded, &invoker, o.virtual_time, input).await,
                None,
                format!("tasks through the Lambda Invoke API at {url}"),
            )
        }
        None => {
            let from_env = ["AWS_ENDPOINT_URL", "ORDERS_TABLE", "NOTIFICATION_TOPIC_ARN"]
                .iter()
                .all(|v| std::env::var_os(v).is_some());
            let (emulator, clients, table, topic) = if from_env {
                let table = orderflow_lambda::orders_table().map_err(|e| e.error_message())?;
                let topic = orderflow_lambda::notification_topic_arn().map_err(|e| e.error_message())?;
                (None, AwsClients::from_env().await, table, topic)
            } else {
                let emulator = Emulator::start().map_err(|e| e.to_string())?;
                let config = emulator.config_loader().load().await;
                let resources = LocalResources::create(&config, "orderflow").await.map_err(|e| e.to_string())?;
                let clients = AwsClients::load(emulator.config_loader()).await;
                (Some(emulator), clients, resources.table, resources.topic_arn)
            };
            let where_ = emulator.as_ref().map_or_else(
                || "the AWS endpoint of the environment".to_owned(),
                |e| format!("moto at {}", e.endpoint()),
            );
            let invoker = InProcess::new(
                DynamoDbOrderStore::new(clients.dynamodb(), &table),
                SnsNotifier::new(clients.sns(), &topic),
                SystemClock,
            );
            let execution = execute(&loaded, &invoker, o.virtual_time, input).await;
            let stored = match &order_id {
                Some(id) => clients
                    .dynamodb()
                    .get_item()
                    .table_name(&table)
                    .key("order_id", AttributeValue::S(id.clone()))
                    .consistent_read(true)
                    .send()
                    .await
                    .ok()
                    .and_then(|r| r.item)
                    .map(|item| item_json(&item)),
                None => None,
            };
            (execution, stored, format!("tasks in-process against {where_}"))
        }
    };

    if o.json {
        let mut out = serde_json::to_value(&execution).map_err(|e| e.to_string())?;
        out["storedOrder"] = stored.unwrap_or(Value::Null);
        println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
    } else {
        println!(
            "orderflow run: {} ({}), input {input_name}, {mode}\n",
            loaded.definition_path.display(),
            loaded.state_machine_name
        );
        println!("Execution history");
        print!("{}", trace(&execution.history.events()));
        println!();
        match execution.status {
            ExecutionStatus::Succeeded => {
                println!("SUCCEEDED");
                println!("{}", serde_json::to_string_pretty(&execution.output).unwrap_or_default());
            }
            status => {
                println!("{}", serde_json::to_value(status).unwrap_or_default().as_str().unwrap_or("FAILED"));
                println!("error: {}", execution.error.as_deref().unwrap_or_default());
                println!("cause: {}", execution.cause.as_deref().unwrap_or_default());
            }
        }
        if let Some(stored) = &stored {
            println!("\nStored order (DynamoDB item)");
            println!("{}", serde_json::to_string_pretty(stored).unwrap_or_default());
        }
    }
    Ok(if execution.status == ExecutionStatus::Succeeded { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
