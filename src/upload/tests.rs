//! Uploads through the router, over an in-memory tree that can be written.

use http::header::{ALLOW, CONTENT_TYPE, LOCATION};
use http::{Method, StatusCode};

use super::testing::{Chunks, MemStore};
use crate::config::Config;
use crate::header::{HeaderMap, HeaderValue};
use crate::memfs::MemFs;
use crate::reply::{Body, Reply};
use crate::request::BodyError;
use crate::request::{BodyStream, Request, RequestBody};
use crate::router::{route, streams_body};

fn config(vars: &[(&str, &str)]) -> Config {
    let mut all = vec![("SANDSERVE_UPLOAD", "1")];
    all.extend_from_slice(vars);
    Config::from_vars(all.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap()
}

fn request(
    method: Method,
    target: &str,
    headers: &[(&'static str, &str)],
    body: Chunks,
) -> Request {
    let mut map = HeaderMap::default();
    for (name, value) in headers {
        map.append(*name, HeaderValue::from_str(value).unwrap());
    }
    let mut request = Request::new(method, target, map);
    request.body = RequestBody::Stream(BodyStream::new(body));
    request
}

fn put_with(fs: &MemStore, config: &Config, target: &str, body: Chunks, len: Option<u64>) -> Reply {
    let len = len.map(|n| n.to_string());
    let headers: Vec<(&'static str, &str)> =
        len.iter().map(|n| ("content-length", n.as_str())).collect();
    route(&request(Method::PUT, target, &headers, body), fs, config)
}

fn put(fs: &MemStore, target: &str, bytes: &[u8]) -> Reply {
    put_with(
        fs,
        &config(&[]),
        target,
        Chunks::of(bytes, 7),
        Some(bytes.len() as u64),
    )
}

fn header(reply: &Reply, name: http::header::HeaderName) -> &str {
    reply.headers.get(name).unwrap().to_str().unwrap()
}

fn text(reply: &Reply) -> &str {
    match &reply.body {
        Body::Text(text) => text,
        other => panic!("not text: {other:?}"),
    }
}

#[test]
fn put_stores_a_new_file_and_nothing_else() {
    let fs = MemStore::new().file("old.txt", b"old");
    let reply = put(&fs, "/new%20file.txt", b"hello upload");
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(header(&reply, LOCATION), "/new%20file.txt");
    assert_eq!(text(&reply), "stored /new file.txt (12 bytes)\n");
    assert_eq!(fs.contents("new file.txt").unwrap(), b"hello upload");
    assert_eq!(
        fs.paths(),
        ["new file.txt", "old.txt"],
        "no temporary file left"
    );
}

#[test]
fn put_answers_json_when_the_client_prefers_it() {
    let fs = MemStore::new();
    let headers = [("accept", "application/json"), ("content-length", "3")];
    let put = request(Method::PUT, "/a.txt", &headers, Chunks::of(b"abc", 2));
    let reply = route(&put, &fs, &config(&[]));
    assert_created_json(
        &reply,
        serde_json::json!({"stored": [{"name": "a.txt", "path": "/a.txt", "size": 3}]}),
    );
    assert_eq!(fs.contents("a.txt").unwrap(), b"abc");
}

/// A `201` whose JSON body lists what was stored.
fn assert_created_json(reply: &Reply, stored: serde_json::Value) {
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(
        header(reply, CONTENT_TYPE),
        "application/json; charset=utf-8"
    );
    let json: serde_json::Value = serde_json::from_str(text(reply)).unwrap();
    assert_eq!(json, stored);
}

#[test]
fn put_makes_missing_directories_and_respects_the_base_path() {
    let fs = MemStore::new().dir("a");
    let config = config(&[("SANDSERVE_BASE_PATH", "/files")]);
    let reply = put_with(
        &fs,
        &config,
        "/a/b/c/d.bin",
        Chunks::of(&[1, 2, 3], 2),
        None,
    );
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(header(&reply, LOCATION), "/files/a/b/c/d.bin");
    assert_eq!(fs.paths(), ["a/", "a/b/", "a/b/c/", "a/b/c/d.bin"]);
    assert_eq!(fs.contents("a/b/c/d.bin").unwrap(), [1, 2, 3]);
}

#[test]
fn taken_names_are_409_and_stay_as_they_were() {
    let fs = MemStore::new()
        .file("a.txt", b"mine")
        .dir("d")
        .file("f", b"file");
    let before = fs.paths();
    for target in ["/a.txt", "/d", "/f/under"] {
        let reply = put(&fs, target, b"theirs");
        assert_eq!(reply.status, StatusCode::CONFLICT, "{target}");
        assert_eq!(fs.paths(), before, "{target}");
    }
    assert_eq!(fs.contents("a.txt").unwrap(), b"mine");
}

#[test]
fn a_name_taken_while_the_body_streams_is_409_and_keeps_the_other_file() {
    let fs = MemStore::new().sneak_in("race.txt", b"first");
    let reply = put(&fs, "/race.txt", b"second");
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(fs.contents("race.txt").unwrap(), b"first");
    assert_eq!(fs.paths(), ["race.txt"]);
}

#[test]
fn dot_names_are_403_unless_hidden() {
    let fs = MemStore::new();
    for target in ["/.env", "/.git/config", "/a/.hidden/b.txt"] {
        assert_eq!(
            put(&fs, target, b"x").status,
            StatusCode::FORBIDDEN,
            "{target}"
        );
    }
    assert!(fs.paths().is_empty());
    let hidden = config(&[("SANDSERVE_HIDDEN", "1")]);
    let reply = put_with(&fs, &hidden, "/.env", Chunks::of(b"x", 1), None);
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(fs.paths(), [".env"]);
}

#[test]
fn bad_and_climbing_targets_write_nothing() {
    let fs = MemStore::new();
    for (target, status) in [
        ("/../x", StatusCode::NOT_FOUND),
        ("/a/%2e%2e/%2e%2e/x", StatusCode::NOT_FOUND),
        ("/a%2fb", StatusCode::NOT_FOUND),
        ("/a%00b", StatusCode::NOT_FOUND),
        ("/%zz", StatusCode::BAD_REQUEST),
        ("/dir/", StatusCode::METHOD_NOT_ALLOWED),
        ("/", StatusCode::METHOD_NOT_ALLOWED),
    ] {
        assert_eq!(put(&fs, target, b"x").status, status, "{target}");
    }
    assert!(fs.paths().is_empty());
}

#[test]
fn over_the_limit_is_413_by_length_or_as_it_grows() {
    let config = config(&[("SANDSERVE_MAX_UPLOAD", "10")]);
    let fs = MemStore::new();
    // Declared too large: refused before a byte is read or a directory made.
    let reply = put_with(&fs, &config, "/a/big", Chunks::of(&[0; 11], 4), Some(11));
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Undeclared (chunked) and growing past the limit.
    let reply = put_with(&fs, &config, "/a/big", Chunks::of(&[0; 11], 4), None);
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(fs.paths().is_empty(), "{:?}", fs.paths());
    // Exactly the limit is fine.
    let reply = put_with(&fs, &config, "/a/ok", Chunks::of(&[0; 10], 4), None);
    assert_eq!(reply.status, StatusCode::CREATED);
}

#[test]
fn a_broken_short_or_stalled_body_leaves_nothing() {
    let config = config(&[]);
    let cases = [
        (
            Chunks::of(b"partial", 3).then(BodyError::Broken),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Chunks::of(b"partial", 3).then(BodyError::Stalled),
            None,
            StatusCode::REQUEST_TIMEOUT,
        ),
        (Chunks::of(b"short", 3), Some(10), StatusCode::BAD_REQUEST),
    ];
    for (body, declared, status) in cases {
        let fs = MemStore::new().dir("keep");
        let reply = put_with(&fs, &config, "/new/dir/file.txt", body, declared);
        assert_eq!(reply.status, status);
        assert_eq!(
            fs.paths(),
            ["keep/"],
            "directories made for it are gone too"
        );
    }
}

#[test]
fn a_full_disk_is_507_and_leaves_nothing() {
    let fs = MemStore::new().space(5);
    let reply = put(&fs, "/sub/big.bin", &[7; 100]);
    assert_eq!(reply.status, StatusCode::INSUFFICIENT_STORAGE);
    assert!(fs.paths().is_empty(), "{:?}", fs.paths());
}

#[test]
fn a_read_only_tree_is_403() {
    let fs = MemStore::new().read_only();
    assert_eq!(put(&fs, "/x", b"x").status, StatusCode::FORBIDDEN);
    // A filesystem with no write side at all.
    let reply = route(
        &request(Method::PUT, "/x", &[], Chunks::of(b"x", 1)),
        &MemFs::new(),
        &config(&[]),
    );
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

#[test]
fn temporary_names_never_touch_an_existing_file() {
    let fs = MemStore::new().file(".sandserve-upload-0", b"left over");
    assert_eq!(put(&fs, "/x", b"new").status, StatusCode::CREATED);
    assert_eq!(fs.contents(".sandserve-upload-0").unwrap(), b"left over");
    assert_eq!(fs.paths(), [".sandserve-upload-0", "x"]);
}

#[test]
fn reads_stay_in_bounded_chunks() {
    let fs = MemStore::new();
    let body = Chunks::of(&vec![9; 1 << 20], super::CHUNK);
    let largest = body.largest.clone();
    let reply = put_with(&fs, &config(&[]), "/big", body, None);
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(fs.contents("big").unwrap().len(), 1 << 20);
    assert_eq!(largest.get(), super::CHUNK);
}

#[test]
fn without_upload_writes_are_405_and_bodies_unread() {
    let fs = MemStore::new();
    let off = Config::default();
    for method in [Method::PUT, Method::POST, Method::DELETE, Method::PATCH] {
        let request = request(method.clone(), "/x", &[], Chunks::of(b"x", 1));
        assert!(!streams_body(&request, &off));
        let reply = route(&request, &fs, &off);
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(header(&reply, ALLOW), "GET, HEAD");
    }
    assert!(fs.paths().is_empty());
}

#[test]
fn allow_names_the_writes_that_apply() {
    let fs = MemStore::new().dir("d");
    let on = config(&[]);
    let cors = config(&[("SANDSERVE_CORS", "1")]);
    for (config, target, method, want) in [
        (&on, "/x", Method::DELETE, "GET, HEAD, PUT"),
        (&on, "/d/", Method::DELETE, "GET, HEAD, POST"),
        (&on, "/d/", Method::PUT, "GET, HEAD, POST"),
        (&on, "/x", Method::POST, "GET, HEAD, PUT"),
        (&cors, "/x", Method::PATCH, "GET, HEAD, PUT, OPTIONS"),
    ] {
        let reply = route(
            &request(method.clone(), target, &[], Chunks::of(b"", 1)),
            &fs,
            config,
        );
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {target}"
        );
        assert_eq!(header(&reply, ALLOW), want, "{method} {target}");
    }
    let preflight = route(
        &request(Method::OPTIONS, "/x", &[], Chunks::of(b"", 1)),
        &fs,
        &cors,
    );
    assert_eq!(
        header(&preflight, http::header::ACCESS_CONTROL_ALLOW_METHODS),
        "GET, HEAD, PUT, POST, OPTIONS"
    );
}

#[test]
fn xmlrpc_stays_read_only() {
    let fs = MemStore::new();
    let config = config(&[("SANDSERVE_XMLRPC", "1")]);
    let put = request(Method::PUT, "/RPC2", &[], Chunks::of(b"x", 1));
    assert!(!streams_body(&put, &config));
    assert_eq!(
        route(&put, &fs, &config).status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    let post = request(Method::POST, "/RPC2", &[], Chunks::of(b"x", 1));
    assert!(
        !streams_body(&post, &config),
        "the XML-RPC body is read whole, to 1 MiB"
    );
    assert!(fs.paths().is_empty());
}

const BOUNDARY: &str = "----formboundary7MA4YWxk";

fn form(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, data) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        // A quoted string escapes `"` and `\` with a backslash.
        let filename = filename.map(|f| f.replace('\\', "\\\\").replace('"', "\\\""));
        let disposition = match filename {
            Some(file) => format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n"),
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
        };
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn post(fs: &MemStore, target: &str, body: &[u8], accept: Option<&str>) -> Reply {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let mut headers = vec![("content-type", content_type.as_str())];
    if let Some(accept) = accept {
        headers.push(("accept", accept));
    }
    route(
        &request(Method::POST, target, &headers, Chunks::of(body, 5)),
        fs,
        &config(&[]),
    )
}

#[test]
fn a_form_stores_each_file_and_goes_back_to_the_directory() {
    let fs = MemStore::new().dir("d");
    let body = form(&[
        ("note", None, b"a plain field"),
        (
            "file",
            Some("one.txt"),
            b"first file\r\n--almost a boundary",
        ),
        ("file", Some("two.bin"), &[0, 1, 2, 255]),
        ("file", Some(""), b""),
    ]);
    let reply = post(&fs, "/d/", &body, Some("text/html,*/*;q=0.8"));
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(header(&reply, LOCATION), "/d/");
    assert_eq!(fs.paths(), ["d/", "d/one.txt", "d/two.bin"]);
    assert_eq!(
        fs.contents("d/one.txt").unwrap(),
        b"first file\r\n--almost a boundary"
    );
    assert_eq!(fs.contents("d/two.bin").unwrap(), [0, 1, 2, 255]);
}

#[test]
fn a_script_preferring_json_gets_the_list() {
    let fs = MemStore::new();
    let body = form(&[
        ("file", Some("a \"q\".txt"), b"12345"),
        ("f", Some("b.txt"), b""),
    ]);
    let reply = post(&fs, "/new/", &body, Some("application/json"));
    assert_created_json(
        &reply,
        serde_json::json!({"stored": [
            {"name": "a \"q\".txt", "path": "/new/a \"q\".txt", "size": 5},
            {"name": "b.txt", "path": "/new/b.txt", "size": 0},
        ]}),
    );
}

#[test]
fn a_bad_part_keeps_nothing_from_the_request() {
    let cases = [
        ("../x", StatusCode::BAD_REQUEST),
        ("..", StatusCode::BAD_REQUEST),
        (".", StatusCode::BAD_REQUEST),
        ("a/b", StatusCode::BAD_REQUEST),
        ("a\\b", StatusCode::BAD_REQUEST),
        ("nul\0", StatusCode::BAD_REQUEST),
        ("line\nbreak", StatusCode::BAD_REQUEST),
        (".env", StatusCode::FORBIDDEN),
    ];
    for (name, status) in cases {
        let fs = MemStore::new().file("d/taken.txt", b"mine");
        // Into a new directory, which goes again too, and into an existing one.
        for dir in ["/d/sub/", "/d/"] {
            let body = form(&[
                ("file", Some("good.txt"), b"good"),
                ("file", Some(name), b"bad"),
            ]);
            assert_eq!(
                post(&fs, dir, &body, None).status,
                status,
                "{name:?} in {dir}"
            );
            assert_eq!(fs.paths(), ["d/", "d/taken.txt"], "{name:?} in {dir}");
        }
    }
    // A taken name, or the same name twice, is found only when its turn comes.
    for name in ["taken.txt", "good.txt"] {
        let fs = MemStore::new().file("d/taken.txt", b"mine");
        let body = form(&[
            ("file", Some("good.txt"), b"good"),
            ("file", Some(name), b"bad"),
        ]);
        assert_eq!(
            post(&fs, "/d/", &body, None).status,
            StatusCode::CONFLICT,
            "{name}"
        );
        assert_eq!(fs.paths(), ["d/", "d/taken.txt"], "{name}");
        assert_eq!(fs.contents("d/taken.txt").unwrap(), b"mine");
    }
}

#[test]
fn a_form_that_breaks_off_keeps_nothing() {
    let fs = MemStore::new();
    let body = form(&[
        ("file", Some("a.txt"), b"complete"),
        ("file", Some("b.txt"), b"cut"),
    ]);
    let cut = &body[..body.len() - 20];
    assert_eq!(post(&fs, "/", cut, None).status, StatusCode::BAD_REQUEST);
    assert!(fs.paths().is_empty(), "{:?}", fs.paths());
}

#[test]
fn forms_that_are_not_multipart_or_not_at_a_directory() {
    let fs = MemStore::new();
    let config = config(&[]);
    let cases: &[(&str, &str, StatusCode)] = &[
        (
            "/",
            "application/x-www-form-urlencoded",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        ("/", "multipart/form-data", StatusCode::BAD_REQUEST),
        (
            "/",
            "multipart/form-data; boundary=\"\"",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/file.txt",
            "multipart/form-data; boundary=x",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "/.git/",
            "multipart/form-data; boundary=x",
            StatusCode::FORBIDDEN,
        ),
    ];
    for (target, content_type, status) in cases {
        let headers = [("content-type", *content_type)];
        let reply = route(
            &request(Method::POST, target, &headers, Chunks::of(b"--x--", 5)),
            &fs,
            &config,
        );
        assert_eq!(reply.status, *status, "{target} {content_type}");
    }
    assert!(fs.paths().is_empty());
}

#[test]
fn a_form_over_the_limit_is_413() {
    let fs = MemStore::new();
    let config = config(&[("SANDSERVE_MAX_UPLOAD", "100")]);
    let body = form(&[("file", Some("a.bin"), &[1; 200])]);
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let headers = [("content-type", content_type.as_str())];
    let reply = route(
        &request(Method::POST, "/", &headers, Chunks::of(&body, 64)),
        &fs,
        &config,
    );
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(fs.paths().is_empty());
}

#[test]
fn uploads_need_credentials_when_users_are_set() {
    let fs = MemStore::new();
    let config = config(&[("SANDSERVE_AUTH", "ann:secret")]);
    let anonymous = request(Method::PUT, "/x.txt", &[], Chunks::of(b"x", 1));
    assert!(
        !streams_body(&anonymous, &config),
        "no body is read without credentials"
    );
    assert_eq!(
        route(&anonymous, &fs, &config).status,
        StatusCode::UNAUTHORIZED
    );
    // "ann:secret" in Base64.
    let headers = [("authorization", "Basic YW5uOnNlY3JldA==")];
    let signed = request(Method::PUT, "/x.txt", &headers, Chunks::of(b"x", 1));
    assert!(streams_body(&signed, &config));
    assert_eq!(route(&signed, &fs, &config).status, StatusCode::CREATED);
    assert_eq!(fs.paths(), ["x.txt"]);
}

/// With `--webdav` and `--upload`: MKCOL makes one directory (RFC 4918 §9.3), and PUT, like
/// MKCOL, needs its parent collection (§9.7.1) instead of creating it.
#[test]
fn with_webdav_mkcol_makes_one_directory_and_put_needs_its_parent() {
    let fs = MemStore::new().dir("a").file("a/f.txt", b"x");
    let dav = config(&[("SANDSERVE_WEBDAV", "1")]);
    let mkcol = |target: &str, headers: &[(&'static str, &str)], config: &Config| {
        let method = Method::from_bytes(b"MKCOL").unwrap();
        route(
            &request(method, target, headers, Chunks::of(b"", 1)),
            &fs,
            config,
        )
        .status
    };
    assert_eq!(mkcol("/a/new/", &[], &dav), StatusCode::CREATED);
    assert!(
        fs.paths().contains(&"a/new/".to_owned()),
        "{:?}",
        fs.paths()
    );
    assert_eq!(mkcol("/a/new/", &[], &dav), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(mkcol("/a/f.txt", &[], &dav), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(mkcol("/missing/child/", &[], &dav), StatusCode::CONFLICT);
    assert_eq!(mkcol("/a/f.txt/x/", &[], &dav), StatusCode::CONFLICT);
    assert_eq!(mkcol("/.hidden/", &[], &dav), StatusCode::FORBIDDEN);
    assert_eq!(
        mkcol("/a/body/", &[("content-length", "5")], &dav),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let read_only = Config::from_vars([("SANDSERVE_WEBDAV".into(), "1".into())]).unwrap();
    assert_eq!(
        mkcol("/a/other/", &[], &read_only),
        StatusCode::METHOD_NOT_ALLOWED
    );
    let before = fs.paths();

    let put = put_with(&fs, &dav, "/nope/x.txt", Chunks::of(b"abc", 2), Some(3));
    assert_eq!(put.status, StatusCode::CONFLICT);
    assert_eq!(fs.paths(), before, "nothing made for a PUT refused");
    let put = put_with(&fs, &dav, "/a/new/x.txt", Chunks::of(b"abc", 2), Some(3));
    assert_eq!(put.status, StatusCode::CREATED);
    // Without WebDAV, a PUT still makes its parents, as `curl -T` users expect.
    let put = put_with(
        &fs,
        &config(&[]),
        "/nope/x.txt",
        Chunks::of(b"abc", 2),
        Some(3),
    );
    assert_eq!(put.status, StatusCode::CREATED);
    assert_eq!(fs.contents("nope/x.txt").as_deref(), Some(&b"abc"[..]));
}

/// `--modify`: a PUT over a file replaces it whole (`204`), guarded by `If-Match`; DELETE
/// removes a file or a directory with what a client may see in it.
#[test]
fn modify_replaces_and_deletes_what_may_be_seen() {
    let fs = MemStore::new()
        .file("old.txt", b"old")
        .file("d/a.txt", b"a")
        .file("d/e/b.txt", b"b")
        .file("h/.secret", b"s")
        .file("h/c.txt", b"c");
    let modify = config(&[("SANDSERVE_MODIFY", "1")]);
    let put = put_with(
        &fs,
        &modify,
        "/old.txt",
        Chunks::of(b"new bytes", 4),
        Some(9),
    );
    assert_eq!(put.status, StatusCode::NO_CONTENT);
    assert_eq!(fs.contents("old.txt").as_deref(), Some(&b"new bytes"[..]));
    assert!(!fs.paths().iter().any(|p| p.contains(".sandserve-upload")));
    let stale = request(
        Method::PUT,
        "/old.txt",
        &[("if-match", "\"not-it\""), ("content-length", "1")],
        Chunks::of(b"x", 1),
    );
    assert_eq!(
        route(&stale, &fs, &modify).status,
        StatusCode::PRECONDITION_FAILED
    );
    assert_eq!(fs.contents("old.txt").as_deref(), Some(&b"new bytes"[..]));
    // Without --modify the same PUT is a conflict, as before.
    let put = put_with(&fs, &config(&[]), "/old.txt", Chunks::of(b"x", 1), Some(1));
    assert_eq!(put.status, StatusCode::CONFLICT);

    let delete = |target: &str, config: &Config| {
        route(
            &request(Method::DELETE, target, &[], Chunks::of(b"", 1)),
            &fs,
            config,
        )
    };
    assert_eq!(
        delete("/old.txt", &config(&[])).status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(delete("/old.txt", &modify).status, StatusCode::NO_CONTENT);
    assert_eq!(delete("/d/", &modify).status, StatusCode::NO_CONTENT);
    assert_eq!(delete("/missing", &modify).status, StatusCode::NOT_FOUND);
    assert_eq!(delete("/", &modify).status, StatusCode::FORBIDDEN);
    assert_eq!(delete("/h/.secret", &modify).status, StatusCode::FORBIDDEN);
    // The dot-file is not the client's to delete: it and its directory stay, and say so.
    let partial = delete("/h/", &modify);
    assert_eq!(partial.status, StatusCode::MULTI_STATUS);
    assert!(text(&partial).contains("<D:href>/h/</D:href><D:status>HTTP/1.1 403 Forbidden"));
    assert_eq!(fs.paths(), ["h/", "h/.secret"]);
}
