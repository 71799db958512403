//! Precondition and Accept-Encoding parsing: arbitrary header values never panic, and the
//! answers are consistent (a coding chosen is one the client accepts; `*` always matches).
#![no_main]

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use libfuzzer_sys::fuzz_target;
use sandserve::encoding::{self, Coding};
use sandserve::validators::{self, Precondition};

const NAMES: [&str; 6] = [
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "if-range",
    "accept-encoding",
];

fuzz_target!(|input: (u8, Vec<(u8, String)>)| {
    let (method, fields) = input;
    let method = if method % 2 == 0 { Method::GET } else { Method::PUT };
    let mut headers = HeaderMap::new();
    for (which, value) in fields.iter().take(8) {
        if let Ok(value) = HeaderValue::from_str(value) {
            let name = HeaderName::from_static(NAMES[usize::from(*which) % NAMES.len()]);
            headers.append(name, value);
        }
    }
    let etag = validators::etag(42, None, None, None);
    let _ = validators::evaluate(&method, &headers, &etag, None);
    let _ = validators::if_range_allows(&headers, &etag, None);
    let accept = encoding::from_headers(&headers);
    if let Some(chosen) = accept.choose(&Coding::PREFERENCE) {
        assert!(accept.accepts(chosen) > 0.0);
    }
    let mut star = HeaderMap::new();
    star.insert("if-none-match", HeaderValue::from_static("*"));
    assert_eq!(
        validators::evaluate(&Method::GET, &star, &etag, None),
        Precondition::NotModified
    );
});
