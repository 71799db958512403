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
mod tests;

#[cfg(test)]
mod properties;
