//! Shared harness for the black-box tests: a fixture tree with a canary outside the served
//! root, the real `sandserve` binary on an ephemeral loopback port, and raw HTTP helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};

/// The canary's contents: no response may ever contain them.
pub const CANARY: &str = "CANARY-7f3a9c-outside-the-root";

/// Which host runs the component: `SANDSERVE_TEST_HOST` = `native` (default), `wasmtime`
/// (`wasmtime serve`), or `jco` (`jco serve` in Node).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    Native,
    Wasmtime,
    Jco,
}

pub fn host() -> Host {
    match std::env::var("SANDSERVE_TEST_HOST").as_deref() {
        Ok("wasmtime") => Host::Wasmtime,
        Ok("jco") => Host::Jco,
        _ => Host::Native,
    }
}

/// For tests of the native host itself (its flags, limits, start-up): true means "skip".
pub fn skip_unless_native(test: &str) -> bool {
    let skip = host() != Host::Native;
    if skip {
        eprintln!("SKIP {test}: exercises the sandserve host itself, not the component");
    }
    skip
}

/// For a behaviour a host cannot give because of a documented limit of its own (listed in
/// the README): true means "skip", with the reason printed.
pub fn skip_on(limited: Host, test: &str, reason: &str) -> bool {
    let skip = host() == limited;
    if skip {
        eprintln!("SKIP {test} on {limited:?}: {reason}");
    }
    skip
}

/// The built component, for the other hosts.
pub fn component_wasm() -> PathBuf {
    match std::env::var_os("SANDSERVE_COMPONENT") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/wasm32-wasip2/release/sandserve.wasm"),
    }
}

/// `sandserve` flags as the `SANDSERVE_*` variables the host would set.
fn flags_as_env(flags: &[&str]) -> Vec<(String, String)> {
    let mut env = Vec::new();
    let mut headers = Vec::new();
    let mut it = flags.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().expect("flag value").to_string();
        match *flag {
            "-q" | "--quiet" => {}
            "--hidden" => env.push(("SANDSERVE_HIDDEN".into(), "1".into())),
            "--no-listing" => env.push(("SANDSERVE_NO_LISTING".into(), "1".into())),
            "--cors" => env.push(("SANDSERVE_CORS".into(), "1".into())),
            "--no-compress" => env.push(("SANDSERVE_NO_COMPRESS".into(), "1".into())),
            "--xmlrpc" => env.push(("SANDSERVE_XMLRPC".into(), "1".into())),
            "--index" => env.push(("SANDSERVE_INDEX".into(), value())),
            "--spa" => env.push(("SANDSERVE_SPA".into(), value())),
            "--not-found" => env.push(("SANDSERVE_NOT_FOUND".into(), value())),
            "--cache-control" => env.push(("SANDSERVE_CACHE_CONTROL".into(), value())),
            "-H" | "--header" => headers.push(value()),
            other => {
                panic!("{other} is a sandserve host flag; guard the test with skip_unless_native")
            }
        }
    }
    if !headers.is_empty() {
        env.push(("SANDSERVE_HEADERS".into(), headers.join("\n")));
    }
    env
}

/// The host binary under test: `SANDSERVE_BIN`, or the release build in the workspace.
pub fn binary() -> PathBuf {
    match std::env::var_os("SANDSERVE_BIN") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/sandserve"),
    }
}

