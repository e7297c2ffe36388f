//! The serve section of `make bench`: `orderflow serve` (the release binary,
//! its own process) answering StartSyncExecution over HTTP on a pure-ASL
//! EXPRESS machine (crates/bench/workloads/serve-mix.json) with 1, 16 and 64
//! concurrent clients; moto server's Step Functions (its execution parser
//! switched on) on the same machine and workload, which has no
//! StartSyncExecution, so each of its executions is a StartExecution and
//! DescribeExecution every 5 ms until it ends; the in-process executor on the
//! same workload; and the server's RSS after 100,000 finished STANDARD
//! executions kept in its state directory.
//!
//! The clients are this process, on the same two cores as the server: the
//! figures are what a local test suite would see. Ours are the lean client of
//! http_load.rs; moto's, slower by four orders, go through hyper's pool.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use crate::http_load::ClientRun;

const SECONDS: f64 = 3.0;
/// The client count whose rate is held to a half of the in-process
/// executor's: both are measured in the same rounds, one after the other,
/// since their ratio is the budget and this machine's speed drifts by
/// a fifth or more from minute to minute; each is the median of its rounds.
const PAIRED_CLIENTS: usize = 16;
const PAIRED_ROUNDS: usize = 5;
const PAIRED_SECONDS: f64 = 1.5;
pub const CLIENTS: [usize; 3] = [1, 16, 64];
const FINISHED_EXECUTIONS: usize = 100_000;

pub(crate) type Http = Client<HttpConnector, Full<Bytes>>;

/// The clients' runtime: two workers, on the same two cores as the server they drive.
pub(crate) fn clients_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime")
}

/// An empty scratch folder of this process for a section's server: `orderflow-bench-NAME-PID`.
pub(crate) fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("orderflow-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub(crate) fn http() -> Http {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new()).pool_max_idle_per_host(128).build(connector)
}

/// One AWS JSON 1.0 call: the answer's status and body.
pub(crate) async fn call(client: &Http, endpoint: &str, operation: &str, body: Bytes) -> Result<(u16, Bytes), String> {
    let request = hyper::Request::post(endpoint)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("AWSStepFunctions.{operation}"))
        // Not verified by either server; botocore sends one.
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=bench/20261125/us-east-1/states/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    let answer = client.request(request).await.map_err(|e| format!("{operation}: {e}"))?;
    let status = answer.status().as_u16();
    let body = answer.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, body))
}

pub(crate) async fn call_json(client: &Http, endpoint: &str, operation: &str, body: &Value) -> Result<Value, String> {
    let (status, bytes) = call(client, endpoint, operation, Bytes::from(body.to_string())).await?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{operation}: {e}"))?;
    if status != 200 {
        return Err(format!("{operation}: HTTP {status}: {value}"));
    }
    Ok(value)
}

/// Throughput and latency of one run.
#[derive(Debug, Clone, Default)]
pub struct Load {
    pub clients: usize,
    pub per_second: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub errors: usize,
}

fn load_of(clients: usize, elapsed: f64, mut latencies: Vec<Duration>, errors: usize) -> Load {
    latencies.sort();
    let (p50_us, p99_us) = (crate::percentile(&latencies, 0.5), crate::percentile(&latencies, 0.99));
    Load { clients, per_second: latencies.len() as f64 / elapsed, p50_us, p99_us, errors }
}

/// `clients` tasks each running `one` back to back for SECONDS.
pub(crate) async fn drive<F, Fut>(clients: usize, one: F) -> Load
where
    F: Fn(usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let counter = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(SECONDS);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (one, counter) = (one.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut run = ClientRun::default();
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let began = Instant::now();
                run.record(began, one(n).await);
            }
            run
        }));
    }
    gather(clients, start, tasks).await
}

/// The clients' latencies, errors and first errors, gathered into one load.
async fn gather(clients: usize, start: Instant, tasks: Vec<tokio::task::JoinHandle<ClientRun>>) -> Load {
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let ClientRun { latencies, errors: e, first_error: first } = task.await.expect("a client");
        all.extend(latencies);
        errors += e;
        if let Some(first) = first {
            eprintln!("serve bench: {first}");
        }
    }
    load_of(clients, start.elapsed().as_secs_f64(), all, errors)
}

/// `orderflow serve`, the release binary, with its state in `state_dir`.
pub(crate) fn serve_process(root: &Path, state_dir: &Path) -> ServeProcess {
    ServeProcess::start(root, state_dir)
}

