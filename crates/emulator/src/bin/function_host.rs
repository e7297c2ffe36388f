//! `orderflow-function-host SPEC.json`
//!
//! A Lambda Invoke API on 127.0.0.1 for deployed functions, each its binary
//! with its deployed environment (the deploy rehearsal's). SPEC is
//! `{"upstream": "http://127.0.0.1:PORT", "functions": [{"name", "arn",
//! "binary", "environment": [[K, V], ...], "memory_size"}]}`. Prints
//! `listening on http://127.0.0.1:PORT` once every function has started; `GET
//! /records` answers what was invoked and the AWS calls each function made
//! since the last ask. Stops at Ctrl-C, SIGTERM or the end of stdin.

use std::process::ExitCode;

use orderflow_emulator::{FunctionHost, FunctionSpec};
use tokio::io::AsyncReadExt;
use tokio::signal::unix::{SignalKind, signal};

#[derive(serde::Deserialize)]
struct Spec {
    upstream: String,
    functions: Vec<FunctionSpec>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1).filter(|a| !a.starts_with('-')) else {
        eprintln!("usage: orderflow-function-host SPEC.json");
        return ExitCode::from(2);
    };
    let spec: Spec = match std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| format!("{path}: {e}")))
    {
        Ok(spec) => spec,
        Err(message) => {
            eprintln!("orderflow-function-host: {message}");
            return ExitCode::from(2);
        }
    };
    let host = match FunctionHost::start(spec.functions, &spec.upstream).await {
        Ok(host) => host,
        Err(error) => {
            eprintln!("orderflow-function-host: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", host.endpoint());
    let Ok(mut terminate) = signal(SignalKind::terminate()) else {
        return ExitCode::FAILURE;
    };
    let mut stdin = tokio::io::stdin();
    let mut sink = [0u8; 256];
    let end_of_stdin = async { while let Ok(1..) = stdin.read(&mut sink).await {} };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
        _ = end_of_stdin => {}
    }
    ExitCode::SUCCESS
}
