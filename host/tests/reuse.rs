//! Warm instance reuse keeps isolation provable. The test guest (`tests/guests/faulty`)
//! counts the requests its instance has seen in a `static` and returns the count in
//! `x-count`, so a count of 1 means a fresh instance. Over one keep-alive connection (one
//! worker, one idle set): `--reuse N` serves N requests per instance, and any request that
//! traps, runs out of CPU time, exhausts or grows memory past the bound, or leaks a resource
//! is followed by a fresh instance that succeeds. A client that leaves mid-body gives its
//! slot back, and a server that goes quiet lets its idle instances go.

use std::time::Duration;

use sandserve_testkit::{native_host, Connection, Fixture, Response};

/// The native host serving `fx` quietly with the test guest, and `flags`.
/// The guest's request count for the instance that answered (`x-count`).
fn count_of(reply: &Response) -> Option<u32> {
    reply.header("x-count").map(|count| count.parse().unwrap())
}

/// The count of a successful `GET /count` on `conn`.
fn count(conn: &mut Connection) -> u32 {
    let reply = conn.get("/count");
    assert_eq!((reply.status, reply.body.as_slice()), (200, &b"ok"[..]));
    count_of(&reply).expect("x-count")
}

#[test]
fn reuse_5_serves_five_requests_per_instance() {
    let fx = Fixture::new();
    let server = fx.serve_faulty(&native_host!(), &["--reuse", "5"]);
    let mut conn = server.connection();
    let counts: Vec<u32> = (0..12).map(|_| count(&mut conn)).collect();
    assert_eq!(counts, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2]);
}

#[test]
fn reuse_1_gives_every_request_a_fresh_instance() {
    let fx = Fixture::new();
    let server = fx.serve_faulty(&native_host!(), &["--reuse", "1"]);
    let mut conn = server.connection();
    let counts: Vec<u32> = (0..6).map(|_| count(&mut conn)).collect();
    assert_eq!(counts, [1; 6]);
}

#[test]
fn the_default_reuses_instances() {
    let fx = Fixture::new();
    let server = fx.serve_faulty(&native_host!(), &[]);
    let mut conn = server.connection();
    let counts: Vec<u32> = (0..4).map(|_| count(&mut conn)).collect();
    assert_eq!(counts, [1, 2, 3, 4]);
}

#[test]
fn a_fault_is_followed_by_a_fresh_instance_that_succeeds() {
    let fx = Fixture::new();
    let server = fx.serve_faulty(&native_host!(), &["--reuse", "100", "--cpu-limit", "300ms"]);
    let mut conn = server.connection();
    for fault in ["/trap", "/loop", "/alloc"] {
        // Warm first, so that a fresh instance afterwards means the faulty one was dropped.
        count(&mut conn);
        assert!(count(&mut conn) >= 2, "not warm before {fault}");
        let reply = conn.get(fault);
        assert_eq!(reply.status, 500, "{fault}");
        assert_eq!(count(&mut conn), 1, "after {fault}");
        assert_eq!(count(&mut conn), 2, "the idle set refills after {fault}");
    }
}

#[test]
fn grown_memory_or_a_leaked_resource_retires_the_instance() {
    let fx = Fixture::new();
    let server = fx.serve_faulty(&native_host!(), &["--reuse", "100"]);
    let mut conn = server.connection();
    count(&mut conn);
    // 24 MiB is past the reuse bound: answered, then dropped.
    let grown = conn.get("/grow");
    assert_eq!((grown.status, count_of(&grown)), (200, Some(2)));
    assert_eq!(count(&mut conn), 1, "after /grow");
    let leaked = conn.get("/leak");
    assert_eq!((leaked.status, count_of(&leaked)), (200, Some(2)));
    assert_eq!(count(&mut conn), 1, "after /leak");
    assert_eq!(count(&mut conn), 2);
}

#[test]
fn head_and_chunked_responses_keep_their_instance() {
    let fx = Fixture::new();
    let server = fx.serve_faulty(&native_host!(), &["--reuse", "100"]);
    let mut conn = server.connection();
    assert_eq!(count(&mut conn), 1);
    let head = conn.request("HEAD", "/count");
    assert_eq!((head.status, count_of(&head)), (200, Some(2)));
    let big = conn.get("/big");
    assert_eq!((big.status, count_of(&big)), (200, Some(3)));
    assert_eq!(big.body.len(), 64 << 20);
    assert_eq!(count(&mut conn), 4);
}

#[test]
fn a_client_leaving_mid_body_gives_its_slot_back() {
    let fx = Fixture::new();
    let server = fx.serve_faulty(
        &native_host!(),
        &["--reuse", "100", "--max-concurrent", "1"],
    );
    for _ in 0..3 {
        let mut leaver = server.connection();
        leaver.send("GET", "/big");
        let mut some = [0u8; 64 << 10];
        leaver.read_exact(&mut some);
        drop(leaver);
        // With the only slot stuck this would wait for the queue timeout and get 503.
        let mut conn = server.connection();
        let first = conn.get("/count");
        assert_eq!(first.status, 200);
        assert_eq!(
            count(&mut conn),
            count_of(&first).unwrap() + 1,
            "idle set refills"
        );
    }
}

#[test]
fn a_quiet_server_drops_its_idle_instances() {
    let fx = Fixture::new();
    let server = fx.serve_faulty(&native_host!(), &["--reuse", "100"]);
    let mut conn = server.connection();
    assert_eq!(count(&mut conn), 1);
    assert_eq!(count(&mut conn), 2);
    // Quiet for half a second (two sweeps a quarter second apart): the idle set is emptied.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(count(&mut conn), 1);
}
