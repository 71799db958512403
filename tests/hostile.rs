//! A hostile filesystem: special files, loops, escaping links, unreadable directories,
//! non-UTF-8 names, and files that change while they stream. Each gets a clear status;
//! nothing hangs, crashes, or sends a dishonest length.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use sandserve_testkit::{noise, sha256_hex, skip_unless, Fixture, CANARY};

#[test]
fn special_files_loops_and_escapes_are_404_and_the_listing_survives() {
    let fx = Fixture::new();
    fx.write("good.txt", "good");
    fx.fifo("fifo");
    let _socket = std::os::unix::net::UnixListener::bind(fx.root().join("socket")).unwrap();
    let device = std::process::Command::new("mknod")
        .arg(fx.root().join("null"))
        .args(["c", "1", "3"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !device {
        eprintln!("NOTE: mknod not permitted here; the device-node case is not exercised");
    }
    fx.symlink("loop-b", "loop-a");
    fx.symlink("loop-a", "loop-b");
    fx.symlink("self", "self");
    fx.symlink("/", "slash");
    fx.symlink("../canary.txt", "up");
    let bad_name = std::ffi::OsStr::from_bytes(b"bad\xffname.txt");
    std::fs::write(fx.root().join(bad_name), "bad").unwrap();
    let before = fx.tree_hash();
    let server = fx.serve(&["-q"]);
    for path in [
        "/fifo",
        "/socket",
        "/null",
        "/loop-a",
        "/self",
        "/slash",
        "/slash/etc/hostname",
        "/up",
        "/bad%FFname.txt",
    ] {
        let r = server.get(path);
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.text().contains(CANARY));
    }
    let listing = server.get("/");
    assert_eq!(listing.status, 200);
    let html = listing.text();
    assert!(html.contains("good.txt"));
    for hidden in ["fifo", "socket", "loop-a", "slash", "\"up\""] {
        assert!(!html.contains(hidden), "{hidden} should not be listed");
    }
    assert_eq!(fx.tree_hash(), before);
}

/// Sends a GET and returns the stream with the head consumed, the Content-Length, and the
/// body bytes that came with the head.
fn start_download(server: &sandserve_testkit::Server, path: &str) -> (TcpStream, usize, Vec<u8>) {
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "closed before the head");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("content-length");
    (stream, length, buf[end..].to_vec())
}

fn read_rest(stream: &mut TcpStream, mut body: Vec<u8>) -> Vec<u8> {
    stream
        .read_to_end(&mut body)
        .expect("the connection must end, not hang");
    body
}

const BIG: usize = 64 << 20;

#[test]
fn a_file_deleted_while_streaming_is_sent_whole() {
    let fx = Fixture::new();
    let data = noise(BIG, 3);
    let path = fx.write("big.bin", &data);
    let server = fx.serve(&["-q"]);
    let (mut stream, length, start) = start_download(&server, "/big.bin");
    assert_eq!(length, BIG);
    std::fs::remove_file(path).unwrap();
    let body = read_rest(&mut stream, start);
    assert_eq!(body.len(), BIG);
    assert_eq!(sha256_hex(&body), sha256_hex(&data));
}

#[test]
fn a_file_that_shrinks_while_streaming_ends_short_and_closes() {
    skip_unless!(unfinished_bodies_cut);
    let fx = Fixture::new();
    let path = fx.write("big.bin", noise(BIG, 4));
    let server = fx.serve(&["-q"]);
    let (mut stream, length, start) = start_download(&server, "/big.bin");
    assert_eq!(length, BIG);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let body = read_rest(&mut stream, start);
    // The promise was 64 MiB; the file now has 1 MiB. The body stops short and the
    // connection closes, so the client sees the truncation instead of a wrong length.
    assert!(body.len() < BIG, "got {} bytes", body.len());
    assert_eq!(
        server.get("/big.bin").header("content-length"),
        Some("1048576")
    );
}

#[test]
fn a_file_that_grows_while_streaming_sends_exactly_its_length() {
    let fx = Fixture::new();
    let data = noise(BIG, 5);
    let path = fx.write("big.bin", &data);
    let server = fx.serve(&["-q"]);
    let (mut stream, length, start) = start_download(&server, "/big.bin");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(&noise(8 << 20, 6)).unwrap();
    let body = read_rest(&mut stream, start);
    assert_eq!(body.len(), length);
    assert_eq!(sha256_hex(&body), sha256_hex(&data));
}
