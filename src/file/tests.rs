use http::header::{HeaderName, ACCEPT_ENCODING, IF_NONE_MATCH, IF_RANGE};
use http::Method;

use super::*;
use crate::encoding::Coding;
use crate::header::HeaderMap;
use crate::memfs::MemFs;
use crate::sink::testing::VecSink;

fn tree() -> MemFs {
    MemFs::new()
        .file("app.js", 5000)
        .file("app.js.br", 900)
        .file("app.js.gz", 1200)
        .file("style.css", 4000)
        .file("photo.png", 50_000)
        .file("tiny.txt", 10)
        .file("data.bin", 10_000)
}

fn get(path: &str, headers: &[(HeaderName, &str)]) -> Reply {
    let mut map = HeaderMap::default();
    for (name, value) in headers {
        map.append(name.clone(), HeaderValue::from_str(value).unwrap());
    }
    let request = Request::new(Method::GET, path, map);
    let fs = tree();
    let path = SafePath::parse(path).unwrap();
    let meta = fs.stat(&path).unwrap();
    reply(&request, &fs, &Config::default(), path, meta)
}

fn h(reply: &Reply, name: HeaderName) -> Option<&str> {
    reply.headers.get(name).map(|v| v.to_str().unwrap())
}

fn source(reply: &Reply) -> String {
    match &reply.body {
        Body::File { path, .. } | Body::Multipart { path, .. } => path.relative(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn sidecar_selection_follows_the_client() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("br, gzip", "app.js.br", Some("br")),
        ("gzip", "app.js.gz", Some("gzip")),
        ("br;q=0.5, gzip", "app.js.gz", Some("gzip")),
        ("br;q=0, gzip;q=0", "app.js", None),
        ("zstd", "app.js", None),
    ];
    for (accept, want, coding) in cases {
        let r = get("/app.js", &[(ACCEPT_ENCODING, accept)]);
        assert_eq!(source(&r), *want, "{accept}");
        assert_eq!(h(&r, CONTENT_ENCODING), *coding, "{accept}");
        assert_eq!(h(&r, CONTENT_TYPE), Some("text/javascript; charset=utf-8"));
        assert_eq!(h(&r, VARY), Some("Accept-Encoding"));
        assert_eq!(r.compress, None, "a sidecar is never compressed again");
    }
    let plain = get("/app.js", &[]);
    assert_eq!(source(&plain), "app.js");
    assert_eq!(h(&plain, CONTENT_LENGTH), Some("5000"));
}

#[test]
fn etag_differs_per_coding() {
    let br = get("/app.js", &[(ACCEPT_ENCODING, "br")]);
    let gz = get("/app.js", &[(ACCEPT_ENCODING, "gzip")]);
    let id = get("/app.js", &[]);
    let tags = [h(&br, ETAG), h(&gz, ETAG), h(&id, ETAG)];
    assert!(
        tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2],
        "{tags:?}"
    );
}

#[test]
fn on_the_fly_only_where_it_pays() {
    let css = get("/style.css", &[(ACCEPT_ENCODING, "gzip, br")]);
    assert_eq!(css.compress, Some(Coding::Gzip));
    assert_eq!(h(&css, CONTENT_ENCODING), Some("gzip"));
    assert_eq!(h(&css, CONTENT_LENGTH), None, "chunked");
    assert!(h(&css, ETAG).unwrap().ends_with("-gzip\""));
    for (path, accept) in [
        ("/photo.png", "gzip"),
        ("/tiny.txt", "gzip"),
        ("/style.css", "br"),
        ("/style.css", "identity"),
    ] {
        let r = get(path, &[(ACCEPT_ENCODING, accept)]);
        assert_eq!(r.compress, None, "{path} {accept}");
        assert_eq!(h(&r, CONTENT_ENCODING), None, "{path} {accept}");
    }
    assert_eq!(
        h(&get("/photo.png", &[]), VARY),
        None,
        "an image never varies"
    );
    // No compression for range requests: the range applies to the identity bytes.
    let ranged = get(
        "/style.css",
        &[(ACCEPT_ENCODING, "gzip"), (RANGE, "bytes=0-9")],
    );
    assert_eq!(ranged.compress, None);
    assert_eq!(ranged.status, StatusCode::PARTIAL_CONTENT);
    let config = Config {
        compress: false,
        ..Config::default()
    };
    let request = Request::new(
        Method::GET,
        "/style.css",
        [(ACCEPT_ENCODING, HeaderValue::from_static("gzip"))]
            .into_iter()
            .collect(),
    );
    let fs = tree();
    let path = SafePath::parse("/style.css").unwrap();
    let off = reply(
        &request,
        &fs,
        &config,
        path.clone(),
        fs.stat(&path).unwrap(),
    );
    assert_eq!(off.compress, None);
}

