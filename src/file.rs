//! A regular file -> `Reply`: which representation to send (a precompressed sidecar, gzip
//! made on the fly, or the file as it is), its validators, the preconditions of RFC 9110
//! §13.2.2, and Range (§14) on the representation actually sent.

use http::header::{
    HeaderValue, ACCEPT_RANGES, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE,
    CONTENT_TYPE, ETAG, LAST_MODIFIED, RANGE, VARY,
};
use http::StatusCode;

use crate::compress;
use crate::config::Config;
use crate::encoding::{self, Coding};
use crate::fs::{Fs, Kind, Metadata};
use crate::mime;
use crate::path::SafePath;
use crate::range::{self, RangeDecision};
use crate::reply::{Body, Reply};
use crate::router::Request;
use crate::validators::{self, Precondition};

/// The full answer for a GET or HEAD of the file at `path`.
pub(crate) fn reply(
    request: &Request,
    fs: &dyn Fs,
    config: &Config,
    path: SafePath,
    meta: Metadata,
) -> Reply {
    let name = path.file_name().unwrap_or_default().to_owned();
    let content_type = mime::content_type(&name);
    let essence = content_type.split(';').next().unwrap_or_default();
    let accept = encoding::from_headers(&request.headers);
    let compressible = config.compress && mime::is_compressible(essence);
    let ranged = request.headers.contains_key(RANGE);

    // Choose the representation: a sidecar on disk, then gzip on the fly, then identity.
    // Sidecars are only looked for in codings the client takes.
    let mut sidecars = Vec::new();
    for candidate in Coding::PREFERENCE {
        if accept.accepts(candidate) <= 0.0 {
            continue;
        }
        let Some(sidecar) = path.with_suffix(candidate.extension()) else {
            continue;
        };
        if let Ok(m) = fs.stat(&sidecar) {
            if m.kind == Kind::File {
                sidecars.push((candidate, sidecar, m));
            }
        }
    }
    let vary = compressible || !sidecars.is_empty();
    let available: Vec<Coding> = sidecars.iter().map(|(c, _, _)| *c).collect();
    let (mut coding, source, source_meta) = match accept.choose(&available) {
        Some(chosen) => {
            let (c, p, m) = sidecars
                .into_iter()
                .find(|(c, _, _)| *c == chosen)
                .expect("chosen from these");
            (Some(c), p, m)
        }
        None => (None, path.clone(), meta),
    };
    let mut on_the_fly = false;
    if coding.is_none() && compressible && !ranged && compress::size_pays(meta.size) {
        if let Some(c) = accept.choose(&compress::ON_THE_FLY) {
            coding = Some(c);
            on_the_fly = true;
        }
    }

    let etag = validators::etag(
        source_meta.size,
        source_meta.modified,
        None,
        coding.map(Coding::token),
    );
    let modified = meta.modified.map(|t| t.to_system_time());
    let mut reply = Reply::new(StatusCode::OK)
        .header(CACHE_CONTROL, cache_control(config))
        .header(ETAG, etag.header_value());
    if let Some(modified) = modified {
        reply.headers.insert(LAST_MODIFIED, http_date(modified));
    }
    if vary {
        reply
            .headers
            .insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    match validators::evaluate(&request.method, &request.headers, &etag, modified) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            reply.status = StatusCode::NOT_MODIFIED;
            return reply;
        }
        Precondition::Failed => {
            return Reply::new(StatusCode::PRECONDITION_FAILED)
                .header(CONTENT_LENGTH, HeaderValue::from(0));
        }
    }

    reply.headers.insert(CONTENT_TYPE, header(&content_type));
    if let Some(c) = coding {
        reply
            .headers
            .insert(CONTENT_ENCODING, HeaderValue::from_static(c.token()));
    }
    if on_the_fly {
        // The length is unknown until the encoder is done: the body goes chunked.
        reply.compress = coding;
        reply.body = Body::File {
            path: source,
            start: 0,
            len: meta.size,
            size: meta.size,
        };
        return reply;
    }

    let size = source_meta.size;
    reply
        .headers
        .insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let decision = match request.headers.get(RANGE).and_then(|v| v.to_str().ok()) {
        Some(value) if validators::if_range_allows(&request.headers, &etag, modified) => {
            range::parse(value, size)
        }
        _ => RangeDecision::Full,
    };
    match decision {
        RangeDecision::Full => {
            reply
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(size));
            reply.body = Body::File {
                path: source,
                start: 0,
                len: size,
                size,
            };
        }
        RangeDecision::Single(r) => {
            reply.status = StatusCode::PARTIAL_CONTENT;
            reply
                .headers
                .insert(CONTENT_RANGE, header(&r.content_range(size)));
            reply
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(r.len()));
            reply.body = Body::File {
                path: source,
                start: r.start(),
                len: r.len(),
                size,
            };
        }
        RangeDecision::Multi(ranges) => {
            // The boundary only has to be absent from the framing lines; the ETag is stable.
            let seed = size
                ^ source_meta
                    .modified
                    .map_or(0, |t| t.seconds.rotate_left(17) ^ u64::from(t.nanoseconds));
            let boundary = range::boundary(seed);
            let part_type = reply
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_owned();
            let length = range::multipart_length(&boundary, &part_type, &ranges, size);
            let parts = ranges
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    (
                        range::part_header(&boundary, &part_type, r, size, i == 0),
                        *r,
                    )
                })
                .collect();
            reply.status = StatusCode::PARTIAL_CONTENT;
            reply.headers.insert(
                CONTENT_TYPE,
                header(&format!("multipart/byteranges; boundary={boundary}")),
            );
            reply
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(length));
            reply.body = Body::Multipart {
                path: source,
                parts,
                closing: range::closing(&boundary),
                size,
            };
        }
        RangeDecision::Unsatisfiable => {
            let mut unsatisfiable = Reply::error(StatusCode::RANGE_NOT_SATISFIABLE);
            unsatisfiable
                .headers
                .insert(CONTENT_RANGE, header(&format!("bytes */{size}")));
            unsatisfiable
                .headers
                .insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            return unsatisfiable;
        }
    }
    reply
}

