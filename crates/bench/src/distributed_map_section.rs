//! The Distributed Map section of `make bench`
//! (crates/bench/workloads/distributed-map.json): one execution over
//! 1,000,000 JSON Lines items read from S3, a pure-ASL child per batch of
//! 100, MaxConcurrency 1,000, the results written back to S3, through
//! `orderflow serve` (the release binary, a fresh state directory, its S3 in
//! moto): items/s from StartExecution to the end the client sees, and the
//! server's peak RSS (VmHWM). Then the same definition, and one with a child
//! per item, on 100,000 items beside MiniStack: `orderflow serve` reading and
//! writing MiniStack's S3, and MiniStack running the definition itself. Each
//! run is checked: SUCCEEDED, DescribeMapRun's counts, the result files.

use std::path::Path;
use std::time::{Duration, Instant};

use orderflow_asl::Services;
use orderflow_integrations::Integrations;
use serde_json::{Value, json};

use crate::ministack::{MiniStack, ready};
use crate::serve_section::{Http, call_json, create, http};

pub const ITEMS: usize = 1_000_000;
pub const BESIDE: usize = 100_000;
/// A run that has not ended by then is stopped and reported so.
const LIMIT: Duration = Duration::from_secs(300);
const BUCKET: &str = "dmap-bench";

/// One execution of a definition over `items` items on one emulator.
#[derive(Debug, Clone)]
pub struct Run {
    pub emulator: String,
    /// `batched` or `per_item`.
    pub definition: &'static str,
    pub items: usize,
    /// From StartExecution to the DescribeExecution that saw it end.
    pub seconds: f64,
    pub peak_rss_mb: f64,
    /// What was checked, or why the run does not count.
    pub outcome: Result<String, String>,
}

impl Run {
    pub fn items_per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.items as f64 / self.seconds } else { 0.0 }
    }
}

pub struct Section {
    pub million: Run,
    pub beside: Vec<Run>,
    pub ministack_missing: Option<String>,
}

/// `n` JSON Lines items.
fn items(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 48);
    for i in 0..n {
        out.extend_from_slice(format!("{{\"id\": {i}, \"qty\": {}, \"sku\": \"S-{i}\"}}\n", i % 7).as_bytes());
    }
    out
}

/// The bucket and its items at `s3`.
async fn put_items(s3: &str, n: usize) -> Result<(), String> {
    let services = Integrations::new(s3, orderflow_local::REGION)?;
    if let Err(f) = services.sdk_call("s3", "createBucket", &json!({"Bucket": BUCKET}).into()).await
        && !f.error.contains("BucketAlreadyOwnedByYou")
    {
        return Err(format!("createBucket at {s3}: {}: {}", f.error, f.cause));
    }
    services.put_object(BUCKET, "items.jsonl", items(n)).await.map_err(|f| format!("putObject at {s3}: {}", f.cause))
}