/// `orderflow serve`, the release binary.
pub(crate) struct ServeProcess(orderflow::serve::ServeProcess);

impl ServeProcess {
    fn start(root: &Path, state_dir: &Path) -> ServeProcess {
        let program = root.join("target/release/orderflow");
        ServeProcess(
            orderflow::serve::ServeProcess::start(&program, root, state_dir)
                .unwrap_or_else(|e| panic!("{} (cargo build --release -p orderflow): {e}", program.display())),
        )
    }

    pub(crate) fn endpoint(&self) -> &str {
        &self.0.endpoint
    }

    /// (VmRSS, VmHWM) in MB.
    fn rss_mb(&self) -> (f64, f64) {
        let pid = self.0.child.id();
        (crate::memory_mb(pid, "VmRSS:"), crate::memory_mb(pid, "VmHWM:"))
    }
}

pub struct Section {
    pub ours: Vec<Load>,
    pub moto: Vec<Load>,
    pub moto_same_output: Option<bool>,
    pub in_process_per_second: f64,
    pub start_execution_per_second: f64,
    pub rss_mb: f64,
    pub peak_rss_mb: f64,
    pub finished: usize,
}

pub(crate) async fn create(client: &Http, endpoint: &str, name: &str, definition: &Value, kind: &str) -> String {
    let request = json!({"name": name, "definition": definition.to_string(), "roleArn": format!("arn:aws:iam::{}:role/bench", orderflow_local::ACCOUNT), "type": kind});
    let created = call_json(client, endpoint, "CreateStateMachine", &request).await.expect("CreateStateMachine");
    created["stateMachineArn"].as_str().expect("an ARN").to_owned()
}

/// Our StartSyncExecution with `clients` clients, each a connection of the
/// lean client (crates/bench/src/http_load.rs), all on one thread of their
/// own, as `wrk -t1` drives its connections: with two client threads on the
/// two cores, each answer more often woke a sleeping client thread on the
/// other core, and the wake-ups cost the server the time it was measured by.
async fn ours(endpoint: &str, machine: &str, input: &Value, clients: usize, seconds: f64) -> Load {
    let body = json!({"stateMachineArn": machine, "input": input.to_string()}).to_string();
    let request = Arc::new(crate::http_load::request(endpoint, "StartSyncExecution", body.as_bytes()));
    let endpoint = endpoint.to_owned();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        runtime.block_on(async move {
            let start = Instant::now();
            let until = start + Duration::from_secs_f64(seconds);
            let tasks = (0..clients)
                .map(|_| tokio::spawn(crate::http_load::client(endpoint.clone(), request.clone(), until, succeeded)))
                .collect();
            gather(clients, start, tasks).await
        })
    });
    tokio::task::spawn_blocking(move || thread.join().expect("the clients' thread")).await.expect("the clients")
}

/// A StartSyncExecution answer of a succeeded execution.
fn succeeded(status: u16, answer: &[u8]) -> Result<(), String> {
    // A whole parse per answer would bill the client's work to the server.
    const SUCCEEDED: &[u8] = b"\"status\":\"SUCCEEDED\"";
    // Found with memchr's substring search, in time that does not depend on
    // where in the answer the member is (a window-by-window compare cost
    // microseconds when it came late).
    if status == 200 && memchr::memmem::find(answer, SUCCEEDED).is_some() {
        Ok(())
    } else {
        Err(format!("StartSyncExecution: HTTP {status}: {}", String::from_utf8_lossy(answer)))
    }
}

/// Moto's StartExecution, then DescribeExecution every 5 ms until the execution ends.
async fn moto(client: &Http, endpoint: &str, machine: &str, input: &Value, clients: usize, run: usize) -> Load {
    let (client, endpoint, machine, input) =
        (client.clone(), endpoint.to_owned(), machine.to_owned(), input.to_string());
    drive(clients, move |n| {
        let (client, endpoint, machine, input) = (client.clone(), endpoint.clone(), machine.clone(), input.clone());
        async move {
            let start = json!({"stateMachineArn": machine, "name": format!("r{run}-{n}"), "input": input});
            let started = call_json(&client, &endpoint, "StartExecution", &start).await?;
            let describe = json!({"executionArn": started["executionArn"]});
            loop {
                let described = call_json(&client, &endpoint, "DescribeExecution", &describe).await?;
                match described["status"].as_str() {
                    Some("RUNNING") => tokio::time::sleep(Duration::from_millis(5)).await,
                    Some("SUCCEEDED") => return Ok(()),
                    _ => return Err(format!("moto: {described}")),
                }
            }
        }
    })
    .await
}

