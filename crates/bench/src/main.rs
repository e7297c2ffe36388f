//! `make bench`: each function's release binary, driven through the local
//! Lambda Runtime API exactly as Lambda drives it, beside a bare echo
//! function (the floor) and the seed's Python handler under awslambdaric.
//! Prints a table and the budgets as pass/fail lines, and writes them to
//! docs/performance.md.
//!
//! Then the executor section (`executor_section`): orderflow-asl beside
//! aws-local-stepfunctions on the same workloads, and the in-process workflow.
//!
//! Then the serve section (`serve_section`): `orderflow serve` over HTTP beside
//! moto server's Step Functions and the in-process executor; the
//! integrations section beside MiniStack; the Distributed Map section
//! (`distributed_map_section`): a million items read from S3, and 100,000
//! beside MiniStack.
//!
//! Usage: orderflow-bench [--iterations N] [--init-runs N] [--out PATH] [--executor-only | --serve-only | --init-only]
//!        orderflow-bench --integrations-only | --distributed-map-only
//!        orderflow-bench --profile order|WORKLOAD SECONDS
//!        orderflow-bench --round order|WORKLOAD SECONDS   (one round of the executor section: a JSON line)

use std::path::{Path, PathBuf};
use std::time::Instant;

use orderflow_bench::{
    console_section, distributed_map_section, executor_section, integrations_section, percentile, sample_order,
    serve_section, workspace_root,
};
use orderflow_emulator::{Emulator, FunctionProcess, LocalResources, Outcome, RuntimeApi};
use serde_json::{Value, json};

struct Subject {
    name: &'static str,
    program: PathBuf,
    args: Vec<String>,
    dir: Option<PathBuf>,
    env: Vec<(String, String)>,
    zip: Option<PathBuf>,
}

#[derive(Default, Clone)]
struct Figures {
    init_ms: f64,
    p50_us: f64,
    p99_us: f64,
    peak_rss_mb: f64,
    zip_kb: Option<f64>,
    errors: usize,
}

/// A budget line as the report shows it.
fn verdict(ok: bool, line: &str) -> String {
    format!("{} {line}", if ok { "PASS" } else { "FAIL" })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

async fn spawn(subject: &Subject, api: &RuntimeApi) -> FunctionProcess {
    let env: Vec<(String, String)> = api
        .environment(subject.name)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(subject.env.iter().cloned())
        // Info-level lines cost a write per invocation; measure what a deployed
        // function at the template's default level does.
        .chain([("AWS_LAMBDA_LOG_LEVEL".to_owned(), "INFO".to_owned())])
        .collect();
    FunctionProcess::spawn_in(&subject.program, &subject.args, subject.dir.as_deref(), env)
        .unwrap_or_else(|e| panic!("{}: {e}", subject.name))
}

/// One cold start: from spawning the process to its first `/next`, in milliseconds.
async fn init_once(subject: &Subject) -> f64 {
    let api = RuntimeApi::start().await.expect("runtime api");
    let started = Instant::now();
    let _process = spawn(subject, &api).await;
    api.first_poll().await;
    started.elapsed().as_secs_f64() * 1e3
}

/// The subjects' cold starts, taken in turns (one of each, round after
/// round): a machine's speed drifts over seconds, and timing one subject's
/// cold starts all before the next's would measure the drift as a difference
/// between them. Milliseconds, per subject in the order given.
async fn cold_starts(subjects: &[&Subject], runs: usize) -> Vec<Vec<f64>> {
    let mut inits = vec![Vec::with_capacity(runs); subjects.len()];
    for _ in 0..runs {
        for (subject, inits) in subjects.iter().zip(&mut inits) {
            inits.push(init_once(subject).await);
        }
    }
    inits
}

/// A subject's warm figures, with its cold starts already taken.
async fn measure(subject: &Subject, inputs: &[Value], inits: Vec<f64>) -> Figures {
    let api = RuntimeApi::start().await.expect("runtime api");
    let process = spawn(subject, &api).await;
    api.first_poll().await;
    let mut errors = 0;
    for input in inputs.iter().take(20) {
        // Warm-up, on the first inputs again: for the AWS steps these become replays.
        let _ = api.invoke(input).await;
    }
    let mut latencies = Vec::with_capacity(inputs.len());
    for input in inputs {
        let started = Instant::now();
        let outcome = api.invoke(input).await;
        latencies.push(started.elapsed());
        if !matches!(outcome, Outcome::Response(_)) {
            errors += 1;
        }
    }
    latencies.sort();
    Figures {
        init_ms: median(inits),
        p50_us: percentile(&latencies, 0.50),
        p99_us: percentile(&latencies, 0.99),
        peak_rss_mb: process.peak_rss_bytes().unwrap_or(0) as f64 / (1024.0 * 1024.0),
        zip_kb: subject.zip.as_ref().and_then(|z| std::fs::metadata(z).ok()).map(|m| m.len() as f64 / 1024.0),
        errors,
    }
}

/// The seed's `validate_data.py`, taken from its code block in ../shared/seed.
fn seed_handler(dir: &Path) -> Option<PathBuf> {
    let extract = |text: &str| -> Option<String> {
        let after = &text[text.find("validate_data.py`")?..];
        let start = after.find("```python")? + "```python".len();
        Some(after[start..start + after[start..].find("```")?].trim_start().to_owned())
    };
    let seed_dir = workspace_root().join("../shared/seed");
    let code = std::fs::read_dir(seed_dir)
        .ok()?
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
        .find_map(|text| extract(&text))?;
    let path = dir.join("validate_data.py");
    std::fs::write(&path, code).ok()?;
    Some(path)
}

fn machine_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map_or_else(|| "?".into(), |kb| format!("{:.0} GiB", kb as f64 / 1048576.0));
    format!("{cpu}, {cores} cores, {mem} RAM, x86_64 Linux")
}

