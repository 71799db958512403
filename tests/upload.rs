//! Uploads against the real host (`--upload`): `PUT` of new files and `multipart/form-data`
//! forms. Every test checks the bytes on disk, not only the status: what was stored is
//! exactly what was sent, and whatever was refused or cut off left the tree as it was (no
//! file, no temporary file, the canary beside the root untouched).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use sandserve_testkit::{noise, raw_status, skip_unless, Fixture, Server};

/// Every name under `dir`, relative, sorted; directories end in `/`.
fn names(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() && !path.is_symlink() {
                out.push(format!("{rel}/"));
                stack.push(path);
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

/// Sends a raw request and returns the status of the answer.
fn raw(server: &Server, request: &[u8]) -> Option<u16> {
    raw_status(&server.raw(request))
}

/// Waits (up to 10 s) until the tree under the fixture is `want` again: a request that was
/// cut off ends a moment after its client leaves.
fn settles_to(fx: &Fixture, want: &std::collections::BTreeMap<std::path::PathBuf, String>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while &fx.tree_hash() != want && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        &fx.tree_hash(),
        want,
        "left behind: {:?}",
        names(&fx.root())
    );
}

#[test]
fn put_like_curl_t_stores_the_exact_bytes() {
    let curl = skip_unless!(curl);
    let fx = Fixture::new();
    let server = fx.serve(&["-q", "--upload"]);
    let source = tempfile::tempdir().unwrap();
    let file = source.path().join("photo one.jpg");
    let bytes = noise(3 << 20, 7);
    std::fs::write(&file, &bytes).unwrap();
    // Over 1 MiB, curl asks `Expect: 100-continue` first: the host must let the body in.
    let out = Command::new(curl)
        .args(["-sS", "-i", "-T"])
        .arg(&file)
        .arg(server.url("/inbox/"))
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&out.stdout);
    assert!(head.contains("HTTP/1.1 201 Created"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("location: /inbox/photo%20one.jpg"),
        "{head}"
    );
    assert!(
        head.contains("stored /inbox/photo one.jpg (3145728 bytes)"),
        "{head}"
    );
    assert_eq!(
        std::fs::read(fx.root().join("inbox/photo one.jpg")).unwrap(),
        bytes
    );
    assert_eq!(names(&fx.root()), ["inbox/", "inbox/photo one.jpg"]);
    // And it serves back what was stored.
    assert_eq!(server.get("/inbox/photo%20one.jpg").body, bytes);
}

#[test]
fn put_makes_nested_directories() {
    let fx = Fixture::new();
    fx.write("a/keep.txt", "keep");
    let server = fx.serve(&["-q", "--upload"]);
    let reply = server.send("PUT", "/a/b/c/d/new.txt", &[], b"deep");
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.header("location"), Some("/a/b/c/d/new.txt"));
    assert_eq!(
        std::fs::read(fx.root().join("a/b/c/d/new.txt")).unwrap(),
        b"deep"
    );
    assert_eq!(
        names(&fx.root()),
        [
            "a/",
            "a/b/",
            "a/b/c/",
            "a/b/c/d/",
            "a/b/c/d/new.txt",
            "a/keep.txt"
        ]
    );
}

#[test]
fn a_taken_name_is_409_and_unchanged() {
    let fx = Fixture::new();
    fx.write("taken.txt", "original");
    fx.mkdir("dir");
    fx.write("file", "a file, not a directory");
    fx.symlink("nowhere", "dangling");
    let before = fx.tree_hash();
    let server = fx.serve(&["-q", "--upload"]);
    for path in ["/taken.txt", "/dir", "/file/under.txt", "/dangling"] {
        let reply = server.send("PUT", path, &[], b"replacement");
        assert_eq!(reply.status, 409, "{path}");
    }
    assert_eq!(fx.tree_hash(), before);
    assert_eq!(
        std::fs::read(fx.root().join("taken.txt")).unwrap(),
        b"original"
    );
}