/// A temporary directory holding `root/` (served) and `canary.txt` (beside it, not served).
pub struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::Builder::new()
            .prefix("sandserve-test")
            .tempdir()
            .unwrap();
        std::fs::create_dir(dir.path().join("root")).unwrap();
        std::fs::write(dir.path().join("canary.txt"), CANARY).unwrap();
        Fixture { dir }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn outside(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Writes `root/rel` (creating parents) and returns its path.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let path = self.root().join(rel);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    pub fn symlink(&self, target: impl AsRef<Path>, rel: &str) {
        std::os::unix::fs::symlink(target, self.root().join(rel)).unwrap();
    }

    pub fn fifo(&self, rel: &str) {
        let status = Command::new("mkfifo")
            .arg(self.root().join(rel))
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// A digest of every name, kind, mode, symlink target and file byte under the fixture
    /// (canary included), to prove a run changed nothing.
    pub fn tree_hash(&self) -> BTreeMap<PathBuf, String> {
        let mut out = BTreeMap::new();
        hash_tree(self.dir.path(), self.dir.path(), &mut out);
        out
    }

    pub fn serve(&self, flags: &[&str]) -> Server {
        match host() {
            Host::Native => Server::start(&self.root(), flags, &[]),
            other => Server::start_other(other, &self.root(), &flags_as_env(flags)),
        }
    }

    /// Serves as an unprivileged user, so file permissions bind the server as they would
    /// bind a real user (root reads everything). `None` when that is not possible here.
    pub fn serve_unprivileged(&self, flags: &[&str]) -> Option<Server> {
        if host() != Host::Native {
            return None;
        }
        let root_user = std::fs::metadata("/proc/self")
            .map(|m| m.uid() == 0)
            .unwrap_or(false);
        if !root_user {
            return Some(self.serve(flags));
        }
        let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
            .into_iter()
            .find(|p| Path::new(p).exists())?;
        // nobody must be able to walk into the fixture.
        std::fs::set_permissions(self.dir.path(), std::fs::Permissions::from_mode(0o755)).ok()?;
        Some(Server::start(
            &self.root(),
            flags,
            &[
                setpriv,
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--",
            ],
        ))
    }
}

fn hash_tree(base: &Path, path: &Path, out: &mut BTreeMap<PathBuf, String>) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    let rel = path.strip_prefix(base).unwrap().to_path_buf();
    let mode = meta.permissions().mode();
    let entry = if meta.file_type().is_symlink() {
        format!("link {:?}", std::fs::read_link(path).unwrap())
    } else if meta.is_dir() {
        let mut names: Vec<_> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for child in names {
            hash_tree(base, &child, out);
        }
        format!("dir {mode:o}")
    } else if meta.is_file() {
        format!(
            "file {mode:o} {} {}",
            meta.mtime_nsec(),
            sha256_hex(&std::fs::read(path).unwrap())
        )
    } else {
        format!("special {mode:o}")
    };
    out.insert(rel, entry);
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A running `sandserve`, killed on drop.
pub struct Server {
    child: Child,
    // Held open so the server's later prints never hit a closed pipe.
    _stdout: Option<BufReader<std::process::ChildStdout>>,
    pub addr: SocketAddr,
    pub banner: String,
    /// The host runs in a process group of its own (jco serve forks a Node worker that
    /// would outlive its parent): the whole group is killed on drop.
    group: bool,
}

impl Server {
    /// Starts the host on port 0; `wrapper` (e.g. a privilege-dropping command) runs it.
    pub fn start(root: &Path, flags: &[&str], wrapper: &[&str]) -> Server {
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(binary());
                c
            }
            None => Command::new(binary()),
        };
        let mut child = command
            .arg(root)
            .args(["--port", "0", "--bind", "127.0.0.1"])
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary().display()));
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
    /// environment, on a port picked here.
    pub fn start_other(host: Host, root: &Path, env: &[(String, String)]) -> Server {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let wasm = component_wasm();
        let mut command = match host {
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
                let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jco/serve.sh");
                let mut c = Command::new("bash");
                c.arg(runner).arg(&wasm).arg(root).arg(port.to_string());
                c.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                c
            }
            Host::Native => unreachable!(),
        };
        // The host's own messages go to a file, so a failed start can say why.
        let log = std::env::temp_dir().join(format!("sandserve-{host:?}-{port}.log"));
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {host:?}: {e}"));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while TcpStream::connect(addr).is_err() {
            if std::time::Instant::now() > deadline || child.try_wait().unwrap().is_some() {
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

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// An HTTP agent that does not follow redirects.
    pub fn agent(&self) -> ureq::Agent {
        ureq::AgentBuilder::new()
            .redirects(0)
            .timeout(Duration::from_secs(60))
            .build()
    }

    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[])
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = self.agent().request(method, &self.url(path));
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let response = match request.call() {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("{method} {path}: {error}"),
        };
        Response::read(response)
    }

    /// Sends raw bytes on a fresh connection and returns everything the server sent back
    /// until it closed the connection (or 5 s passed).
    pub fn raw(&self, request: &[u8]) -> Vec<u8> {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(request).unwrap();
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        out
    }

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

/// Ends every process in the child's group (it leads one, see `process_group(0)`): TERM
/// first, so a runner script can clean up after itself, then KILL for whatever is left.
fn kill_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while std::time::Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    let _ = child.wait();
}

/// A fully read response.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    fn read(response: ureq::Response) -> Response {
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .flat_map(|name| {
                response
                    .all(&name)
                    .into_iter()
                    .map(|v| (name.clone(), v.to_owned()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut body = Vec::new();
        response.into_reader().read_to_end(&mut body).unwrap();
        Response {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Deterministic pseudo-random bytes (xorshift), so large files are not compressible runs.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Splits a raw HTTP/1.1 response into its status code and the rest.
pub fn raw_status(raw: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(raw);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}