#[global_allocator]
static ALLOCATOR: executor_section::CountingAllocator = executor_section::CountingAllocator;

fn executor_report(section: &executor_section::Section) -> (String, Vec<String>) {
    let budgets: Vec<String> = section.budgets().iter().map(|(ok, line)| verdict(*ok, line)).collect();
    let text = format!(
        "## The executor\n\n\
         orderflow-asl (release build, one thread, a single-threaded tokio runtime, virtual clock) and \
         aws-local-stepfunctions 3.0.0 (pinned in `tools/bench-node`, on {}) run the same definitions and inputs \
         (`crates/bench/workloads/*.json`), one execution after another. Each workload runs in {} rounds; a round \
         is a fresh process of each, one after the other (which goes first alternates), timed for {} s after a \
         warm-up of 50 runs (200 of the order workflow) or 1 s, whichever ends first. The rates shown are the medians over the rounds; the \
         ratio is the median of the rounds' ratios, with the lowest and the highest beside it. Rounds, not one long \
         run: on this machine a process's speed is set when it starts and varies by up to a third from one \
         process to the next, and the machine's speed drifts over minutes. \"Same output\" compares the two \
         executions' outputs in every round. Allocations are counted by the bench's global allocator.\n\n{}\n\
         In-process order workflow (the real state machine, the handlers on in-memory ports that forget each order once its execution ends, as a real table does not grow the process; every execution stores a fresh order), {} rounds as above: \
         median {:.0} executions/s (lowest round {:.0}/s, highest {:.0}/s), {:.0} allocations per execution.\n\n\
         Allocations per state, a chain of Pass states with Parameters: {:.1} over 100 states, {:.1} over 1,000.\n",
        node_version(),
        executor_section::ROUNDS,
        executor_section::ROUND_SECONDS,
        section.table(),
        executor_section::ROUNDS,
        section.workflow.median(),
        section.workflow.range().0,
        section.workflow.range().1,
        section.workflow_allocations,
        section.per_state.0,
        section.per_state.1,
    );
    (text, budgets)
}

