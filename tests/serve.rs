//! Black-box tests of the foundation: the real host, real HTTP, a real directory.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use sandserve_testkit::{noise, raw_status, sha256_hex, Fixture, CANARY};

/// Every href in a listing page, in order.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn listing_page_shape_and_order() {
    let fx = Fixture::new();
    fx.write("b.txt", "bb");
    fx.write("A.txt", "a");
    fx.write("c.bin", vec![0u8; 2048]);
    fx.mkdir("zdir");
    fx.mkdir("Adir");
    fx.write("sub/inner.txt", "inner");
    let before = fx.tree_hash();
    let server = fx.serve(&["-q"]);

    let root = server.get("/");
    assert_eq!(root.status, 200);
    assert_eq!(
        root.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = root.text();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("<title>Index of /</title>"));
    assert!(html.contains("Index of /"));
    assert!(
        !hrefs(&html).contains(&"../".to_owned()),
        "no parent link at the root"
    );
    let links: Vec<String> = hrefs(&html)
        .into_iter()
        .filter(|h| !h.starts_with('?') && !h.starts_with('/'))
        .collect();
    assert_eq!(links, ["Adir/", "sub/", "zdir/", "A.txt", "b.txt", "c.bin"]);
    assert!(html.contains("2.0 KiB"), "human size for 2048 bytes");

    let sub = server.get("/sub/").text();
    assert!(sub.contains("Index of /sub/"));
    assert!(hrefs(&sub).contains(&"../".to_owned()));
    assert_eq!(fx.tree_hash(), before);
}

#[test]
fn odd_names_link_to_themselves() {
    let fx = Fixture::new();
    let names = [
        "a b.txt",
        "100%.txt",
        "hash#tag.txt",
        "what?.txt",
        "say \"hi\".txt",
        "<b>bold.txt",
        "fish & chips.txt",
        "naïve café.txt",
        "日本語.txt",
        "emoji 🦀.txt",
        "plus+sign.txt",
        "semi;colon.txt",
        "it's.txt",
    ];
    for (i, name) in names.iter().enumerate() {
        fx.write(name, format!("body {i}"));
    }
    fx.write("dir with space/x.txt", "nested");
    let before = fx.tree_hash();
    let server = fx.serve(&["-q"]);
    let html = server.get("/").text();
    assert!(
        !html.contains("<b>bold"),
        "names must be escaped in the page"
    );
    assert!(html.contains("&lt;b&gt;bold.txt"));
    assert!(html.contains("fish &amp; chips.txt"));
    let links = hrefs(&html);
    for (i, name) in names.iter().enumerate() {
        // A link that decodes to exactly the name, with nothing in it that would end or
        // split a path segment.
        let encoded = links
            .iter()
            .find(|l| {
                percent_encoding::percent_decode_str(l)
                    .decode_utf8()
                    .as_deref()
                    == Ok(*name)
            })
            .unwrap_or_else(|| panic!("{name}: no link in {links:?}"))
            .clone();
        assert!(
            !encoded.contains(['#', '?', ' ', '"', '<', '>', '/', '\\']),
            "{name}: {encoded}"
        );
        let got = server.get(&format!("/{encoded}"));
        assert_eq!(got.status, 200, "{name}");
        assert_eq!(got.text(), format!("body {i}"), "{name}");
    }
    assert!(links.contains(&"dir%20with%20space/".to_owned()));
    assert_eq!(server.get("/dir%20with%20space/x.txt").text(), "nested");
    assert_eq!(fx.tree_hash(), before);
}

#[test]
fn directory_without_slash_redirects_keeping_query() {
    let fx = Fixture::new();
    fx.write("docs/readme.txt", "r");
    fx.write("my dir/x", "x");
    let server = fx.serve(&["-q"]);
    let r = server.get("/docs");
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/docs/"));
    let r = server.get("/docs?sort=size&x=1");
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/docs/?sort=size&x=1"));
    assert_eq!(
        server.get("/my%20dir").header("location"),
        Some("/my%20dir/")
    );
}

#[test]
fn index_html_then_index_htm() {
    let fx = Fixture::new();
    fx.write("both/index.html", "html wins");
    fx.write("both/index.htm", "htm loses");
    fx.write("htm/index.htm", "htm only");
    fx.mkdir("none");
    fx.mkdir("fake/index.html");
    let server = fx.serve(&["-q"]);
    let r = server.get("/both/");
    assert_eq!(r.text(), "html wins");
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(server.get("/htm/").text(), "htm only");
    assert!(server.get("/none/").text().contains("Index of /none/"));
    // A directory called index.html is not an index file.
    assert!(server.get("/fake/").text().contains("Index of /fake/"));
}