#[test]
fn dot_names_are_refused_unless_hidden() {
    let fx = Fixture::new();
    let before = fx.tree_hash();
    let server = fx.serve(&["-q", "--upload"]);
    for path in [
        "/.env",
        "/.git/config",
        "/site/.well-known/x",
        "/a/.b/c.txt",
    ] {
        let reply = server.send("PUT", path, &[], b"secret");
        assert_eq!(reply.status, 403, "{path}");
    }
    assert_eq!(fx.tree_hash(), before);
    drop(server);
    let server = fx.serve(&["-q", "--upload", "--hidden"]);
    assert_eq!(server.send("PUT", "/.env", &[], b"x").status, 201);
    assert_eq!(std::fs::read(fx.root().join(".env")).unwrap(), b"x");
}

#[test]
fn traversal_writes_nothing_anywhere() {
    let fx = Fixture::new();
    std::fs::create_dir(fx.outside().join("beside")).unwrap();
    fx.symlink(fx.outside(), "out");
    fx.symlink(fx.outside().join("beside"), "beside-link");
    let before = fx.tree_hash();
    let server = fx.serve(&["-q", "--upload"]);
    let targets = [
        "/../evil.txt",
        "/%2e%2e/evil.txt",
        "/a/../../evil.txt",
        "/a/%2e%2e/%2e%2e/evil.txt",
        "/..%2fevil.txt",
        "/..%5cevil.txt",
        "/out/evil.txt",
        "/out/beside/evil.txt",
        "/beside-link/evil.txt",
        "/out/canary.txt",
    ];
    for target in targets {
        let request = format!(
            "PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nevil"
        );
        let status = raw(&server, request.as_bytes());
        assert!(
            matches!(status, Some(400 | 403 | 404)),
            "{target}: {status:?}"
        );
    }
    let boundary = "b0undary";
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"evil.txt\"\r\n\r\nevil\r\n--{boundary}--\r\n"
    );
    for dir in ["/out/", "/beside-link/", "/../"] {
        let request = format!(
            "POST {dir} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        );
        let status = raw(&server, request.as_bytes());
        assert!(matches!(status, Some(400 | 403 | 404)), "{dir}: {status:?}");
    }
    assert_eq!(
        fx.tree_hash(),
        before,
        "nothing written, inside or beside the root"
    );
}

#[test]
fn over_max_upload_is_413_by_length_and_by_a_growing_chunked_body() {
    let fx = Fixture::new();
    let before = fx.tree_hash();
    let server = fx.serve(&["-q", "--upload", "--max-upload", "64k"]);
    // Declared too large: answered before the body is sent.
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"PUT /big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n")
        .unwrap();
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 413");
    drop(stream);
    // Chunked, growing past the limit: 16 KiB chunks, 80 KiB in all.
    let mut request =
        b"PUT /sub/big.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for i in 0..5 {
        request.extend_from_slice(b"4000\r\n");
        request.extend_from_slice(&noise(0x4000, i));
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(raw(&server, &request), Some(413));
    settles_to(&fx, &before);
    // The limit itself is fine.
    let exact = noise(64 << 10, 9);
    assert_eq!(server.send("PUT", "/exact.bin", &[], &exact).status, 201);
    assert_eq!(std::fs::read(fx.root().join("exact.bin")).unwrap(), exact);
}

