//! Range requests, RFC 9110 §14: parsing `Range: bytes=...` against a known size, and the
//! framing of `multipart/byteranges` (§14.6).
//!
//! Rules chosen where the RFC leaves room: an unknown unit or a syntax error ignores the
//! header (a 200, as §14.2 allows); more than [`MAX_RANGES`] ranges, overlapping ranges, or
//! ranges that together ask for more bytes than the file has are treated as abuse and also
//! answered with the whole body (§14.2 permits ignoring such requests); ranges are served in
//! the order asked. Nothing here can overflow: numbers are parsed checked.

use std::fmt::Write;

/// The most ranges one request may ask for.
pub const MAX_RANGES: usize = 16;

/// An inclusive byte range that lies within the representation it was built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    start: u64,
    end: u64,
}

impl ByteRange {
    pub fn start(&self) -> u64 {
        self.start
    }

    pub fn end(&self) -> u64 {
        self.end
    }

    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// `bytes 0-499/1234`.
    pub fn content_range(&self, size: u64) -> String {
        format!("bytes {}-{}/{}", self.start, self.end, size)
    }
}

/// What to send for a Range header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeDecision {
    /// Ignore the header: 200 with the whole representation.
    Full,
    /// 206 with one range.
    Single(ByteRange),
    /// 206 multipart/byteranges.
    Multi(Vec<ByteRange>),
    /// 416 with `Content-Range: bytes */size`.
    Unsatisfiable,
}

/// Decides a `Range` header value for a representation of `size` bytes.
pub fn parse(header: &str, size: u64) -> RangeDecision {
    let Some((unit, specs)) = header.trim().split_once('=') else {
        return RangeDecision::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return RangeDecision::Full;
    }
    let mut ranges = Vec::new();
    let mut count = 0;
    for spec in specs.split(',') {
        let spec = spec.trim();
        if spec.is_empty() {
            continue; // the list grammar allows empty elements (§5.6.1)
        }
        count += 1;
        if count > MAX_RANGES {
            return RangeDecision::Full;
        }
        match parse_spec(spec, size) {
            Spec::Invalid => return RangeDecision::Full,
            Spec::Unsatisfiable => {}
            Spec::Range(range) => ranges.push(range),
        }
    }
    if count == 0 {
        return RangeDecision::Full;
    }
    match ranges.len() {
        0 => RangeDecision::Unsatisfiable,
        1 => RangeDecision::Single(ranges[0]),
        _ if abusive(&ranges, size) => RangeDecision::Full,
        _ => RangeDecision::Multi(ranges),
    }
}

enum Spec {
    Range(ByteRange),
    Unsatisfiable,
    Invalid,
}

fn parse_spec(spec: &str, size: u64) -> Spec {
    let Some((first, last)) = spec.split_once('-') else {
        return Spec::Invalid;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // suffix-range: the last N bytes.
        let Some(n) = number(last) else {
            return Spec::Invalid;
        };
        if n == 0 || size == 0 {
            return Spec::Unsatisfiable;
        }
        let n = n.min(size);
        return Spec::Range(ByteRange {
            start: size - n,
            end: size - 1,
        });
    }
    let Some(start) = number(first) else {
        return Spec::Invalid;
    };
    let end = if last.is_empty() {
        None
    } else {
        match number(last) {
            Some(end) if end >= start => Some(end),
            _ => return Spec::Invalid,
        }
    };
    if start >= size {
        return Spec::Unsatisfiable;
    }
    Spec::Range(ByteRange {
        start,
        end: end.map_or(size - 1, |e| e.min(size - 1)),
    })
}

/// 1*DIGIT, checked: no sign, no spaces inside, no overflow.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Overlapping ranges, or more bytes in total than the file holds, cost the server more
/// than the whole body would: refuse the shape and send the whole body instead.
fn abusive(ranges: &[ByteRange], size: u64) -> bool {
    let total: u128 = ranges.iter().map(|r| u128::from(r.len())).sum();
    if total > u128::from(size) {
        return true;
    }
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable_by_key(|r| r.start);
    sorted.windows(2).any(|w| w[1].start <= w[0].end)
}

/// A boundary that cannot occur in the framing lines and is unlikely in the data.
pub fn boundary(seed: u64) -> String {
    format!("sandserve-{seed:016x}")
}

/// The lines before one part: the delimiter and the part's header fields (§14.6). The first
/// part starts with the delimiter; later ones with CRLF + delimiter, ending the previous body.
pub fn part_header(
    boundary: &str,
    content_type: &str,
    range: &ByteRange,
    size: u64,
    first: bool,
) -> String {
    let mut out = String::with_capacity(96 + content_type.len());
    if !first {
        out.push_str("\r\n");
    }
    let _ = write!(
        out,
        "--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: {}\r\n\r\n",
        range.content_range(size)
    );
    out
}

/// The close delimiter after the last part's body.
pub fn closing(boundary: &str) -> String {
    format!("\r\n--{boundary}--\r\n")
}

