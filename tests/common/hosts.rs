//! The hosts a black-box test can run the component on, each started on a loopback port
//! and stopped on drop:
//! - `Native`: the `sandserve` binary (`--port 0` unless the flags name a port; the port is
//!   read from its banner);
//! - `Wasmtime`: `wasmtime serve` 48, configured through `--env`;
//! - `Jco`: `jco serve` in Node through `tests/jco/serve.sh`, configured through the
//!   environment;
//! - `Wasmcloud`: the component as a workload on every node of a running wasmCloud lattice
//!   (`make test-cluster` brings it up), behind an nginx balancer of its own, through
//!   `examples/wasmcloud/lattice.py serve`.
//!
//! The other hosts take configuration as `SANDSERVE_*` variables (`flags_as_env`), so only
//! flags that configure the component can be used with them; tests of the native host's own
//! flags live in `host/tests/`, and so do starts that must fail (`Host::start_fails`).

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::capture::Capture;
use crate::server::{kill_group, Exit, Server};
use crate::workspace_path;

/// How long a host may take to start: the first start compiles the component, and the
/// machine may be busy with other tests.
const START_WAIT: Duration = Duration::from_secs(120);
/// How long a start that must fail may take to exit.
const FAIL_WAIT: Duration = Duration::from_secs(30);

/// Which host runs the component, and how it is started.
#[derive(Debug, Clone)]
pub enum Host {
    /// The `sandserve` binary, run by `wrapper` (e.g. a privilege-dropping command) when
    /// that is not empty, with `env` added to its environment.
    Native {
        binary: PathBuf,
        wrapper: Vec<String>,
        env: Vec<(String, OsString)>,
    },
    /// `wasmtime serve` (the binary `SANDSERVE_WASMTIME` names, else `wasmtime` on PATH).
    Wasmtime,
    /// `jco serve` in Node (installed where `SANDSERVE_JCO_DIR` says; see the runner).
    Jco,
    /// A wasmCloud lattice's nodes behind nginx (the lattice `SANDSERVE_LATTICE` names).
    Wasmcloud,
}

impl Host {
    /// The host `SANDSERVE_TEST_HOST` names: `native` (default), `wasmtime`, `jco` or
    /// `wasmcloud`. The
    /// native binary is `SANDSERVE_BIN`, else the release build in the workspace.
    pub fn from_env() -> Host {
        match std::env::var("SANDSERVE_TEST_HOST").as_deref() {
            Ok("wasmtime") => Host::Wasmtime,
            Ok("jco") => Host::Jco,
            Ok("wasmcloud") => Host::Wasmcloud,
            _ => Host::native(
                std::env::var_os("SANDSERVE_BIN")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| workspace_path("target/release/sandserve")),
            ),
        }
    }

    /// The `sandserve` binary at `binary` (in `host/tests/`: `native_host!()`).
    pub fn native(binary: impl Into<PathBuf>) -> Host {
        Host::Native {
            binary: binary.into(),
            wrapper: Vec::new(),
            env: Vec::new(),
        }
    }

    /// The same native host with `name=value` added to its environment.
    pub fn with_env(mut self, name: &str, value: impl Into<OsString>) -> Host {
        match &mut self {
            Host::Native { env, .. } => env.push((name.to_owned(), value.into())),
            other => panic!("{other:?} takes its environment from flags_as_env"),
        }
        self
    }

    /// The same native host run by `wrapper`.
    pub(crate) fn wrapped(mut self, command: &[&str]) -> Host {
        match &mut self {
            Host::Native { wrapper, .. } => {
                *wrapper = command.iter().map(|s| s.to_string()).collect()
            }
            other => panic!("{other:?} cannot be run by a wrapper"),
        }
        self
    }

    /// Starts this host serving `root` with `sandserve` command-line `flags`, and waits
    /// until it listens. The native host binds 127.0.0.1 unless `flags` hold `-b`/`--bind`;
    /// requests always go to loopback: 127.0.0.1 for a wildcard or LAN address.
    pub fn start(&self, root: &Path, flags: &[&str]) -> Server {
        match self {
            Host::Native { .. } => start_native(self.native_command(root, flags)),
            other => start_other(other, root, &flags_as_env(flags)),
        }
    }

    /// Runs a native start that must fail, and returns how it exited and what it printed.
    /// Fails the test if it is still running after 30 s (it started serving).
    pub fn start_fails(&self, root: &Path, flags: &[&str]) -> Exit {
        if !matches!(self, Host::Native { .. }) {
            panic!("{self:?} takes no flags, so only the native host's start can be refused");
        }
        let mut child = self
            .native_command(root, flags)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {self:?}: {e}"));
        let stdout = Capture::start(child.stdout.take().unwrap());
        let stderr = Capture::start(child.stderr.take().unwrap());
        let deadline = Instant::now() + FAIL_WAIT;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("sandserve {flags:?} kept running: {}", stdout.text());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Exit {
            code: status.code(),
            stdout: stdout.text(),
            stderr: stderr.text(),
        }
    }

    /// The native host's command line: `root`, `--port 0` and `--bind 127.0.0.1` unless
    /// `flags` name a port or an address (the host refuses a flag given twice), then `flags`.
    fn native_command(&self, root: &Path, flags: &[&str]) -> Command {
        let Host::Native {
            binary,
            wrapper,
            env,
        } = self
        else {
            unreachable!("only the native host has a command line of sandserve flags");
        };
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(binary);
                c
            }
            None => Command::new(binary),
        };
        command.arg(root);
        if !names(flags, "-p", "--port") {
            command.args(["--port", "0"]);
        }
        if !names(flags, "-b", "--bind") {
            command.args(["--bind", "127.0.0.1"]);
        }
        command.args(flags).envs(env.iter().map(|(k, v)| (k, v)));
        command
    }
}

