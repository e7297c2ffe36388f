//! The console of `orderflow serve` in a real browser: Debian's Chromium,
//! headless, driven by playwright-core (tools/console-test, pinned; `make
//! test` installs both) against `orderflow serve` started on a free port
//! with the project's template. The checks are in
//! tools/console-test/console.test.mjs; its screenshots are kept in
//! target/console-artifacts (`UPDATE_CONSOLE_SCREENSHOT=1` also writes the
//! README's, docs/console-execution.png).

#[path = "../../server/tests/support/aws_cli.rs"]
mod aws_cli;
#[path = "support/serve_binary.rs"]
mod serve_binary;

use std::process::Command;

use serve_binary::{address, serve};

#[test]
fn the_console_works_in_chromium() {
    let root = orderflow_local::workspace_root();
    let driver = root.join("tools/console-test/node_modules/playwright-core");
    assert!(driver.exists(), "{} is missing: run `make console-deps` (make test does)", driver.display());
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: run `make console-deps` (make test does)"
    );
    let server = serve(&root, &[]);
    let url = address(&server);
    let artifacts = root.join("target/console-artifacts");
    let mut command = Command::new("node");
    command
        .arg(root.join("tools/console-test/console.test.mjs"))
        .current_dir(&root)
        .env("ORDERFLOW_URL", &url)
        .env("ARTIFACTS", &artifacts)
        .env("WORKSPACE", &root)
        .env("CHROMIUM", &chromium);
    if std::env::var_os("UPDATE_CONSOLE_SCREENSHOT").is_some() {
        command.env("DOCS_SCREENSHOT", root.join("docs/console-execution.png"));
    }
    let out = command.output().expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "the console's checks failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("console: every check passed in Chromium"), "{stdout}");
}
