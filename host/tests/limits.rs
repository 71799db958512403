//! The host's limits, each provoked over a raw socket: oversized request lines and heads,
//! slow-loris clients, a full instance pool, and the bound on open connections.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use sandserve_testkit::{native_host, raw_status, Fixture};

#[test]
fn request_line_over_64k_is_414_and_big_heads_are_431() {
    let fx = Fixture::new();
    fx.write("f.txt", "x");
    let server = fx.serve_on(&native_host!(), &["-q"]);
    let long = format!(
        "GET /{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    assert_eq!(raw_status(&server.raw(long.as_bytes())), Some(414));

    let mut many = String::from("GET /f.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for i in 0..101 {
        many.push_str(&format!("X-H{i}: v\r\n"));
    }
    many.push_str("\r\n");
    assert_eq!(raw_status(&server.raw(many.as_bytes())), Some(431));

    let big = format!(
        "GET /f.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-A: {}\r\nX-B: {}\r\n\r\n",
        "a".repeat(40 * 1024),
        "b".repeat(40 * 1024)
    );
    assert_eq!(raw_status(&server.raw(big.as_bytes())), Some(431));

    let fine = format!(
        "GET /f.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-A: {}\r\n\r\n",
        "a".repeat(8 * 1024)
    );
    assert_eq!(raw_status(&server.raw(fine.as_bytes())), Some(200));
}

#[test]
fn slow_loris_is_dropped_after_the_header_timeout() {
    let fx = Fixture::new();
    fx.write("f.txt", "x");
    let server = fx.serve_on(&native_host!(), &["-q", "--header-timeout", "1s"]);
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    slow.write_all(b"GET /f.txt HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(8), "held for {waited:?}");
    assert!(!String::from_utf8_lossy(&buf).contains("200 OK"));
    // Meanwhile and afterwards, normal clients are served.
    assert_eq!(server.get("/f.txt").text(), "x");
}

#[test]
fn a_full_pool_answers_503_after_the_queue_timeout() {
    let fx = Fixture::new();
    let server = fx.serve_faulty(
        &native_host!(),
        &[
            "--max-concurrent",
            "1",
            "--queue-timeout",
            "200ms",
            "--cpu-limit",
            "3s",
        ],
    );
    std::thread::scope(|scope| {
        let busy = scope.spawn(|| server.get("/loop"));
        std::thread::sleep(Duration::from_millis(300));
        let r = server.get("/ok");
        assert_eq!(r.status, 503);
        assert_eq!(busy.join().unwrap().status, 500);
    });
    assert_eq!(server.get("/ok").status, 200);
}

#[test]
fn connections_past_the_bound_wait_their_turn() {
    let fx = Fixture::new();
    fx.write("f.txt", "x");
    let server = fx.serve_on(&native_host!(), &["-q", "--max-connections", "2"]);
    let idle: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut third = TcpStream::connect(server.addr).unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    third
        .write_all(b"GET /f.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(third.read(&mut buf).is_err(), "served past the bound");
    drop(idle);
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut out = Vec::new();
    third.read_to_end(&mut out).unwrap();
    assert_eq!(raw_status(&out), Some(200));
}

/// `--cpu-limit` counts the guest's own computing: the time it waits in host calls for a
/// slow client is not charged. An upload trickled in over ten times the limit is stored
/// whole, while a guest that only computes is stopped (`faults.rs`).
#[test]
fn a_slow_client_is_not_charged_as_guest_cpu() {
    let fx = Fixture::new();
    let server = fx.serve_on(&native_host!(), &["-q", "--upload", "--cpu-limit", "200ms"]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let piece = [b'x'; 1000];
    let pieces = 100;
    write!(
        stream,
        "PUT /slow.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        piece.len() * pieces
    )
    .unwrap();
    let started = Instant::now();
    for _ in 0..pieces {
        std::thread::sleep(Duration::from_millis(20));
        stream.write_all(&piece).unwrap();
    }
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    assert!(
        started.elapsed() > Duration::from_secs(2),
        "the client was not slow"
    );
    assert_eq!(
        raw_status(&answer),
        Some(201),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let stored = std::fs::read(fx.root().join("slow.txt")).unwrap();
    assert_eq!(stored, [b'x'; 1000].repeat(pieces));
}
