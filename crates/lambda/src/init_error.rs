//! Reporting a failed cold start. lambda_runtime 1.5 reports init errors only
//! for SnapStart hooks, so a configuration error would otherwise surface as
//! `Runtime.ExitError` with no `errorType` of ours.

use lambda_runtime::tracing;
use orderflow_domain::OrderError;

/// Logs `err`, reports it to the Runtime API's `/runtime/init/error` (when
/// running under one) and exits.
pub async fn fail_init(err: OrderError) -> ! {
    tracing::error!(error_type = err.error_type(), "cold start failed: {}", err.error_message());
    if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API")
        && let Err(problem) = report(&api, &err).await
    {
        tracing::error!("could not report the init error to the Runtime API: {problem}");
    }
    std::process::exit(1)
}

/// Posts the error to `/runtime/init/error` with the runtime's own client,
/// and waits for the answer so that the report is taken before we exit.
async fn report(api: &str, err: &OrderError) -> Result<(), String> {
    use http_body_util::BodyExt;
    use lambda_runtime_api_client::{PooledClient, body::Body, build_request};
    let base = format!("http://{api}").parse().map_err(|e| format!("AWS_LAMBDA_RUNTIME_API {api:?}: {e}"))?;
    let client = PooledClient::builder().with_endpoint(base).build();
    let body = serde_json::json!({"errorType": err.error_type(), "errorMessage": err.error_message()}).to_string();
    let request = build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header("Lambda-Runtime-Function-Error-Type", err.error_type())
        .header("Content-Type", "application/json")
        .body(Body::from(body))
        .map_err(|e| e.to_string())?;
    let exchange = async {
        let response = client.call(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        response.into_body().collect().await.map_err(|e| e.to_string())?;
        if status.is_success() { Ok(()) } else { Err(format!("the Runtime API answered {status}")) }
    };
    tokio::time::timeout(std::time::Duration::from_secs(2), exchange)
        .await
        .map_err(|_| "no answer within 2 s".to_owned())?
}