/// Whether `flags` give the option `short`/`long`, in any of clap's spellings.
fn names(flags: &[&str], short: &str, long: &str) -> bool {
    flags.iter().any(|f| {
        *f == long
            || f.starts_with(short)
            || f.strip_prefix(long).is_some_and(|r| r.starts_with('='))
    })
}

/// The built component, for the other hosts: `SANDSERVE_COMPONENT`, else the release build
/// in the workspace.
pub fn component_wasm() -> PathBuf {
    match std::env::var_os("SANDSERVE_COMPONENT") {
        Some(path) => PathBuf::from(path),
        None => workspace_path("target/wasm32-wasip2/release/sandserve.wasm"),
    }
}

/// The test guest of `tests/guests/faulty` (`make guests` builds it): `SANDSERVE_FAULTY_WASM`,
/// else its release build in the workspace. Panics, saying how to build it, when it is missing.
pub fn faulty_wasm() -> PathBuf {
    let path = match std::env::var_os("SANDSERVE_FAULTY_WASM") {
        Some(path) => PathBuf::from(path),
        None => workspace_path("target/guests/wasm32-wasip2/release/faulty.wasm"),
    };
    assert!(
        path.is_file(),
        "{} is missing: run `make guests`",
        path.display()
    );
    path
}

/// `sandserve` flags as the `SANDSERVE_*` variables the host would set.
fn flags_as_env(flags: &[&str]) -> Vec<(String, String)> {
    // `-q` only quiets the native host's log; every other flag must be a component setting.
    let flags: Vec<&str> = flags
        .iter()
        .copied()
        .filter(|f| !matches!(*f, "-q" | "--quiet"))
        .collect();
    sandserve_host::settings::env_for_flags(&flags).unwrap_or_else(|error| {
        panic!("{flags:?}: {error} (a flag of the sandserve host itself is tested in host/tests/)")
    })
}

/// Starts `sandserve` and reads the address to talk to from its banner.
fn start_native(mut command: Command) -> Server {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let stderr = Capture::start(child.stderr.take().unwrap());
    let started = read_banner(child.stdout.take().unwrap()).and_then(|(banner, rest)| {
        let addr = banner_addr(&banner).ok_or_else(|| format!("no address in {banner:?}"))?;
        Ok((banner, rest, addr))
    });
    match started {
        Ok((banner, rest, addr)) => {
            Server::new(child, addr, banner, Capture::start(rest), stderr, false)
        }
        Err(why) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?}: {why}; stderr: {}", stderr.text())
        }
    }
}

