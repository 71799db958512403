//! The properties `make fuzz` checks, written against the crate's own types so those can
//! stay `pub(crate)`: each fuzz target in `fuzz/` feeds its input to one function here, which
//! panics if a property fails. Built only with the `memfs` feature (and in tests).

use http::{HeaderName, Method};

use crate::config::Config;
use crate::encoding;
use crate::encoding::Coding;
use crate::header::{HeaderMap, HeaderValue};
use crate::memfs::MemFs;
use crate::path::SafePath;
use crate::range::{self, Multipart, RangeDecision};
use crate::reply::Body;
use crate::request::Request;
use crate::router;
use crate::sink::Sink;
use crate::upload::multipart::{self as form, Event, MultipartError, Parser};
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
    let mut headers = HeaderMap::default();
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
    let mut star = HeaderMap::default();
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
    let mut headers = HeaderMap::default();
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

/// The `multipart/form-data` parser: any body, fed in any chunks, gives the same events
/// and verdict as when fed whole, holds at most a part head between chunks, and a
/// well-formed body made of the input's bytes gives those bytes back, part by part.
pub fn multipart(data: &[u8]) {
    let Some((&split, body)) = data.split_first() else {
        return;
    };
    let whole = form_events(body, body.len().max(1));
    let pieces = form_events(body, usize::from(split % 64) + 1);
    assert_eq!(whole, pieces);
    // Round trip: the input, cut at each 0xff, as the contents of file parts.
    let contents: Vec<&[u8]> = body.split(|b| *b == 0xff).take(8).collect();
    let delimiter = format!("\r\n--{FUZZ_BOUNDARY}");
    if contents.iter().any(|c| {
        c.windows(delimiter.len())
            .any(|w| w == delimiter.as_bytes())
    }) {
        return;
    }
    let mut framed = Vec::new();
    for (i, content) in contents.iter().enumerate() {
        framed.extend_from_slice(
            format!("--{FUZZ_BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f{i}\"\r\n\r\n").as_bytes(),
        );
        framed.extend_from_slice(content);
        framed.extend_from_slice(b"\r\n");
    }
    framed.extend_from_slice(format!("--{FUZZ_BOUNDARY}--\r\n").as_bytes());
    let (events, verdict) = form_events(&framed, usize::from(split) + 1);
    assert_eq!(verdict, Ok(()));
    let mut got: Vec<Vec<u8>> = Vec::new();
    for event in events {
        match event {
            FormEvent::Part(_, file) => {
                assert_eq!(file, Some(format!("f{}", got.len())));
                got.push(Vec::new());
            }
            FormEvent::Data(bytes) => got.last_mut().unwrap().extend_from_slice(&bytes),
            FormEvent::End => {}
        }
    }
    assert_eq!(got, contents);
}

const FUZZ_BOUNDARY: &str = "fuzz-b0undary";

/// An event with owned bytes, adjacent data merged, so chunkings compare equal.
#[derive(Debug, PartialEq, Eq)]
enum FormEvent {
    Part(Option<String>, Option<String>),
    Data(Vec<u8>),
    End,
}

/// Parses `body` fed in chunks of `chunk` bytes: the events, and how it ended.
fn form_events(body: &[u8], chunk: usize) -> (Vec<FormEvent>, Result<(), MultipartError>) {
    let content_type = format!("multipart/form-data; boundary={FUZZ_BOUNDARY}");
    let mut parser = Parser::new(&content_type).expect("a valid boundary");
    let mut events = Vec::new();
    for piece in body.chunks(chunk) {
        let fed = parser.feed(piece, &mut |event| {
            match event {
                Event::Part(head) => events.push(FormEvent::Part(head.name, head.filename)),
                Event::Data(bytes) => match events.last_mut() {
                    Some(FormEvent::Data(data)) => data.extend_from_slice(bytes),
                    _ => events.push(FormEvent::Data(bytes.to_vec())),
                },
                Event::PartEnd => events.push(FormEvent::End),
            }
            Ok::<(), MultipartError>(())
        });
        if let Err(error) = fed {
            return (events, Err(error));
        }
        assert!(parser.held() <= form::MAX_HEAD + 4);
    }
    (events, parser.finish())
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

/// A PROPFIND (or PROPPATCH) body of any bytes: parsed or refused, never a panic; what parses renders as
/// a multistatus that is well-formed XML, with one response and every asked property in it.
pub fn propfind(body: &[u8]) {
    use crate::fs::{Kind, Metadata};
    use crate::webdav::multistatus::{push_response, Resource, HEAD, TAIL};
    use crate::webdav::propfind::{parse, parse_update, Wanted};
    // A PROPPATCH body goes through the same element walker: refused or read, never a panic.
    let _ = parse_update(body);
    let Ok(wanted) = parse(body) else {
        return;
    };
    for kind in [Kind::File, Kind::Dir] {
        let resource = Resource {
            href: "/a%20b/c",
            name: Some("c"),
            meta: Metadata {
                kind,
                size: 7,
                modified: None,
            },
        };
        let mut xml = String::from(HEAD);
        push_response(&mut xml, &resource, &wanted);
        xml.push_str(TAIL);
        let mut reader = quick_xml::NsReader::from_str(&xml);
        let mut elements = 0;
        loop {
            match reader.read_resolved_event() {
                Ok((_, quick_xml::events::Event::Eof)) => break,
                Ok((
                    _,
                    quick_xml::events::Event::Start(_) | quick_xml::events::Event::Empty(_),
                )) => elements += 1,
                Ok(_) => {}
                Err(e) => panic!("{e}: {xml}"),
            }
        }
        assert_eq!(xml.matches("<D:response>").count(), 1);
        if let Wanted::Some(asked) = &wanted {
            assert!(elements >= asked.len(), "{xml}");
        }
    }
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
        super::multipart(b"\x07--fuzz-b0undary\r\n\r\nab\xffcd\r\n--fuzz-b0undary--");
        super::multipart(
            b"\x00\r\n--fuzz-b0undary\r\nContent-Disposition: form-data; name=x\r\n\r\n",
        );
        super::xmlrpc(b"<?xml version=\"1.0\"?><methodCall><methodName>files.list</methodName><params><param><value>/</value></param></params></methodCall>");
        super::xmlrpc(b"<!DOCTYPE x><methodCall/>");
        super::propfind(b"<D:propfind xmlns:D=\"DAV:\" xmlns:z=\"urn:&quot;z\"><D:prop><z:q/><D:getetag/></D:prop></D:propfind>");
        super::propfind(b"<propfind xmlns=\"DAV:\"><propname/></propfind>");
    }
}
