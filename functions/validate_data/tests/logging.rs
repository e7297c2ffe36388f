//! In a test binary of its own: tracing caches per-callsite interest
//! process-wide, so other tests running beside it could hide its events.

use std::io::Write;
use std::sync::{Arc, Mutex};

use lambda_runtime::tracing::{Instrument, subscriber};
use lambda_runtime::{Context, LambdaEvent};
use orderflow_domain::fakes::read_json_file;
use serde_json::{Value, json};
use validate_data::handler;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn logs_are_json_with_the_order_id_and_no_personal_data() {
    let captured = Captured::default();
    let writer = captured.clone();
    let collector = subscriber::fmt().json().with_writer(move || writer.clone()).finish();
    let _guard = subscriber::util::SubscriberInitExt::set_default(collector);
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let valid = read_json_file("events/order-valid.json");
    let mut invalid = valid.clone();
    invalid["customer"]["email"] = json!("ada@@example.com");
    runtime.block_on(async {
        let span = orderflow_lambda::invocation_span("request-1", None);
        let event = LambdaEvent::new(orderflow_value::Value::from(valid), Context::default());
        handler(event).instrument(span).await.unwrap();
        let span = orderflow_lambda::invocation_span("request-2", None);
        let event = LambdaEvent::new(orderflow_value::Value::from(invalid), Context::default());
        handler(event).instrument(span).await.unwrap_err();
    });
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    for (line, request) in lines.iter().zip(["request-1", "request-2"]) {
        assert_eq!(line["span"]["order_id"], "ORD-1001", "{line}");
        assert_eq!(line["span"]["requestId"], request, "{line}");
    }
    assert!(!text.contains("ada@") && !text.contains("Ada Lovelace"), "{text}");
}
