use super::RangeDecision::*;
use super::*;

fn r(start: u64, end: u64) -> ByteRange {
    ByteRange { start, end }
}

fn check(size: u64, cases: &[(&str, RangeDecision)]) {
    for (header, want) in cases {
        assert_eq!(&parse(header, size), want, "{header:?} on {size} bytes");
    }
}

#[test]
fn rfc_9110_examples() {
    // §14.1.2, on a 10000-byte representation.
    check(
        10_000,
        &[
            ("bytes=0-499", Single(r(0, 499))),
            ("bytes=500-999", Single(r(500, 999))),
            ("bytes=-500", Single(r(9500, 9999))),
            ("bytes=9500-", Single(r(9500, 9999))),
            ("bytes=0-0,-1", Multi(vec![r(0, 0), r(9999, 9999)])),
            // Adjacent: valid, and kept as two parts (no coalescing).
            (
                "bytes=500-600,601-999",
                Multi(vec![r(500, 600), r(601, 999)]),
            ),
            // Overlapping: valid syntax, refused as a shape (the whole body instead).
            ("bytes=500-700,601-999", Full),
        ],
    );
    // §14.4's example 416 answer for a 1234-byte representation.
    assert_eq!(parse("bytes=1234-", 1234), Unsatisfiable);
    assert_eq!(unsatisfied_content_range(1234), "bytes */1234");
    // §15.3.7.1's single part: Content-Range: bytes 21010-47021/47022.
    let Single(range) = parse("bytes=21010-", 47_022) else {
        panic!()
    };
    assert_eq!(range.content_range(47_022), "bytes 21010-47021/47022");
    assert_eq!(range.len(), 26_012);
}

#[test]
fn clamping_and_unsatisfiable() {
    check(
        10_000,
        &[
            ("bytes=0-99999", Single(r(0, 9999))),
            ("bytes=0-9999", Single(r(0, 9999))),
            ("bytes=0-", Single(r(0, 9999))),
            ("bytes=-10000", Single(r(0, 9999))),
            ("bytes=-99999", Single(r(0, 9999))),
            ("bytes=9999-", Single(r(9999, 9999))),
            ("bytes=9999-9999", Single(r(9999, 9999))),
            ("bytes=5-5", Single(r(5, 5))),
            ("bytes=10000-", Unsatisfiable),
            ("bytes=10000-10010", Unsatisfiable),
            ("bytes=-0", Unsatisfiable),
            ("bytes=-000", Unsatisfiable),
            ("bytes=10000-,20000-,-0", Unsatisfiable),
            // Unsatisfiable elements drop out; one survivor is a plain 206.
            ("bytes=10000-,0-1", Single(r(0, 1))),
            ("bytes=-0,9998-", Single(r(9998, 9999))),
            // Leading zeros are just digits.
            ("bytes=007-010", Single(r(7, 10))),
        ],
    );
}

#[test]
fn ignored_headers() {
    check(
        10_000,
        &[
            ("", Full),
            ("bytes", Full),
            ("bytes=", Full),
            ("bytes=,", Full),
            ("bytes= , ,", Full),
            ("items=0-1", Full),
            ("bytes0-1", Full),
            ("=0-1", Full),
            ("bytes==0-1", Full),
            ("bytes = 0-1", Full),
            ("bytes =0-1", Full),
            ("bytes=0 - 1", Full),
            ("bytes=0- 1", Full),
            ("bytes=0-1;q=1", Full),
            ("bytes=abc", Full),
            ("bytes=1-0", Full),
            ("bytes=500-499", Full),
            ("bytes=0-1,1-0", Full),
            ("bytes=-", Full),
            ("bytes=--1", Full),
            ("bytes=-1-2", Full),
            ("bytes=1-2-3", Full),
            ("bytes=+1-2", Full),
            ("bytes=1-+2", Full),
            ("bytes=0x10-", Full),
            ("bytes=1e3-", Full),
            ("bytes=1 2-3", Full),
            ("bytes=\u{661}-2", Full),
            ("bytes=0-1\u{a0}", Full),
            ("bytes=0-1,garbage", Full),
            ("bytes=0-1,10000-", Single(r(0, 1))),
        ],
    );
}

#[test]
fn whitespace_and_case() {
    check(
        10_000,
        &[
            ("BYTES=0-1", Single(r(0, 1))),
            ("Bytes=0-1", Single(r(0, 1))),
            ("  bytes=0-1\t", Single(r(0, 1))),
            ("bytes=0-1, ,2-3", Multi(vec![r(0, 1), r(2, 3)])),
            ("bytes=0-1 ,\t2-3", Multi(vec![r(0, 1), r(2, 3)])),
            ("bytes=,0-1,", Single(r(0, 1))),
            ("bytes= 0-1", Single(r(0, 1))),
        ],
    );
}

