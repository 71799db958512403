//! XML-RPC request bodies: see `sandserve::fuzz::xmlrpc`.
#![no_main]

libfuzzer_sys::fuzz_target!(|body: &[u8]| sandserve::fuzz::xmlrpc(body));