#[test]
fn content_types() {
    let fx = Fixture::new();
    let cases = [
        ("page.html", "text/html; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("mod.mjs", "text/javascript; charset=utf-8"),
        ("data.json", "application/json; charset=utf-8"),
        ("pic.svg", "image/svg+xml; charset=utf-8"),
        ("notes.txt", "text/plain; charset=utf-8"),
        ("module.wasm", "application/wasm"),
        ("img.png", "image/png"),
        ("LICENSE", "application/octet-stream"),
        ("thing.unknownext", "application/octet-stream"),
    ];
    for (name, _) in cases {
        fx.write(name, name);
    }
    let server = fx.serve(&["-q"]);
    for (name, want) in cases {
        let r = server.get(&format!("/{name}"));
        assert_eq!(r.status, 200, "{name}");
        assert_eq!(r.header("content-type"), Some(want), "{name}");
        assert_eq!(r.text(), name, "exact body of {name}");
    }
}

#[test]
fn large_file_streams_exactly() {
    let fx = Fixture::new();
    let data = noise(100 * 1024 * 1024 + 7, 42);
    let want = sha256_hex(&data);
    fx.write("big.bin", &data);
    drop(data);
    let server = fx.serve(&["-q"]);
    let r = server.get("/big.bin");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("104857607"));
    assert_eq!(r.body.len(), 104_857_607);
    assert_eq!(sha256_hex(&r.body), want);
}

#[test]
fn head_matches_get_without_body() {
    let fx = Fixture::new();
    fx.write("f.txt", "twelve bytes");
    fx.mkdir("d");
    let server = fx.serve(&["-q"]);
    for path in ["/f.txt", "/", "/d", "/missing"] {
        let get = server.get(path);
        let head = server.request("HEAD", path, &[]);
        assert_eq!(head.status, get.status, "{path}");
        assert!(head.body.is_empty(), "{path}");
        for name in [
            "content-type",
            "content-length",
            "last-modified",
            "location",
        ] {
            assert_eq!(head.header(name), get.header(name), "{path} {name}");
        }
    }
}

#[test]
fn last_modified_and_if_modified_since() {
    let fx = Fixture::new();
    fx.write("f.txt", "x");
    let server = fx.serve(&["-q"]);
    let r = server.get("/f.txt");
    let lm = r.header("last-modified").expect("Last-Modified").to_owned();
    assert!(httpdate::parse_http_date(&lm).is_ok(), "{lm}");
    let r = server.request("GET", "/f.txt", &[("If-Modified-Since", &lm)]);
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    let r = server.request(
        "GET",
        "/f.txt",
        &[("If-Modified-Since", "Mon, 01 Jan 1990 00:00:00 GMT")],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "x");
}

#[test]
fn other_methods_get_405() {
    let fx = Fixture::new();
    fx.write("f.txt", "x");
    let before = fx.tree_hash();
    let server = fx.serve(&["-q"]);
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let r = server.request(method, "/f.txt", &[]);
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"), "{method}");
    }
    assert_eq!(fx.tree_hash(), before);
}

#[test]
fn missing_and_hidden_are_404_with_no_host_paths() {
    let fx = Fixture::new();
    fx.write(".env", "SECRET=1");
    fx.write(".git/config", "[core]");
    fx.write("visible.txt", "v");
    let server = fx.serve(&["-q"]);
    for path in [
        "/nope",
        "/nope/",
        "/.env",
        "/.git/config",
        "/.git/",
        "/visible.txt/",
    ] {
        let r = server.get(path);
        assert_eq!(r.status, 404, "{path}");
        let body = r.text();
        assert!(body.contains("404"), "{path}");
        assert!(
            !body.contains(fx.root().to_str().unwrap()),
            "{path} leaks the host path"
        );
        assert!(!body.contains("SECRET"));
    }
    let listing = server.get("/").text();
    assert!(!listing.contains(".env") && !listing.contains(".git"));
}

