//! The properties `make fuzz` checks, written against the crate's own types so those can
//! stay `pub(crate)`: each fuzz target in `fuzz/` feeds its input to one function here, which
//! panics if a property fails. Built only with the `memfs` feature (and in tests).

use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::config::Config;
use crate::encoding;
use crate::encoding::Coding;
use crate::memfs::MemFs;
use crate::path::SafePath;
use crate::range::{self, Multipart, RangeDecision};
use crate::reply::Body;
use crate::request::Request;
use crate::router;
use crate::sink::Sink;
use crate::validators::{self, Precondition};

/// The path normaliser: never panics, never yields a segment that could climb or split,
/// and is idempotent.
pub fn path(target: &str) {
    if let Ok(path) = SafePath::parse(target) {
        for segment in path.segments() {
            assert!(!segment.is_empty() && segment != "." && segment != "..");
            assert!(!segment.contains(['/', '\\', '\0']));
        }
        let again = SafePath::parse(&path.to_url(path.has_trailing_slash())).unwrap();
        assert_eq!(again, path);
    }
}

/// The Range parser: any header, any size; every range it returns lies inside the file,
/// and the multipart length it promises is the length of the framing it builds.
pub fn range(size: u64, header: &str) {
    match range::parse(header, size) {
        RangeDecision::Single(r) => assert!(r.start() <= r.end() && r.end() < size),
        RangeDecision::Multi(ranges) => {
            assert!(ranges.len() <= range::MAX_RANGES);
            let total: u128 = ranges.iter().map(|r| u128::from(r.len())).sum();
            assert!(total <= u128::from(size));
            for r in &ranges {
                assert!(r.start() <= r.end() && r.end() < size);
            }
            let parts = Multipart::new(size, "text/plain", &ranges, size);
            let mut counted = Counter(0);
            assert!(parts.write(&mut counted, &()));
            // Exact, or saturated for files near u64::MAX bytes (none exist).
            assert_eq!(counted.0.min(u128::from(u64::MAX)), u128::from(parts.len()));
        }
        RangeDecision::Full | RangeDecision::Unsatisfiable => {}
    }
}

/// Counts what a body would hold, without holding it.
struct Counter(u128);

impl Sink for Counter {
    type File = ();

    fn open(&mut self, _: &SafePath) -> Option<()> {
        Some(())
    }

    fn write(&mut self, bytes: &[u8]) -> bool {
        self.0 += bytes.len() as u128;
        true
    }

    fn send(&mut self, _: &(), _: u64, len: u64, _: u64) -> bool {
        self.0 += u128::from(len);
        true
    }

    fn send_through(&mut self, _: &(), _: u64, len: u64, _: &mut dyn FnMut(&[u8])) -> bool {
        self.0 += u128::from(len);
        true
    }
}

const CONDITIONAL: [&str; 6] = [
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "if-range",
    "accept-encoding",
];

/// Precondition and Accept-Encoding parsing: arbitrary header values never panic, and the
/// answers are consistent (a coding chosen is one the client accepts; `*` always matches).
pub fn headers(get: bool, fields: &[(u8, String)]) {
    let method = if get { Method::GET } else { Method::PUT };
    let mut headers = HeaderMap::new();
    for (which, value) in fields.iter().take(8) {
        if let Ok(value) = HeaderValue::from_str(value) {
            let name = HeaderName::from_static(CONDITIONAL[usize::from(*which) % 6]);
            headers.append(name, value);
        }
    }
    let etag = validators::etag(42, None, None);
    let _ = validators::evaluate(&method, &headers, &etag, None);
    let _ = validators::if_range_allows(&headers, &etag, None);
    let accept = encoding::from_headers(&headers);
    if let Some(chosen) = accept.choose(&Coding::PREFERENCE) {
        assert!(!accept.weight(chosen).is_zero());
    }
    let mut star = HeaderMap::new();
    star.insert("if-none-match", HeaderValue::from_static("*"));
    assert_eq!(
        validators::evaluate(&Method::GET, &star, &etag, None),
        Precondition::NotModified
    );
}

/// The whole request-to-response function over an in-memory tree, from a method line, a
/// target line and header lines: never a panic, never a 5xx, never a hidden file.
pub fn route(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let method = lines
        .next()
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .unwrap_or(Method::GET);
    let target = lines.next().unwrap_or("/");
    let mut headers = HeaderMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.trim().as_bytes()),
                HeaderValue::from_str(value.trim()),
            ) {
                headers.append(name, value);
            }
        }
    }
    let fs = MemFs::new()
        .file("a.txt", 10)
        .file("dir/index.html", 5)
        .file("dir/b.bin", 1 << 20)
        .file(".secret", 3)
        .dir("empty")
        .special("fifo");
    let request = Request::new(method, target, headers);
    let reply = router::route(&request, &fs, &Config::default());
    assert!(!reply.status.is_server_error(), "{:?}", reply.status);
    if let Body::File { path, .. } = &reply.body {
        assert!(path.segments().iter().all(|s| !s.starts_with('.')));
    }
}

/// An XML-RPC request body of any bytes: always a well-formed `methodResponse`, never a
/// panic (bad input is a fault).
pub fn xmlrpc(body: &[u8]) {
    let fs = MemFs::new()
        .bytes("docs/a.txt", b"hello")
        .file("big.bin", 5 << 30)
        .special("fifo");
    let answer = crate::xmlrpc::handle_call(body, &fs, &Config::default());
    assert!(answer.starts_with("<?xml version=\"1.0\"?>\n<methodResponse>"));
    assert!(answer.ends_with("</methodResponse>\n"));
}

#[cfg(test)]
mod tests {
    /// The seeds the fuzz targets start from hold as plain unit tests too.
    #[test]
    fn seeds() {
        super::path("/a/../b/%2e%2e/c");
        super::range(1000, "bytes=500-700,601-999");
        super::range(0, "bytes=-5");
        super::headers(
            true,
            &[(0, "\"a\", W/\"b\"".into()), (5, "gzip;q=0.5, *".into())],
        );
        super::route(b"GET\n/dir/?sort=size\nAccept: application/json");
        super::route(b"HEAD\n/.secret\nRange: bytes=0-1");
        super::xmlrpc(b"<?xml version=\"1.0\"?><methodCall><methodName>files.list</methodName><params><param><value>/</value></param></params></methodCall>");
        super::xmlrpc(b"<!DOCTYPE x><methodCall/>");
    }
}