fn serve_report(section: &serve_section::Section) -> (String, Vec<String>) {
    let budgets: Vec<String> = section.budgets().iter().map(|(ok, line)| verdict(*ok, line)).collect();
    let moto_output = match section.moto_same_output {
        Some(true) => "moto's output of the workload is the same as orderflow's",
        Some(false) => "moto's output of the workload DIFFERS from orderflow's",
        None => "moto's output could not be compared",
    };
    let text = format!(
        "## orderflow serve\n\n\
         `orderflow serve` (the release binary, its own process, state in a fresh `--state-dir`) answers \
         StartSyncExecution over HTTP on an EXPRESS state machine of `crates/bench/workloads/serve-mix.json` (Pass with \
         intrinsics, a Choice, an inline Map over 10 items with ItemSelector, a Parallel of two branches). The clients are \
         the bench's own, as lean as wrk's: one keep-alive HTTP/1.1 connection each, all on one thread of a \
         current-thread tokio runtime, on the same two cores as the server (`crates/bench/src/http_load.rs`), each \
         sending its next request when the last is answered, for 3 s after a 3 s warm-up at each client count; at 16 \
         clients, in 5 rounds of 1.5 s each, each round beside a round of the in-process executor, the two in \
         alternating order, each row the median round. A request counts when the answer is HTTP 200 with status \
         SUCCEEDED. Latency is from sending the request to \
         reading the whole answer. moto server (Python, {}) runs the same definition with its execution parser \
         switched on (`stepfunctions.execute_state_machine`); it has no StartSyncExecution, so each of its executions \
         is a StartExecution, then a DescribeExecution every 5 ms until the execution ends; {moto_output}. The \
         in-process row is orderflow-asl on the same workload on one thread, without HTTP, in the rounds of 16 clients.\n\n{}\n\
         Kept executions: {} STANDARD executions of the same workload started by StartExecution (16 clients, {:.0} \
         started/s), all run to SUCCEEDED ({} listed so) and kept in the state directory's SQLite database; the \
         server's RSS afterwards (VmRSS): {:.1} MB, peak (VmHWM) {:.1} MB.\n",
        moto_version(),
        section.table(),
        section.finished,
        section.start_execution_per_second,
        section.finished,
        section.rss_mb,
        section.peak_rss_mb,
    );
    (text, budgets)
}

fn integrations_report(section: &integrations_section::Section) -> (String, Vec<String>) {
    let budgets: Vec<String> = section.budgets().iter().map(|(ok, line)| verdict(*ok, line)).collect();
    let text = format!(
        "## Service integrations over serve, beside MiniStack\n\n\
         A workflow of service integrations (`crates/bench/workloads/integrations.json`: DynamoDB putItem, then getItem, \
         SQS sendMessage, SNS publish, then a child execution with `startExecution.sync:2`) as STANDARD executions, \
         three ways: `orderflow serve` (the release binary) with its service tasks sent to moto ({}), the default; the \
         same with its service tasks sent to MiniStack's services (`--aws-endpoint`); and MiniStack ({}, PyPI, MIT, in \
         its own virtualenv) running the same definition with its own Step Functions and services. All are driven alike \
         by the bench's clients: StartExecution, then DescribeExecution every 5 ms until the execution ends, back to \
         back for 3 s per client count; an execution counts when it SUCCEEDED with the workload's output. The table, \
         queue and topic are made first through the same SDK calls service Tasks make. The budget compares the two \
         Step Functions engines on the same services (MiniStack's). With moto, serve is bound by moto: its server \
         runs on one core (one Python interpreter, about 100% CPU under load, while serve uses a few percent), so the \
         moto rows measure moto.\n\n{}",
        moto_version(),
        ministack_version(),
        section.table(),
    );
    (text, budgets)
}

fn distributed_map_report(section: &distributed_map_section::Section) -> (String, Vec<String>) {
    let budgets: Vec<String> = section.budgets().iter().map(|(ok, line)| verdict(*ok, line)).collect();
    let text = format!(
        "## Distributed Map over S3, beside MiniStack\n\n\
         One STANDARD execution of a Distributed Map (`crates/bench/workloads/distributed-map.json`) over JSON Lines \
         items read from S3 by its ItemReader. `batched`: a pure-ASL child per batch of 100 items (ItemBatcher), \
         MaxConcurrency 1,000, the results written back to S3 (ResultWriter). `per_item`: a child per item whose result \
         is 0 (the Map's result stays under the 256 KiB limit), ResultPath null. `orderflow serve` is the release binary on a fresh state directory, its S3 in moto ({}) for the \
         {} items and in MiniStack ({}) beside MiniStack's own Step Functions for {} items. Seconds: from \
         StartExecution to the DescribeExecution (every 20 ms) that saw the execution end; items/s = items / seconds. \
         Peak RSS: VmHWM of the server's process (for MiniStack, its one process with its S3 holding the items). \
         A run counts when it SUCCEEDED and DescribeMapRun counts every item succeeded in as many child executions as \
         the definition makes (for `batched`, with the ResultWriter's manifest listing the result files). MiniStack \
         reads ItemReader sources but not ItemBatcher or ResultWriter: under `batched` each of its children gets one \
         item, whose `$.Items` is not there, so its run fails.\n\n{}",
        moto_version(),
        distributed_map_section::ITEMS,
        ministack_version(),
        distributed_map_section::BESIDE,
        section.table(),
    );
    (text, budgets)
}