#[test]
fn traversal_never_reaches_the_canary() {
    let fx = Fixture::new();
    fx.write("a/b/file.txt", "inside");
    let before = fx.tree_hash();
    let server = fx.serve(&["-q"]);
    let targets = [
        "/../canary.txt",
        "/a/../../canary.txt",
        "/a/b/../../../canary.txt",
        "/%2e%2e/canary.txt",
        "/%2E%2E/canary.txt",
        "/.%2e/canary.txt",
        "/%2e./canary.txt",
        "/..%2fcanary.txt",
        "/..%2Fcanary.txt",
        "/a/..%2f..%2fcanary.txt",
        "/..%5ccanary.txt",
        "/..\\canary.txt",
        "/%252e%252e/canary.txt",
        "/%c0%ae%c0%ae/canary.txt",
        "/%e0%80%ae%e0%80%ae/canary.txt",
        "/..%00/canary.txt",
        "/a/b/%2e%2e/%2e%2e/%2e%2e/canary.txt",
        "//../canary.txt",
        "/./../canary.txt",
        "http://127.0.0.1/../canary.txt",
        "../canary.txt",
    ];
    for target in targets {
        let raw = server.raw(
            format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        let text = String::from_utf8_lossy(&raw);
        assert!(!text.contains(CANARY), "{target} leaked the canary");
        let status = raw_status(&raw);
        assert!(
            matches!(status, Some(400 | 404)),
            "{target}: {status:?} {text}"
        );
    }
    assert_eq!(fx.tree_hash(), before);
}

#[test]
fn symlinks_inside_follow_outside_refused() {
    let fx = Fixture::new();
    fx.write("real.txt", "real");
    fx.write("dir/inner.txt", "inner");
    fx.symlink("real.txt", "inside-link.txt");
    fx.symlink("dir", "dir-link");
    fx.symlink(fx.outside().join("canary.txt"), "escape.txt");
    fx.symlink("../canary.txt", "escape-rel.txt");
    fx.symlink(fx.outside(), "escape-dir");
    fx.symlink("/", "slash");
    let before = fx.tree_hash();
    let server = fx.serve(&["-q"]);
    assert_eq!(server.get("/inside-link.txt").text(), "real");
    assert_eq!(server.get("/dir-link/inner.txt").text(), "inner");
    for path in [
        "/escape.txt",
        "/escape-rel.txt",
        "/escape-dir/canary.txt",
        "/escape-dir/",
        "/slash/etc/passwd",
        "/slash/",
    ] {
        let r = server.get(path);
        assert_eq!(r.status, 404, "{path}");
        assert!(!r.text().contains(CANARY));
    }
    let listing = server.get("/").text();
    assert!(listing.contains("inside-link.txt"));
    assert_eq!(fx.tree_hash(), before);
}

#[test]
fn fifo_is_404_and_never_blocks() {
    let fx = Fixture::new();
    fx.fifo("pipe");
    fx.write("after.txt", "still here");
    let server = fx.serve(&["-q"]);
    assert_eq!(server.get("/pipe").status, 404);
    assert!(server.get("/").text().contains("after.txt"));
    assert_eq!(server.get("/after.txt").text(), "still here");
}

#[test]
fn unicode_paths_and_query_strings() {
    let fx = Fixture::new();
    fx.write("café/naïve.txt", "unicode ok");
    let server = fx.serve(&["-q"]);
    let r = server.get("/caf%C3%A9/na%C3%AFve.txt?download=1&x=%2e%2e#frag");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "unicode ok");
    let listing = server.get("/caf%C3%A9/").text();
    assert!(listing.contains("Index of /café/"));
    assert!(listing.contains("na%C3%AFve.txt"));
}

#[test]
fn lists_three_thousand_entries() {
    let fx = Fixture::new();
    for i in 0..3000 {
        fx.write(&format!("many/file-{i:04}.txt"), "");
    }
    let server = fx.serve(&["-q"]);
    let html = server.get("/many/").text();
    let files: Vec<String> = hrefs(&html)
        .into_iter()
        .filter(|h| h.starts_with("file-"))
        .collect();
    assert_eq!(files.len(), 3000);
    assert_eq!(files.first().map(String::as_str), Some("file-0000.txt"));
    assert_eq!(files.last().map(String::as_str), Some("file-2999.txt"));
}

#[test]
fn thirty_two_parallel_downloads() {
    let fx = Fixture::new();
    let data = noise(5 * 1024 * 1024, 7);
    let want = sha256_hex(&data);
    fx.write("five.bin", &data);
    let server = fx.serve(&["-q"]);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..32)
            .map(|_| scope.spawn(|| server.get("/five.bin")))
            .collect();
        for handle in handles {
            let r = handle.join().unwrap();
            assert_eq!(r.status, 200);
            assert_eq!(sha256_hex(&r.body), want);
        }
    });
}

#[test]
fn bad_requests_get_clear_errors() {
    let fx = Fixture::new();
    fx.write("f.txt", "x");
    let mut server = fx.serve(&["-q"]);
    // Each bad request gets a 4xx/5xx of its own kind. An unknown HTTP version may be 400
    // (hyper) or 505 (nginx, the balancer of the lattice tests): both say what is wrong.
    let cases: &[(&[u8], &[u16])] = &[
        (
            b"GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            &[400],
        ),
        (b"GET /%\r HTTP/1.1\r\nHost: x\r\n\r\n", &[400]),
        (b"NONSENSE\r\n\r\n", &[400]),
        (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", &[400, 505]),
        (b"GET /a b c HTTP/1.1\r\nHost: x\r\n\r\n", &[400]),
        (
            b"GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            &[400],
        ),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", &[400]),
    ];
    for (request, want) in cases {
        let raw = server.raw(request);
        let status = raw_status(&raw);
        assert!(
            status.is_some_and(|s| want.contains(&s)),
            "{:?} -> {:?}, want one of {want:?}",
            String::from_utf8_lossy(request),
            String::from_utf8_lossy(&raw)
        );
    }
    assert!(server.alive());
    assert_eq!(server.get("/f.txt").text(), "x");
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let fx = Fixture::new();
    fx.write("a.txt", "AAAA");
    fx.write("b.txt", "BB");
    let server = fx.serve(&["-q"]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    for (path, body) in [("/a.txt", "AAAA"), ("/b.txt", "BB"), ("/a.txt", "AAAA")] {
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while !String::from_utf8_lossy(&buf).ends_with(body) {
            let n = stream.read(&mut chunk).unwrap();
            assert!(n > 0, "connection closed early");
            buf.extend_from_slice(&chunk[..n]);
        }
        let text = String::from_utf8_lossy(&buf);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    }
}
