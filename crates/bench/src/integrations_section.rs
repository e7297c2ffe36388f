//! The integrations section of `make bench`: a workflow of service
//! integrations (crates/bench/workloads/integrations.json: DynamoDB putItem
//! and getItem, SQS sendMessage, SNS publish, a `.sync:2` child execution)
//! as STANDARD executions over HTTP, `orderflow serve` (the release binary,
//! its service Tasks to moto) beside MiniStack (PyPI, MIT; its own virtualenv,
//! `.venv-ministack`) running the same definition against its own services.
//! Both are driven alike: StartExecution, then DescribeExecution every 5 ms
//! until the execution ends; the output of each is checked against the
//! workload's.

use std::path::Path;
use std::time::Duration;

use orderflow_integrations::Integrations;
use serde_json::{Value, json};

use crate::ministack::{MiniStack, ready};
use crate::serve_section::{Http, Load, call_json, create, drive, http};

pub const CLIENTS: [usize; 3] = [1, 16, 64];

pub struct Section {
    /// `orderflow serve`, its service tasks to moto.
    pub ours: Vec<Load>,
    /// `orderflow serve`, its service tasks to MiniStack's services.
    pub ours_on_ministack: Vec<Load>,
    pub ministack: Vec<Load>,
    /// Why MiniStack has no rows, when it has none.
    pub ministack_missing: Option<String>,
    /// Whether each gave the workload's output (None: not run).
    pub ours_output: Option<bool>,
    pub ministack_output: Option<bool>,
}

/// The workload's table, queue and topic (named `integrations-*`, apart from
/// what the bench's other sections make in the same moto) made at `aws` through the same
/// SDK calls service Tasks make; the parent's definition filled in for them
/// and the child made at `sfn`: the parent's ARN.
async fn set_up(client: &Http, aws: &str, sfn: &str, workload: &Value) -> Result<String, String> {
    let services = Integrations::new(aws, orderflow_local::REGION)?;
    let made = |what: &str, f: orderflow_asl::TaskFailure| format!("{what} at {aws}: {}: {}", f.error, f.cause);
    let table = json!({"TableName": "integrations-orders", "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]});
    if let Err(f) = services.sdk_call("dynamodb", "createTable", &table.into()).await
        && !f.error.contains("ResourceInUse")
    {
        return Err(made("createTable", f));
    }
    let queue = services
        .sdk_call("sqs", "createQueue", &json!({"QueueName": "integrations-queue"}).into())
        .await
        .map_err(|f| made("createQueue", f))?;
    let topic = services
        .sdk_call("sns", "createTopic", &json!({"Name": "integrations-topic"}).into())
        .await
        .map_err(|f| made("createTopic", f))?;
    let text =
        |v: &orderflow_value::Value, key: &str| v.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let child = create(client, sfn, "integrations-child", &workload["child"], "STANDARD").await;
    let parent = workload["parent"]
        .to_string()
        .replace("${Queue}", &text(&queue, "QueueUrl"))
        .replace("${Topic}", &text(&topic, "TopicArn"))
        .replace("${Child}", &child);
    let parent: Value = serde_json::from_str(&parent).map_err(|e| e.to_string())?;
    Ok(create(client, sfn, "integrations-parent", &parent, "STANDARD").await)
}

/// One execution: StartExecution, then DescribeExecution every 5 ms until it ends; its output.
async fn one(client: &Http, endpoint: &str, machine: &str, name: &str, input: &Value) -> Result<Value, String> {
    let start = json!({"stateMachineArn": machine, "name": name, "input": input.to_string()});
    let started = call_json(client, endpoint, "StartExecution", &start).await?;
    let describe = json!({"executionArn": started["executionArn"]});
    loop {
        let described = call_json(client, endpoint, "DescribeExecution", &describe).await?;
        match described["status"].as_str() {
            Some("RUNNING") => tokio::time::sleep(Duration::from_millis(5)).await,
            Some("SUCCEEDED") => {
                let output = described["output"].as_str().unwrap_or("null");
                return serde_json::from_str(output).map_err(|e| format!("{output}: {e}"));
            }
            _ => return Err(format!("{endpoint}: {described}")),
        }
    }
}

/// `clients` clients running executions back to back; every output checked.
async fn load(client: &Http, endpoint: &str, machine: &str, workload: &Value, run: usize, clients: usize) -> Load {
    let (client, endpoint, machine) = (client.clone(), endpoint.to_owned(), machine.to_owned());
    let (input, expected) = (workload["input"].clone(), workload["output"].clone());
    drive(clients, move |n| {
        let (client, endpoint, machine, input, expected) =
            (client.clone(), endpoint.clone(), machine.clone(), input.clone(), expected.clone());
        async move {
            let output = one(&client, &endpoint, &machine, &format!("r{run}-{n}"), &input).await?;
            if output == expected { Ok(()) } else { Err(format!("{endpoint}: output {output}, not {expected}")) }
        }
    })
    .await
}

/// The rows of one emulator: a sample execution's output checked, then a load per CLIENTS.
async fn rows(client: &Http, endpoint: &str, machine: &str, workload: &Value) -> (Vec<Load>, bool) {
    let sample = one(client, endpoint, machine, "sample", &workload["input"]).await;
    let same = sample.as_ref().is_ok_and(|o| *o == workload["output"]);
    if !same {
        eprintln!("integrations: {endpoint} gave {sample:?}, not {}", workload["output"]);
    }
    let mut loads = Vec::new();
    for (run, clients) in CLIENTS.into_iter().enumerate() {
        eprintln!("integrations: {endpoint}, {clients} client(s)...");
        loads.push(load(client, endpoint, machine, workload, run, clients).await);
    }
    (loads, same)
}

pub fn run(root: &Path, moto: &str) -> Section {
    let workload: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("crates/bench/workloads/integrations.json")).expect("the workload"),
    )
    .expect("JSON");
    let runtime = crate::serve_section::clients_runtime();
    runtime.block_on(async {
        let client = http();
        let dir = crate::serve_section::scratch_dir("integrations");
        let program = root.join("target/release/orderflow");
        let server = orderflow::serve::ServeProcess::start_with(&program, root, &dir, &["--aws-endpoint", moto])
            .unwrap_or_else(|e| panic!("{} (cargo build --release -p orderflow): {e}", program.display()));
        let machine = set_up(&client, moto, &server.endpoint, &workload).await.expect("the workload set up in moto");
        let (ours, ours_same) = rows(&client, &server.endpoint, &machine, &workload).await;
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);

        let mut section = Section {
            ours,
            ours_on_ministack: Vec::new(),
            ministack: Vec::new(),
            ministack_missing: None,
            ours_output: Some(ours_same),
            ministack_output: None,
        };
        let started = MiniStack::start(root);
        let ministack = match started {
            Ok(m) => m,
            Err(why) => {
                section.ministack_missing = Some(why);
                return section;
            }
        };
        if let Err(why) = ready(&client, &ministack.endpoint).await {
            section.ministack_missing = Some(why);
            return section;
        }
        // Our Step Functions on MiniStack's services: the two engines on the same services.
        let server =
            orderflow::serve::ServeProcess::start_with(&program, root, &dir, &["--aws-endpoint", &ministack.endpoint])
                .unwrap_or_else(|e| panic!("{} (cargo build --release -p orderflow): {e}", program.display()));
        match set_up(&client, &ministack.endpoint, &server.endpoint, &workload).await {
            Ok(machine) => {
                let (loads, same) = rows(&client, &server.endpoint, &machine, &workload).await;
                section.ours_on_ministack = loads;
                section.ours_output = section.ours_output.map(|o| o && same);
            }
            Err(why) => section.ministack_missing = Some(why),
        }
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
        match set_up(&client, &ministack.endpoint, &ministack.endpoint, &workload).await {
            Ok(machine) => {
                let (loads, same) = rows(&client, &ministack.endpoint, &machine, &workload).await;
                section.ministack = loads;
                section.ministack_output = Some(same);
            }
            Err(why) => section.ministack_missing = Some(why),
        }
        section
    })
}

