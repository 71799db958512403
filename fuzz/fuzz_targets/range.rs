//! The Range parser: any header, any size; every range it returns lies inside the file,
//! and the multipart length it promises is the length of the framing it builds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sandserve::range::{self, RangeDecision};

fuzz_target!(|input: (u64, &str)| {
    let (size, header) = input;
    match range::parse(header, size) {
        RangeDecision::Single(r) => assert!(r.start() <= r.end() && r.end() < size),
        RangeDecision::Multi(ranges) => {
            assert!(ranges.len() <= range::MAX_RANGES);
            let total: u128 = ranges.iter().map(|r| u128::from(r.len())).sum();
            assert!(total <= u128::from(size));
            for r in &ranges {
                assert!(r.start() <= r.end() && r.end() < size);
            }
            let b = range::boundary(size);
            let framing: usize = ranges
                .iter()
                .enumerate()
                .map(|(i, r)| range::part_header(&b, "text/plain", r, size, i == 0).len())
                .sum::<usize>()
                + range::closing(&b).len();
            assert_eq!(
                range::multipart_length(&b, "text/plain", &ranges, size),
                framing as u64 + total as u64
            );
        }
        RangeDecision::Full | RangeDecision::Unsatisfiable => {}
    }
});
