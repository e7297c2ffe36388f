//! The executor section of `make bench`: orderflow-asl beside
//! aws-local-stepfunctions (pinned in tools/bench-node, run on the Node that
//! is present) on the same pure-ASL workloads (crates/bench/workloads), one
//! thread each; the in-process order workflow; and allocations per execution,
//! with a check that they stay flat in the number of states already run.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use orderflow_asl::{
    BoxFuture, ExecutionOptions, ExecutionStatus, Executor, Invoker, StateMachine, TaskFailure, VirtualClock, parse,
};
use orderflow_value::Value as Doc;
use serde_json::{Value, json};

use crate::{memory_ports, run_workflow, state_machine};

/// Counts every allocation of the bench process (installed as its global allocator).
pub struct CountingAllocator;

pub static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// mimalloc underneath, as in the orderflow binaries.
static INNER: orderflow_alloc::Mimalloc = orderflow_alloc::Mimalloc;

unsafe impl std::alloc::GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { INNER.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { INNER.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { INNER.realloc(ptr, layout, new_size) }
    }
}

pub const WORKLOADS: &[&str] = &["pass-intrinsics", "choice", "map-10", "map-1000", "parallel"];

/// A JSONata workload and its JSONPath twin (the same workflow, the same output).
pub const TWINS: &[(&str, &str)] = &[("jsonata-mix", "jsonpath-mix")];

struct NoTasks;

impl Invoker for NoTasks {
    fn invoke<'a>(&'a self, _: &'a str, _: &'a Doc) -> BoxFuture<'a, Result<Doc, TaskFailure>> {
        Box::pin(async {
            Err(TaskFailure { error: "NoTasks".into(), cause: "pure-ASL workloads call no task".into() })
        })
    }
}

/// Rounds per workload. Each round is a fresh process of ours and one of the
/// peer's, one after the other (which goes first alternates): on this kind of
/// machine a process's speed is set at its start (its pages, its neighbours'
/// load) and varies by a third from one process to the next, and the
/// machine's speed drifts over minutes. A ratio of two processes timed side
/// by side, taken over several such pairs, is what survives that.
pub const ROUNDS: usize = 7;
/// Seconds of timed executions per process, after its warm-up.
pub const ROUND_SECONDS: f64 = 1.5;

/// Rates of a workload over the rounds, in executions per second.
#[derive(Clone, Debug, Default)]
pub struct Rates(pub Vec<f64>);

impl Rates {
    pub fn median(&self) -> f64 {
        median(&self.0)
    }
    pub fn range(&self) -> (f64, f64) {
        let min = self.0.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.0.iter().copied().fold(0.0, f64::max);
        (min, max)
    }
}

pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

pub struct Row {
    pub name: String,
    pub ours: Rates,
    pub ours_allocations: f64,
    /// The peer's rate in the same rounds as ours, when it ran every round.
    pub peer: Option<Rates>,
    /// Whether every round's output of the peer was ours.
    pub same_output: Option<bool>,
}

impl Row {
    /// The median over rounds of ours / the peer's, each round's two processes side by side.
    pub fn ratio(&self) -> Option<f64> {
        Some(median(&self.ratios()?))
    }
    fn ratio_range(&self) -> Option<(f64, f64)> {
        Some(Rates(self.ratios()?).range())
    }
    fn ratios(&self) -> Option<Vec<f64>> {
        let peer = self.peer.as_ref()?;
        Some(self.ours.0.iter().zip(&peer.0).map(|(ours, peer)| ours / peer).collect())
    }
}

async fn execute(machine: &StateMachine, clock: &VirtualClock, input: &Arc<Doc>) -> Arc<Doc> {
    thread_local! {
        static OPTIONS: ExecutionOptions = ExecutionOptions::default();
    }
    // The input and the output are shared, not copied, as the peer's
    // run(input) shares its input object and hands back its output object.
    let options = OPTIONS.with(ExecutionOptions::clone);
    let execution = Executor::new(machine, &NoTasks, clock, options).run_shared(input.clone()).await;
    assert_eq!(execution.status, ExecutionStatus::Succeeded, "{:?} {:?}", execution.error, execution.cause);
    execution.output.unwrap_or_default()
}

/// What one round's process reports, ours or the peer's: executions in
/// `seconds` after the warm-up, and the last output.
struct Round {
    per_second: f64,
    allocations: Option<f64>,
    output: Option<Value>,
}

