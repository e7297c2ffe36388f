//! Reporting a failed cold start. lambda_runtime 1.5 reports init errors only
//! for SnapStart hooks, so a configuration error would otherwise surface as
//! `Runtime.ExitError` with no `errorType` of ours.

use lambda_runtime::tracing;
use orderflow_domain::OrderError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Logs `err`, reports it to the Runtime API's `/runtime/init/error` (when
/// running under one) and exits.
pub async fn fail_init(err: OrderError) -> ! {
    tracing::error!(error_type = err.error_type(), "cold start failed: {}", err.error_message());
    if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API")
        && let Err(io) = report(&api, &err).await
    {
        tracing::error!("could not report the init error to the Runtime API: {io}");
    }
    std::process::exit(1)
}

async fn report(api: &str, err: &OrderError) -> std::io::Result<()> {
    let body = serde_json::json!({"errorType": err.error_type(), "errorMessage": err.error_message()}).to_string();
    let request = format!(
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\nLambda-Runtime-Function-Error-Type: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        err.error_type(),
        body.len()
    );
    let exchange = async {
        let mut stream = TcpStream::connect(api).await?;
        stream.write_all(request.as_bytes()).await?;
        // Wait for the response head, so the report is taken before we exit.
        let mut reply = Vec::new();
        let mut chunk = [0u8; 1024];
        while !reply.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk).await? {
                0 => break,
                n => reply.extend_from_slice(&chunk[..n]),
            }
        }
        Ok::<_, std::io::Error>(())
    };
    tokio::time::timeout(std::time::Duration::from_secs(2), exchange)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer within 2 s"))??;
    Ok(())
}
