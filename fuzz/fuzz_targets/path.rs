//! The path normaliser: see `sandserve::fuzz::path`.
#![no_main]

libfuzzer_sys::fuzz_target!(|target: &str| sandserve::fuzz::path(target));
