//! A function binary running as its own process, as Lambda runs it.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::EmulatorError;
use crate::moto::die_with_starting_thread;

/// Killed when dropped, or when the thread that started it ends.
pub struct FunctionProcess {
    child: Child,
    stdout: Arc<Mutex<String>>,
}

impl FunctionProcess {
    /// Starts `binary` with only `env` (plus PATH) in its environment, so
    /// nothing from the caller's shell leaks into the test.
    pub fn spawn<K, V>(
        binary: impl AsRef<Path>,
        env: impl IntoIterator<Item = (K, V)>,
    ) -> Result<FunctionProcess, EmulatorError>
    where
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        Self::spawn_in(binary, &[] as &[&str], None, env)
    }

    /// Like `spawn`, with arguments and a working directory: for a runtime
    /// such as `python -m awslambdaric handler.name`.
    pub fn spawn_in<K, V>(
        program: impl AsRef<Path>,
        args: &[impl AsRef<std::ffi::OsStr>],
        dir: Option<&Path>,
        env: impl IntoIterator<Item = (K, V)>,
    ) -> Result<FunctionProcess, EmulatorError>
    where
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        let binary = program.as_ref();
        let mut command = Command::new(binary);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(dir) = dir {
            command.current_dir(dir);
        }
        die_with_starting_thread(&mut command);
        let mut child =
            command.spawn().map_err(|e| EmulatorError(format!("cannot start {}: {e}", binary.display())))?;
        let stdout = Arc::new(Mutex::new(String::new()));
        if let Some(mut pipe) = child.stdout.take() {
            let sink = stdout.clone();
            std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                    if let Ok(mut s) = sink.lock() {
                        s.push_str(&String::from_utf8_lossy(&chunk[..n]));
                    }
                }
            });
        }
        Ok(FunctionProcess { child, stdout })
    }

    /// Everything the function has written to stdout so far: its log lines.
    pub fn stdout(&self) -> String {
        self.stdout.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its stdout once `ready` holds for it, or as it is after `limit`: the
    /// process writes its log lines before it answers, but they reach us
    /// through a pipe and a reader thread, a moment later.
    pub fn stdout_when(&self, ready: impl Fn(&str) -> bool, limit: std::time::Duration) -> String {
        let started = std::time::Instant::now();
        loop {
            let text = self.stdout();
            if ready(&text) || started.elapsed() >= limit {
                return text;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Peak resident memory so far (VmHWM), in bytes, from /proc.
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }

    /// The exit status, if it has exited.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
