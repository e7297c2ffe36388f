//! The console section of `make bench`: an execution of 1,000 events opened
//! in a real browser (Debian's Chromium, headless, through playwright-core in
//! tools/console-test): from navigation to its graph drawn and every event in
//! its table, over repeated loads of the same page served by `orderflow
//! serve` (the release binary).

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::serve_section::{call_json, create, http};

/// The execution: an inline Map over this many items, four events each.
const ITEMS: usize = 249;
const LOADS: usize = 15;

pub struct Section {
    pub events: usize,
    /// Milliseconds, one per load.
    pub loads: Vec<f64>,
    pub error: Option<String>,
}

pub fn run(root: &Path) -> Section {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let client = http();
        let dir = std::env::temp_dir().join(format!("orderflow-bench-console-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
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
        let page = format!("{endpoint}/executions/{}", percent_encode(&arn));
        eprintln!("console: loading an execution of {events} events {LOADS} times in Chromium...");
        let out = Command::new("node")
            .arg(root.join("tools/console-test/page-load.mjs"))
            .env("ORDERFLOW_PAGE", &page)
            .env("EVENTS", events.to_string())
            .env("LOADS", LOADS.to_string())
            .output();
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
        let out = match out {
            Ok(out) if out.status.success() => out,
            Ok(out) => {
                return Section {
                    events,
                    loads: Vec::new(),
                    error: Some(String::from_utf8_lossy(&out.stderr).into_owned()),
                };
            }
            Err(e) => return Section { events, loads: Vec::new(), error: Some(format!("node: {e}")) },
        };
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let loads =
            answer["loads"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
        Section { events, loads, error: None }
    })
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