/// A file served as it is, without validators or ranges: error pages and the SPA shell.
pub(crate) fn plain(config: &Config, path: SafePath, meta: Metadata, status: StatusCode) -> Reply {
    let content_type = mime::content_type(path.file_name().unwrap_or_default());
    let mut reply = Reply::new(status)
        .header(CACHE_CONTROL, cache_control(config))
        .header(CONTENT_TYPE, header(&content_type))
        .header(CONTENT_LENGTH, HeaderValue::from(meta.size));
    reply.body = Body::File {
        path,
        start: 0,
        len: meta.size,
        size: meta.size,
    };
    reply
}

/// Marks a generated reply (a listing) for gzip when the client takes it and it pays.
pub(crate) fn compress_text(request: &Request, config: &Config, reply: &mut Reply) {
    let Body::Text(html) = &reply.body else {
        return;
    };
    let size = html.len() as u64;
    reply
        .headers
        .insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    if !config.compress || !compress::size_pays(size) {
        return;
    }
    if let Some(coding) = encoding::from_headers(&request.headers).choose(&compress::ON_THE_FLY) {
        reply.headers.remove(CONTENT_LENGTH);
        reply
            .headers
            .insert(CONTENT_ENCODING, HeaderValue::from_static(coding.token()));
        reply.compress = Some(coding);
    }
}

pub(crate) fn cache_control(config: &Config) -> HeaderValue {
    HeaderValue::from_str(&config.cache_control).unwrap_or(HeaderValue::from_static("no-cache"))
}

fn http_date(t: std::time::SystemTime) -> HeaderValue {
    header(&httpdate::fmt_http_date(t))
}

fn header(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("generated header values are visible ASCII")
}

#[cfg(test)]
mod tests {
    use http::header::{HeaderName, ACCEPT_ENCODING, IF_NONE_MATCH, IF_RANGE};
    use http::{HeaderMap, Method};

    use super::*;
    use crate::memfs::MemFs;

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
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        let request = Request {
            method: Method::GET,
            target: path.to_owned(),
            headers: map,
            body: Default::default(),
        };
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
        let request = Request {
            method: Method::GET,
            target: "/style.css".into(),
            headers: [(ACCEPT_ENCODING, HeaderValue::from_static("gzip"))]
                .into_iter()
                .collect(),
            body: Default::default(),
        };
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
        let Body::Multipart { parts, closing, .. } = &multi.body else {
            panic!()
        };
        let framing: usize = parts.iter().map(|(f, _)| f.len()).sum::<usize>() + closing.len();
        assert_eq!(
            h(&multi, CONTENT_LENGTH).unwrap().parse::<usize>().unwrap(),
            framing + 4
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
}
