//! The litmus WebDAV compliance suite against `--webdav --modify`, each suite on a fresh tree:
//! `basic` (OPTIONS, PUT, GET, DELETE, MKCOL and their errors) and `http` (100-continue)
//! must pass whole. `copymove`, `props` and `locks` need MOVE, COPY, PROPPATCH and LOCK,
//! which are not built yet.

use std::process::Command;

use sandserve_testkit::{skip_unless, Fixture};

/// Runs one litmus suite and returns its summary line (`of N tests run: N passed, ...`).
fn run_suite(litmus: std::path::PathBuf, suite: &str) -> String {
    let fx = Fixture::new();
    let server = fx.serve(&["--webdav", "--modify"]);
    // litmus writes debug.log and child.log into its working directory.
    let logs = tempfile::tempdir().unwrap();
    let output = Command::new(litmus)
        .arg(server.url("/"))
        .env("TESTS", suite)
        .current_dir(logs.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    stdout
        .lines()
        .find(|line| line.contains(&format!("summary for `{suite}'")))
        .unwrap_or_else(|| panic!("no summary for {suite}: {stdout}"))
        .to_owned()
}

#[test]
fn basic_passes_whole() {
    let summary = run_suite(skip_unless!(litmus), "basic");
    assert!(summary.contains("16 passed, 0 failed"), "{summary}");
}

#[test]
fn http_passes_whole() {
    let summary = run_suite(skip_unless!(litmus), "http");
    assert!(summary.contains("4 passed, 0 failed"), "{summary}");
}
