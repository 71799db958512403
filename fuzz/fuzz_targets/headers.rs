//! Precondition and Accept-Encoding parsing: see `sandserve::fuzz::headers`.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: (u8, Vec<(u8, String)>)| {
    sandserve::fuzz::headers(input.0 % 2 == 0, &input.1)
});
