//! Criterion micro-benchmarks: validation and pricing of 1- and 100-item
//! orders, and one full in-process workflow execution on in-memory ports.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use orderflow_asl::VirtualClock;
use orderflow_bench::{memory_ports, order_with_items, run_workflow, state_machine};
use orderflow_domain::RawOrder;

fn validation(c: &mut Criterion) {
    for items in [1, 100] {
        let raw = RawOrder::new(order_with_items(items));
        c.bench_function(&format!("validate_and_price_{items}_items"), |b| {
            b.iter(|| black_box(&raw).validate().expect("valid"))
        });
    }
}

fn workflow(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    let machine = state_machine();
    let ports = memory_ports();
    let clock = VirtualClock::default();
    let mut n = 0;
    c.bench_function("workflow_execution_in_process", |b| {
        b.iter(|| {
            n += 1;
            runtime.block_on(run_workflow(&machine, &ports, &clock, n))
        })
    });
}

criterion_group!(benches, validation, workflow);
criterion_main!(benches);