fn parse_round(stdout: &[u8]) -> Option<Round> {
    let report: Value = serde_json::from_slice(stdout).ok()?;
    Some(Round {
        per_second: report["executions"].as_f64()? / report["seconds"].as_f64()?,
        allocations: report["allocations"].as_f64(),
        output: report.get("output").cloned(),
    })
}

/// One round of ours, in a fresh process of this bench (`--round`).
fn round_of_ours(workload: &str) -> Round {
    let exe = std::env::current_exe().expect("the bench's own path");
    let result = Command::new(exe)
        .args(["--round", workload, &ROUND_SECONDS.to_string()])
        .output()
        .expect("the bench runs itself");
    assert!(result.status.success(), "a round of {workload} failed: {}", String::from_utf8_lossy(&result.stderr));
    parse_round(&result.stdout).expect("a round's report")
}

/// One round of aws-local-stepfunctions, in a fresh Node process.
fn round_of_peer(root: &Path, workload: &Path) -> Option<Round> {
    let script = root.join("tools/bench-node/run.mjs");
    let result = Command::new("node").arg(&script).arg(workload).arg(ROUND_SECONDS.to_string()).output().ok()?;
    if !result.status.success() {
        eprintln!(
            "aws-local-stepfunctions failed on {}: {}",
            workload.display(),
            String::from_utf8_lossy(&result.stderr)
        );
        return None;
    }
    parse_round(&result.stdout)
}

/// What one timed loop measured.
pub(crate) struct Timed {
    runs: u64,
    seconds: f64,
    allocations: f64,
    /// The last output (the pure-ASL workloads only).
    output: Option<Arc<Doc>>,
}

impl Timed {
    pub(crate) fn per_second(&self) -> f64 {
        self.runs as f64 / self.seconds
    }
}

/// Runs `workload` (`order` or a file of crates/bench/workloads) one execution
/// after another on a thread of its own with a single-threaded runtime: a
/// warm-up of `warm_up_runs` or 1 s, whichever ends first, then `seconds` timed.
pub(crate) fn timed(root: &Path, workload: &str, warm_up_runs: u64, seconds: f64) -> Timed {
    let root = root.to_owned();
    let workload = workload.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
        runtime.block_on(async move {
            let clock = VirtualClock::default();
            if workload == "order" {
                let (machine, ports) = (state_machine(), memory_ports());
                // Each execution stores a new order, under its own id.
                let mut n = 0usize;
                timed_loop(warm_up_runs, seconds, || {
                    n += 1;
                    let execution = run_workflow(&machine, &ports, &clock, n);
                    let ports = &ports;
                    async move {
                        assert_eq!(execution.await.status, ExecutionStatus::Succeeded);
                        // Every execution stores a fresh order: the in-memory
                        // store forgets the finished ones, as a real table
                        // does not grow the process.
                        ports.store.clear();
                        ports.notifier.clear();
                        None
                    }
                })
                .await
            } else {
                let path = root.join(format!("crates/bench/workloads/{workload}.json"));
                let workload =
                    orderflow_value::parse(&std::fs::read_to_string(&path).expect("a workload")).expect("JSON");
                let machine = parse(&workload["definition"]).expect("the workload loads");
                let input = Arc::new(workload["input"].clone());
                timed_loop(warm_up_runs, seconds, || {
                    let output = execute(&machine, &clock, &input);
                    async move { Some(output.await) }
                })
                .await
            }
        })
    })
    .join()
    .expect("the timed loop")
}

