//! `orderflow serve` started as a process on a free port, with its
//! emulator: shared by the tests that drive the binary with the AWS CLI
//! (each includes `aws_cli` too).
#![allow(dead_code)]

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

use crate::aws_cli::venv;

pub struct Serve {
    child: Child,
    /// What it printed first, up to the line that says what it serves.
    pub lines: Vec<String>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `orderflow serve` in `dir` with `args`; its first lines (up to the one that says what it serves).
pub fn serve(dir: &std::path::Path, args: &[&str]) -> Serve {
    let moto = venv("moto_server");
    let mut child = Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .args(["serve", "--port", "0", "--ephemeral"])
        .args(args)
        .current_dir(dir)
        .env("MOTO_SERVER", moto)
        // A template's Python functions run under the project's Python, which has awslambdaric.
        .env("ORDERFLOW_PYTHON", venv("python"))
        .env_remove("AWS_ENDPOINT_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut lines = Vec::new();
    for line in reader.by_ref() {
        let line = line.unwrap();
        let last = line.starts_with("try:") || line.starts_with("no template here");
        lines.push(line);
        if last {
            break;
        }
    }
    std::thread::spawn(move || reader.for_each(drop));
    Serve { child, lines }
}

pub fn address(serve: &Serve) -> String {
    serve.lines[0]
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .expect("the API's address")
        .to_owned()
}

pub fn moto_of(serve: &Serve) -> String {
    let line = &serve.lines[0];
    let at = line.find("service tasks to ").expect("where service tasks go") + "service tasks to ".len();
    line[at..].trim_end_matches(')').to_owned()
}

/// `body` put at `bucket`/`key` in the emulator's S3 by `aws s3api put-object`: its answer.
pub fn put_object(moto: &str, bucket: &str, key: &str, body: &[u8]) -> serde_json::Value {
    let file =
        std::env::temp_dir().join(format!("orderflow-put-{}-{bucket}-{}", std::process::id(), key.replace('/', "_")));
    std::fs::write(&file, body).unwrap();
    let answer = crate::aws_cli::on_moto(
        moto,
        "s3api",
        &["put-object", "--bucket", bucket, "--key", key, "--body", file.to_str().unwrap()],
    );
    let _ = std::fs::remove_file(&file);
    answer
}

/// The execution described once it has ended (within a minute: a Distributed Map of many children).
pub async fn ended(endpoint: &str, execution: &str) -> serde_json::Value {
    for _ in 0..600 {
        let described = crate::aws_cli::ok(endpoint, &["describe-execution", "--execution-arn", execution]);
        if described["status"] != "RUNNING" {
            return described;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{execution} still running after a minute");
}