#[test]
fn hostile_numbers() {
    let max = u64::MAX;
    check(
        10_000,
        &[
            ("bytes=99999999999999999999999-", Unsatisfiable),
            ("bytes=0-99999999999999999999999", Single(r(0, 9999))),
            ("bytes=-99999999999999999999999", Single(r(0, 9999))),
            ("bytes=18446744073709551615-", Unsatisfiable),
            ("bytes=18446744073709551616-", Unsatisfiable),
            ("bytes=-18446744073709551615", Single(r(0, 9999))),
            ("bytes=0-18446744073709551615", Single(r(0, 9999))),
            // Exact comparison beyond u64: last < first is still malformed.
            (
                "bytes=99999999999999999999999-99999999999999999999998",
                Full,
            ),
            (
                "bytes=99999999999999999999998-99999999999999999999999",
                Unsatisfiable,
            ),
            ("bytes=0000000000000000000000000000001-1", Single(r(1, 1))),
        ],
    );
    // A file as large as a u64 can say.
    check(
        max,
        &[
            ("bytes=0-", Single(r(0, max - 1))),
            ("bytes=-1", Single(r(max - 1, max - 1))),
            ("bytes=-18446744073709551615", Single(r(0, max - 1))),
            ("bytes=18446744073709551614-", Single(r(max - 1, max - 1))),
            ("bytes=18446744073709551615-", Unsatisfiable),
            ("bytes=99999999999999999999-", Unsatisfiable),
        ],
    );
    assert_eq!(r(0, max - 1).len(), max);
    let long = format!("bytes=0-{}", "9".repeat(100_000));
    assert_eq!(parse(&long, 10), Single(r(0, 9)));
}

#[test]
fn empty_and_tiny_representations() {
    check(
        0,
        &[
            ("bytes=0-", Unsatisfiable),
            ("bytes=0-0", Unsatisfiable),
            ("bytes=-1", Unsatisfiable),
            ("bytes=-0", Unsatisfiable),
            ("bytes=0-,-5", Unsatisfiable),
            ("bytes=1-0", Full),
            ("items=0-", Full),
        ],
    );
    check(
        1,
        &[
            ("bytes=0-0", Single(r(0, 0))),
            ("bytes=0-", Single(r(0, 0))),
            ("bytes=-5", Single(r(0, 0))),
            ("bytes=1-", Unsatisfiable),
            // Both name byte 0: an overlap, so the whole (one-byte) body.
            ("bytes=0-0,-1", Full),
        ],
    );
}

#[test]
fn multi_range_shapes() {
    check(
        10_000,
        &[
            // Served in the order asked.
            ("bytes=900-999,0-99", Multi(vec![r(900, 999), r(0, 99)])),
            ("bytes=-1,0-0", Multi(vec![r(9999, 9999), r(0, 0)])),
            // Overlap anywhere, even once clamped, refuses the whole set.
            ("bytes=0-10,5-20", Full),
            ("bytes=0-10,10-20", Full),
            ("bytes=5-20,0-5", Full),
            ("bytes=0-9999,0-0", Full),
            ("bytes=-1,-1", Full),
            ("bytes=0-1,0-1", Full),
            ("bytes=9990-20000,9995-30000", Full),
            ("bytes=-100,9950-", Full),
            ("bytes=0-0,2-2,1-1", Multi(vec![r(0, 0), r(2, 2), r(1, 1)])),
            // An unsatisfiable element cannot overlap anything.
            ("bytes=0-1,20000-,20000-", Single(r(0, 1))),
        ],
    );
}

#[test]
fn range_count_cap() {
    let list = |n: usize| {
        let ranges: Vec<String> = (0..n)
            .map(|i| format!("{}-{}", i * 10, i * 10 + 1))
            .collect();
        format!("bytes={}", ranges.join(","))
    };
    assert!(matches!(parse(&list(MAX_RANGES), 1000), Multi(v) if v.len() == MAX_RANGES));
    assert_eq!(parse(&list(MAX_RANGES + 1), 1000), Full);
    assert_eq!(parse(&list(10_000), 1_000_000), Full);
    // Empty elements do not count; unsatisfiable ones do.
    let padded = format!("{},,,,", list(MAX_RANGES));
    assert!(matches!(parse(&padded, 1000), Multi(v) if v.len() == MAX_RANGES));
    assert_eq!(parse(&format!("{},5000-", list(MAX_RANGES)), 1000), Full);
}