pub fn run(root: &Path, moto_endpoint: Option<&str>) -> Section {
    let workload: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("crates/bench/workloads/serve-mix.json")).expect("the serve workload"),
    )
    .expect("JSON");
    let (definition, input) = (workload["definition"].clone(), workload["input"].clone());

    let runtime = clients_runtime();
    runtime.block_on(async {
        let client = http();
        let dir = scratch_dir("serve");
        let server = ServeProcess::start(root, &dir.join("sync"));
        let machine = create(&client, server.endpoint(), "mix", &definition, "EXPRESS").await;
        let mut ours_loads = Vec::new();
        let mut in_process_per_second = 0.0;
        for clients in CLIENTS {
            eprintln!("serve: StartSyncExecution, {clients} client(s)...");
            // Warm-up: connections made, caches filled.
            let _ = ours(server.endpoint(), &machine, &input, clients, SECONDS).await;
            if clients != PAIRED_CLIENTS {
                ours_loads.push(ours(server.endpoint(), &machine, &input, clients, SECONDS).await);
                continue;
            }
            eprintln!("serve: {PAIRED_ROUNDS} rounds of the in-process executor and {clients} clients...");
            let (mut loads, mut in_process) = (Vec::new(), Vec::new());
            for round in 0..PAIRED_ROUNDS {
                let alone = || crate::executor_section::timed(root, "serve-mix", 50, PAIRED_SECONDS).per_second();
                // Which goes first alternates, so that neither always follows the other.
                if round % 2 == 0 {
                    in_process.push(alone());
                    loads.push(ours(server.endpoint(), &machine, &input, clients, PAIRED_SECONDS).await);
                } else {
                    loads.push(ours(server.endpoint(), &machine, &input, clients, PAIRED_SECONDS).await);
                    in_process.push(alone());
                }
            }
            // The median round's load, its latencies with it (the rounds are odd in number).
            loads.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
            ours_loads.push(loads.swap_remove(PAIRED_ROUNDS / 2));
            in_process_per_second = crate::executor_section::median(&in_process);
        }
        let sample = json!({"stateMachineArn": machine, "input": input.to_string()});
        let our_output =
            call_json(&client, server.endpoint(), "StartSyncExecution", &sample).await.expect("a run")["output"]
                .clone();
        drop(server);

        let mut moto_loads = Vec::new();
        let mut moto_same_output = None;
        if let Some(moto_endpoint) = moto_endpoint {
            let config = json!({"stepfunctions": {"execute_state_machine": true}});
            let request = hyper::Request::post(format!("{moto_endpoint}/moto-api/config"))
                .body(Full::new(Bytes::from(config.to_string())))
                .expect("a request");
            let configured = client.request(request).await.map(|a| a.status().as_u16()).map_err(|e| e.to_string());
            if !configured.as_ref().is_ok_and(|s| (200..300).contains(s)) {
                eprintln!("serve: moto did not take its configuration ({configured:?}); no moto rows");
            } else {
                let machine = create(&client, moto_endpoint, "mix", &definition, "STANDARD").await;
                for (run, clients) in CLIENTS.into_iter().enumerate() {
                    eprintln!("serve: moto StartExecution + DescribeExecution, {clients} client(s)...");
                    moto_loads.push(moto(&client, moto_endpoint, &machine, &input, clients, run).await);
                }
                let start = json!({"stateMachineArn": machine, "name": "sample", "input": input.to_string()});
                if let Ok(started) = call_json(&client, moto_endpoint, "StartExecution", &start).await {
                    let describe = json!({"executionArn": started["executionArn"]});
                    for _ in 0..400 {
                        let Ok(described) = call_json(&client, moto_endpoint, "DescribeExecution", &describe).await
                        else {
                            break;
                        };
                        if described["status"] != "RUNNING" {
                            let same = described["output"].as_str().and_then(|o| serde_json::from_str::<Value>(o).ok())
                                == our_output.as_str().and_then(|o| serde_json::from_str::<Value>(o).ok());
                            moto_same_output = Some(same);
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
        }

        eprintln!("serve: {FINISHED_EXECUTIONS} STANDARD executions kept in a state directory...");
        let server = ServeProcess::start(root, &dir.join("kept"));
        let machine = create(&client, server.endpoint(), "kept", &definition, "STANDARD").await;
        let started = Instant::now();
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (client, endpoint, machine, next) =
                (client.clone(), server.endpoint().to_owned(), machine.clone(), next.clone());
            let input = input.to_string();
            tasks.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= FINISHED_EXECUTIONS {
                        return;
                    }
                    let start = json!({"stateMachineArn": machine, "name": format!("kept-{n}"), "input": input});
                    call_json(&client, &endpoint, "StartExecution", &start).await.expect("StartExecution");
                }
            }));
        }
        for task in tasks {
            task.await.expect("a client");
        }
        let start_execution_per_second = FINISHED_EXECUTIONS as f64 / started.elapsed().as_secs_f64();
        // Until none is running any more.
        let running = json!({"stateMachineArn": machine, "statusFilter": "RUNNING", "maxResults": 1});
        for _ in 0..600 {
            let page = call_json(&client, server.endpoint(), "ListExecutions", &running).await.expect("ListExecutions");
            if page["executions"].as_array().is_some_and(Vec::is_empty) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let succeeded = json!({"stateMachineArn": machine, "statusFilter": "SUCCEEDED", "maxResults": 1000});
        let mut finished = 0;
        let mut token: Option<String> = None;
        loop {
            let mut request = succeeded.clone();
            if let Some(token) = &token {
                request["nextToken"] = json!(token);
            }
            let page = call_json(&client, server.endpoint(), "ListExecutions", &request).await.expect("ListExecutions");
            finished += page["executions"].as_array().map_or(0, Vec::len);
            match page["nextToken"].as_str() {
                Some(next) => token = Some(next.to_owned()),
                None => break,
            }
        }
        let (rss_mb, peak_rss_mb) = server.rss_mb();
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
        Section {
            ours: ours_loads,
            moto: moto_loads,
            moto_same_output,
            in_process_per_second,
            start_execution_per_second,
            rss_mb,
            peak_rss_mb,
            finished,
        }
    })
}

