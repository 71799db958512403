//! The hosts a black-box test can run the component on, each started on an ephemeral
//! loopback port and killed on drop:
//! - `Native`: the `sandserve` binary (`--port 0`; the port is read from its banner);
//! - `Wasmtime`: `wasmtime serve` 48, configured through `--env`;
//! - `Jco`: `jco serve` in Node through `tests/jco/serve.sh`, configured through the
//!   environment.
//!
//! The other hosts take configuration as `SANDSERVE_*` variables (`flags_as_env`), so only
//! flags that configure the component can be used with them; tests of the native host's own
//! flags live in `host/tests/`.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::workspace_path;

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
}

impl Host {
    /// The host `SANDSERVE_TEST_HOST` names: `native` (default), `wasmtime` or `jco`. The
    /// native binary is `SANDSERVE_BIN`, else the release build in the workspace.
    pub fn from_env() -> Host {
        match std::env::var("SANDSERVE_TEST_HOST").as_deref() {
            Ok("wasmtime") => Host::Wasmtime,
            Ok("jco") => Host::Jco,
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

    /// Starts this host serving `root` with `sandserve` command-line `flags`.
    pub fn start(&self, root: &Path, flags: &[&str]) -> Server {
        match self {
            Host::Native {
                binary,
                wrapper,
                env,
            } => start_native(binary, wrapper, env, root, flags),
            other => start_other(other, root, &flags_as_env(flags)),
        }
    }
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

/// A running host, killed on drop.
pub struct Server {
    child: Child,
    // Held open so the server's later prints never hit a closed pipe.
    _stdout: Option<BufReader<ChildStdout>>,
    pub addr: SocketAddr,
    /// The native host's first line of output; empty for the other hosts.
    pub banner: String,
    /// The host runs in a process group of its own (jco serve forks a Node worker that
    /// would outlive its parent): the whole group is killed on drop.
    group: bool,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still alive.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.group {
            kill_group(&mut self.child);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `sandserve` on port 0 and reads the port from its banner.
fn start_native(
    binary: &Path,
    wrapper: &[String],
    env: &[(String, OsString)],
    root: &Path,
    flags: &[&str],
) -> Server {
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(binary);
            c
        }
        None => Command::new(binary),
    };
    let mut child = command
        .arg(root)
        .args(["--port", "0", "--bind", "127.0.0.1"])
        .args(flags)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let mut banner = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut banner).unwrap();
    let port: u16 = banner
        .split(" port ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in banner {banner:?}"));
    Server {
        child,
        _stdout: Some(stdout),
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        banner,
        group: false,
    }
}

/// The component under `wasmtime serve` or `jco serve`, configured through the
/// environment, on a port picked here; waits until it accepts connections.
fn start_other(host: &Host, root: &Path, env: &[(String, String)]) -> Server {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    // The host's own messages go to a file, so a failed start can say why.
    let log = std::env::temp_dir().join(format!("sandserve-{host:?}-{port}.log"));
    let mut child = other_command(host, root, port, env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {host:?}: {e}"));
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(120);
    while TcpStream::connect(addr).is_err() {
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            kill_group(&mut child);
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("{host:?} did not start listening on {addr}:\n{said}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_file(&log);
    Server {
        child,
        _stdout: None,
        addr,
        banner: String::new(),
        group: true,
    }
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
        Host::Native { .. } => unreachable!("the native host is started by start_native"),
    }
}

/// Ends every process in the child's group (it leads one, see `process_group(0)`): TERM
/// first, so a runner script can clean up after itself, then KILL for whatever is left.
fn kill_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    let _ = child.wait();
}
