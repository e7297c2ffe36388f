//! An endpoint that answers every AWS request with the service's own
//! throttling error, in its own wire protocol: the JSON protocol for DynamoDB
//! (`X-Amz-Target`), the query/XML protocol for SNS. moto never throttles, so
//! this is how the adapters' handling of throttling is exercised.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::http::{Request, Response, serve};

const DYNAMODB_THROTTLING: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#;
const SNS_THROTTLING: &str = r#"<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>Throttled</Code><Message>Rate exceeded</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"#;

pub struct ThrottlingStub {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl ThrottlingStub {
    /// Listens on 127.0.0.1 and a free port, on the current tokio runtime.
    pub async fn start() -> std::io::Result<ThrottlingStub> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let task = tokio::spawn(serve(listener, move |request| {
            counter.fetch_add(1, Ordering::SeqCst);
            std::future::ready(throttle(&request))
        }));
        Ok(ThrottlingStub { addr, requests, task })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests answered so far, retries included.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for ThrottlingStub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn throttle(request: &Request) -> Response {
    let dynamodb = request.header("x-amz-target").is_some_and(|t| t.starts_with("DynamoDB"));
    let (content_type, body) =
        if dynamodb { ("application/x-amz-json-1.0", DYNAMODB_THROTTLING) } else { ("text/xml", SNS_THROTTLING) };
    Response::new(400, body).header("Content-Type", content_type).header("x-amzn-RequestId", "0")
}