impl Section {
    pub fn table(&self) -> String {
        let mut out =
            String::from("| server | clients | executions/s | p50 | p99 | errors |\n|---|---:|---:|---:|---:|---:|\n");
        for l in &self.ours {
            out.push_str(&format!(
                "| orderflow serve, StartSyncExecution | {} | {:.0} | {:.0} µs | {:.0} µs | {} |\n",
                l.clients, l.per_second, l.p50_us, l.p99_us, l.errors
            ));
        }
        for l in &self.moto {
            out.push_str(&format!(
                "| moto server, StartExecution + DescribeExecution every 5 ms | {} | {:.1} | {:.0} µs | {:.0} µs | {} |\n",
                l.clients, l.per_second, l.p50_us, l.p99_us, l.errors
            ));
        }
        out.push_str(&format!(
            "| orderflow-asl in-process (one thread, no HTTP) | - | {:.0} | | | |\n",
            self.in_process_per_second
        ));
        out
    }

    fn at(loads: &[Load], clients: usize) -> Option<&Load> {
        loads.iter().find(|l| l.clients == clients)
    }

    pub fn budgets(&self) -> Vec<(bool, String)> {
        let mut out = Vec::new();
        let ours = Section::at(&self.ours, 16);
        let moto = self
            .moto
            .iter()
            .map(|l| l.per_second)
            .fold(None, |best: Option<f64>, x| Some(best.map_or(x, |b| b.max(x))));
        match (ours, moto) {
            (Some(ours), Some(moto)) => out.push((
                ours.per_second >= 100.0 * moto && ours.errors == 0,
                format!(
                    "serve StartSyncExecution, 16 clients: {:.0}/s >= 100 x moto's best {:.1}/s = {:.0}/s, no errors",
                    ours.per_second,
                    moto,
                    100.0 * moto
                ),
            )),
            _ => out.push((false, "serve beside moto: moto's Step Functions did not run".to_owned())),
        }
        if let Some(ours) = ours {
            out.push((
                ours.per_second >= self.in_process_per_second / 2.0,
                format!(
                    "serve StartSyncExecution over HTTP, 16 clients: {:.0}/s >= 1/2 x in-process {:.0}/s = {:.0}/s",
                    ours.per_second,
                    self.in_process_per_second,
                    self.in_process_per_second / 2.0
                ),
            ));
        }
        if self.moto_same_output == Some(false) {
            out.push((false, "serve and moto gave different outputs on serve-mix".to_owned()));
        }
        out.push((
            self.rss_mb <= 150.0 && self.finished == FINISHED_EXECUTIONS,
            format!(
                "serve RSS {:.1} MB <= 150 MB after {} finished executions (of {FINISHED_EXECUTIONS} started)",
                self.rss_mb, self.finished
            ),
        ));
        out
    }
}
