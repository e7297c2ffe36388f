use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, ConfigLoader, Region};

pub use orderflow_local::REGION;
/// Dummy credentials: moto accepts any, and the SDK insists on having some.
pub const ACCESS_KEY_ID: &str = "testing";
pub const SECRET_ACCESS_KEY: &str = "testing";

#[derive(Debug)]
pub struct EmulatorError(pub String);

impl std::fmt::Display for EmulatorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EmulatorError {}

/// A running `moto_server`.
#[derive(Debug)]
pub struct Emulator {
    child: Child,
    port: u16,
}

impl Emulator {
    /// Starts moto on 127.0.0.1 and a free port, and waits until it answers.
    pub fn start() -> Result<Emulator, EmulatorError> {
        Self::start_on(free_port()?)
    }

    pub fn start_on(port: u16) -> Result<Emulator, EmulatorError> {
        let program = moto_server_path();
        if !program.exists() {
            return Err(EmulatorError(format!(
                "{} not found: run `make venv` (or set MOTO_SERVER to a moto_server executable)",
                program.display()
            )));
        }
        let mut command = Command::new(&program);
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        die_with_starting_thread(&mut command);
        let child = command.spawn().map_err(|e| EmulatorError(format!("cannot start {}: {e}", program.display())))?;
        let mut emulator = Emulator { child, port };
        emulator.wait_until_ready(Duration::from_secs(30))?;
        Ok(emulator)
    }

    fn wait_until_ready(&mut self, limit: Duration) -> Result<(), EmulatorError> {
        let started = Instant::now();
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(EmulatorError(format!("moto_server exited at start with {status}")));
            }
            if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if started.elapsed() > limit {
                return Err(EmulatorError(format!("moto_server did not listen on {addr} within {limit:?}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The value for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment a process needs to reach the emulator through the
    /// standard SDK settings.
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_DEFAULT_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_owned()),
        ]
    }

    /// An SDK config loader with the same settings `environment` gives a process.
    pub fn config_loader(&self) -> ConfigLoader {
        endpoint_loader(&self.endpoint())
    }
}

/// A loader for any endpoint, such as a closed port or a throttling stub.
pub fn endpoint_loader(endpoint: &str) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        // The SDK crates are built without a default HTTPS client (see the
        // workspace Cargo.toml); plain HTTP to moto on loopback is all this needs.
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "orderflow-emulator",
        ))
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Has the child killed when the thread that starts it ends, so that a test
/// that is killed or panics does not leave moto or a function running.
pub(crate) fn die_with_starting_thread(command: &mut Command) {
    // SAFETY: the closure runs between fork and exec and only calls prctl,
    // which is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

/// A port the OS says is free now. Another process could take it before moto
/// binds it; moto then exits and `start` reports it.
pub fn free_port() -> Result<u16, EmulatorError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| EmulatorError(format!("no free port on 127.0.0.1: {e}")))
}

/// `tool` in the `.venv` of the current folder or of the nearest folder
/// above it that has one with that tool (the project's, after `make venv`).
pub fn nearest_venv_tool(tool: &str) -> Option<PathBuf> {
    let here = std::env::current_dir().unwrap_or_default();
    here.ancestors().map(|dir| dir.join(".venv/bin").join(tool)).find(|p| p.is_file())
}

/// Where moto is, found when it is needed (an installed binary has no
/// build-time path): `$MOTO_SERVER`, else the `.venv` of the current folder or
/// the nearest folder above it (the project's, after `make venv`), else
/// `moto_server` on the PATH. Falls back to the project's `.venv` path, which
/// the error then names.
fn moto_server_path() -> PathBuf {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let here = std::env::current_dir().unwrap_or_default();
    let in_venv = nearest_venv_tool("moto_server");
    let on_path = || {
        std::env::var_os("PATH")
            .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("moto_server")).find(|p| p.is_file()))
    };
    in_venv.or_else(on_path).unwrap_or_else(|| here.join(".venv/bin/moto_server"))
}
