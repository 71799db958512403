//! The path normaliser: never panics, never yields a segment that could climb or split,
//! and is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sandserve::path::SafePath;

fuzz_target!(|target: &str| {
    if let Ok(path) = SafePath::parse(target) {
        for segment in path.segments() {
            assert!(!segment.is_empty() && segment != "." && segment != "..");
            assert!(!segment.contains(['/', '\\', '\0']));
        }
        let again = SafePath::parse(&path.to_url(path.has_trailing_slash())).unwrap();
        assert_eq!(again, path);
    }
});
