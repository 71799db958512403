//! Directory listings over real HTTP: sort orders, the JSON schema, and tar archives.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, SystemTime};

use sandserve_testkit::{noise, Fixture, CANARY};

fn fixture() -> Fixture {
    let fx = Fixture::new();
    let set = |rel: &str, secs: u64| {
        let file = std::fs::File::options()
            .write(true)
            .open(fx.root().join(rel))
            .unwrap();
        file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
            .unwrap();
    };
    fx.write("medium.txt", vec![b'm'; 2000]);
    fx.write("Big.bin", vec![b'b'; 9000]);
    fx.write("small.txt", "s");
    set("medium.txt", 1_600_000_000);
    set("Big.bin", 1_500_000_000);
    set("small.txt", 1_700_000_000);
    fx.write("zdir/inner.txt", "inner");
    fx.write("adir/deep/leaf.txt", "leaf");
    fx.write(".hidden", "dot");
    fx.write("adir/.env", "SECRET");
    fx.symlink(fx.outside().join("canary.txt"), "escape.txt");
    fx.symlink("small.txt", "alias.txt");
    fx
}

/// Entry names from a listing page, in page order (skipping parent, sort and tar links).
fn page_names(html: &str) -> Vec<String> {
    let body = html.split("<tbody>").nth(1).unwrap_or("");
    body.split("<a href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| *h != "../" && !h.starts_with('?'))
        .map(|h| {
            percent_encoding::percent_decode_str(h)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

#[test]
fn sort_orders_over_http() {
    let fx = fixture();
    let server = fx.serve(&["-q"]);
    let cases: &[(&str, &[&str])] = &[
        (
            "",
            &[
                "adir/",
                "zdir/",
                "alias.txt",
                "Big.bin",
                "medium.txt",
                "small.txt",
            ],
        ),
        (
            "?sort=name&order=asc",
            &[
                "adir/",
                "zdir/",
                "alias.txt",
                "Big.bin",
                "medium.txt",
                "small.txt",
            ],
        ),
        (
            "?sort=name&order=desc",
            &[
                "zdir/",
                "adir/",
                "small.txt",
                "medium.txt",
                "Big.bin",
                "alias.txt",
            ],
        ),
        (
            "?sort=size&order=asc",
            &[
                "adir/",
                "zdir/",
                "alias.txt",
                "small.txt",
                "medium.txt",
                "Big.bin",
            ],
        ),
        (
            "?sort=size&order=desc",
            &[
                "zdir/",
                "adir/",
                "Big.bin",
                "medium.txt",
                "small.txt",
                "alias.txt",
            ],
        ),
    ];
    for (query, want) in cases {
        let names = page_names(&server.get(&format!("/{query}")).text());
        assert_eq!(names, *want, "{query}");
    }
    // Time: the three dated files in mtime order; the link shares small.txt's time.
    let by_time = page_names(&server.get("/?sort=time&order=asc").text());
    let files: Vec<&str> = by_time
        .iter()
        .map(String::as_str)
        .filter(|n| !n.ends_with('/'))
        .collect();
    assert_eq!(&files[..2], ["Big.bin", "medium.txt"]);
    let by_time_desc = page_names(&server.get("/?sort=time&order=desc").text());
    let files: Vec<&str> = by_time_desc
        .iter()
        .map(String::as_str)
        .filter(|n| !n.ends_with('/'))
        .collect();
    assert_eq!(&files[files.len() - 2..], ["medium.txt", "Big.bin"]);
    assert!(
        by_time_desc[0].ends_with('/') && by_time_desc[1].ends_with('/'),
        "dirs first"
    );
}

#[test]
fn json_schema_with_exact_sizes_and_times() {
    let fx = fixture();
    let server = fx.serve(&["-q"]);
    for r in [
        server.get("/?format=json"),
        server.request("GET", "/", &[("Accept", "application/json")]),
    ] {
        assert_eq!(r.status, 200);
        assert_eq!(
            r.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        let doc: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(doc["path"], "/");
        let entries = doc["entries"].as_array().unwrap();
        let names: Vec<&str> = entries
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "adir",
                "zdir",
                "alias.txt",
                "Big.bin",
                "medium.txt",
                "small.txt"
            ]
        );
        for entry in entries {
            let name = entry["name"].as_str().unwrap();
            let meta = std::fs::metadata(fx.root().join(name)).unwrap();
            let kind = if name == "alias.txt" {
                "symlink"
            } else if meta.is_dir() {
                "dir"
            } else {
                "file"
            };
            assert_eq!(entry["type"], kind, "{name}");
            assert_eq!(entry["size"].as_u64(), Some(meta.len()), "{name}");
            let modified = humantime::parse_rfc3339(entry["modified"].as_str().unwrap()).unwrap();
            let secs = modified
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            assert_eq!(secs as i64, meta.mtime(), "{name}");
        }
    }
    let sorted: serde_json::Value =
        serde_json::from_slice(&server.get("/?format=json&sort=size&order=desc").body).unwrap();
    assert_eq!(sorted["entries"][2]["name"], "Big.bin");
    let sub: serde_json::Value =
        serde_json::from_slice(&server.get("/adir/?format=json").body).unwrap();
    assert_eq!(sub["path"], "/adir/");
}

/// (name, bytes) of every member of a tar body.
fn untar(body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = tar::Archive::new(body);
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            (name, data)
        })
        .collect()
}

#[test]
fn tar_download_is_byte_exact_without_escapes_or_dot_files() {
    let fx = fixture();
    let data = noise(3 << 20, 9);
    fx.write("adir/blob.bin", &data);
    let before = fx.tree_hash();
    let server = fx.serve(&["-q"]);
    let r = server.get("/adir/?download=tar");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/x-tar"));
    let disposition = r.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"adir.tar\""),
        "{disposition}"
    );
    let members = untar(&r.body);
    let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["blob.bin", "deep/", "deep/leaf.txt"]);
    assert_eq!(members[0].1, data);
    assert_eq!(members[2].1, b"leaf");

    let root = untar(&server.get("/?download=tar").body);
    let names: Vec<&str> = root.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"alias.txt"),
        "links inside the root are followed"
    );
    assert!(!names.iter().any(|n| n.contains("escape")), "{names:?}");
    assert!(
        !names
            .iter()
            .any(|n| n.split('/').any(|s| s.starts_with('.'))),
        "{names:?}"
    );
    assert!(root.iter().all(|(_, d)| d != CANARY.as_bytes()));

    let hidden = fx.serve(&["-q", "--hidden"]);
    let names: Vec<String> = untar(&hidden.get("/?download=tar").body)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.contains(&".hidden".to_owned()) && names.contains(&"adir/.env".to_owned()));
    assert_eq!(fx.tree_hash(), before);
}

