//! The streaming multipart/form-data parser: see `sandserve::fuzz::multipart`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sandserve::fuzz::multipart(data));
