use super::*;
use proptest::prelude::*;

fn header() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        (0u64..40).prop_map(|n| n.to_string()),
        Just(u64::MAX.to_string()),
        Just("99999999999999999999999".to_owned()),
        Just(String::new()),
    ];
    let spec = prop_oneof![
        4 => (number.clone(), number).prop_map(|(a, b)| format!("{a}-{b}")),
        1 => "[ ,=a-z0-9-]{0,4}",
    ];
    (
        prop_oneof![Just("bytes="), Just("BYTES="), Just("bytes ="), Just("x=")],
        prop::collection::vec(spec, 0..20),
    )
        .prop_map(|(unit, specs)| format!("{unit}{}", specs.join(",")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Every range returned lies in the file; multiple ranges are disjoint, capped, and
    /// the promised multipart length is the length of the body actually framed.
    #[test]
    fn ranges_stay_in_bounds(header in header(), size in prop_oneof![0u64..40, Just(u64::MAX)]) {
        match parse(&header, size) {
            RangeDecision::Single(r) => prop_assert!(r.start() <= r.end() && r.end() < size),
            RangeDecision::Multi(ranges) => {
                prop_assert!((2..=MAX_RANGES).contains(&ranges.len()));
                prop_assert!(!overlapping(&ranges));
                let total: u128 = ranges.iter().map(|r| u128::from(r.len())).sum();
                prop_assert!(total <= u128::from(size));
                for r in &ranges {
                    prop_assert!(r.start() <= r.end() && r.end() < size);
                }
                let b = boundary(size);
                let framing: u64 = ranges
                    .iter()
                    .enumerate()
                    .map(|(i, r)| part_header(&b, "a/b", r, size, i == 0).len() as u64)
                    .sum::<u64>()
                    + closing(&b).len() as u64;
                // Exact, or saturated for files near u64::MAX bytes (none exist).
                prop_assert_eq!(
                    u128::from(Multipart::new(size, "a/b", &ranges, size).len()),
                    (u128::from(framing) + total).min(u128::from(u64::MAX))
                );
            }
            RangeDecision::Full | RangeDecision::Unsatisfiable => {}
        }
    }
}