#[test]
fn byte_range_is_in_bounds_by_construction() {
    let cases: &[(u64, u64, u64, Option<u64>)] = &[
        (0, 0, 1, Some(1)),
        (0, 9, 10, Some(10)),
        (3, 5, 10, Some(3)),
        (0, 10, 10, None),
        (5, 4, 10, None),
        (0, 0, 0, None),
        (0, u64::MAX - 1, u64::MAX, Some(u64::MAX)),
        (u64::MAX, u64::MAX, u64::MAX, None),
    ];
    for &(start, end, size, len) in cases {
        let range = ByteRange::new(start, end, size);
        assert_eq!(range.map(|r| r.len()), len, "{start}-{end}/{size}");
        if let Some(range) = range {
            assert_eq!((range.start(), range.end()), (start, end));
        }
    }
    assert_eq!(r(0, 499).content_range(1234), "bytes 0-499/1234");
    assert_eq!(r(5, 5).len(), 1);
}

/// Builds the body the glue would send, from `data` (its length is the size).
fn body(b: &str, content_type: &str, ranges: &[ByteRange], data: &str) -> String {
    let size = data.len() as u64;
    let mut body = String::new();
    for (i, range) in ranges.iter().enumerate() {
        body.push_str(&part_header(b, content_type, range, size, i == 0));
        body.push_str(&data[range.start() as usize..=range.end() as usize]);
    }
    body.push_str(&closing(b));
    body
}

/// What [`Multipart::write`] sends, with `data` standing in for the file.
fn written(multipart: &Multipart, data: &str) -> String {
    struct Text<'a>(&'a str, String);
    impl Sink for Text<'_> {
        type File = ();
        fn open(&mut self, _: &crate::path::SafePath) -> Option<()> {
            Some(())
        }
        fn write(&mut self, bytes: &[u8]) -> bool {
            self.1.push_str(std::str::from_utf8(bytes).unwrap());
            true
        }
        fn send_through(&mut self, _: &(), _: u64, _: u64, _: &mut dyn FnMut(&[u8])) -> bool {
            unreachable!("multipart bodies are sent, not inspected")
        }
        fn send(&mut self, _: &(), start: u64, len: u64, _: u64) -> bool {
            self.1
                .push_str(&self.0[start as usize..(start + len) as usize]);
            true
        }
    }
    let mut sink = Text(data, String::new());
    assert!(multipart.write(&mut sink, &()));
    sink.1
}

#[test]
fn multipart_framing_and_length() {
    let data = "0123456789abcdefghijklmnopqrstuvwxyz";
    let b = boundary(0xabc);
    assert_eq!(b, "sandserve-0000000000000abc");
    let ranges = [r(0, 4), r(10, 19)];
    let sent = body(&b, "text/plain", &ranges, data);
    assert_eq!(
        sent,
        "--sandserve-0000000000000abc\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-4/36\r\n\r\n01234\
         \r\n--sandserve-0000000000000abc\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-19/36\r\n\r\nabcdefghij\
         \r\n--sandserve-0000000000000abc--\r\n"
    );
    for ranges in [
        &[r(0, 0)][..],
        &[r(35, 35), r(0, 0)],
        &[r(0, 0), r(1, 1), r(2, 2)],
        &[r(0, 35)],
    ] {
        let sent = body(&b, "text/plain; charset=utf-8", ranges, data);
        let multipart = Multipart::new(0xabc, "text/plain; charset=utf-8", ranges, 36);
        assert_eq!(multipart.len(), sent.len() as u64, "{ranges:?}");
        assert_eq!(written(&multipart, data), sent, "{ranges:?}");
    }
    assert_eq!(
        Multipart::new(0xabc, "x/y", &[], 36).len(),
        closing(&b).len() as u64
    );
    assert_eq!(
        Multipart::new(0xabc, "x/y", &[], 36).content_type(),
        "multipart/byteranges; boundary=sandserve-0000000000000abc"
    );
}

#[test]
fn boundary_is_a_valid_delimiter() {
    for seed in [0, 1, u64::MAX, 0xdead_beef] {
        let b = boundary(seed);
        assert!((1..=70).contains(&b.len()), "{b}");
        assert!(b.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'));
    }
    assert_ne!(boundary(1), boundary(2));
}

#[test]
fn content_type_cannot_break_the_framing() {
    let part = part_header("B", "text/plain\r\nX-Evil: 1", &r(0, 0), 1, true);
    assert_eq!(
        part,
        "--B\r\nContent-Type: text/plainX-Evil: 1\r\nContent-Range: bytes 0-0/1\r\n\r\n"
    );
    let multipart = Multipart::new(1, "text/plain\r\nX-Evil: 1", &[r(0, 0)], 1);
    let written = written(&multipart, "x");
    assert_eq!(multipart.len(), written.len() as u64);
    assert!(!written.contains("\r\nX-Evil"), "{written}");
}
