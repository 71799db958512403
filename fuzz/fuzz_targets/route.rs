//! The whole request-to-response function: see `sandserve::fuzz::route`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sandserve::fuzz::route(data));
