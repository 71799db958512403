//! What a test needs from the machine or the host, and one way to skip without it.
//!
//! Each capability is a function here returning `Ok(what the test needs)` or `Err(reason)`.
//! `skip_unless!(capability)` evaluates to the `Ok` value; on `Err` it prints
//! `SKIP <test>: <reason>` and returns from the test. Rust's test harness has no "skipped"
//! status (a skipped test reports `ok`), so the line is also appended to
//! `target/test-skips.txt`, which `make test` and `make test-hosts` clear before the run
//! and print, with a count, after it.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::hosts::Host;
use crate::workspace_path;

/// Evaluates to what `capability` (a function in `sandserve_testkit::skip`) provides, or
/// records the test as skipped, with the reason, and returns from it.
#[macro_export]
macro_rules! skip_unless {
    ($capability:ident) => {
        match $crate::skip::$capability() {
            Ok(provided) => provided,
            Err(reason) => {
                // A local item's type name is its path: `<test binary>::<test>::here`.
                fn here() {}
                $crate::skip::record(::std::any::type_name_of_val(&here), &reason);
                return;
            }
        }
    };
}

/// A headless Chromium to drive (`make test` installs one from Debian).
pub fn chromium() -> Result<PathBuf, String> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .ok_or_else(|| "no Chromium installed (apt-get install chromium)".to_owned())
}

/// The `curl` command, to send what `curl -T` sends (`make test` installs it).
pub fn curl() -> Result<PathBuf, String> {
    let works = Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if works {
        Ok(PathBuf::from("curl"))
    } else {
        Err("no curl on PATH (apt-get install curl)".to_owned())
    }
}

/// Playwright's driver, to drive Chromium through a form: the directory holding
/// `node_modules/playwright-core` (`SANDSERVE_PLAYWRIGHT_DIR`, else the tools directory
/// where `make test` installs it), with Node to run it.
pub fn playwright() -> Result<PathBuf, String> {
    let dir = match std::env::var_os("SANDSERVE_PLAYWRIGHT_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::var_os("HOME")
            .map(PathBuf::from)
            .ok_or("HOME is not set")?
            .join(".cache/sandserve-tools/playwright"),
    };
    if !dir.join("node_modules/playwright-core").is_dir() {
        return Err(format!(
            "playwright-core is not installed in {} (make test-deps installs it)",
            dir.display()
        ));
    }
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !node {
        return Err("no node on PATH to run Playwright".to_owned());
    }
    Ok(dir)
}

/// The host cuts the connection when the component leaves a response body unfinished.
/// jco does not: a documented limit of its Node server (README, "Known limits of the jco
/// shim").
pub fn unfinished_bodies_cut() -> Result<(), String> {
    match Host::from_env() {
        Host::Jco => Err(
            "jco's Node server keeps a response open when the component \
                          leaves its body unfinished"
                .to_owned(),
        ),
        _ => Ok(()),
    }
}

/// IPv6 sockets: a host can bind `::`.
pub fn ipv6() -> Result<(), String> {
    std::net::TcpListener::bind("[::]:0")
        .map(drop)
        .map_err(|error| format!("no IPv6 on this machine: {error}"))
}

/// A way to run the host as an unprivileged user, so file permissions bind it: the command
/// to wrap it in (empty when the tests already run unprivileged).
pub fn privilege_drop() -> Result<Vec<&'static str>, String> {
    let root_user = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    if !root_user {
        return Ok(Vec::new());
    }
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .ok_or("running as root without setpriv, so privileges cannot be dropped")?;
    Ok(vec![
        setpriv,
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--",
    ])
}

/// Where skips are listed for the Makefile to report.
fn skips_file() -> PathBuf {
    workspace_path("target/test-skips.txt")
}

/// Prints `SKIP <test>: <reason>` past the harness's output capture (so it shows without
/// `--nocapture`) and appends the same line to the skip list. Used by `skip_unless!`.
#[doc(hidden)]
pub fn record(here: &str, reason: &str) {
    let test = here.strip_suffix("::here").unwrap_or(here);
    let line = format!("SKIP {test}: {reason}\n");
    // `eprintln!` would be captured; a write to the stderr handle is not.
    let _ = std::io::stderr().write_all(line.as_bytes());
    let path = skips_file();
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| OpenOptions::new().create(true).append(true).open(&path))
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(error) = written {
        panic!("cannot list the skip in {}: {error}", path.display());
    }
}

/// `unzip` (Info-ZIP) to test archives with (`make test` installs Debian's `unzip`).
pub fn unzip() -> Result<PathBuf, String> {
    program("unzip", "unzip")
}

/// `bsdtar` (libarchive) to read archives with (`make test` installs `libarchive-tools`).
pub fn bsdtar() -> Result<PathBuf, String> {
    program("bsdtar", "libarchive-tools")
}

/// Python 3 with its standard library's `zipfile`.
pub fn python3() -> Result<PathBuf, String> {
    program("python3", "python3")
}

/// `litmus`, the WebDAV compliance suite (`make test` installs Debian's `litmus`).
pub fn litmus() -> Result<PathBuf, String> {
    program("litmus", "litmus")
}

/// `cadaver`, a command-line WebDAV client driven by a script on its standard input
/// (`make test` installs Debian's `cadaver`).
pub fn cadaver() -> Result<PathBuf, String> {
    program("cadaver", "cadaver")
}

/// `rclone`, to read and write a WebDAV share as a client and through a FUSE mount (`make test`
/// installs Debian's `rclone`).
pub fn rclone() -> Result<PathBuf, String> {
    program("rclone", "rclone")
}

/// FUSE, for `rclone mount`: `/dev/fuse` opens read-write and `fusermount3` (or the older
/// `fusermount`) is on PATH to unmount with (`make test` installs Debian's `fuse3`).
pub fn fuse() -> Result<(), String> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .map_err(|error| format!("cannot open /dev/fuse: {error}"))?;
    program("fusermount3", "fuse3")
        .or_else(|_| program("fusermount", "fuse3"))
        .map(drop)
}

fn program(name: &str, package: &str) -> Result<PathBuf, String> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| format!("no {name} on PATH (apt-get install {package})"))
}

/// The host is the native `sandserve`, whose process this test can measure.
pub fn native_process() -> Result<(), String> {
    match Host::from_env() {
        Host::Native { .. } => Ok(()),
        other => Err(format!("measures the native host's process, not {other:?}")),
    }
}