async fn timed_loop<F: std::future::Future<Output = Option<Arc<Doc>>>>(
    warm_up_runs: u64,
    seconds: f64,
    mut one: impl FnMut() -> F,
) -> Timed {
    let warm_up = Instant::now();
    let mut n = 0;
    while n < warm_up_runs && warm_up.elapsed() < Duration::from_secs(1) {
        one().await;
        n += 1;
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let start = Instant::now();
    let (mut runs, mut output) = (0u64, None);
    while start.elapsed() < Duration::from_secs_f64(seconds) {
        output = one().await;
        runs += 1;
    }
    let seconds = start.elapsed().as_secs_f64();
    // The count does not vary with the machine's load, as the rate does.
    let allocations = (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / runs as f64;
    Timed { runs, seconds, allocations, output }
}

/// The body of one `--round` process: `workload` after a warm-up of 50 runs
/// (200 of the order workflow) or 1 s, whichever ends first, then for
/// `seconds`; its report as one JSON line on stdout.
pub fn round(root: &Path, workload: &str, seconds: f64) {
    let warm_up_runs = if workload == "order" { 200 } else { 50 };
    let t = timed(root, workload, warm_up_runs, seconds);
    let mut report = json!({"executions": t.runs, "seconds": t.seconds, "allocations": t.allocations});
    if let Some(output) = t.output {
        report["output"] = Value::from(&*output);
    }
    println!("{report}");
}

pub struct Section {
    pub rows: Vec<Row>,
    /// Each JSONata workload's row, then its JSONPath twin's, and whether their outputs are the same.
    pub twins: Vec<(Row, Row, bool)>,
    /// The in-process order workflow's rate in each round.
    pub workflow: Rates,
    pub workflow_allocations: f64,
    /// Allocations per state in a chain of 100 and of 1,000 Pass states.
    pub per_state: (f64, f64),
}

fn chain(states: usize) -> StateMachine {
    let mut map = serde_json::Map::new();
    for i in 0..states {
        let mut state = json!({"Type": "Pass", "Parameters": {"step": i, "carried.$": "$.carried"}});
        if i + 1 < states {
            state["Next"] = json!(format!("S{}", i + 1));
        } else {
            state["End"] = json!(true);
        }
        map.insert(format!("S{i}"), state);
    }
    parse(&Doc::from(json!({"StartAt": "S0", "States": map}))).expect("the chain loads")
}

/// The section, measured on a thread of its own with a single-threaded runtime.
pub fn run_on_one_thread(root: &Path) -> Section {
    let root = root.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
        runtime.block_on(run(&root))
    })
    .join()
    .expect("the executor section")
}

/// One workload alone (`order` for the order workflow, else a file of
/// crates/bench/workloads), one execution after another, for `seconds`
/// without a warm-up: for a profiler to watch.
pub fn profile(root: &Path, workload: &str, seconds: f64) {
    let t = timed(root, workload, 0, seconds);
    println!("{:.0} executions/s, {:.0} allocations per execution", t.per_second(), t.allocations);
}

/// One workload over the rounds, ours and (when `peer`) aws-local-stepfunctions
/// side by side in each; with our output.
fn workload_row(root: &Path, name: &str, peer: bool) -> (Row, Value) {
    interleaved_rows(root, &[(name, peer)]).remove(0)
}

/// Workloads measured round by round together: in each round, each of ours
/// and (when asked) aws-local-stepfunctions on it, the order reversed every
/// other round, so that workloads compared with each other (a JSONata
/// workload and its JSONPath twin) see the machine in the same state, as ours
/// and the peer's do; each with our output.
fn interleaved_rows(root: &Path, workloads: &[(&str, bool)]) -> Vec<(Row, Value)> {
    struct Measured {
        ours: Vec<f64>,
        peers: Vec<f64>,
        allocations: Vec<f64>,
        output: Option<Value>,
        same_output: bool,
        peer_ran: bool,
    }
    let names: Vec<&str> = workloads.iter().map(|(name, _)| *name).collect();
    eprintln!("executor: {}, {ROUNDS} rounds of orderflow-asl and aws-local-stepfunctions...", names.join(" with "));
    let mut measured: Vec<Measured> = workloads
        .iter()
        .map(|&(_, peer)| Measured {
            ours: Vec::new(),
            peers: Vec::new(),
            allocations: Vec::new(),
            output: None,
            same_output: true,
            peer_ran: peer,
        })
        .collect();
    for round in 0..ROUNDS {
        // Which goes first alternates, so none always follows another.
        let mut order: Vec<usize> = (0..workloads.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let (name, m) = (workloads[i].0, &mut measured[i]);
            let path = root.join(format!("crates/bench/workloads/{name}.json"));
            let peer = |m: &Measured| m.peer_ran.then(|| round_of_peer(root, &path)).flatten();
            let (mine, theirs) = if round % 2 == 0 {
                let mine = round_of_ours(name);
                (mine, peer(m))
            } else {
                let theirs = peer(m);
                (round_of_ours(name), theirs)
            };
            let output = mine.output.expect("our round reports its output");
            match theirs {
                Some(theirs) => {
                    m.same_output &= theirs.output.as_ref() == Some(&output);
                    m.peers.push(theirs.per_second);
                }
                None => m.peer_ran = false,
            }
            assert!(m.output.as_ref().is_none_or(|o| *o == output), "{name}: our output changed between rounds");
            m.output = Some(output);
            m.ours.push(mine.per_second);
            m.allocations.push(mine.allocations.expect("our round counts allocations"));
        }
    }
    workloads
        .iter()
        .zip(measured)
        .map(|(&(name, _), m)| {
            let row = Row {
                name: name.to_owned(),
                ours: Rates(m.ours),
                ours_allocations: median(&m.allocations),
                peer: m.peer_ran.then_some(Rates(m.peers)),
                same_output: m.peer_ran.then_some(m.same_output),
            };
            (row, m.output.unwrap_or_default())
        })
        .collect()
}

