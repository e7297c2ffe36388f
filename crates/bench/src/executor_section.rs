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
use serde_json::{Value, json};

use crate::{memory_ports, run_workflow, state_machine};

/// Counts every allocation of the bench process (installed as its global allocator).
pub struct CountingAllocator;

pub static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// mimalloc underneath, as in the orderflow binaries.
static INNER: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
const SECONDS: f64 = 3.0;

struct NoTasks;

impl Invoker for NoTasks {
    fn invoke<'a>(&'a self, _: &'a str, _: &'a Value) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        Box::pin(async {
            Err(TaskFailure { error: "NoTasks".into(), cause: "pure-ASL workloads call no task".into() })
        })
    }
}

pub struct Row {
    pub name: String,
    pub ours_per_second: f64,
    pub ours_allocations: f64,
    pub peer_per_second: Option<f64>,
    pub same_output: Option<bool>,
}

async fn execute(machine: &StateMachine, clock: &VirtualClock, input: &Arc<Value>) -> Arc<Value> {
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

/// Executions per second of `machine` on `input`, one after another for `seconds` after 50 warm-up runs.
pub async fn per_second(machine: &StateMachine, input: &Arc<Value>, seconds: f64) -> f64 {
    let clock = VirtualClock::default();
    for _ in 0..50 {
        execute(machine, &clock, input).await;
    }
    let start = Instant::now();
    let mut runs = 0u64;
    while start.elapsed() < Duration::from_secs_f64(seconds) {
        execute(machine, &clock, input).await;
        runs += 1;
    }
    runs as f64 / start.elapsed().as_secs_f64()
}

/// Executions per second over about `SECONDS`, and allocations per execution.
async fn time_ours(machine: &StateMachine, input: &Arc<Value>) -> (f64, f64, Arc<Value>) {
    let clock = VirtualClock::default();
    let mut output = Arc::default();
    for _ in 0..50 {
        output = execute(machine, &clock, input).await;
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let start = Instant::now();
    let mut runs = 0u64;
    while start.elapsed() < Duration::from_secs_f64(SECONDS) {
        execute(machine, &clock, input).await;
        runs += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let allocations = (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / runs as f64;
    (runs as f64 / elapsed, allocations, output)
}

fn time_peer(root: &Path, workload: &Path) -> Option<(f64, Value)> {
    let script = root.join("tools/bench-node/run.mjs");
    let result = Command::new("node").arg(&script).arg(workload).arg(SECONDS.to_string()).output().ok()?;
    if !result.status.success() {
        eprintln!(
            "aws-local-stepfunctions failed on {}: {}",
            workload.display(),
            String::from_utf8_lossy(&result.stderr)
        );
        return None;
    }
    let report: Value = serde_json::from_slice(&result.stdout).ok()?;
    let per_second = report["executions"].as_f64()? / report["seconds"].as_f64()?;
    Some((per_second, report["output"].clone()))
}

pub struct Section {
    pub rows: Vec<Row>,
    /// Each JSONata workload's row, then its JSONPath twin's, and whether their outputs are the same.
    pub twins: Vec<(Row, Row, bool)>,
    pub workflow_per_second: f64,
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
    parse(&json!({"StartAt": "S0", "States": map})).expect("the chain loads")
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
/// crates/bench/workloads), one execution after another, for `seconds`: for
/// a profiler to watch.
pub fn profile(root: &Path, workload: &str, seconds: f64) {
    if workload == "order" {
        std::thread::spawn(move || profile_workflow_here(seconds)).join().expect("the workflow loop");
        return;
    }
    let path = root.join(format!("crates/bench/workloads/{workload}.json"));
    let workload: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("a workload")).expect("JSON");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
        runtime.block_on(async {
            let machine = parse(&workload["definition"]).expect("the workload loads");
            let input = Arc::new(workload["input"].clone());
            let clock = VirtualClock::default();
            let start = Instant::now();
            let mut runs = 0u64;
            while start.elapsed() < Duration::from_secs_f64(seconds) {
                execute(&machine, &clock, &input).await;
                runs += 1;
            }
            println!("{:.0} executions/s", runs as f64 / start.elapsed().as_secs_f64());
        })
    })
    .join()
    .expect("the workload loop");
}

fn profile_workflow_here(seconds: f64) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
    runtime.block_on(async {
        let machine = state_machine();
        let ports = memory_ports();
        let clock = VirtualClock::default();
        let start = Instant::now();
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let mut runs = 0;
        while start.elapsed() < Duration::from_secs_f64(seconds) {
            run_workflow(&machine, &ports, &clock, runs).await;
            runs += 1;
        }
        let per_second = runs as f64 / start.elapsed().as_secs_f64();
        // The count does not vary with the machine's load, as the rate does.
        let allocations = (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / runs as f64;
        println!("{per_second:.0} executions/s, {allocations:.0} allocations per execution");
    });
}

/// One workload timed here and by aws-local-stepfunctions; with our output.
async fn workload_row(root: &Path, name: &str) -> (Row, Arc<Value>) {
    let path = root.join(format!("crates/bench/workloads/{name}.json"));
    let workload: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("a workload")).expect("JSON");
    let machine = parse(&workload["definition"]).expect("the workload loads");
    eprintln!("executor: {name} (orderflow-asl, then aws-local-stepfunctions)...");
    let input = Arc::new(workload["input"].clone());
    let (ours_per_second, ours_allocations, ours_output) = time_ours(&machine, &input).await;
    let peer = time_peer(root, &path);
    let row = Row {
        name: name.to_owned(),
        ours_per_second,
        ours_allocations,
        peer_per_second: peer.as_ref().map(|(p, _)| *p),
        same_output: peer.as_ref().map(|(_, output)| *output == *ours_output),
    };
    (row, ours_output)
}

async fn run(root: &Path) -> Section {
    let mut rows = Vec::new();
    for name in WORKLOADS {
        rows.push(workload_row(root, name).await.0);
    }
    let mut twins = Vec::new();
    for (jsonata, jsonpath) in TWINS {
        let (jsonata_row, jsonata_output) = workload_row(root, jsonata).await;
        let (jsonpath_row, jsonpath_output) = workload_row(root, jsonpath).await;
        twins.push((jsonata_row, jsonpath_row, jsonata_output == jsonpath_output));
    }

    eprintln!("executor: the in-process order workflow...");
    let machine = state_machine();
    let ports = memory_ports();
    let clock = VirtualClock::default();
    for n in 0..200 {
        run_workflow(&machine, &ports, &clock, n).await;
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let start = Instant::now();
    let mut runs = 0usize;
    while start.elapsed() < Duration::from_secs_f64(SECONDS) {
        let execution = run_workflow(&machine, &ports, &clock, 1_000_000 + runs).await;
        assert_eq!(execution.status, ExecutionStatus::Succeeded);
        runs += 1;
    }
    let workflow_per_second = runs as f64 / start.elapsed().as_secs_f64();
    let workflow_allocations = (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / runs as f64;

    let clock = VirtualClock::default();
    let input = Arc::new(json!({"carried": {"order_id": "ORD-1", "lines": [1, 2, 3]}}));
    let mut per_state = Vec::new();
    for states in [100, 1000] {
        let machine = chain(states);
        execute(&machine, &clock, &input).await;
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        execute(&machine, &clock, &input).await;
        per_state.push((ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / states as f64);
    }
    Section { rows, twins, workflow_per_second, workflow_allocations, per_state: (per_state[0], per_state[1]) }
}

impl Section {
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| workload | orderflow-asl | aws-local-stepfunctions 3.0.0 | ratio | same output | allocations per execution |\n|---|---:|---:|---:|:---:|---:|\n",
        );
        let twins = self.twins.iter().flat_map(|(a, b, _)| [a, b]);
        for r in self.rows.iter().chain(twins) {
            out.push_str(&format!(
                "| {} | {:.0}/s | {} | {} | {} | {:.0} |\n",
                r.name,
                r.ours_per_second,
                r.peer_per_second.map_or("n/a".to_owned(), |p| format!("{p:.0}/s")),
                r.peer_per_second.map_or("n/a".to_owned(), |p| format!("{:.1}x", r.ours_per_second / p)),
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
            match r.peer_per_second {
                Some(p) => out.push((
                    r.ours_per_second >= 20.0 * p && r.same_output == Some(true),
                    format!(
                        "executor {}: {:.0}/s >= 20 x aws-local-stepfunctions {p:.0}/s = {:.0}/s, same output",
                        r.name,
                        r.ours_per_second,
                        20.0 * p
                    ),
                )),
                None => out.push((false, format!("executor {}: aws-local-stepfunctions did not run", r.name))),
            }
        }
        for (jsonata, jsonpath, same) in &self.twins {
            out.push((
                jsonata.ours_per_second * 3.0 >= jsonpath.ours_per_second && *same,
                format!(
                    "JSONata {}: {:.0}/s >= its JSONPath twin {} {:.0}/s / 3 = {:.0}/s, same output",
                    jsonata.name,
                    jsonata.ours_per_second,
                    jsonpath.name,
                    jsonpath.ours_per_second,
                    jsonpath.ours_per_second / 3.0
                ),
            ));
        }
        out.push((
            self.workflow_per_second >= 30_000.0,
            format!("in-process order workflow {:.0} executions/s >= 30000", self.workflow_per_second),
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
