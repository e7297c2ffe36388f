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
    stdout: Arc<Mutex<Captured>>,
}

/// What has been read of its stdout.
#[derive(Default)]
struct Captured {
    /// What is kept: all of it, or its tail.
    text: String,
    /// How many bytes were dropped from the front of `text`.
    dropped: u64,
}

/// How much of a long-running function's output is kept: the last 64 KiB.
const KEPT_BYTES: usize = 64 * 1024;

/// What becomes of a function's stdout.
#[derive(Debug, Clone)]
pub enum Output {
    /// All of it kept, for `stdout()` (tests and short runs).
    Kept,
    /// Each line written to this process's stderr after `prefix`, and only
    /// the last 64 KiB kept: for a function that serves as long as a server runs.
    Echoed { prefix: String },
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

    /// Like `spawn_with`, all of its output kept.
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
        Self::spawn_with(program, args, dir, env, Output::Kept, None)
    }

    /// Like `spawn`, with arguments and a working directory (for a runtime
    /// such as `python -m awslambdaric handler.name`), its stdout as `output`
    /// says; with `opt`, that folder at `/opt` for it alone (private_opt.rs).
    pub fn spawn_with<K, V>(
        program: impl AsRef<Path>,
        args: &[impl AsRef<std::ffi::OsStr>],
        dir: Option<&Path>,
        env: impl IntoIterator<Item = (K, V)>,
        output: Output,
        opt: Option<&Path>,
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
        // Before the parent-death signal is set: entering a user namespace changes
        // the process's credentials, which clears that signal.
        if let Some(opt) = opt {
            crate::private_opt::bind_opt(&mut command, opt)
                .map_err(|e| EmulatorError(format!("cannot give {} its /opt: {e}", binary.display())))?;
        }
        die_with_starting_thread(&mut command);
        let mut child =
            command.spawn().map_err(|e| EmulatorError(format!("cannot start {}: {e}", binary.display())))?;
        let stdout = Arc::new(Mutex::new(Captured::default()));
        if let Some(mut pipe) = child.stdout.take() {
            let sink = stdout.clone();
            std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                // A line not yet ended, for echoing.
                let mut partial = Vec::new();
                while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                    let Ok(mut captured) = sink.lock() else { return };
                    captured.text.push_str(&String::from_utf8_lossy(&chunk[..n]));
                    let Output::Echoed { prefix } = &output else { continue };
                    let s = &mut captured.text;
                    if s.len() > 2 * KEPT_BYTES {
                        let mut cut = s.len() - KEPT_BYTES;
                        while !s.is_char_boundary(cut) {
                            cut += 1;
                        }
                        s.drain(..cut);
                        captured.dropped += cut as u64;
                    }
                    drop(captured);
                    partial.extend_from_slice(&chunk[..n]);
                    while let Some(end) = partial.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = partial.drain(..=end).collect();
                        eprint!("{prefix} {}", String::from_utf8_lossy(&line));
                    }
                    if partial.len() > KEPT_BYTES {
                        eprintln!("{prefix} {}", String::from_utf8_lossy(&partial));
                        partial.clear();
                    }
                }
            });
        }
        Ok(FunctionProcess { child, stdout })
    }

    /// Everything the function has written to stdout so far: its log lines.
    pub fn stdout(&self) -> String {
        self.stdout.lock().map(|c| c.text.clone()).unwrap_or_default()
    }

    /// How many bytes it has written to stdout so far: a mark for `stdout_since`.
    pub fn written(&self) -> u64 {
        self.stdout.lock().map(|c| c.dropped + c.text.len() as u64).unwrap_or_default()
    }

    /// What it has written since `mark`, as far as it is still kept.
    pub fn stdout_since(&self, mark: u64) -> String {
        let Ok(captured) = self.stdout.lock() else { return String::new() };
        let mut from = usize::try_from(mark.saturating_sub(captured.dropped)).unwrap_or(usize::MAX);
        from = from.min(captured.text.len());
        while !captured.text.is_char_boundary(from) {
            from += 1;
        }
        captured.text[from..].to_owned()
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

#[cfg(test)]
mod tests {
    use super::{FunctionProcess, KEPT_BYTES, Output};

    #[test]
    fn a_serving_functions_output_is_echoed_and_only_its_tail_kept() {
        // About 240 KB of lines, then a last one.
        let script = "i=0; while [ $i -lt 3000 ]; do echo line-$i-................................................................; i=$((i+1)); done; echo last";
        let process = FunctionProcess::spawn_with(
            "sh",
            &["-c", script],
            None,
            Vec::<(String, String)>::new(),
            Output::Echoed { prefix: "[test]".into() },
            None,
        )
        .unwrap();
        let kept = process.stdout_when(|text| text.ends_with("last\n"), std::time::Duration::from_secs(20));
        assert!(kept.ends_with("line-2999-................................................................\nlast\n"));
        assert!(kept.len() <= 2 * KEPT_BYTES, "{} bytes kept", kept.len());
        assert!(!kept.contains("line-0-"));
        // What came since a mark, though the front of what was written is gone.
        let mark = process.written();
        assert!(mark > 200_000, "{mark}");
        assert_eq!(process.stdout_since(mark - 5), "last\n");
        assert_eq!(process.stdout_since(0), kept);
    }
}
