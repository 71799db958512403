//! The whole request-to-response function over an in-memory tree: any method, target and
//! headers give a well-formed reply, never a panic, never a 5xx, never a hidden file.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;
use sandserve::config::Config;
use sandserve::memfs::MemFs;
use sandserve::reply::Body;
use sandserve::router::{route, Request};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let method = lines
        .next()
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .unwrap_or(Method::GET);
    let target = lines.next().unwrap_or("/").to_owned();
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
    let request = Request {
        method,
        target,
        headers,
        body: Default::default(),
    };
    let reply = route(&request, &fs, &Config::default());
    assert!(!reply.status.is_server_error(), "{:?}", reply.status);
    if let Body::File { path, .. } = &reply.body {
        assert!(!path.is_hidden());
    }
});
