//! Range requests, RFC 9110 §14: deciding a `Range: bytes=...` header against a known size,
//! and the framing of `multipart/byteranges` (§14.6).
//!
//! Rules, including the ones chosen where the RFC leaves room (§14.2 lets a server ignore a
//! Range header, answering 200 with the whole representation):
//! - The unit must be `bytes`, any case; another unit, or a header that breaks the grammar
//!   anywhere, is ignored (`Full`). Whitespace is allowed only around list elements
//!   (§5.6.1); `bytes = 0-1` and `bytes=0 - 1` are malformed. Empty list
//!   elements are skipped; a set with no element at all is malformed.
//! - `a-b` with `b < a` is malformed (§14.1.1), so the whole header is ignored.
//! - A range starting at or past the end, and the suffix `-0`, are unsatisfiable and
//!   dropped; when nothing is left the answer is 416. On an empty file every range is
//!   unsatisfiable, suffixes included. Ends past the last byte are clamped to it.
//! - More than [`MAX_RANGES`] elements: ignored (`Full`), before any is looked at.
//! - Several satisfiable ranges must be pairwise disjoint, or the set is ignored (`Full`):
//!   no byte is sent twice, so a multipart body never carries more range data than the file
//!   holds. Out-of-order ranges are served in the order asked (a reader may want a file's
//!   trailer before its header); the cap bounds how many parts that costs. Adjacent ranges
//!   (`500-600,601-999`) are not coalesced: each range asked is one part.
//! - Numbers of any length are exact: a first-pos beyond `u64` is simply past the end, and
//!   a suffix beyond `u64` is the whole file. Nothing here can overflow or panic.

use std::cmp::Ordering;
use std::fmt::Write;

use crate::header::trim_ows;
use crate::sink::Sink;

/// The most range elements one request may ask for.
pub(crate) const MAX_RANGES: usize = 16;

/// An inclusive, non-empty byte range that lies within the representation it was built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ByteRange {
    start: u64,
    end: u64,
}

impl ByteRange {
    /// `start..=end` of a representation of `size` bytes, if it lies within it.
    pub(crate) fn new(start: u64, end: u64, size: u64) -> Option<ByteRange> {
        (start <= end && end < size).then_some(ByteRange { start, end })
    }

    pub(crate) fn start(&self) -> u64 {
        self.start
    }

    /// The last byte, inclusive.
    pub(crate) fn end(&self) -> u64 {
        self.end
    }

    /// The number of bytes; at least 1, and cannot overflow because `end < size <= u64::MAX`.
    pub(crate) fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// The `Content-Range` value for this range: `bytes 0-499/1234`.
    pub(crate) fn content_range(&self, size: u64) -> String {
        format!("bytes {}-{}/{}", self.start, self.end(), size)
    }
}

/// The `Content-Range` value of a 416 answer: `bytes */1234` (§14.4).
pub(crate) fn unsatisfied_content_range(size: u64) -> String {
    format!("bytes */{size}")
}

/// What to send for a Range header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RangeDecision {
    /// Ignore the header: 200 with the whole representation.
    Full,
    /// 206 with one range.
    Single(ByteRange),
    /// 206 `multipart/byteranges`, two to [`MAX_RANGES`] disjoint ranges, in the order asked.
    Multi(Vec<ByteRange>),
    /// 416 with `Content-Range: bytes */size`.
    Unsatisfiable,
}

/// Decides a `Range` field value for a representation of `size` bytes.
pub(crate) fn parse(header: &str, size: u64) -> RangeDecision {
    match parse_set(header, size) {
        Ok(ranges) => decide(ranges),
        Err(Ignore) => RangeDecision::Full,
    }
}

/// The header is malformed, in another unit, or shaped like abuse: send the whole body.
struct Ignore;

/// The satisfiable ranges of a well-formed `bytes` range set, in the order asked.
fn parse_set(header: &str, size: u64) -> Result<Vec<ByteRange>, Ignore> {
    let (unit, set) = trim_ows(header).split_once('=').ok_or(Ignore)?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return Err(Ignore);
    }
    let mut ranges = Vec::new();
    let mut elements = 0;
    for element in set.split(',').map(trim_ows).filter(|e| !e.is_empty()) {
        elements += 1;
        if elements > MAX_RANGES {
            return Err(Ignore);
        }
        if let Some(range) = parse_spec(element, size)? {
            ranges.push(range);
        }
    }
    if elements == 0 {
        return Err(Ignore);
    }
    Ok(ranges)
}

fn decide(ranges: Vec<ByteRange>) -> RangeDecision {
    match ranges.as_slice() {
        [] => RangeDecision::Unsatisfiable,
        [only] => RangeDecision::Single(*only),
        _ if overlapping(&ranges) => RangeDecision::Full,
        _ => RangeDecision::Multi(ranges),
    }
}

