//! The traversal corpus: hundreds of encodings of "climb out of the root", sent raw over a
//! socket. None may return the canary placed just outside the served directory, and each
//! must get a clear 400 or 404 (never a 5xx, a hang or a crash).

use sandserve_testkit::{raw_status, Fixture, CANARY};

/// Spellings of `.` a confused decoder might turn into a dot.
const DOTS: &[&str] = &[
    ".",
    "%2e",
    "%2E",
    "%252e",
    "%c0%ae",
    "%C0%AE",
    "%e0%80%ae",
    "%f0%80%80%ae",
    "%u002e",
    "%%32%65",
    "%25%32%65",
    "%c0.",
];

/// Spellings of a separator.
const SEPARATORS: &[&str] = &[
    "/",
    "%2f",
    "%2F",
    "%5c",
    "%5C",
    "\\",
    "%252f",
    "%c0%af",
    "%e0%80%af",
    "%c1%9c",
    "%u2215",
    "%00/",
];

fn corpus(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    // `..` built from every pair of dot spellings, followed by every separator, 1-3 deep.
    for a in DOTS {
        for b in DOTS {
            for sep in SEPARATORS {
                let up = format!("{a}{b}{sep}");
                out.push(format!("/{up}canary.txt"));
                out.push(format!("/sub/{up}{up}canary.txt"));
            }
        }
    }
    for depth in 1..=4 {
        for sep in SEPARATORS {
            out.push(format!("/{}canary.txt", format!("..{sep}").repeat(depth)));
        }
    }
    let fixed = [
        "/..",
        "/../",
        "/sub/../../canary.txt",
        "/sub/./../.././canary.txt",
        "//../canary.txt",
        "/.../canary.txt",
        "/..;/canary.txt",
        "/%00../canary.txt",
        "/..%00/canary.txt",
        "/canary.txt%00",
        "/..%0d%0a/canary.txt",
        "/%2e%2e%2f%2e%2e%2fcanary.txt",
        "/..%252f..%252fcanary.txt",
        "/escape/canary.txt",
        "/escape-abs",
        "/root-link/tmp",
        "/loop-a",
        "*",
        "../canary.txt",
        "canary.txt",
    ];
    out.extend(fixed.iter().map(|s| s.to_string()));
    // Absolute-form targets (RFC 9112 §3.2.2), with and without our own authority.
    for authority in [
        "127.0.0.1".to_owned(),
        format!("127.0.0.1:{port}"),
        "evil.example".to_owned(),
    ] {
        for path in ["/../canary.txt", "/%2e%2e/canary.txt", "/..%2fcanary.txt"] {
            out.push(format!("http://{authority}{path}"));
        }
    }
    out
}

#[test]
fn no_path_reaches_the_canary() {
    let fx = Fixture::new();
    fx.write("sub/inside.txt", "inside");
    fx.symlink(fx.outside(), "escape");
    fx.symlink(fx.outside().join("canary.txt"), "escape-abs");
    fx.symlink("/", "root-link");
    fx.symlink("loop-b", "loop-a");
    fx.symlink("loop-a", "loop-b");
    let before = fx.tree_hash();
    let mut server = fx.serve(&["-q"]);
    let targets = corpus(server.addr.port());
    assert!(targets.len() >= 150, "corpus has {} paths", targets.len());
    let mut statuses = std::collections::BTreeMap::new();
    for target in &targets {
        let request =
            format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        let raw = server.raw(request.as_bytes());
        let text = String::from_utf8_lossy(&raw);
        assert!(!text.contains(CANARY), "{target:?} leaked the canary");
        let status = raw_status(&raw);
        assert!(
            matches!(status, Some(400 | 404)),
            "{target:?} got {status:?}: {text}"
        );
        *statuses.entry(status).or_insert(0) += 1;
    }
    assert!(server.alive());
    assert_eq!(server.get("/sub/inside.txt").text(), "inside");
    assert_eq!(fx.tree_hash(), before);
    eprintln!(
        "traversal corpus: {} paths, statuses {statuses:?}",
        targets.len()
    );
}
