//! A started host: where to reach it, its banner, and its output, captured while it runs
//! and handed back when the test stops it (`finish`); stopped on drop otherwise. A start
//! that had to fail is an `Exit` instead.

use std::net::SocketAddr;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::capture::Capture;

/// A running host, stopped on drop.
pub struct Server {
    child: Child,
    /// Where requests go: always a loopback address.
    pub addr: SocketAddr,
    /// The native host's first line of output, newline included; empty for the other hosts.
    pub banner: String,
    /// Standard output after the banner, and standard error.
    stdout: Capture,
    stderr: Capture,
    /// The host runs in a process group of its own (jco serve forks a Node worker that
    /// would outlive its parent): the whole group is stopped.
    group: bool,
    stopped: bool,
}

/// What a stopped host printed.
#[derive(Debug)]
pub struct Output {
    /// Standard output after the banner: the rest of the start-up text.
    pub stdout: String,
    /// Standard error: the access log and warnings.
    pub stderr: String,
}

/// How a start that had to fail ended.
#[derive(Debug)]
pub struct Exit {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Server {
    pub(crate) fn new(
        child: Child,
        addr: SocketAddr,
        banner: String,
        stdout: Capture,
        stderr: Capture,
        group: bool,
    ) -> Server {
        Server {
            child,
            addr,
            banner,
            stdout,
            stderr,
            group,
            stopped: false,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still alive.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Stops the host and returns what it printed (at most 1 MiB of each stream).
    pub fn finish(mut self) -> Output {
        self.stop();
        Output {
            stdout: self.stdout.text(),
            stderr: self.stderr.text(),
        }
    }

    /// Kills the host once: after `wait` reaps it, its id may belong to another process.
    fn stop(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        if self.group {
            kill_group(&mut self.child);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Ends every process in the child's group (it leads one, see `process_group(0)`): TERM
/// first, so a runner script can clean up after itself, then KILL for whatever is left.
pub(crate) fn kill_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    // A runner that cleaned up and left on TERM leaves no group for the KILL: that is the
    // good case, not an error worth printing.
    let kill = |signal: &str| {
        let _ = Command::new("kill")
            .args([signal, "--", &group])
            .stderr(std::process::Stdio::null())
            .status();
    };
    kill("-TERM");
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    kill("-KILL");
    let _ = child.wait();
}