/// One `range-spec`: `Ok(None)` when it is well formed but unsatisfiable.
fn parse_spec(spec: &str, size: u64) -> Result<Option<ByteRange>, Ignore> {
    let (first, last) = spec.split_once('-').ok_or(Ignore)?;
    if first.is_empty() {
        // suffix-range: the last N bytes, or all of them if there are fewer.
        let n = Digits::parse(last)?.saturating_value();
        if n == 0 || size == 0 {
            return Ok(None);
        }
        return Ok(ByteRange::new(size - n.min(size), size - 1, size));
    }
    let first = Digits::parse(first)?;
    let last = match last {
        "" => None,
        text => Some(Digits::parse(text)?),
    };
    if last.is_some_and(|last| last.cmp_exact(first) == Ordering::Less) {
        return Err(Ignore);
    }
    // Saturating is exact here: a number past u64::MAX is past every size.
    let start = first.saturating_value();
    if start >= size {
        return Ok(None);
    }
    let end = last
        .map_or(u64::MAX, Digits::saturating_value)
        .min(size - 1);
    Ok(ByteRange::new(start, end, size))
}

/// `1*DIGIT`, kept as text so that comparisons stay exact however many digits there are.
#[derive(Debug, Clone, Copy)]
struct Digits<'a>(&'a str);

impl<'a> Digits<'a> {
    fn parse(text: &'a str) -> Result<Digits<'a>, Ignore> {
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Digits(text))
        } else {
            Err(Ignore)
        }
    }

    fn saturating_value(self) -> u64 {
        self.0.bytes().fold(0u64, |n, digit| {
            n.saturating_mul(10).saturating_add(u64::from(digit - b'0'))
        })
    }

    fn cmp_exact(self, other: Digits<'_>) -> Ordering {
        let a = self.0.trim_start_matches('0');
        let b = other.0.trim_start_matches('0');
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }
}

/// Whether any byte is asked for twice. Disjoint ranges inside the file cannot add up to
/// more than its size, so this also bounds the range data of a multipart body by the size.
fn overlapping(ranges: &[ByteRange]) -> bool {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable_by_key(|r| r.start);
    sorted.windows(2).any(|w| w[1].start <= w[0].end)
}

/// A `multipart/byteranges` body (§14.6): the framing of each part with its range of the
/// file, the closing delimiter, and the exact length they add up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Multipart {
    boundary: String,
    parts: Vec<(String, ByteRange)>,
    closing: String,
    size: u64,
}

impl Multipart {
    /// The body for `ranges` of a representation of `size` bytes and `content_type`. `seed`
    /// picks the boundary: pass metadata, so a response and its retry frame alike.
    pub(crate) fn new(seed: u64, content_type: &str, ranges: &[ByteRange], size: u64) -> Multipart {
        let boundary = boundary(seed);
        let parts = ranges
            .iter()
            .enumerate()
            .map(|(i, r)| (part_header(&boundary, content_type, r, size, i == 0), *r))
            .collect();
        let closing = closing(&boundary);
        Multipart {
            boundary,
            parts,
            closing,
            size,
        }
    }

    /// The response's `Content-Type`.
    pub(crate) fn content_type(&self) -> String {
        format!("multipart/byteranges; boundary={}", self.boundary)
    }

    /// The exact body length: the `Content-Length`. Saturates at `u64::MAX`, which only a
    /// file of nearly that size could reach.
    pub(crate) fn len(&self) -> u64 {
        self.parts
            .iter()
            .fold(self.closing.len() as u64, |total, (framing, range)| {
                total
                    .saturating_add(framing.len() as u64)
                    .saturating_add(range.len())
            })
    }

    /// Writes the body: each part's framing then its bytes of `file`, then the closing.
    pub(crate) fn write<S: Sink>(&self, sink: &mut S, file: &S::File) -> bool {
        self.parts.iter().all(|(framing, range)| {
            sink.write(framing.as_bytes()) && sink.send(file, range.start(), range.len(), self.size)
        }) && sink.write(self.closing.as_bytes())
    }
}

/// A multipart boundary (RFC 2046 §5.1.1: 1 to 70 `bchars`). It only has to be absent from
/// the framing lines; a part's body may contain anything, because each part's length is
/// fixed by its `Content-Range`.
fn boundary(seed: u64) -> String {
    format!("sandserve-{seed:016x}")
}

/// The bytes before one part's data: its delimiter line and header fields (§14.6).
///
/// Framing: RFC 2046 §5.1.1 attaches the CRLF before each delimiter to the delimiter, so the
/// parts after the first (`first == false`) begin with CRLF, which ends the previous part's
/// data. The first part begins directly with `--boundary`: the body has no preamble. Control
/// characters in `content_type` are dropped so it cannot break the framing.
fn part_header(
    boundary: &str,
    content_type: &str,
    range: &ByteRange,
    size: u64,
    first: bool,
) -> String {
    let mut out = String::with_capacity(96 + boundary.len() + content_type.len());
    if !first {
        out.push_str("\r\n");
    }
    let _ = write!(out, "--{boundary}\r\nContent-Type: ");
    out.extend(content_type.chars().filter(|c| !c.is_control()));
    let _ = write!(
        out,
        "\r\nContent-Range: {}\r\n\r\n",
        range.content_range(size)
    );
    out
}

/// The close delimiter after the last part's data, with a final CRLF.
fn closing(boundary: &str) -> String {
    format!("\r\n--{boundary}--\r\n")
}

#[cfg(test)]
mod tests {
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
}

#[cfg(test)]
mod properties {
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
}
