//! WebDAV over real HTTP (`--webdav`, read-only): OPTIONS, PROPFIND at depth 0 and 1 with
//! the listing's rules, and every write refused with `405` while the tree, and the canary
//! beside it, stay byte-identical. Runs under every host: the setting is an environment
//! variable.

use sandserve_testkit::{noise, Fixture, Server, CANARY};

fn fixture() -> Fixture {
    let fx = Fixture::new();
    fx.write("notes.txt", "twelve bytes");
    fx.write("café menu.txt", "menu");
    fx.write("docs/big.bin", noise(300_000, 7));
    fx.write(".secret", "hidden");
    fx.write("docs/.env", "TOKEN=1");
    fx.symlink(fx.outside().join("canary.txt"), "escape.txt");
    fx
}

fn propfind(server: &Server, path: &str, depth: &str, body: &str) -> (u16, String) {
    let r = server.send("PROPFIND", path, &[("Depth", depth)], body.as_bytes());
    (r.status, r.text())
}

/// The `href`s of a multistatus, in order.
fn hrefs(xml: &str) -> Vec<String> {
    xml.split("<D:href>")
        .skip(1)
        .filter_map(|s| s.split("</D:href>").next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn options_and_propfind_describe_the_tree_as_a_listing_would() {
    let fx = fixture();
    let server = fx.serve(&["--webdav"]);
    let options = server.request("OPTIONS", "/", &[]);
    assert_eq!(options.status, 200);
    assert_eq!(options.header("dav"), Some("1"));
    assert_eq!(
        options.header("allow"),
        Some("GET, HEAD, OPTIONS, PROPFIND")
    );

    let (status, xml) = propfind(&server, "/", "1", "");
    assert_eq!(status, 207, "{xml}");
    let mut found = hrefs(&xml);
    found.sort();
    assert_eq!(
        found,
        ["/", "/caf%C3%A9%20menu.txt", "/docs/", "/notes.txt"]
    );
    assert!(!xml.contains("secret") && !xml.contains("escape") && !xml.contains(CANARY));

    // rclone asks for a directory without its slash: the answer names the collection.
    let (status, xml) = propfind(&server, "/docs", "1", "");
    assert_eq!(status, 207);
    assert_eq!(hrefs(&xml), ["/docs/", "/docs/big.bin"]);
    assert!(xml.contains("<D:getcontentlength>300000</D:getcontentlength>"));
    // The same ETag a GET gives.
    let get = server.get("/docs/big.bin");
    let etag = get.header("etag").unwrap();
    assert!(
        xml.contains(&format!("<D:getetag>{etag}</D:getetag>")),
        "{xml}"
    );

    let asked = r#"<?xml version="1.0" encoding="utf-8"?>
        <D:propfind xmlns:D="DAV:"><D:prop><D:getcontentlength/><D:resourcetype/>
        <D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>"#;
    let (status, xml) = propfind(&server, "/notes.txt", "0", asked);
    assert_eq!(status, 207);
    assert!(xml.contains("<D:getcontentlength>12</D:getcontentlength>"));
    assert!(xml.contains(
        "<D:quota-available-bytes/><D:quota-used-bytes/></D:prop>\
         <D:status>HTTP/1.1 404 Not Found</D:status>"
    ));
    // Reads go through GET, with ranges, as rclone mount does.
    let part = server.request("GET", "/docs/big.bin", &[("Range", "bytes=1000-1999")]);
    assert_eq!(part.status, 206);
    assert_eq!(part.body, noise(300_000, 7)[1000..2000]);
}

#[test]
fn refusals_are_statuses_not_guesses() {
    let fx = fixture();
    let server = fx.serve(&["--webdav"]);
    let (status, xml) = propfind(&server, "/", "infinity", "");
    assert_eq!(status, 403);
    assert!(xml.contains("propfind-finite-depth"));
    let missing_depth = server.send("PROPFIND", "/", &[], b"");
    assert_eq!(missing_depth.status, 403, "no Depth means infinity");
    assert_eq!(propfind(&server, "/", "2", "").0, 400);
    let undeclared = r#"<D:propfind xmlns:D="DAV:"><D:prop><bogus:x/></D:prop></D:propfind>"#;
    assert_eq!(propfind(&server, "/", "0", undeclared).0, 400);
    assert_eq!(propfind(&server, "/", "0", "<propfind").0, 400);
    let doctype = r#"<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><propfind xmlns="DAV:"><prop>&e;</prop></propfind>"#;
    assert_eq!(propfind(&server, "/", "0", doctype).0, 400);
    for hidden in [
        "/.secret",
        "/docs/.env",
        "/escape.txt",
        "/%2e%2e/canary.txt",
    ] {
        let (status, xml) = propfind(&server, hidden, "0", "");
        assert_eq!(status, 404, "{hidden}: {xml}");
    }

    let no_listing = fx.serve(&["--webdav", "--no-listing"]);
    assert_eq!(propfind(&no_listing, "/docs/", "1", "").0, 404);
    assert_eq!(propfind(&no_listing, "/notes.txt", "0", "").0, 207);
    let guarded = fx.serve(&["--webdav", "--auth", "me:secret"]);
    assert_eq!(propfind(&guarded, "/", "1", "").0, 401);
}

#[test]
fn read_only_webdav_refuses_every_write_and_changes_nothing() {
    let fx = fixture();
    let before = fx.tree_hash();
    let server = fx.serve(&["--webdav"]);
    type Write<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let writes: &[Write] = &[
        ("PUT", "/notes.txt", &[]),
        ("PUT", "/new.txt", &[]),
        ("DELETE", "/notes.txt", &[]),
        ("MKCOL", "/newdir/", &[]),
        ("MOVE", "/notes.txt", &[("Destination", "/moved.txt")]),
        ("COPY", "/notes.txt", &[("Destination", "/copied.txt")]),
        ("MOVE", "/notes.txt", &[("Destination", "/../outside.txt")]),
        (
            "COPY",
            "/docs/",
            &[("Destination", "http://elsewhere.example/x/")],
        ),
        ("PROPPATCH", "/notes.txt", &[]),
        ("LOCK", "/notes.txt", &[]),
        ("UNLOCK", "/notes.txt", &[]),
    ];
    for (method, path, headers) in writes {
        let r = server.send(method, path, headers, b"<x/>");
        assert_eq!(r.status, 405, "{method} {path}");
        assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS, PROPFIND"));
    }
    assert_eq!(fx.tree_hash(), before);
}

#[test]
fn without_webdav_nothing_changes() {
    let fx = fixture();
    let server = fx.serve(&[]);
    for method in ["PROPFIND", "OPTIONS", "MKCOL"] {
        let r = server.send(method, "/", &[("Depth", "1")], b"");
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
        assert!(r.header("dav").is_none());
    }
}

#[test]
fn with_upload_mkcol_and_put_create_and_replace_nothing() {
    let fx = fixture();
    let server = fx.serve(&["--webdav", "--upload"]);
    let options = server.request("OPTIONS", "/", &[]);
    assert_eq!(
        options.header("allow"),
        Some("GET, HEAD, POST, OPTIONS, PROPFIND, MKCOL")
    );
    assert_eq!(server.send("MKCOL", "/newdir/", &[], b"").status, 201);
    assert!(fx.root().join("newdir").is_dir());
    assert_eq!(server.send("MKCOL", "/newdir/", &[], b"").status, 405);
    assert_eq!(server.send("MKCOL", "/no/such/", &[], b"").status, 409);
    assert_eq!(server.send("MKCOL", "/.hidden/", &[], b"").status, 403);
    assert!(!fx.root().join("no").exists() && !fx.root().join(".hidden").exists());

    assert_eq!(server.send("PUT", "/newdir/a.txt", &[], b"abc").status, 201);
    assert_eq!(
        std::fs::read(fx.root().join("newdir/a.txt")).unwrap(),
        b"abc"
    );
    // RFC 4918 §9.7.1: no parent collection, no file (and no parent made for it).
    assert_eq!(
        server.send("PUT", "/nothere/b.txt", &[], b"abc").status,
        409
    );
    assert!(!fx.root().join("nothere").exists());
    // Create only: an existing file stays as it was.
    assert_eq!(
        server.send("PUT", "/notes.txt", &[], b"changed").status,
        409
    );
    assert_eq!(
        std::fs::read(fx.root().join("notes.txt")).unwrap(),
        b"twelve bytes"
    );
    assert_eq!(server.send("DELETE", "/notes.txt", &[], b"").status, 405);

    let (status, xml) = propfind(&server, "/newdir/", "1", "");
    assert_eq!(status, 207);
    assert_eq!(hrefs(&xml), ["/newdir/", "/newdir/a.txt"]);
    assert_eq!(
        std::fs::read_to_string(fx.outside().join("canary.txt")).unwrap(),
        CANARY
    );
}

#[test]
fn with_modify_copy_and_move_stay_inside_the_root() {
    let fx = fixture();
    let server = fx.serve(&["--webdav", "--modify"]);
    let host = server.url("").trim_start_matches("http://").to_owned();
    let outside = fx.outside();
    let before_outside: Vec<_> = std::fs::read_dir(&outside)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    for dest in [
        "/../escaped.txt".to_owned(),
        "/%2e%2e/escaped.txt".to_owned(),
        "/docs/%2e%2e/%2e%2e/escaped.txt".to_owned(),
        format!("http://{host}/../escaped.txt"),
        "http://elsewhere.example/escaped.txt".to_owned(),
        "/.secret-copy".to_owned(),
    ] {
        for method in ["COPY", "MOVE"] {
            let r = server.send(method, "/notes.txt", &[("Destination", &dest)], b"");
            assert!(
                [400, 403].contains(&r.status),
                "{method} to {dest}: {}",
                r.status
            );
        }
    }
    let after_outside: Vec<_> = std::fs::read_dir(&outside)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before_outside, after_outside, "nothing new beside the root");
    assert_eq!(
        std::fs::read_to_string(outside.join("canary.txt")).unwrap(),
        CANARY
    );

    let copy = server.send(
        "COPY",
        "/docs/",
        &[("Destination", &format!("http://{host}/copy/"))],
        b"",
    );
    assert_eq!(copy.status, 201, "{}", copy.text());
    assert_eq!(
        std::fs::read(fx.root().join("copy/big.bin")).unwrap(),
        noise(300_000, 7)
    );
    assert!(
        !fx.root().join("copy/.env").exists(),
        "a dot-file is not the client's to copy"
    );
    let moved = server.send(
        "MOVE",
        "/notes.txt",
        &[("Destination", "/copy/notes.txt")],
        b"",
    );
    assert_eq!(moved.status, 201);
    assert!(!fx.root().join("notes.txt").exists());
    assert_eq!(
        std::fs::read(fx.root().join("copy/notes.txt")).unwrap(),
        b"twelve bytes"
    );
}

/// A replacing PUT that breaks off leaves the old file whole and no temporary file beside it.
#[test]
fn an_aborted_replacing_put_leaves_the_old_file_whole() {
    use std::io::Write;
    let fx = fixture();
    let before = fx.tree_hash();
    let server = fx.serve(&["--modify"]);
    let mut stream = std::net::TcpStream::connect(&server.addr).unwrap();
    stream
        .write_all(b"PUT /notes.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        .unwrap();
    stream.write_all(&noise(50_000, 9)).unwrap();
    drop(stream);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while fx.tree_hash() != before && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        fx.tree_hash(),
        before,
        "old bytes, and no .sandserve-upload-N"
    );
    // A whole one replaces it, and says so with 204.
    let r = server.send("PUT", "/notes.txt", &[], b"replaced");
    assert_eq!(r.status, 204);
    assert_eq!(
        std::fs::read(fx.root().join("notes.txt")).unwrap(),
        b"replaced"
    );
}