impl Section {
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| emulator | clients | executions/s | p50 | p99 | errors |\n|---|---:|---:|---:|---:|---:|\n",
        );
        let mut rows = |name: &str, loads: &[Load]| {
            for l in loads {
                out.push_str(&format!(
                    "| {name} | {} | {:.1} | {:.0} µs | {:.0} µs | {} |\n",
                    l.clients, l.per_second, l.p50_us, l.p99_us, l.errors
                ));
            }
        };
        rows("orderflow serve, service tasks to moto", &self.ours);
        rows("orderflow serve, service tasks to MiniStack", &self.ours_on_ministack);
        rows("MiniStack (its Step Functions and services)", &self.ministack);
        if let Some(why) = &self.ministack_missing {
            out.push_str(&format!("\nMiniStack did not run: {why}\n"));
        }
        out
    }

    pub fn budgets(&self) -> Vec<(bool, String)> {
        let at = |loads: &[Load], clients: usize| loads.iter().find(|l| l.clients == clients).cloned();
        let mut out = Vec::new();
        // The engines on the same services: not slower than MiniStack at any client count.
        for clients in CLIENTS {
            match (at(&self.ours_on_ministack, clients), at(&self.ministack, clients)) {
                (Some(ours), Some(theirs)) => out.push((
                    ours.per_second >= theirs.per_second && ours.errors == 0,
                    format!(
                        "integrations workflow, serve on MiniStack's services, {clients} client(s): {:.1}/s >= MiniStack's {:.1}/s, no errors ({})",
                        ours.per_second, theirs.per_second, ours.errors
                    ),
                )),
                _ => out.push((
                    false,
                    format!(
                        "integrations workflow beside MiniStack, {clients} client(s): {}",
                        self.ministack_missing.as_deref().unwrap_or("no rows")
                    ),
                )),
            }
        }
        for (name, same) in [("orderflow serve", self.ours_output), ("MiniStack", self.ministack_output)] {
            if let Some(same) = same {
                out.push((same, format!("integrations workflow: {name} gave the workload's output")));
            }
        }
        out
    }
}
