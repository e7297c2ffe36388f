//! The span every log line of an invocation sits in. It is lambda_runtime's
//! own (`Lambda runtime invoke`, with `requestId` and `xrayTraceId`) plus an
//! `order_id` field the handler fills in once it knows the order, so even the
//! runtime's own line about a failed invocation carries the order id.

use std::task;

use lambda_runtime::tower::{Layer, Service};
use lambda_runtime::tracing::{self, Instrument, Span, field, instrument::Instrumented};
use lambda_runtime::{Context, LambdaInvocation};

/// A span for one invocation, for the runtime and for in-process callers
/// (tests, the local workflow executor) alike.
pub fn invocation_span(request_id: &str, xray_trace_id: Option<&str>) -> Span {
    let span = tracing::info_span!(
        "Lambda runtime invoke",
        requestId = request_id,
        xrayTraceId = field::Empty,
        order_id = field::Empty
    );
    if let Some(trace_id) = xray_trace_id {
        span.record("xrayTraceId", trace_id);
    }
    span
}

/// Puts the order id on the current invocation's span. Outside one, a no-op.
pub fn record_order_id(order_id: &str) {
    Span::current().record("order_id", order_id);
}

fn span_for(ctx: &Context) -> Span {
    invocation_span(&ctx.request_id, ctx.xray_trace_id.as_deref())
}

pub(crate) struct InvocationSpanLayer;

impl<S> Layer<S> for InvocationSpanLayer {
    type Service = InvocationSpan<S>;

    fn layer(&self, inner: S) -> Self::Service {
        InvocationSpan { inner }
    }
}

pub(crate) struct InvocationSpan<S> {
    inner: S,
}

impl<S> Service<LambdaInvocation> for InvocationSpan<S>
where
    S: Service<LambdaInvocation, Response = (), Error = lambda_runtime::Error>,
{
    type Response = ();
    type Error = lambda_runtime::Error;
    type Future = Instrumented<S::Future>;

    fn poll_ready(&mut self, cx: &mut task::Context<'_>) -> task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
        let span = span_for(&invocation.context);
        // Entered while the handler future is created, so that spans it
        // creates there have this one as parent.
        let future = {
            let _entered = span.enter();
            self.inner.call(invocation)
        };
        future.instrument(span)
    }
}
