//! `orderflow-emulator [--port N] [--prefix P] [-- COMMAND ARGS...]`
//!
//! Starts moto on 127.0.0.1, creates the orderflow table, topic and inbox
//! queue, prints the environment that reaches them, then runs COMMAND with that
//! environment (or waits for Ctrl-C), and stops moto on the way out.

use std::process::ExitCode;

use orderflow_emulator::{Emulator, LocalResources};
use tokio::signal::unix::{SignalKind, signal};

const USAGE: &str = "usage: orderflow-emulator [--port N] [--prefix P] [-- COMMAND ARGS...]";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("orderflow-emulator: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<ExitCode, String> {
    let mut args = std::env::args().skip(1);
    let mut port = None;
    let mut prefix = "orderflow".to_owned();
    let mut command = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => port = Some(args.next().and_then(|p| p.parse().ok()).ok_or(USAGE)?),
            "--prefix" => prefix = args.next().ok_or(USAGE)?,
            "--" => command.extend(args.by_ref()),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            _ => return Err(USAGE.into()),
        }
    }
    let emulator = match port {
        Some(p) => Emulator::start_on(p),
        None => Emulator::start(),
    }
    .map_err(|e| e.to_string())?;
    let config = emulator.config_loader().load().await;
    let resources = LocalResources::create(&config, &prefix).await.map_err(|e| e.to_string())?;
    let environment: Vec<_> = emulator.environment().into_iter().chain(resources.environment()).collect();
    eprintln!("moto is listening on {}", emulator.endpoint());
    for (k, v) in &environment {
        eprintln!("  {k}={v}");
    }
    eprintln!("  notifications are copied to the SQS queue {}", resources.queue_url);

    let Some((program, rest)) = command.split_first() else {
        eprintln!("press Ctrl-C to stop");
        let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        return Ok(ExitCode::SUCCESS);
    };
    // Its own process group, so stopping it also stops what it started
    // (cargo lambda watch runs each function as a grandchild).
    let mut child = tokio::process::Command::new(program)
        .args(rest)
        .envs(environment)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let group = child.id().map(|id| id as libc::pid_t);
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let code = tokio::select! {
        status = child.wait() => status.map_err(|e| e.to_string())?.code().map_or(1, |c| c.clamp(0, 255) as u8),
        _ = tokio::signal::ctrl_c() => 130,
        _ = terminate.recv() => 143,
    };
    if let Some(group) = group {
        stop_group(group, &mut child).await;
    }
    // `emulator` drops here and stops moto.
    Ok(ExitCode::from(code))
}

/// SIGTERM to the whole group, then SIGKILL to whatever is left after 5 s.
async fn stop_group(group: libc::pid_t, child: &mut tokio::process::Child) {
    // SAFETY: kill(2) with a negative pid signals a process group; no memory involved.
    unsafe { libc::kill(-group, libc::SIGTERM) };
    if tokio::time::timeout(std::time::Duration::from_secs(5), child.wait()).await.is_err() {
        let _ = child.kill().await;
    }
    // SAFETY: as above.
    unsafe { libc::kill(-group, libc::SIGKILL) };
}