/// The first line of `stdout`, and the reader holding the rest; at most `START_WAIT`.
fn read_banner(stdout: ChildStdout) -> Result<(String, BufReader<ChildStdout>), String> {
    let (send, receive) = mpsc::channel();
    // A thread, so a host that never prints cannot hang the test: it ends when the host is
    // killed and the pipe closes.
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut banner = String::new();
        let read = reader.read_line(&mut banner);
        let _ = send.send(read.map(|_| (banner, reader)));
    });
    match receive.recv_timeout(START_WAIT) {
        Ok(Ok((banner, _))) if banner.is_empty() => Err("exited before its banner".to_owned()),
        Ok(Ok(read)) => Ok(read),
        Ok(Err(error)) => Err(format!("cannot read its banner: {error}")),
        Err(_) => Err(format!("no banner within {START_WAIT:?}")),
    }
}

/// Where to reach the host whose banner is `Serving HTTP[S] on ADDR port N ...`: ADDR when it
/// is a loopback address, else 127.0.0.1 (tests send traffic to loopback only).
fn banner_addr(banner: &str) -> Option<SocketAddr> {
    let (_, rest) = banner.split_once(" on ")?;
    let (ip, rest) = rest.split_once(" port ")?;
    let port = rest.split_whitespace().next()?.parse().ok()?;
    let ip: IpAddr = ip.parse().ok()?;
    let ip = if ip.is_loopback() {
        ip
    } else {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    };
    Some(SocketAddr::new(ip, port))
}

/// The component under `wasmtime serve`, `jco serve` or a wasmCloud lattice, configured
/// through the environment, on a port picked here; waits until it accepts connections.
fn start_other(host: &Host, root: &Path, env: &[(String, String)]) -> Server {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut child = other_command(host, root, port, env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {host:?}: {e}"));
    let stdout = Capture::start(child.stdout.take().unwrap());
    let stderr = Capture::start(child.stderr.take().unwrap());
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_listening(&mut child, addr).unwrap_or_else(|why| {
        kill_group(&mut child);
        panic!("{host:?} {why}:\n{}", stderr.text());
    });
    Server::new(child, addr, String::new(), stdout, stderr, true)
}

/// Waits at most `START_WAIT` for `addr` to accept connections while `child` runs.
fn wait_listening(child: &mut Child, addr: SocketAddr) -> Result<(), String> {
    let deadline = Instant::now() + START_WAIT;
    while TcpStream::connect(addr).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            return Err(format!("exited ({status}) before listening on {addr}"));
        }
        if Instant::now() > deadline {
            return Err(format!("did not listen on {addr} within {START_WAIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// The command line that runs the component on `host` (not the native one).
fn other_command(host: &Host, root: &Path, port: u16, env: &[(String, String)]) -> Command {
    let wasm = component_wasm();
    match host {
        Host::Wasmtime => {
            let mut c = Command::new(
                std::env::var_os("SANDSERVE_WASMTIME").unwrap_or_else(|| "wasmtime".into()),
            );
            c.args(["serve", "-Scli", "--addr"])
                .arg(format!("127.0.0.1:{port}"))
                .arg("--dir")
                .arg(format!("{}::/", root.display()));
            for (name, value) in env {
                c.arg("--env").arg(format!("{name}={value}"));
            }
            c.arg(&wasm);
            c
        }
        Host::Jco => {
            let mut c = Command::new("bash");
            c.arg(workspace_path("tests/jco/serve.sh"))
                .arg(&wasm)
                .arg(root)
                .arg(port.to_string());
            c.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            c
        }
        Host::Wasmcloud => {
            // The runner places a workload with these settings on every node, then opens
            // `port` (nginx in front of the nodes) once each node serves it; a TERM to its
            // process group stops nginx and the workloads.
            let mut c = Command::new("python3");
            c.arg(workspace_path("examples/wasmcloud/lattice.py"))
                .arg("serve")
                .arg(root)
                .arg(port.to_string());
            for (name, value) in env {
                c.arg("--env").arg(format!("{name}={value}"));
            }
            c
        }
        Host::Native { .. } => unreachable!("the native host is started by start_native"),
    }
}