/// Runs `definition` at `sfn` once: the seconds it took, and the outcome's check.
async fn execute(
    client: &Http,
    sfn: &str,
    s3: Option<&str>,
    which: &'static str,
    workload: &Value,
    n: usize,
) -> (f64, Result<String, String>) {
    let definition: Value =
        serde_json::from_str(&workload[which].to_string().replace("${Bucket}", BUCKET)).expect("JSON");
    let machine = create(client, sfn, &format!("dmap-{which}-{n}"), &definition, "STANDARD").await;
    let started = Instant::now();
    let start = json!({"stateMachineArn": machine, "input": "{}"});
    let execution = match call_json(client, sfn, "StartExecution", &start).await {
        Ok(answer) => answer["executionArn"].clone(),
        Err(e) => return (0.0, Err(e)),
    };
    let describe = json!({"executionArn": execution});
    let described = loop {
        match call_json(client, sfn, "DescribeExecution", &describe).await {
            Ok(d) if d["status"] == "RUNNING" && started.elapsed() < LIMIT => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Ok(d) => break d,
            Err(e) => return (0.0, Err(e)),
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    if described["status"] != "SUCCEEDED" {
        let why = match described["status"].as_str() {
            Some("RUNNING") => format!("still running after {} s", LIMIT.as_secs()),
            _ => format!("{} ({}: {})", described["status"], described["error"], described["cause"]),
        };
        return (seconds, Err(why));
    }
    (seconds, check(client, sfn, s3, which, &execution, &described, n).await)
}

/// Whether the execution did what the definition says: its Map Run's counts, and the batched one's result files.
async fn check(
    client: &Http,
    sfn: &str,
    s3: Option<&str>,
    which: &str,
    execution: &Value,
    described: &Value,
    n: usize,
) -> Result<String, String> {
    let runs = call_json(client, sfn, "ListMapRuns", &json!({"executionArn": execution})).await?;
    let map_run = runs["mapRuns"][0]["mapRunArn"].clone();
    let run = call_json(client, sfn, "DescribeMapRun", &json!({"mapRunArn": map_run})).await?;
    let (items, children) = (&run["itemCounts"], &run["executionCounts"]);
    if items["succeeded"] != n {
        return Err(format!("DescribeMapRun counts {} items succeeded, not {n}", items["succeeded"]));
    }
    let batches = if which == "batched" { n.div_ceil(100) } else { n };
    if children["total"] != batches {
        return Err(format!(
            "{} child executions, not {batches}{}",
            children["total"],
            if which == "batched" { ": ItemBatcher was not applied" } else { "" }
        ));
    }
    if which != "batched" {
        return Ok(format!("{n} items and child executions succeeded"));
    }
    let output: Value = serde_json::from_str(described["output"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
    let Some(key) = output["ResultWriterDetails"]["Key"].as_str() else {
        return Err(format!(
            "no ResultWriterDetails in the output: ResultWriter was not applied ({:.80})",
            output.to_string()
        ));
    };
    let Some(s3) = s3 else { return Ok(format!("{batches} batches succeeded; manifest at {key}")) };
    let services = Integrations::new(s3, orderflow_local::REGION)?;
    let manifest = services
        .get_object(&orderflow_asl::ObjectAt::new(BUCKET, key), None)
        .await
        .map_err(|f| format!("the manifest: {}", f.cause))?;
    let manifest: Value = serde_json::from_slice(&manifest.body).map_err(|e| format!("the manifest: {e}"))?;
    let files = manifest["ResultFiles"]["SUCCEEDED"].as_array().cloned().unwrap_or_default();
    let bytes: u64 = files.iter().filter_map(|f| f["Size"].as_u64()).sum();
    if files.is_empty() || bytes == 0 {
        return Err(format!("the manifest lists no results: {manifest}"));
    }
    Ok(format!("{batches} batches succeeded; {} result file(s), {:.1} MB, in S3", files.len(), bytes as f64 / 1e6))
}

/// One run on a fresh `orderflow serve` whose S3 is at `s3`.
async fn ours(
    root: &Path,
    client: &Http,
    s3: &str,
    emulator: &str,
    which: &'static str,
    workload: &Value,
    n: usize,
) -> Run {
    let dir = crate::serve_section::scratch_dir("dmap");
    let program = root.join("target/release/orderflow");
    let server = orderflow::serve::ServeProcess::start_with(&program, root, &dir, &["--aws-endpoint", s3])
        .unwrap_or_else(|e| panic!("{} (cargo build --release -p orderflow): {e}", program.display()));
    eprintln!("distributed map: {emulator}, {which}, {n} items...");
    let (seconds, outcome) = execute(client, &server.endpoint, Some(s3), which, workload, n).await;
    let peak_rss_mb = crate::peak_rss_mb(server.child.id());
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Run { emulator: emulator.into(), definition: which, items: n, seconds, peak_rss_mb, outcome }
}

/// One run of MiniStack's own Step Functions, on a fresh MiniStack.
async fn theirs(root: &Path, client: &Http, which: &'static str, workload: &Value, n: usize) -> Result<Run, String> {
    let ministack = MiniStack::start(root)?;
    ready(client, &ministack.endpoint).await?;
    put_items(&ministack.endpoint, n).await?;
    eprintln!("distributed map: MiniStack, {which}, {n} items...");
    let (seconds, outcome) = execute(client, &ministack.endpoint, Some(&ministack.endpoint), which, workload, n).await;
    let peak_rss_mb = ministack.peak_rss_mb();
    Ok(Run { emulator: "MiniStack".into(), definition: which, items: n, seconds, peak_rss_mb, outcome })
}

pub fn run(root: &Path, moto: &str) -> Section {
    let workload: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("crates/bench/workloads/distributed-map.json")).expect("the workload"),
    )
    .expect("JSON");
    let runtime = crate::serve_section::clients_runtime();
    runtime.block_on(async {
        let client = http();
        put_items(moto, ITEMS).await.expect("the items in moto");
        let million = ours(root, &client, moto, "orderflow serve, S3 in moto", "batched", &workload, ITEMS).await;
        let mut section = Section { million, beside: Vec::new(), ministack_missing: None };

        let services = match MiniStack::start(root) {
            Ok(m) => m,
            Err(why) => {
                section.ministack_missing = Some(why);
                return section;
            }
        };
        let prepared = match ready(&client, &services.endpoint).await {
            Ok(()) => put_items(&services.endpoint, BESIDE).await,
            Err(why) => Err(why),
        };
        if let Err(why) = prepared {
            section.ministack_missing = Some(why);
            return section;
        }
        for which in ["batched", "per_item"] {
            let name = "orderflow serve, S3 in MiniStack";
            section.beside.push(ours(root, &client, &services.endpoint, name, which, &workload, BESIDE).await);
            match theirs(root, &client, which, &workload, BESIDE).await {
                Ok(run) => section.beside.push(run),
                Err(why) => section.ministack_missing = Some(why),
            }
        }
        section
    })
}

impl Section {
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| emulator | definition | items | seconds | items/s | peak RSS | outcome |\n|---|---|---:|---:|---:|---:|---|\n",
        );
        for r in std::iter::once(&self.million).chain(&self.beside) {
            let outcome = match &r.outcome {
                Ok(checked) => format!("SUCCEEDED: {checked}"),
                Err(why) => format!("does not count: {why}"),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {:.2} | {:.0} | {:.0} MB | {outcome} |\n",
                r.emulator,
                r.definition,
                r.items,
                r.seconds,
                r.items_per_second(),
                r.peak_rss_mb
            ));
        }
        if let Some(why) = &self.ministack_missing {
            out.push_str(&format!("\nMiniStack did not run: {why}\n"));
        }
        out
    }

    pub fn budgets(&self) -> Vec<(bool, String)> {
        let m = &self.million;
        let mut out = vec![
            (
                m.outcome.is_ok() && m.items_per_second() >= 50_000.0,
                format!(
                    "distributed map, {} items in batches, serve: {:.0} items/s >= 50000, checked ({})",
                    m.items,
                    m.items_per_second(),
                    m.outcome.as_ref().map_or_else(|e| e.as_str(), |c| c.as_str())
                ),
            ),
            (
                m.outcome.is_ok() && m.peak_rss_mb <= 512.0,
                format!("distributed map, {} items, serve's peak RSS {:.0} MB <= 512 MB", m.items, m.peak_rss_mb),
            ),
        ];
        for which in ["batched", "per_item"] {
            let of = |name: &str| self.beside.iter().find(|r| r.definition == which && r.emulator.starts_with(name));
            match (of("orderflow"), of("MiniStack")) {
                (Some(ours), Some(theirs)) => {
                    let line = match &theirs.outcome {
                        Ok(_) => format!(
                            "distributed map {which}, {BESIDE} items: serve {:.0} items/s > MiniStack's {:.0}",
                            ours.items_per_second(),
                            theirs.items_per_second()
                        ),
                        Err(why) => format!(
                            "distributed map {which}, {BESIDE} items: serve {:.0} items/s; MiniStack did not complete it ({why})",
                            ours.items_per_second()
                        ),
                    };
                    let faster = theirs.outcome.is_err() || ours.items_per_second() > theirs.items_per_second();
                    out.push((ours.outcome.is_ok() && faster, line));
                }
                _ => out.push((
                    false,
                    format!(
                        "distributed map {which} beside MiniStack: {}",
                        self.ministack_missing.as_deref().unwrap_or("no rows")
                    ),
                )),
            }
        }
        out
    }
}