#[test]
fn a_client_leaving_mid_body_leaves_no_file() {
    let fx = Fixture::new();
    fx.write("keep.txt", "keep");
    let before = fx.tree_hash();
    let server = fx.serve(&["-q", "--upload"]);
    for (path, head) in [
        ("/cut.bin", "Content-Length: 10000000".to_owned()),
        ("/new/dir/cut.bin", "Transfer-Encoding: chunked".to_owned()),
    ] {
        let mut stream = TcpStream::connect(server.addr).unwrap();
        let request = format!("PUT {path} HTTP/1.1\r\nHost: x\r\n{head}\r\n\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let part = noise(200_000, 3);
        if head.contains("chunked") {
            stream
                .write_all(format!("{:x}\r\n", part.len()).as_bytes())
                .unwrap();
        }
        stream.write_all(&part).unwrap();
        // Let the server start writing the temporary file, then go away.
        std::thread::sleep(Duration::from_millis(300));
        drop(stream);
        settles_to(&fx, &before);
    }
    // The server is still fine.
    assert_eq!(server.send("PUT", "/after.txt", &[], b"ok").status, 201);
}

#[test]
fn two_puts_of_one_new_name_store_exactly_one_body() {
    let fx = Fixture::new();
    let server = Arc::new(fx.serve(&["-q", "--upload"]));
    let bodies = [noise(4 << 20, 1), noise(4 << 20, 2)];
    let start = Arc::new(Barrier::new(2));
    let threads: Vec<_> = bodies
        .iter()
        .cloned()
        .map(|body| {
            let (server, start) = (server.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                server.send("PUT", "/same.bin", &[], &body).status
            })
        })
        .collect();
    let mut statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409]);
    let stored = std::fs::read(fx.root().join("same.bin")).unwrap();
    assert!(
        stored == bodies[0] || stored == bodies[1],
        "one body, whole"
    );
    assert_eq!(names(&fx.root()), ["same.bin"], "no temporary file left");
}

/// A `multipart/form-data` body of `(field, file name, bytes)` parts.
fn form(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (field, file, bytes) in parts {
        let disposition = match file {
            Some(file) => format!("form-data; name=\"{field}\"; filename=\"{file}\""),
            None => format!("form-data; name=\"{field}\""),
        };
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

#[test]
fn a_multipart_form_with_two_files() {
    let fx = Fixture::new();
    fx.mkdir("docs");
    let server = fx.serve(&["-q", "--upload"]);
    let boundary = "----sandserveBoundary4f2a";
    let one = noise(300_000, 11);
    let two = b"second file\r\n--not the boundary\r\n".to_vec();
    let body = form(
        boundary,
        &[
            ("comment", None, b"a plain field"),
            ("file", Some("one.bin"), &one),
            ("file", Some("two words.txt"), &two),
        ],
    );
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let reply = server.send("POST", "/docs/", &[("Content-Type", &content_type)], &body);
    assert_eq!(reply.status, 303, "{}", reply.text());
    assert_eq!(reply.header("location"), Some("/docs/"));
    assert_eq!(std::fs::read(fx.root().join("docs/one.bin")).unwrap(), one);
    assert_eq!(
        std::fs::read(fx.root().join("docs/two words.txt")).unwrap(),
        two
    );
    assert_eq!(
        names(&fx.root()),
        ["docs/", "docs/one.bin", "docs/two words.txt"]
    );

    // A script asking for JSON gets the list; a second name that is bad keeps nothing.
    let body = form(boundary, &[("file", Some("three.txt"), b"3")]);
    let headers = [
        ("Content-Type", content_type.as_str()),
        ("Accept", "application/json"),
    ];
    let reply = server.send("POST", "/docs/", &headers, &body);
    assert_eq!(reply.status, 201);
    let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"stored": [{"name": "three.txt", "path": "/docs/three.txt", "size": 1}]})
    );
    let body = form(
        boundary,
        &[
            ("file", Some("four.txt"), b"4"),
            ("file", Some("../five.txt"), b"5"),
        ],
    );
    let before = fx.tree_hash();
    let reply = server.send("POST", "/docs/", &[("Content-Type", &content_type)], &body);
    assert_eq!(reply.status, 400);
    assert_eq!(fx.tree_hash(), before);
}

