//! Warm instance reuse keeps isolation provable. The test guest (`tests/guests/faulty`)
//! counts the requests its instance has seen in a `static` and returns the count in
//! `x-count`, so a count of 1 means a fresh instance. Over one keep-alive connection (one
//! worker, one idle set): `--reuse N` serves N requests per instance, and any request that
//! traps, runs out of CPU time, exhausts or grows memory past the bound, or leaks a resource
//! is followed by a fresh instance that succeeds. A client that leaves mid-body gives its
//! slot back, and a server that goes quiet lets its idle instances go.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn faulty_wasm() -> PathBuf {
    let path = match std::env::var_os("SANDSERVE_FAULTY_WASM") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../target/guests/wasm32-wasip2/release/faulty.wasm"),
    };
    assert!(
        path.exists(),
        "{} is missing: run `make guests`",
        path.display()
    );
    path
}

/// The real binary serving an empty directory with the test guest, on an ephemeral port.
struct Server {
    child: Child,
    port: u16,
    _root: tempfile::TempDir,
}

impl Server {
    fn start(flags: &[&str]) -> Server {
        let root = tempfile::tempdir().unwrap();
        let wasm = faulty_wasm();
        let mut child = Command::new(env!("CARGO_BIN_EXE_sandserve"))
            .arg(root.path())
            .args(["--port", "0", "--bind", "127.0.0.1", "-q", "--component"])
            .arg(&wasm)
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut banner = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut banner)
            .unwrap();
        // "Serving HTTP on 127.0.0.1 port N (http://...) ..."
        let port = banner
            .split_whitespace()
            .skip_while(|word| *word != "port")
            .nth(1)
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("no port in {banner:?}"));
        Server {
            child,
            port,
            _root: root,
        }
    }

    fn connect(&self) -> Connection {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Connection {
            reader: BufReader::new(stream),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    reader: BufReader<TcpStream>,
}

struct Reply {
    status: u16,
    count: Option<u32>,
    body: Vec<u8>,
}

impl Connection {
    fn send(&mut self, method: &str, path: &str) {
        let request = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        self.reader.get_mut().write_all(request.as_bytes()).unwrap();
    }

    fn request(&mut self, method: &str, path: &str) -> Reply {
        self.send(method, path);
        let (status, headers) = self.head();
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let body = if method == "HEAD" {
            Vec::new()
        } else if let Some(length) = header("content-length") {
            let mut body = vec![0; length.parse().unwrap()];
            self.reader.read_exact(&mut body).unwrap();
            body
        } else {
            assert_eq!(header("transfer-encoding").as_deref(), Some("chunked"));
            self.chunked()
        };
        Reply {
            status,
            count: header("x-count").map(|count| count.parse().unwrap()),
            body,
        }
    }

    fn get(&mut self, path: &str) -> Reply {
        self.request("GET", path)
    }

    /// The count of a successful `GET /count`.
    fn count(&mut self) -> u32 {
        let reply = self.get("/count");
        assert_eq!((reply.status, reply.body.as_slice()), (200, &b"ok"[..]));
        reply.count.expect("x-count")
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        line.trim_end().to_owned()
    }

    fn head(&mut self) -> (u16, Vec<(String, String)>) {
        let status_line = self.line();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let mut headers = Vec::new();
        loop {
            let line = self.line();
            if line.is_empty() {
                return (status, headers);
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
    }

    fn chunked(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let size = usize::from_str_radix(&self.line(), 16).unwrap();
            let start = body.len();
            body.resize(start + size, 0);
            self.reader.read_exact(&mut body[start..]).unwrap();
            assert_eq!(self.line(), "");
            if size == 0 {
                return body;
            }
        }
    }
}

#[test]
fn reuse_5_serves_five_requests_per_instance() {
    let server = Server::start(&["--reuse", "5"]);
    let mut conn = server.connect();
    let counts: Vec<u32> = (0..12).map(|_| conn.count()).collect();
    assert_eq!(counts, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2]);
}

#[test]
fn reuse_1_gives_every_request_a_fresh_instance() {
    let server = Server::start(&["--reuse", "1"]);
    let mut conn = server.connect();
    let counts: Vec<u32> = (0..6).map(|_| conn.count()).collect();
    assert_eq!(counts, [1; 6]);
}

#[test]
fn the_default_reuses_instances() {
    let server = Server::start(&[]);
    let mut conn = server.connect();
    let counts: Vec<u32> = (0..4).map(|_| conn.count()).collect();
    assert_eq!(counts, [1, 2, 3, 4]);
}

#[test]
fn a_fault_is_followed_by_a_fresh_instance_that_succeeds() {
    let server = Server::start(&["--reuse", "100", "--cpu-limit", "300ms"]);
    let mut conn = server.connect();
    for fault in ["/trap", "/loop", "/alloc"] {
        // Warm first, so that a fresh instance afterwards means the faulty one was dropped.
        conn.count();
        assert!(conn.count() >= 2, "not warm before {fault}");
        let reply = conn.get(fault);
        assert_eq!(reply.status, 500, "{fault}");
        assert_eq!(conn.count(), 1, "after {fault}");
        assert_eq!(conn.count(), 2, "the idle set refills after {fault}");
    }
}

#[test]
fn grown_memory_or_a_leaked_resource_retires_the_instance() {
    let server = Server::start(&["--reuse", "100"]);
    let mut conn = server.connect();
    conn.count();
    // 24 MiB is past the reuse bound: answered, then dropped.
    let grown = conn.get("/grow");
    assert_eq!((grown.status, grown.count), (200, Some(2)));
    assert_eq!(conn.count(), 1, "after /grow");
    let leaked = conn.get("/leak");
    assert_eq!((leaked.status, leaked.count), (200, Some(2)));
    assert_eq!(conn.count(), 1, "after /leak");
    assert_eq!(conn.count(), 2);
}

#[test]
fn head_and_chunked_responses_keep_their_instance() {
    let server = Server::start(&["--reuse", "100"]);
    let mut conn = server.connect();
    assert_eq!(conn.count(), 1);
    let head = conn.request("HEAD", "/count");
    assert_eq!((head.status, head.count), (200, Some(2)));
    let big = conn.get("/big");
    assert_eq!((big.status, big.count), (200, Some(3)));
    assert_eq!(big.body.len(), 64 << 20);
    assert_eq!(conn.count(), 4);
}

#[test]
fn a_client_leaving_mid_body_gives_its_slot_back() {
    let server = Server::start(&["--reuse", "100", "--max-concurrent", "1"]);
    for _ in 0..3 {
        let mut leaver = server.connect();
        leaver.send("GET", "/big");
        let mut some = [0u8; 64 << 10];
        leaver.reader.read_exact(&mut some).unwrap();
        drop(leaver);
        // With the only slot stuck this would wait for the queue timeout and get 503.
        let mut conn = server.connect();
        let first = conn.get("/count");
        assert_eq!(first.status, 200);
        assert_eq!(conn.count(), first.count.unwrap() + 1, "idle set refills");
    }
}

#[test]
fn a_quiet_server_drops_its_idle_instances() {
    let server = Server::start(&["--reuse", "100"]);
    let mut conn = server.connect();
    assert_eq!(conn.count(), 1);
    assert_eq!(conn.count(), 2);
    // Quiet for half a second (two sweeps a quarter second apart): the idle set is emptied.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(conn.count(), 1);
}