/// The exact length of the multipart body, for `Content-Length`.
pub fn multipart_length(
    boundary: &str,
    content_type: &str,
    ranges: &[ByteRange],
    size: u64,
) -> u64 {
    let framing: usize = ranges
        .iter()
        .enumerate()
        .map(|(i, r)| part_header(boundary, content_type, r, size, i == 0).len())
        .sum::<usize>()
        + closing(boundary).len();
    framing as u64 + ranges.iter().map(ByteRange::len).sum::<u64>()
}

#[cfg(test)]
mod tests {
    use super::RangeDecision::*;
    use super::*;

    fn r(start: u64, end: u64) -> ByteRange {
        ByteRange { start, end }
    }

    #[test]
    fn rfc_examples_and_edges() {
        // RFC 9110 §14.1.2 examples, on a 10000-byte representation.
        let size = 10_000;
        let cases: &[(&str, RangeDecision)] = &[
            ("bytes=0-499", Single(r(0, 499))),
            ("bytes=500-999", Single(r(500, 999))),
            ("bytes=-500", Single(r(9500, 9999))),
            ("bytes=9500-", Single(r(9500, 9999))),
            ("bytes=0-0,-1", Multi(vec![r(0, 0), r(9999, 9999)])),
            (
                "bytes=500-600,601-999",
                Multi(vec![r(500, 600), r(601, 999)]),
            ),
            ("bytes=500-700,601-999", Full),
            // Clamping, unsatisfiable and ignored forms.
            ("bytes=0-99999", Single(r(0, 9999))),
            ("bytes=-99999", Single(r(0, 9999))),
            ("bytes=9999-", Single(r(9999, 9999))),
            ("bytes=10000-", Unsatisfiable),
            ("bytes=10000-10010", Unsatisfiable),
            ("bytes=-0", Unsatisfiable),
            ("bytes=10000-,20000-", Unsatisfiable),
            ("bytes=10000-,0-1", Single(r(0, 1))),
            ("BYTES=0-1", Single(r(0, 1))),
            ("bytes = 0-1", Single(r(0, 1))),
            ("bytes=0-1, ,2-3", Multi(vec![r(0, 1), r(2, 3)])),
            ("bytes= 0 - 1", Single(r(0, 1))),
            ("items=0-1", Full),
            ("bytes", Full),
            ("bytes=", Full),
            ("bytes=,", Full),
            ("bytes=abc", Full),
            ("bytes=1-0", Full),
            ("bytes=-", Full),
            ("bytes=--1", Full),
            ("bytes=+1-2", Full),
            ("bytes=0x10-", Full),
            ("bytes=1 2-3", Full),
            ("bytes=99999999999999999999999-", Full),
            ("bytes=0-99999999999999999999999", Full),
            ("bytes=18446744073709551615-", Unsatisfiable),
            ("bytes=-18446744073709551615", Single(r(0, 9999))),
            // Order is kept; overlap and over-asking are refused whole.
            ("bytes=900-999,0-99", Multi(vec![r(900, 999), r(0, 99)])),
            ("bytes=0-10,5-20", Full),
            ("bytes=0-9999,0-0", Full),
            ("bytes=-1,-1", Full),
        ];
        for (header, want) in cases {
            assert_eq!(&parse(header, size), want, "{header}");
        }
    }

    #[test]
    fn empty_and_tiny_representations() {
        assert_eq!(parse("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse("bytes=-1", 0), Unsatisfiable);
        assert_eq!(parse("bytes=0-0", 1), Single(r(0, 0)));
        assert_eq!(parse("bytes=-5", 1), Single(r(0, 0)));
    }

    #[test]
    fn range_count_cap() {
        let ok: Vec<String> = (0..MAX_RANGES)
            .map(|i| format!("{}-{}", i * 10, i * 10 + 1))
            .collect();
        assert!(
            matches!(parse(&format!("bytes={}", ok.join(",")), 1000), Multi(v) if v.len() == MAX_RANGES)
        );
        let too_many: Vec<String> = (0..=MAX_RANGES)
            .map(|i| format!("{}-{}", i * 10, i * 10 + 1))
            .collect();
        assert_eq!(parse(&format!("bytes={}", too_many.join(",")), 1000), Full);
    }

    #[test]
    fn multipart_framing_and_length() {
        let ranges = [r(0, 4), r(10, 19)];
        let b = boundary(0xabc);
        let mut body = String::new();
        let data = "0123456789abcdefghijklmnopqrstuvwxyz";
        for (i, range) in ranges.iter().enumerate() {
            body.push_str(&part_header(&b, "text/plain", range, 36, i == 0));
            body.push_str(&data[range.start() as usize..=range.end() as usize]);
        }
        body.push_str(&closing(&b));
        assert_eq!(
            body,
            "--sandserve-0000000000000abc\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-4/36\r\n\r\n01234\
             \r\n--sandserve-0000000000000abc\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-19/36\r\n\r\nabcdefghij\
             \r\n--sandserve-0000000000000abc--\r\n"
        );
        assert_eq!(
            multipart_length(&b, "text/plain", &ranges, 36),
            body.len() as u64
        );
    }

    #[test]
    fn content_range_and_len() {
        assert_eq!(r(0, 499).content_range(1234), "bytes 0-499/1234");
        assert_eq!(r(5, 5).len(), 1);
    }
}
