//! Tasks answered by the function crates' handlers, called in this process:
//! the same code the Lambda binaries run, without the runtime around it.

use lambda_runtime::tracing::Instrument;
use lambda_runtime::{Context, LambdaEvent};
use orderflow_asl::{BoxFuture, Invoker, TaskFailure};
use orderflow_domain::OrderError;
use orderflow_domain::ports::{Clock, Notifier, OrderStore};
use orderflow_value::Value;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct InProcess<S, N, C> {
    pub store: S,
    pub notifier: N,
    pub clock: C,
    requests: AtomicU64,
    /// What every invocation's context starts from: its environment config
    /// is shared, not made again per call.
    context: Context,
}

impl<S, N, C> InProcess<S, N, C> {
    pub fn new(store: S, notifier: N, clock: C) -> Self {
        InProcess { store, notifier, clock, requests: AtomicU64::new(0), context: Context::default() }
    }
}

fn answer<T: Serialize>(result: Result<T, OrderError>) -> Result<Value, TaskFailure> {
    match result {
        // The output serialized straight into the executor's value, its fields in their order.
        Ok(output) => orderflow_value::to_value(&output)
            .map_err(|e| TaskFailure::function_error("Runtime.SerializationError", &e.to_string())),
        Err(err) => Err(TaskFailure::function_error(err.error_type(), &err.error_message())),
    }
}

/// `local-` and the request's number, at least eight digits.
fn request_id(request: u64) -> String {
    use std::fmt::Write;
    let mut id = String::with_capacity(26);
    let _ = write!(id, "local-{request:08}");
    id
}

impl<S: OrderStore, N: Notifier, C: Clock> Invoker for InProcess<S, N, C> {
    fn invoke<'a>(&'a self, function: &'a str, payload: &'a Value) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        let request = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        self.invoke_numbered(function, payload, request)
    }

    /// The log's tail is Lambda's platform lines around the invocation
    /// (START, END, REPORT with its duration); the handlers' own logs go to
    /// stderr with -v, not into it.
    fn invoke_tail<'a>(
        &'a self,
        function: &'a str,
        payload: &'a Value,
    ) -> BoxFuture<'a, Result<(Value, Option<String>), TaskFailure>> {
        use base64::Engine;
        let request = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        Box::pin(async move {
            let began = std::time::Instant::now();
            let answer = self.invoke_numbered(function, payload, request).await?;
            let ms = began.elapsed().as_secs_f64() * 1000.0;
            let id = request_id(request);
            let log = format!(
                "START RequestId: {id} Version: $LATEST\nEND RequestId: {id}\nREPORT RequestId: {id}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\t\n",
                ms.ceil().max(1.0) as u64
            );
            Ok((answer, Some(base64::engine::general_purpose::STANDARD.encode(log))))
        })
    }
}

impl<S: OrderStore, N: Notifier, C: Clock> InProcess<S, N, C> {
    fn invoke_numbered<'a>(
        &'a self,
        function: &'a str,
        payload: &'a Value,
        request: u64,
    ) -> BoxFuture<'a, Result<Value, TaskFailure>> {
        let mut context = self.context.clone();
        context.request_id = request_id(request);
        let span = orderflow_lambda::invocation_span(&context.request_id, None);
        // The handlers read the executor's value: the payload is lent, not copied.
        let event = LambdaEvent::new(payload, context);
        // Each function's future boxed alone: one future holding all three
        // would be as large as the largest, and copied whole into its box.
        match function {
            "validate_data" => Box::pin(async move { answer(validate_data::handler(event).await) }.instrument(span)),
            "process_order" => Box::pin(
                async move { answer(process_order::handler(&self.store, &self.clock, event).await) }.instrument(span),
            ),
            "send_notification" => Box::pin(
                async move { answer(send_notification::handler(&self.store, &self.notifier, &self.clock, event).await) }
                    .instrument(span),
            ),
            other => Box::pin(std::future::ready(Err(crate::lambda_endpoint::invoke_api_error(
                other,
                404,
                None,
                None,
                Some(&request_id(request)),
            )))),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_are_padded_and_never_cut() {
        assert_eq!(super::request_id(7), "local-00000007");
        assert_eq!(super::request_id(123_456_789), "local-123456789");
        assert_eq!(super::request_id(u64::MAX), format!("local-{}", u64::MAX));
    }
}
