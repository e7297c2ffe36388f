//! What the benchmark harness and the criterion benches share: the in-process
//! workflow on in-memory ports.

pub mod console_section;
pub mod distributed_map_section;
pub mod executor_section;
mod http_load;
pub mod integrations_section;
pub mod ministack;
pub mod serve_section;

use orderflow::InProcess;
use orderflow_asl::{Execution, ExecutionOptions, Executor, StateMachine, VirtualClock};
use orderflow_domain::fakes::{FixedClock, InMemoryOrderStore, RecordingNotifier};
use serde_json::Value;

pub type MemoryPorts = InProcess<InMemoryOrderStore, RecordingNotifier, FixedClock>;

/// The `p` quantile (0 to 1) of sorted latencies, in microseconds; 0 for none.
pub fn percentile(sorted: &[std::time::Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

pub use orderflow_local::workspace_root;

/// A process's peak RSS (VmHWM), in MB; 0 when it cannot be read.
pub fn peak_rss_mb(pid: u32) -> f64 {
    memory_mb(pid, "VmHWM:")
}

/// A memory field of a process's /proc status (`VmRSS:`, `VmHWM:`), in MB; 0 when it cannot be read.
pub fn memory_mb(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The real state machine, with its local substitutions.
pub fn state_machine() -> StateMachine {
    orderflow::load(&workspace_root().join("infra/template.yaml"), None).expect("the definition loads").machine
}

pub fn memory_ports() -> MemoryPorts {
    InProcess::new(InMemoryOrderStore::default(), RecordingNotifier::default(), FixedClock::default())
}

pub fn sample_order() -> Value {
    let text =
        std::fs::read_to_string(workspace_root().join("events/order-valid.json")).expect("events/order-valid.json");
    serde_json::from_str(&text).expect("JSON")
}

/// An order with `items` lines, all valid.
pub fn order_with_items(items: usize) -> Value {
    let mut order = sample_order();
    order["items"] = Value::Array(
        (0..items)
            .map(|i| serde_json::json!({"sku": format!("SKU-{i:03}"), "quantity": (i % 7) + 1, "unit_price": format!("{}.{:02}", i + 1, i % 100)}))
            .collect(),
    );
    order
}

/// One full order workflow, in-process, under a fresh order id. The sample
/// is read from disk once, so the timing is of the workflow alone.
pub async fn run_workflow(machine: &StateMachine, ports: &MemoryPorts, clock: &VirtualClock, n: usize) -> Execution {
    static SAMPLE: std::sync::OnceLock<orderflow_value::Value> = std::sync::OnceLock::new();
    let mut order = SAMPLE.get_or_init(|| orderflow_value::Value::from(sample_order())).clone();
    if let Some(fields) = order.as_object_mut() {
        fields.insert("order_id", orderflow_value::Value::from(format!("ORD-BENCH-{n}")));
    }
    Executor::new(machine, ports, clock, ExecutionOptions::default()).run(order).await
}
