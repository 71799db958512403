use super::*;
use proptest::prelude::*;

/// Field values built from the characters the grammar cares about.
fn field() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"\"".to_vec()),
        Just(b"W/".to_vec()),
        Just(b",".to_vec()),
        Just(b" ".to_vec()),
        Just(b"*".to_vec()),
        Just(b"\"5-65537f00\"".to_vec()),
        Just(b"5-65537f00".to_vec()),
        Just(vec![0xe9]),
        "[a-z0-9]{1,3}".prop_map(String::into_bytes),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any field parses without panicking, and If-Match can only pass a request that
    /// If-None-Match with the same value would hold back (strong implies weak).
    #[test]
    fn strong_match_implies_weak_match(value in field()) {
        let Ok(value) = HeaderValue::from_bytes(&value) else { return Ok(()) };
        let etag = ETag {
            opaque: "5-65537f00".into(),
            weak: false,
        };
        let mut map = HeaderMap::default();
        map.insert(IF_MATCH, value.clone());
        map.insert(IF_NONE_MATCH, value.clone());
        map.insert(IF_RANGE, value);
        let strong = list_matches(&map, &IF_MATCH, &etag, Comparison::Strong);
        let weak = list_matches(&map, &IF_NONE_MATCH, &etag, Comparison::Weak);
        prop_assert!(strong.is_some() && weak.is_some());
        prop_assert!(!strong.unwrap() || weak.unwrap());
        if if_range_allows(&map, &etag, None) {
            prop_assert!(strong.unwrap());
        }
    }
}
