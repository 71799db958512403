//! WebDAV PROPFIND bodies: see `sandserve::fuzz::propfind`.
#![no_main]

libfuzzer_sys::fuzz_target!(|body: &[u8]| sandserve::fuzz::propfind(body));