#[test]
fn without_upload_every_write_is_405_and_nothing_changes() {
    let fx = Fixture::new();
    fx.write("a.txt", "a");
    fx.mkdir("d");
    let before = fx.tree_hash();
    let server = fx.serve(&["-q"]);
    let boundary = "xyz";
    let body = form(boundary, &[("file", Some("new.txt"), b"new")]);
    let content_type = format!("multipart/form-data; boundary={boundary}");
    for method in ["PUT", "POST", "DELETE", "PATCH", "MKCOL", "MOVE", "COPY"] {
        for path in ["/a.txt", "/new.txt", "/d/", "/d/new.txt"] {
            let reply = server.send(method, path, &[("Content-Type", &content_type)], &body);
            assert_eq!(reply.status, 405, "{method} {path}");
            assert_eq!(reply.header("allow"), Some("GET, HEAD"), "{method} {path}");
        }
    }
    assert!(!server.get("/").text().contains("<form method=\"post\""));
    assert_eq!(fx.tree_hash(), before);
}

#[test]
fn the_listing_offers_the_form_and_allow_names_the_writes() {
    let fx = Fixture::new();
    fx.mkdir("d");
    let server = fx.serve(&["-q", "--upload"]);
    let html = server.get("/d/").text();
    assert!(
        html.contains("<form method=\"post\" action=\"./\" enctype=\"multipart/form-data\""),
        "{html}"
    );
    assert!(html.contains("<input type=\"file\" name=\"file\" multiple"));
    assert_eq!(
        server.send("DELETE", "/d/", &[], b"").header("allow"),
        Some("GET, HEAD, POST")
    );
    assert_eq!(
        server.send("DELETE", "/d/x", &[], b"").header("allow"),
        Some("GET, HEAD, PUT")
    );
    assert_eq!(names(&fx.root()), ["d/"]);
}

#[test]
fn a_stalled_body_is_given_up_after_the_idle_timeout() {
    let fx = Fixture::new();
    let before = fx.tree_hash();
    let server = fx.serve(&["-q", "--upload"]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .write_all(
            b"PUT /d/stalled.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nfirst bytes",
        )
        .unwrap();
    // Then nothing: after 30 s of silence the server answers and removes what it wrote.
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_secs(90)))
        .unwrap();
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 408");
    assert!(
        started.elapsed() >= Duration::from_secs(29),
        "{:?}",
        started.elapsed()
    );
    settles_to(&fx, &before);
}

#[test]
fn with_auth_only_users_upload() {
    let fx = Fixture::new();
    let before = fx.tree_hash();
    let server = fx.serve(&["-q", "--upload", "--auth", "ann:secret"]);
    let reply = server.send("PUT", "/x.txt", &[], b"anonymous");
    assert_eq!(reply.status, 401);
    let wrong = [("Authorization", "Basic YW5uOndyb25n")]; // ann:wrong
    assert_eq!(server.send("PUT", "/x.txt", &wrong, b"guess").status, 401);
    assert_eq!(fx.tree_hash(), before);
    let ann = [("Authorization", "Basic YW5uOnNlY3JldA==")]; // ann:secret
    assert_eq!(server.send("PUT", "/x.txt", &ann, b"from ann").status, 201);
    assert_eq!(std::fs::read(fx.root().join("x.txt")).unwrap(), b"from ann");
}

/// A client that sends a whole PUT and leaves before the answer (litmus's `expect100` does)
/// leaves the upload stored whole or not at all, and no temporary file behind: the host lets
/// the guest finish rather than cancel it mid-store.
#[test]
fn a_client_that_leaves_before_the_answer_leaves_no_temporary_file() {
    let fx = Fixture::new();
    let server = fx.serve(&["--upload"]);
    let body = noise(100_000, 3);
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    let head = format!(
        "PUT /left.bin HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body).unwrap();
    drop(stream);
    // Our host and `wasmtime serve` let the guest finish and store the file; jco hands the
    // guest a broken body and it stores nothing. Either is whole; a temporary never stays.
    let deadline = Instant::now() + Duration::from_secs(5);
    while names(&fx.root()) != ["left.bin"] && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = names(&fx.root());
    assert!(
        left.is_empty() || left == ["left.bin"],
        "no .sandserve-upload-N beside it: {left:?}"
    );
    if !left.is_empty() {
        assert_eq!(std::fs::read(fx.root().join("left.bin")).unwrap(), body);
    }
}