async fn run(root: &Path) -> Section {
    let mut rows = Vec::new();
    for name in WORKLOADS {
        rows.push(workload_row(root, name, true).0);
    }
    let mut twins = Vec::new();
    for (jsonata, jsonpath) in TWINS {
        // aws-local-stepfunctions has no JSONata: the JSONata twin is ours alone.
        // The twins are measured in the same rounds: their ratio is a budget.
        let mut rows = interleaved_rows(root, &[(jsonata, false), (jsonpath, true)]).into_iter();
        let ((jsonata_row, jsonata_output), (jsonpath_row, jsonpath_output)) =
            (rows.next().expect("the JSONata twin"), rows.next().expect("the JSONPath twin"));
        twins.push((jsonata_row, jsonpath_row, jsonata_output == jsonpath_output));
    }

    eprintln!("executor: the in-process order workflow, {ROUNDS} rounds...");
    let (mut workflow, mut allocations) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let round = round_of_ours("order");
        workflow.push(round.per_second);
        allocations.push(round.allocations.expect("our round counts allocations"));
    }

    let clock = VirtualClock::default();
    let input = Arc::new(orderflow_value::json!({"carried": {"order_id": "ORD-1", "lines": [1, 2, 3]}}));
    let mut per_state = Vec::new();
    for states in [100, 1000] {
        let machine = chain(states);
        execute(&machine, &clock, &input).await;
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        execute(&machine, &clock, &input).await;
        per_state.push((ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / states as f64);
    }
    Section {
        rows,
        twins,
        workflow: Rates(workflow),
        workflow_allocations: median(&allocations),
        per_state: (per_state[0], per_state[1]),
    }
}

impl Section {
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| workload | orderflow-asl | aws-local-stepfunctions 3.0.0 | ratio | ratio, lowest and highest round | same output | allocations per execution |\n|---|---:|---:|---:|---:|:---:|---:|\n",
        );
        let twins = self.twins.iter().flat_map(|(a, b, _)| [a, b]);
        for r in self.rows.iter().chain(twins) {
            out.push_str(&format!(
                "| {} | {:.0}/s | {} | {} | {} | {} | {:.0} |\n",
                r.name,
                r.ours.median(),
                r.peer.as_ref().map_or("n/a".to_owned(), |p| format!("{:.0}/s", p.median())),
                r.ratio().map_or("n/a".to_owned(), |ratio| format!("{ratio:.1}x")),
                r.ratio_range().map_or("n/a".to_owned(), |(low, high)| format!("{low:.1}x to {high:.1}x")),
                r.same_output.map_or("n/a", |same| if same { "yes" } else { "NO" }),
                r.ours_allocations,
            ));
        }
        out
    }

    /// PASS/FAIL lines for the executor's budgets.
    pub fn budgets(&self) -> Vec<(bool, String)> {
        let mut out = Vec::new();
        for r in &self.rows {
            match r.ratio() {
                Some(ratio) => out.push((
                    ratio >= 50.0 && r.same_output == Some(true),
                    format!(
                        "executor {}: orderflow-asl / aws-local-stepfunctions, median over {ROUNDS} rounds, {ratio:.1}x >= 50x, same output",
                        r.name,
                    ),
                )),
                None => out.push((false, format!("executor {}: aws-local-stepfunctions did not run", r.name))),
            }
        }
        for (jsonata, jsonpath, same) in &self.twins {
            out.push((
                jsonata.ours.median() * 3.0 >= jsonpath.ours.median() && *same,
                format!(
                    "JSONata {}: {:.0}/s >= its JSONPath twin {} {:.0}/s / 3 = {:.0}/s, same output",
                    jsonata.name,
                    jsonata.ours.median(),
                    jsonpath.name,
                    jsonpath.ours.median(),
                    jsonpath.ours.median() / 3.0
                ),
            ));
        }
        out.push((
            self.workflow.median() >= 60_000.0,
            format!(
                "in-process order workflow: median over {ROUNDS} rounds {:.0} executions/s >= 60000",
                self.workflow.median()
            ),
        ));
        let (hundred, thousand) = self.per_state;
        out.push((
            thousand <= hundred * 1.1,
            format!(
                "allocations per state flat: {thousand:.1} per state over 1,000 Pass states <= 1.1 x {hundred:.1} over 100"
            ),
        ));
        out
    }
}