#[test]
fn conditional_and_range_statuses() {
    let etag = h(&get("/data.bin", &[]), ETAG).unwrap().to_owned();
    let cases: Vec<(Vec<(HeaderName, &str)>, StatusCode)> = vec![
        (vec![(IF_NONE_MATCH, &etag)], StatusCode::NOT_MODIFIED),
        (vec![(IF_NONE_MATCH, "\"other\"")], StatusCode::OK),
        (
            vec![(http::header::IF_MATCH, "\"other\"")],
            StatusCode::PRECONDITION_FAILED,
        ),
        (vec![(http::header::IF_MATCH, &etag)], StatusCode::OK),
        (vec![(RANGE, "bytes=0-99")], StatusCode::PARTIAL_CONTENT),
        (
            vec![(RANGE, "bytes=20000-")],
            StatusCode::RANGE_NOT_SATISFIABLE,
        ),
        (vec![(RANGE, "bytes=0-1,5-6")], StatusCode::PARTIAL_CONTENT),
        (
            vec![(RANGE, "bytes=0-99"), (IF_RANGE, &etag)],
            StatusCode::PARTIAL_CONTENT,
        ),
        (
            vec![(RANGE, "bytes=0-99"), (IF_RANGE, "\"stale\"")],
            StatusCode::OK,
        ),
        (
            vec![
                (RANGE, "bytes=0-99"),
                (IF_RANGE, "Tue, 14 Nov 2023 22:13:20 GMT"),
            ],
            StatusCode::PARTIAL_CONTENT,
        ),
        (
            vec![
                (RANGE, "bytes=0-99"),
                (IF_RANGE, "Mon, 13 Nov 2023 22:13:20 GMT"),
            ],
            StatusCode::OK,
        ),
        (vec![(RANGE, "lines=1-2")], StatusCode::OK),
        (
            vec![(RANGE, "bytes=0-99"), (IF_NONE_MATCH, &etag)],
            StatusCode::NOT_MODIFIED,
        ),
    ];
    for (headers, want) in cases {
        let r = get("/data.bin", &headers);
        assert_eq!(r.status, want, "{headers:?}");
    }
}

#[test]
fn range_shapes() {
    let r = get("/data.bin", &[(RANGE, "bytes=-100")]);
    assert_eq!(h(&r, CONTENT_RANGE), Some("bytes 9900-9999/10000"));
    assert_eq!(h(&r, CONTENT_LENGTH), Some("100"));
    assert_eq!(
        r.body,
        Body::File {
            path: SafePath::parse("/data.bin").unwrap(),
            start: 9900,
            len: 100,
            size: 10_000,
        }
    );
    let bad = get("/data.bin", &[(RANGE, "bytes=10000-")]);
    assert_eq!(h(&bad, CONTENT_RANGE), Some("bytes */10000"));
    let multi = get("/data.bin", &[(RANGE, "bytes=0-1,5-6")]);
    assert!(h(&multi, CONTENT_TYPE)
        .unwrap()
        .starts_with("multipart/byteranges; boundary="));
    let Body::Multipart { path, parts } = &multi.body else {
        panic!()
    };
    let fs = tree();
    let mut sink = VecSink::new(&fs);
    assert!(parts.write(&mut sink, path));
    assert_eq!(
        h(&multi, CONTENT_LENGTH).unwrap().parse::<usize>().unwrap(),
        sink.bytes.len()
    );
    let body = String::from_utf8(sink.bytes).unwrap();
    assert!(
        body.contains("Content-Range: bytes 5-6/10000\r\n\r\n\u{5}\u{6}"),
        "{body}"
    );
    assert_eq!(h(&get("/data.bin", &[]), ACCEPT_RANGES), Some("bytes"));
}

#[test]
fn not_modified_keeps_the_validators() {
    let etag = h(&get("/style.css", &[]), ETAG).unwrap().to_owned();
    let r = get("/style.css", &[(IF_NONE_MATCH, &etag)]);
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    for name in [ETAG, LAST_MODIFIED, CACHE_CONTROL, VARY] {
        assert!(r.headers.contains_key(&name), "{name}");
    }
    assert_eq!(r.body, Body::Empty);
}
