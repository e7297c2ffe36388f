//! The console section of `make bench`: pages opened in a real browser
//! (Debian's Chromium, headless, through playwright-core in
//! tools/console-test) and served by `orderflow serve` (the release binary),
//! over repeated loads: an execution of 1,000 events (from navigation to its
//! graph drawn and every event in its table), and a state machine with
//! 100,000 kept executions (to its graph and its first page of executions);
//! and that machine's executions paged through the API, first and last page.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::serve_section::{call_json, create, http};

/// The execution: an inline Map over this many items, four events each.
const ITEMS: usize = 249;
const LOADS: usize = 15;

/// Executions kept for the state machine page.
pub const KEPT: usize = 100_000;

pub struct Section {
    pub events: usize,
    /// Milliseconds, one per load.
    pub loads: Vec<f64>,
    /// The state machine's page with KEPT executions: milliseconds per load.
    pub machine_loads: Vec<f64>,
    /// ListExecutions of 25, the newest and the oldest page: milliseconds per call.
    pub first_page: Vec<f64>,
    pub last_page: Vec<f64>,
    pub error: Option<String>,
}

pub fn run(root: &Path) -> Section {
    let runtime = crate::serve_section::clients_runtime();
    runtime.block_on(async {
        let client = http();
        let dir = crate::serve_section::scratch_dir("console");
        let server = crate::serve_section::serve_process(root, &dir);
        let endpoint = server.endpoint().to_owned();
        let definition = json!({"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": true}}}, "End": true}}});
        let machine = create(&client, &endpoint, "thousand-events", &definition, "STANDARD").await;
        let input = json!({"items": (0..ITEMS).collect::<Vec<_>>()}).to_string();
        let started =
            call_json(&client, &endpoint, "StartExecution", &json!({"stateMachineArn": machine, "input": input}))
                .await
                .expect("StartExecution");
        let arn = started["executionArn"].as_str().unwrap_or_default().to_owned();
        let mut events = 0;
        for _ in 0..200 {
            let described = call_json(&client, &endpoint, "DescribeExecution", &json!({"executionArn": arn})).await;
            if described.as_ref().is_ok_and(|d| d["status"] != "RUNNING") {
                let history = call_json(
                    &client,
                    &endpoint,
                    "GetExecutionHistory",
                    &json!({"executionArn": arn, "maxResults": 1000}),
                )
                .await
                .unwrap_or(Value::Null);
                events = history["events"].as_array().map_or(0, Vec::len);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let page = format!(
            "{endpoint}/executions/{}",
            percent_encoding::utf8_percent_encode(&arn, percent_encoding::NON_ALPHANUMERIC)
        );
        eprintln!("console: loading an execution of {events} events {LOADS} times in Chromium...");
        let loads = page_loads(root, &page, "table.events > tbody > tr", events);

        // A state machine with KEPT executions: its page, and its executions paged through.
        let pass = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
        let kept = create(&client, &endpoint, "kept", &pass, "STANDARD").await;
        eprintln!("console: starting {KEPT} executions to keep...");
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (client, endpoint, kept, next) = (client.clone(), endpoint.clone(), kept.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= KEPT {
                        return;
                    }
                    let start = json!({"stateMachineArn": kept, "name": format!("kept-{n}"), "input": "{}"});
                    let _ = call_json(&client, &endpoint, "StartExecution", &start).await;
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let (mut first_page, mut last_page) = (Vec::new(), Vec::new());
        for _ in 0..20 {
            for (token, times) in
                [(None, &mut first_page), (Some(format!("orderflow-page-{}", KEPT - 25)), &mut last_page)]
            {
                let mut request = json!({"stateMachineArn": kept, "maxResults": 25});
                if let Some(token) = token {
                    request["nextToken"] = json!(token);
                }
                let started = std::time::Instant::now();
                let page = call_json(&client, &endpoint, "ListExecutions", &request).await;
                if page.is_ok_and(|p| p["executions"].as_array().is_some_and(|e| e.len() == 25)) {
                    times.push(started.elapsed().as_secs_f64() * 1000.0);
                }
            }
        }
        let page = format!(
            "{endpoint}/state-machines/{}",
            percent_encoding::utf8_percent_encode(&kept, percent_encoding::NON_ALPHANUMERIC)
        );
        eprintln!("console: loading a state machine with {KEPT} executions {LOADS} times in Chromium...");
        let machine_loads = page_loads(root, &page, "table#executions > tbody > tr", 25);
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
        match (loads, machine_loads) {
            (Ok(loads), Ok(machine_loads)) => {
                Section { events, loads, machine_loads, first_page, last_page, error: None }
            }
            (Err(e), _) | (_, Err(e)) => {
                Section { events, loads: Vec::new(), machine_loads: Vec::new(), first_page, last_page, error: Some(e) }
            }
        }
    })
}

/// Loads `page` LOADS times in Chromium until `rows` rows match `selector`: milliseconds per load.
fn page_loads(root: &Path, page: &str, selector: &str, rows: usize) -> Result<Vec<f64>, String> {
    let out = Command::new("node")
        .arg(root.join("tools/console-test/page-load.mjs"))
        .env("ORDERFLOW_PAGE", page)
        .env("SELECTOR", selector)
        .env("ROWS", rows.to_string())
        .env("LOADS", LOADS.to_string())
        .output()
        .map_err(|e| format!("node: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    Ok(answer["loads"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default())
}
