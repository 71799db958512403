use super::*;

/// The representation's tag in the tables below, quoted as a client echoes it.
const TAG: &str = "\"5-65537f00\"";
/// Its Last-Modified, and the same instant as an HTTP-date.
const MODIFIED: u64 = 1_700_000_000;
const DATE: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
const DATE_BEFORE: &str = "Tue, 14 Nov 2023 22:13:19 GMT";
const DATE_AFTER: &str = "Tue, 14 Nov 2023 22:13:21 GMT";

/// Request header fields, as (name, value) pairs.
type Fields = &'static [(&'static str, &'static str)];

fn tag() -> ETag {
    ETag {
        opaque: "5-65537f00".into(),
        weak: false,
    }
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// "Now" in the tables: a day after the file changed.
fn now() -> SystemTime {
    at(MODIFIED + 86_400)
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::default();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

fn eval(method: Method, pairs: &[(&'static str, &str)]) -> Precondition {
    evaluate_at(&method, &headers(pairs), &tag(), Some(at(MODIFIED)), now)
}

/// Two digits per byte, zero-padded, as `{:02x}` writes them; and the field value quoted.
#[test]
fn weak_etag_shape() {
    let tag = weak_etag(&[0x00, 0x0f, 0xa0, 0xff]);
    assert_eq!(tag.opaque, "000fa0ff");
    assert_eq!(tag.header_value(), "W/\"000fa0ff\"");
    assert_eq!(etag(16, None, None).header_value(), "\"10-0\"");
}

#[test]
fn etag_shape() {
    let t = Timestamp {
        seconds: 1,
        nanoseconds: 5,
    };
    let cases: &[(ETag, &str)] = &[
        (etag(16, Some(t), None), "10-3b9aca05"),
        (etag(16, Some(t), Some("br")), "10-3b9aca05-br"),
        (etag(16, Some(t), Some("gzip")), "10-3b9aca05-gzip"),
        (etag(0, None, None), "0-0"),
        (etag(u64::MAX, None, None), "ffffffffffffffff-0"),
        // The largest timestamp WASI can report still fits (u128 nanoseconds).
        (
            etag(
                1,
                Some(Timestamp {
                    seconds: u64::MAX,
                    nanoseconds: 999_999_999,
                }),
                None,
            ),
            "1-3b9ac9ffffffffffffffffff",
        ),
        // A hostile coding name cannot break the quoting.
        (etag(1, None, Some("b\"r \r\n")), "1-0-br"),
    ];
    for (got, want) in cases {
        assert_eq!(got.opaque, *want);
        assert_eq!(got.header_value(), format!("\"{want}\"").as_str());
    }
    assert_ne!(
        etag(16, Some(t), Some("gzip")),
        etag(16, Some(t), None),
        "identity and gzip are different representations"
    );
    assert_ne!(
        etag(16, Some(t), Some("gzip")),
        etag(16, Some(t), Some("br"))
    );
    let later = Timestamp {
        seconds: 1,
        nanoseconds: 6,
    };
    assert_ne!(
        etag(16, Some(t), None),
        etag(16, Some(later), None),
        "a change within the same second still changes the tag"
    );
}

#[test]
fn preconditions_in_rfc_order() {
    use Precondition::*;
    let cases: &[(&[(&'static str, &str)], Precondition)] = &[
        (&[], Proceed),
        // Step 1, If-Match: strong comparison, `*`, lists (§13.1.1).
        (&[("if-match", TAG)], Proceed),
        (&[("if-match", "*")], Proceed),
        (&[("if-match", " * ")], Proceed),
        (&[("if-match", "\"x\", \"5-65537f00\"")], Proceed),
        (&[("if-match", "\"x\",\"5-65537f00\"")], Proceed),
        (&[("if-match", "\"x\"")], Failed),
        (&[("if-match", "W/\"5-65537f00\"")], Failed),
        (&[("if-match", "w/\"5-65537f00\"")], Failed),
        (&[("if-match", "5-65537f00")], Failed),
        (&[("if-match", "garbage")], Failed),
        (&[("if-match", "")], Failed),
        (&[("if-match", "*, \"5-65537f00\"")], Failed),
        (&[("if-match", "\"5-65537f00\" junk")], Failed),
        // Step 2, If-Unmodified-Since, only without If-Match (§13.1.4).
        (&[("if-unmodified-since", DATE)], Proceed),
        (&[("if-unmodified-since", DATE_AFTER)], Proceed),
        (&[("if-unmodified-since", DATE_BEFORE)], Failed),
        (&[("if-unmodified-since", "not a date")], Proceed),
        (
            &[("if-unmodified-since", "Tuesday, 14-Nov-23 22:13:19 GMT")],
            Failed,
        ),
        (
            &[("if-unmodified-since", "Tue Nov 14 22:13:19 2023")],
            Failed,
        ),
        (
            &[("if-match", TAG), ("if-unmodified-since", DATE_BEFORE)],
            Proceed,
        ),
        (
            &[("if-match", "\"x\""), ("if-unmodified-since", DATE_AFTER)],
            Failed,
        ),
        // Step 3, If-None-Match: weak comparison, `*`, lists (§13.1.2).
        (&[("if-none-match", TAG)], NotModified),
        (&[("if-none-match", "W/\"5-65537f00\"")], NotModified),
        (&[("if-none-match", "*")], NotModified),
        (&[("if-none-match", "\"a\", W/\"5-65537f00\"")], NotModified),
        (
            &[("if-none-match", ", ,\"a\",, \"5-65537f00\" ,")],
            NotModified,
        ),
        (&[("if-none-match", "\"a\",\"b\"")], Proceed),
        (&[("if-none-match", "\"5-65537f00")], Proceed),
        (&[("if-none-match", "\"5-65537F00\"")], Proceed),
        (&[("if-none-match", "\"a\" \"5-65537f00\"")], Proceed),
        (&[("if-none-match", "")], Proceed),
        // Step 4, If-Modified-Since: ignored when If-None-Match is present (§13.1.3).
        (&[("if-modified-since", DATE)], NotModified),
        (&[("if-modified-since", DATE_AFTER)], NotModified),
        (&[("if-modified-since", DATE_BEFORE)], Proceed),
        (&[("if-modified-since", "garbage")], Proceed),
        (&[("if-modified-since", "0")], Proceed),
        (
            &[("if-none-match", "\"other\""), ("if-modified-since", DATE)],
            Proceed,
        ),
        (
            &[("if-none-match", ""), ("if-modified-since", DATE)],
            Proceed,
        ),
        (
            &[("if-none-match", TAG), ("if-modified-since", DATE_BEFORE)],
            NotModified,
        ),
        // A date later than the server's clock is invalid (§13.1.3): ignored.
        (
            &[("if-modified-since", "Fri, 01 Jan 2100 00:00:00 GMT")],
            Proceed,
        ),
        (
            &[("if-unmodified-since", "Fri, 01 Jan 2100 00:00:00 GMT")],
            Proceed,
        ),
        // 412 wins over 304: steps 1 and 2 come first.
        (&[("if-match", "\"x\""), ("if-none-match", TAG)], Failed),
        (
            &[("if-unmodified-since", DATE_BEFORE), ("if-none-match", TAG)],
            Failed,
        ),
        (&[("if-match", TAG), ("if-none-match", TAG)], NotModified),
        (&[("if-match", "*"), ("if-none-match", "*")], NotModified),
    ];
    assert!(cases.len() >= 40);
    for (pairs, want) in cases {
        assert_eq!(eval(Method::GET, pairs), *want, "GET {pairs:?}");
        assert_eq!(eval(Method::HEAD, pairs), *want, "HEAD {pairs:?}");
    }
}

#[test]
fn other_methods() {
    use Precondition::*;
    let cases: &[(Method, Fields, Precondition)] = &[
        // If-None-Match true on a method other than GET/HEAD is 412, not 304 (§13.1.2).
        (Method::PUT, &[("if-none-match", "*")], Failed),
        (Method::DELETE, &[("if-none-match", TAG)], Failed),
        (Method::PUT, &[("if-none-match", "\"other\"")], Proceed),
        // If-Modified-Since is for GET and HEAD only.
        (Method::POST, &[("if-modified-since", DATE)], Proceed),
        (Method::PUT, &[("if-match", TAG)], Proceed),
        (Method::PUT, &[("if-match", "\"x\"")], Failed),
        (Method::PUT, &[("if-unmodified-since", DATE_BEFORE)], Failed),
    ];
    for (method, pairs, want) in cases {
        assert_eq!(eval(method.clone(), pairs), *want, "{method} {pairs:?}");
    }
}

#[test]
fn several_field_lines() {
    use Precondition::*;
    // A list split over lines is one list (§5.3).
    assert_eq!(
        eval(
            Method::GET,
            &[("if-none-match", "\"a\""), ("if-none-match", TAG)]
        ),
        NotModified
    );
    assert_eq!(
        eval(Method::GET, &[("if-match", "\"a\""), ("if-match", TAG)]),
        Proceed
    );
    // `*` alongside tags is not the `*` form.
    assert_eq!(
        eval(Method::GET, &[("if-match", "*"), ("if-match", "\"a\"")]),
        Failed
    );
    // One bad line spoils the field.
    assert_eq!(
        eval(Method::GET, &[("if-match", TAG), ("if-match", "bad")]),
        Failed
    );
    // A date field with more than one member is ignored (§13.1.3, §13.1.4).
    assert_eq!(
        eval(
            Method::GET,
            &[("if-modified-since", DATE), ("if-modified-since", DATE)]
        ),
        Proceed
    );
    assert_eq!(
        eval(
            Method::GET,
            &[
                ("if-unmodified-since", DATE_BEFORE),
                ("if-unmodified-since", DATE_BEFORE)
            ]
        ),
        Proceed
    );
}

#[test]
fn obs_text_is_present_but_never_matches() {
    let mut map = HeaderMap::default();
    map.insert(
        IF_NONE_MATCH,
        HeaderValue::from_bytes(b"\"caf\xe9\"").unwrap(),
    );
    map.insert(IF_MODIFIED_SINCE, HeaderValue::from_static(DATE));
    // The field is well formed, does not match, and so If-Modified-Since is ignored.
    assert_eq!(
        evaluate_at(&Method::GET, &map, &tag(), Some(at(MODIFIED)), now),
        Precondition::Proceed
    );
    let mut map = HeaderMap::default();
    map.insert(IF_MATCH, HeaderValue::from_bytes(b"\"\xff\"").unwrap());
    assert_eq!(
        evaluate_at(&Method::GET, &map, &tag(), Some(at(MODIFIED)), now),
        Precondition::Failed
    );
}

#[test]
fn future_dates() {
    let get = Method::GET;
    // If-Modified-Since later than our clock is invalid and ignored (§13.1.3)...
    let h = headers(&[("if-modified-since", DATE_AFTER)]);
    let m = Some(at(MODIFIED));
    assert_eq!(
        evaluate_at(&get, &h, &tag(), m, || at(MODIFIED)),
        Precondition::Proceed
    );
    assert_eq!(
        evaluate_at(&get, &h, &tag(), m, || at(MODIFIED + 1)),
        Precondition::NotModified
    );
    // ...but If-Unmodified-Since has no such rule (§13.1.4): a file whose time is ahead
    // of the clock still fails it.
    let h = headers(&[("if-unmodified-since", DATE_AFTER)]);
    assert_eq!(
        evaluate_at(&get, &h, &tag(), Some(at(MODIFIED + 5)), || at(MODIFIED)),
        Precondition::Failed
    );
}

#[test]
fn without_last_modified_dates_are_ignored() {
    for pairs in [
        &[("if-modified-since", DATE)][..],
        &[("if-unmodified-since", "Thu, 01 Jan 1970 00:00:00 GMT")][..],
    ] {
        assert_eq!(
            evaluate_at(&Method::GET, &headers(pairs), &tag(), None, now),
            Precondition::Proceed,
            "{pairs:?}"
        );
    }
}

#[test]
fn weak_and_strong_comparison_table() {
    // RFC 9110 §8.8.3.2: (ETag 1, ETag 2, strong comparison, weak comparison).
    let cases: &[(&str, &str, bool, bool)] = &[
        ("W/\"1\"", "W/\"1\"", false, true),
        ("W/\"1\"", "W/\"2\"", false, false),
        ("W/\"1\"", "\"1\"", false, true),
        ("\"1\"", "\"1\"", true, true),
    ];
    for (a, b, strong, weak) in cases {
        let (a, _) = parse_tag(a.as_bytes()).unwrap();
        let (b, _) = parse_tag(b.as_bytes()).unwrap();
        // Compare both ways: the table is symmetric.
        for (x, y) in [(a, b), (b, a)] {
            let ours = ETag {
                opaque: String::from_utf8(y.opaque.to_vec()).unwrap(),
                weak: false,
            };
            let y_strong = !y.weak;
            assert_eq!(
                x.matches(&ours, Comparison::Strong) && y_strong,
                *strong,
                "strong {x:?} {y:?}"
            );
            assert_eq!(
                x.matches(&ours, Comparison::Weak),
                *weak,
                "weak {x:?} {y:?}"
            );
        }
    }
}

#[test]
fn list_grammar() {
    // (field, the opaque tags it lists, or None when malformed)
    let cases: &[(&[u8], Option<&[&str]>)] = &[
        (b"\"a\"", Some(&["a"])),
        (b"\"a\",\"b\"", Some(&["a", "b"])),
        (b"  \"a\" ,\t\"b\"  ", Some(&["a", "b"])),
        (b"\"a,b\"", Some(&["a,b"])),
        (b"\"a,b\", W/\"c\"", Some(&["a,b", "c"])),
        (b"\"\"", Some(&[""])),
        (b"W/\"\"", Some(&[""])),
        (b",,,", Some(&[])),
        (b"", Some(&[])),
        (b"\"a\",,\"b\"", Some(&["a", "b"])),
        (b"\"!#~\"", Some(&["!#~"])),
        (b"\"\xc3\xa9\"", Some(&["\u{e9}"])),
        (b"\"a b\"", None),
        (b"\"a\tb\"", None),
        (b"\"a\x7f\"", None),
        (b"\"a\"\"b\"", None),
        (b"\"a\" \"b\"", None),
        (b"\"", None),
        (b"W/", None),
        (b"W/\"", None),
        (b"W\"a\"", None),
        (b"W /\"a\"", None),
        (b"a", None),
        (b"*", None),
        (b"\"a\", *", None),
        (b"'a'", None),
    ];
    for (field, want) in cases {
        let mut got = Vec::new();
        let parsed = parse_list(field, |t| {
            got.push(String::from_utf8(t.opaque.to_vec()).unwrap())
        });
        let got = parsed.ok().map(|()| got);
        let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(got, want, "{:?}", String::from_utf8_lossy(field));
    }
}

#[test]
fn if_range() {
    let cases: &[(&[(&'static str, &str)], bool)] = &[
        (&[], true),
        (&[("if-range", TAG)], true),
        (&[("if-range", " \"5-65537f00\" ")], true),
        (&[("if-range", "\"other\"")], false),
        // A weak tag never validates a range (§13.1.5).
        (&[("if-range", "W/\"5-65537f00\"")], false),
        (&[("if-range", "\"5-65537f00\", \"x\"")], false),
        (&[("if-range", "\"5-65537f00\" trailing")], false),
        (&[("if-range", "*")], false),
        (&[("if-range", DATE)], true),
        (&[("if-range", "Tuesday, 14-Nov-23 22:13:20 GMT")], true),
        (&[("if-range", DATE_AFTER)], false),
        (&[("if-range", DATE_BEFORE)], false),
        (&[("if-range", "yesterday")], false),
        (&[("if-range", "")], false),
        (&[("if-range", TAG), ("if-range", TAG)], false),
    ];
    for (pairs, want) in cases {
        assert_eq!(
            if_range_allows_at(&headers(pairs), &tag(), Some(at(MODIFIED)), now),
            *want,
            "{pairs:?}"
        );
    }
}

#[test]
fn if_range_date_needs_a_strong_last_modified() {
    let h = headers(&[("if-range", DATE)]);
    // Modified less than a second ago: the date is weak and cannot validate a range.
    let just_now = at(MODIFIED) + Duration::from_millis(500);
    assert!(!if_range_allows_at(&h, &tag(), Some(at(MODIFIED)), || {
        just_now
    }));
    assert!(if_range_allows_at(&h, &tag(), Some(at(MODIFIED)), || at(
        MODIFIED + 1
    )));
    // No Last-Modified: nothing to compare a date with.
    assert!(!if_range_allows_at(&h, &tag(), None, now));
    // Sub-second precision in the file's time does not spoil the comparison.
    let precise = at(MODIFIED) + Duration::from_nanos(123_456_789);
    assert!(if_range_allows_at(&h, &tag(), Some(precise), now));
}

#[test]
fn public_entry_points_use_the_clock() {
    // The same answers through the functions that read the real clock.
    let h = headers(&[("if-none-match", TAG)]);
    assert_eq!(
        evaluate(&Method::GET, &h, &tag(), Some(at(MODIFIED))),
        Precondition::NotModified
    );
    let h = headers(&[("if-modified-since", DATE)]);
    assert_eq!(
        evaluate(&Method::GET, &h, &tag(), Some(at(MODIFIED))),
        Precondition::NotModified
    );
    assert!(if_range_allows(
        &headers(&[("if-range", DATE)]),
        &tag(),
        Some(at(MODIFIED))
    ));
}

/// Reading the clock is a host call: only a date compared with it asks for it.
#[test]
fn the_clock_is_read_only_for_a_date_to_check() {
    let unread = || -> SystemTime { panic!("the clock was read") };
    let plain = headers(&[("if-none-match", "\"other\"")]);
    let modified = Some(at(MODIFIED));
    assert_eq!(
        evaluate_at(&Method::GET, &plain, &tag(), modified, unread),
        Precondition::Proceed
    );
    assert!(if_range_allows_at(&plain, &tag(), modified, unread));
    let tagged = headers(&[("if-range", TAG)]);
    assert!(if_range_allows_at(&tagged, &tag(), modified, unread));
    // A date to check does read it.
    let dated = headers(&[("if-modified-since", DATE)]);
    let mut read = false;
    let clock = || {
        read = true;
        now()
    };
    assert_eq!(
        evaluate_at(&Method::GET, &dated, &tag(), modified, clock),
        Precondition::NotModified
    );
    assert!(read);
}
