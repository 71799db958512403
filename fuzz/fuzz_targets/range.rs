//! The Range parser and multipart framing: see `sandserve::fuzz::range`.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: (u64, &str)| sandserve::fuzz::range(input.0, input.1));