/// A cursor pages any directory, and a page obeys the rules every listing does: dot-files
/// and links out of the root stay out, `--no-listing` hides it, `--auth` guards it. (The
/// 300,000-entry directory is in `big_directory.rs`.)
#[test]
fn a_page_after_a_cursor_keeps_the_listing_rules() {
    let fx = fixture();
    let server = fx.serve(&["-q"]);
    // Directories first (adir, zdir), then alias.txt, Big.bin, medium.txt, small.txt.
    let r = server.get("/?format=json&after=f%2FBig.bin");
    assert_eq!(r.status, 200, "{}", r.text());
    let doc: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let names: Vec<&str> = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["medium.txt", "small.txt"]);
    assert_eq!(
        doc["total"], 6,
        "the whole directory, without .hidden or escape.txt"
    );
    assert_eq!(doc["next"], serde_json::Value::Null);
    let html = server.get("/?after=f%2FBig.bin").text();
    assert!(html.contains("Entries 5&ndash;6 of 6"), "{html}");
    assert!(html.contains(">first page</a>"));
    assert_eq!(server.get("/?after=Big.bin").status, 400);
    assert_eq!(server.get("/?sort=size&after=f%2FBig.bin").status, 400);

    let hidden = fx.serve(&["-q", "--no-listing"]);
    assert_eq!(hidden.get("/?after=f%2FBig.bin").status, 404);
    let guarded = fx.serve(&["-q", "--auth", "me:secret"]);
    assert_eq!(guarded.get("/?format=json&after=f%2FBig.bin").status, 401);
    assert_eq!(guarded.get("/?download=zip").status, 401);
    assert_eq!(guarded.get("/?q=txt").status, 401);
}

/// An unchanged listing revalidates with `304` and no body; a changed one answers `200`
/// with a new tag. The tag is weak: a listing is the same page gzip'd or not.
#[test]
fn an_unchanged_listing_revalidates_with_304() {
    let fx = fixture();
    let server = fx.serve(&["-q"]);
    for target in ["/", "/?format=json", "/zdir/"] {
        let first = server.get(target);
        assert_eq!(first.status, 200, "{target}");
        let tag = first
            .header("etag")
            .expect("a listing has an ETag")
            .to_owned();
        assert!(tag.starts_with("W/\""), "{target}: {tag}");

        let again = server.request("GET", target, &[("If-None-Match", &tag)]);
        assert_eq!(again.status, 304, "{target}");
        assert!(again.body.is_empty(), "{target}");
        assert_eq!(again.header("etag"), Some(tag.as_str()), "{target}");
        assert_eq!(
            again.header("vary"),
            Some("Accept, Accept-Encoding"),
            "{target}"
        );
    }
    let tag = server.get("/zdir/").header("etag").unwrap().to_owned();
    fx.write("zdir/new.txt", "new");
    let changed = server.request("GET", "/zdir/", &[("If-None-Match", &tag)]);
    assert_eq!(changed.status, 200);
    assert!(changed.text().contains("new.txt"));
    assert_ne!(changed.header("etag"), Some(tag.as_str()));
}