fn ministack_version() -> String {
    let python = workspace_root().join(".venv-ministack/bin/python");
    std::process::Command::new(python)
        .args(["-c", "import importlib.metadata as m; print(m.version('ministack'))"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| format!("MiniStack {}", String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or_else(|| "MiniStack".into())
}

fn moto_version() -> String {
    let python = workspace_root().join(".venv/bin/python");
    std::process::Command::new(python)
        .args(["-c", "import moto; print(moto.__version__)"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| format!("moto {}", String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or_else(|| "moto".into())
}

fn node_version() -> String {
    std::process::Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .map(|o| format!("Node {}", String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or_else(|| "no Node found".into())
}

#[tokio::main]
async fn main() {
    let mut iterations = 1000usize;
    let mut init_runs = 40usize;
    let mut out = workspace_root().join("docs/performance.md");
    let mut init_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--iterations" => iterations = args.next().and_then(|v| v.parse().ok()).expect("--iterations N"),
            "--init-runs" => init_runs = args.next().and_then(|v| v.parse().ok()).expect("--init-runs N"),
            "--out" => out = PathBuf::from(args.next().expect("--out PATH")),
            "--profile" => {
                // One workload alone, for a profiler to watch: `order` or a workload's name.
                let workload = args.next().expect("--profile WORKLOAD SECONDS");
                let seconds: f64 = args.next().and_then(|v| v.parse().ok()).expect("--profile WORKLOAD SECONDS");
                executor_section::profile(&workspace_root(), &workload, seconds);
                return;
            }
            "--round" => {
                // One round of the executor section, in this fresh process.
                let workload = args.next().expect("--round WORKLOAD SECONDS");
                let seconds: f64 = args.next().and_then(|v| v.parse().ok()).expect("--round WORKLOAD SECONDS");
                executor_section::round(&workspace_root(), &workload, seconds);
                return;
            }
            "--console-only" => {
                let section =
                    std::thread::spawn(|| console_section::run(&workspace_root())).join().expect("the console section");
                let (text, budgets) = console_report(&section);
                println!("{text}\n{}", budgets.join("\n"));
                return;
            }
            "--serve-only" => {
                let emulator = Emulator::start().expect("moto");
                let moto = emulator.endpoint();
                let section = std::thread::spawn(move || serve_section::run(&workspace_root(), Some(&moto)))
                    .join()
                    .expect("the serve section");
                let (text, budgets) = serve_report(&section);
                println!("{text}\n{}", budgets.join("\n"));
                return;
            }
            "--integrations-only" => {
                let emulator = Emulator::start().expect("moto");
                let moto = emulator.endpoint();
                let section = std::thread::spawn(move || integrations_section::run(&workspace_root(), &moto))
                    .join()
                    .expect("the integrations section");
                let (text, budgets) = integrations_report(&section);
                println!("{text}\n{}", budgets.join("\n"));
                return;
            }
            "--distributed-map-only" => {
                let emulator = Emulator::start().expect("moto");
                let moto = emulator.endpoint();
                let section = std::thread::spawn(move || distributed_map_section::run(&workspace_root(), &moto))
                    .join()
                    .expect("the distributed map section");
                let (text, budgets) = distributed_map_report(&section);
                println!("{text}\n{}", budgets.join("\n"));
                return;
            }
            // Only the cold starts of the functions, taken in turns (echo,
            // then each function, round after round), for work on init time.
            "--init-only" => init_only = true,
            "--executor-only" => {
                let (text, budgets) = executor_report(&executor_section::run_on_one_thread(&workspace_root()));
                println!("{text}\n{}", budgets.join("\n"));
                return;
            }
            other => panic!("unknown argument {other}"),
        }
    }
    let root = workspace_root();
    let release = |b: &str| root.join("target/release").join(b);
    let zip = |b: &str| Some(root.join("target/lambda").join(b).join("bootstrap.zip"));

    let emulator = Emulator::start().expect("moto");
    let config = emulator.config_loader().load().await;
    let resources = LocalResources::create(&config, "bench").await.expect("resources");
    let aws_env: Vec<(String, String)> =
        emulator.environment().into_iter().chain(resources.environment()).map(|(k, v)| (k.to_owned(), v)).collect();

    let order = sample_order();
    let same_order: Vec<Value> = vec![order.clone(); iterations];
    let step_input = |i: usize| {
        let mut o = order.clone();
        o["order_id"] = json!(format!("ORD-B-{i}"));
        json!({ "order": o })
    };
    let unique_orders: Vec<Value> = (0..iterations).map(step_input).collect();

    let seed_dir = std::env::temp_dir().join(format!("orderflow-seed-{}", std::process::id()));
    std::fs::create_dir_all(&seed_dir).expect("temp dir");
    let seed = seed_handler(&seed_dir);
    if seed.is_none() {
        eprintln!(
            "warning: the seed's validate_data.py was not found in {}: its row is left out",
            root.join("../shared/seed").display()
        );
    }

    let mut subjects = vec![
        (
            Subject {
                name: "echo (floor)",
                program: release("echo"),
                args: vec![],
                dir: None,
                env: vec![],
                zip: zip("echo"),
            },
            &same_order,
        ),
        (
            Subject {
                name: "validate_data",
                program: release("validate_data"),
                args: vec![],
                dir: None,
                env: vec![],
                zip: zip("validate_data"),
            },
            &same_order,
        ),
        (
            Subject {
                name: "process_order",
                program: release("process_order"),
                args: vec![],
                dir: None,
                env: aws_env.clone(),
                zip: zip("process_order"),
            },
            &unique_orders,
        ),
        (
            Subject {
                name: "send_notification",
                program: release("send_notification"),
                args: vec![],
                dir: None,
                env: aws_env.clone(),
                zip: zip("send_notification"),
            },
            &unique_orders,
        ),
    ];
    if seed.is_some() {
        subjects.push((
            Subject {
                name: "seed validate_data.py (awslambdaric)",
                program: root.join(".venv/bin/python"),
                args: vec!["-m".into(), "awslambdaric".into(), "validate_data.lambda_handler".into()],
                dir: Some(seed_dir.clone()),
                env: vec![],
                zip: None,
            },
            &same_order,
        ));
    }

    eprintln!("cold starts: {init_runs} of each subject, in turns...");
    let inits = cold_starts(&subjects.iter().map(|(subject, _)| subject).collect::<Vec<_>>(), init_runs).await;
    if init_only {
        for ((subject, _), inits) in subjects.iter().zip(inits) {
            println!("{}: init median {:.3} ms over {init_runs}", subject.name, median(inits));
        }
        return;
    }

    let mut rows = Vec::new();
    for ((subject, inputs), inits) in subjects.iter().zip(inits) {
        eprintln!("measuring {} ({} invocations)...", subject.name, inputs.len());
        rows.push((subject.name, measure(subject, inputs, inits).await));
    }

    let executor = executor_section::run_on_one_thread(&root);
    let (executor_text, executor_budgets) = executor_report(&executor);
    let serve = {
        let (root, moto) = (root.clone(), emulator.endpoint());
        std::thread::spawn(move || serve_section::run(&root, Some(&moto))).join().expect("the serve section")
    };
    let (serve_text, serve_budgets) = serve_report(&serve);
    let integrations = {
        let (root, moto) = (root.clone(), emulator.endpoint());
        std::thread::spawn(move || integrations_section::run(&root, &moto)).join().expect("the integrations section")
    };
    let (integrations_text, integrations_budgets) = integrations_report(&integrations);
    let distributed_map = {
        let (root, moto) = (root.clone(), emulator.endpoint());
        std::thread::spawn(move || distributed_map_section::run(&root, &moto))
            .join()
            .expect("the distributed map section")
    };
    let (distributed_map_text, distributed_map_budgets) = distributed_map_report(&distributed_map);
    let console = {
        let root = root.clone();
        std::thread::spawn(move || console_section::run(&root)).join().expect("the console section")
    };
    let (console_text, console_budgets) = console_report(&console);

    let floor = rows[0].1.clone();
    let mut table = String::from(
        "| function | init (median of cold starts) | vs echo | warm p50 | warm p99 | p50 vs echo | peak RSS | arm64 zip | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for (name, f) in &rows {
        table.push_str(&format!(
            "| {name} | {:.2} ms | {:.2}x | {:.0} µs | {:.0} µs | {:.2}x | {:.1} MB | {} | {} |\n",
            f.init_ms,
            f.init_ms / floor.init_ms,
            f.p50_us,
            f.p99_us,
            f.p50_us / floor.p50_us,
            f.peak_rss_mb,
            f.zip_kb.map_or_else(|| "n/a".to_owned(), |kb| format!("{kb:.0} KB")),
            f.errors,
        ));
    }

    let mut budgets = Vec::new();
    let mut check = |ok: bool, line: String| budgets.push(verdict(ok, &line));
    let init_budget = 1.5 * floor.init_ms;
    for (name, f) in rows.iter().filter(|(n, _)| ["validate_data", "process_order", "send_notification"].contains(n)) {
        check(
            f.init_ms <= init_budget,
            format!("{name} init {:.2} ms <= 1.5 x echo {:.2} ms = {init_budget:.2} ms", f.init_ms, floor.init_ms),
        );
        check(f.peak_rss_mb <= 24.0, format!("{name} peak RSS {:.1} MB <= 24 MB", f.peak_rss_mb));
        match f.zip_kb {
            Some(kb) => check(kb <= 3.0 * 1024.0, format!("{name} arm64 zip {kb:.0} KB <= 3072 KB")),
            None => check(
                false,
                format!("{name} arm64 zip missing (run cargo lambda build --release --arm64 --output-format zip)"),
            ),
        }
        check(f.errors == 0, format!("{name} answered every invocation without error ({} errors)", f.errors));
    }
    if let Some((_, v)) = rows.iter().find(|(n, _)| *n == "validate_data") {
        check(v.p99_us <= 1000.0, format!("validate_data warm p99 {:.0} µs <= 1000 µs", v.p99_us));
    }
    budgets.extend(executor_budgets);
    budgets.extend(serve_budgets);
    budgets.extend(integrations_budgets);
    budgets.extend(distributed_map_budgets);
    budgets.extend(console_budgets);

    let criterion = criterion_summary(&root);
    let report = format!(
        "# Performance\n\nGenerated by `make bench` (`target/release/orderflow-bench --iterations {iterations} --init-runs {init_runs}`); do not edit by hand.\n\n\
         - Machine: {}.\n\
         - Functions: the x86_64 release builds (`cargo build --release`, the workspace's release profile) of the same code that \
         ships as arm64; zip sizes are of `cargo lambda build --release --arm64 --output-format zip`.\n\
         - Each function runs as its own process against orderflow's local Lambda Runtime API (`AWS_LAMBDA_RUNTIME_API`), \
         exactly as in Lambda. Init: from process start to its first `/next` request, median of {init_runs} cold starts, the subjects' taken in turns. \
         Warm latency: from handing an event to the Runtime API to receiving the answer, over {iterations} invocations after 20 \
         warm-up ones. Peak RSS: VmHWM of the process after the run. process_order and send_notification call moto \
         (Python, on 127.0.0.1) through the AWS SDK, so their latencies are mostly moto's. process_order stores a \
         new order per invocation; send_notification confirms each of them.\n\
         - The echo floor is a bare `lambda_runtime` function returning its input; the seed row is the original tutorial's \
         Python `validate_data` under the AWS Lambda Python runtime interface client (awslambdaric).\n\n\
         {table}{}\n\
         {executor_text}\n\
         {serve_text}\n\
         {integrations_text}\n\
         {distributed_map_text}\n\
         {console_text}\n\
         ## Budgets\n\n```\n{}\n```\n\n## Criterion micro-benchmarks\n\n{criterion}\n",
        machine_description(),
        if seed.is_some() {
            ""
        } else {
            "\n(The seed's Python handler was not found in ../shared/seed, so this run has no row for it.)\n"
        },
        budgets.join("\n"),
    );
    println!("{table}");
    println!("{executor_text}");
    println!("{serve_text}");
    println!("{integrations_text}");
    println!("{distributed_map_text}");
    println!("{console_text}");
    for line in &budgets {
        println!("{line}");
    }
    if let Some(parent) = out.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    std::fs::write(&out, report).expect("write the report");
    eprintln!("wrote {}", out.display());
    let _ = std::fs::remove_dir_all(&seed_dir);
}

/// The console's page-load figures and their budget: well under a second.
fn console_report(section: &console_section::Section) -> (String, Vec<String>) {
    let mut text = format!(
        "## The console in a browser\n\nPages of `orderflow serve` (the release binary) opened in Debian's Chromium (headless, playwright-core, on the same two cores as the server) 15 times each after 2 warm-up loads: an execution of the console's own workload (an inline Map over 249 items, one Pass each), from navigation to its graph drawn and every event in its table; a state machine with {} kept executions, to its graph and its first 25 executions listed. ListExecutions of that machine (25 a page) timed over HTTP 20 times, for its newest page and its oldest.\n\n",
        console_section::KEPT
    );
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        (!v.is_empty()).then(|| (v[v.len() / 2], v[v.len() - 1]))
    };
    let mut budgets = Vec::new();
    match (&section.error, median(&section.loads), median(&section.machine_loads)) {
        (None, Some((loaded, slowest)), Some((machine, machine_slowest))) => {
            text.push_str(&format!(
                "| page | rows | median | slowest |\n|---|---:|---:|---:|\n| an execution | {} events | {loaded:.0} ms | {slowest:.0} ms |\n| a state machine with {} executions | 25 executions | {machine:.0} ms | {machine_slowest:.0} ms |\n",
                section.events,
                console_section::KEPT
            ));
            if let (Some((first, _)), Some((last, _))) = (median(&section.first_page), median(&section.last_page)) {
                text.push_str(&format!(
                    "\nListExecutions, 25 a page, of {} kept: the newest page {first:.1} ms, the oldest {last:.1} ms (medians).\n",
                    console_section::KEPT
                ));
            }
            budgets.push(verdict(
                loaded <= 500.0 && section.events >= 1000,
                &format!(
                    "console: an execution of {} events loads in {loaded:.0} ms (median) <= 500 ms",
                    section.events
                ),
            ));
            budgets.push(verdict(
                machine <= 500.0,
                &format!(
                    "console: a state machine with {} executions loads in {machine:.0} ms (median) <= 500 ms",
                    console_section::KEPT
                ),
            ));
        }
        (error, ..) => {
            let why = error.clone().unwrap_or_else(|| "no load was timed".into());
            text.push_str(&format!("Not measured: {why}\n"));
            budgets.push(verdict(false, &format!("console: page load not measured ({why})")));
        }
    }
    (text, budgets)
}

/// Mean times from target/criterion, when `cargo bench` has run.
fn criterion_summary(root: &Path) -> String {
    let mut out = String::from(
        "`cargo bench -p orderflow-bench` (criterion, mean with its 95% confidence interval):\n\n| benchmark | mean |\n|---|---:|\n",
    );
    let mut found = false;
    for name in ["validate_and_price_1_items", "validate_and_price_100_items", "workflow_execution_in_process"] {
        let path = root.join("target/criterion").join(name).join("new/estimates.json");
        let Some(estimates) = std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok())
        else {
            continue;
        };
        let mean = &estimates["mean"];
        let ns = |v: &Value| v.as_f64().unwrap_or(0.0);
        out.push_str(&format!(
            "| {name} | {:.2} µs ({:.2} to {:.2}) |\n",
            ns(&mean["point_estimate"]) / 1e3,
            ns(&mean["confidence_interval"]["lower_bound"]) / 1e3,
            ns(&mean["confidence_interval"]["upper_bound"]) / 1e3
        ));
        found = true;
    }
    if found { out } else { "criterion results not found: run `cargo bench -p orderflow-bench` first.".into() }
}
