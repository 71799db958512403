//! Validators and preconditions: RFC 9110 §8.8 (ETag, Last-Modified), §13.1 (the
//! conditional header fields) and §13.2.2 (the order in which they are evaluated).
//!
//! A file's ETag is strong and built from metadata only (size and modification time in
//! nanoseconds), never from content, so it costs one `stat`. It carries
//! the content coding, because a gzip body and an identity body are different representations
//! (§8.8.3.3) and a cache must never mix their byte ranges.
//!
//! A generated page (a listing) gets a weak ETag (§8.8.1) from a digest of what it shows:
//! the same entries, order and format give the same page, gzip'd or not, and a page is never
//! served in ranges, so the weak comparison of `If-None-Match` is all it needs. A weak tag
//! never passes `If-Match` or `If-Range`, which compare strongly.
//!
//! Rules chosen where the RFC leaves room, or where it is easy to get wrong:
//! - A list field (`If-Match`, `If-None-Match`) may arrive on several lines; the lines are one
//!   list (§5.3). Empty elements are skipped (§5.6.1). One malformed element makes the whole
//!   field match nothing: `If-Match` then fails (412) and `If-None-Match` lets the request
//!   through (200), which are the outcomes that never serve a stale or wrong body.
//! - `*` matches only when it is the whole field; `*, "a"` is malformed.
//! - Field bytes outside visible ASCII (obs-text) are allowed inside an opaque tag. Our tags
//!   are ASCII, so such a tag never matches, but the field still counts as present.
//! - A date field that is not exactly one valid HTTP-date is ignored (§13.1.3, §13.1.4), and
//!   so is an `If-Modified-Since` later than our clock (§13.1.3). Dates compare at
//!   one-second resolution, as they travel.
//! - `If-Range` with a date succeeds only if it equals Last-Modified to the second and that
//!   Last-Modified is strong in the sense of §8.8.2.2: at least one second before now.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{
    HeaderName, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, IF_UNMODIFIED_SINCE,
};
use http::Method;

use crate::fs::Timestamp;
use crate::header::{trim_ows_bytes, HeaderMap, HeaderValue};

/// An entity tag: its opaque part, without quotes, and whether it is weak. Only [`etag`] and
/// [`weak_etag`] build one, so the opaque part is always visible ASCII without `"`, and
/// always a valid header value once quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ETag {
    opaque: String,
    weak: bool,
}

/// The ETag of a representation: `"<size>-<mtime ns>[-<coding>]"`, numbers in hex. WASI
/// reports no inode, so none can be part of it.
///
/// A host that reports no modification time gets `0` there; the tag then changes only with
/// the size, which is the best metadata can do.
pub(crate) fn etag(size: u64, mtime: Option<Timestamp>, coding: Option<&str>) -> ETag {
    let nanos = mtime.map_or(0, |t| {
        u128::from(t.seconds) * 1_000_000_000 + u128::from(t.nanoseconds)
    });
    // Written by hand, not by `format!`: see `push_hex`.
    let mut tag = String::with_capacity(48);
    push_hex(&mut tag, u128::from(size), 1);
    tag.push('-');
    push_hex(&mut tag, nanos, 1);
    if let Some(coding) = coding {
        tag.push('-');
        // Coding names are tokens; anything else is dropped so the tag stays a valid etagc.
        tag.extend(coding.chars().filter(|c| c.is_ascii_graphic() && *c != '"'));
    }
    ETag {
        opaque: tag,
        weak: false,
    }
}

/// The weak ETag of a generated page, `W/"<digest in hex>"`, from a digest of what it shows.
pub(crate) fn weak_etag(digest: &[u8]) -> ETag {
    let mut opaque = String::with_capacity(digest.len() * 2);
    for byte in digest {
        push_hex(&mut opaque, u128::from(*byte), 2);
    }
    ETag { opaque, weak: true }
}

/// Appends `n` in lower-case hex, zero-padded to `width` digits. A plain GET formats nothing
/// else, and `format!` would be its only indirect calls (`header/value.rs` says what the
/// first of those costs a fresh instance).
fn push_hex(out: &mut String, n: u128, width: u32) {
    let digits = (128 - n.leading_zeros()).div_ceil(4).max(width);
    for shift in (0..digits).rev() {
        let nibble = ((n >> (shift * 4)) & 0xf) as u8;
        out.push(char::from(if nibble < 10 {
            b'0' + nibble
        } else {
            b'a' + nibble - 10
        }));
    }
}

impl ETag {
    /// The `ETag` field value, quoted.
    pub(crate) fn header_value(&self) -> HeaderValue {
        let mut quoted = String::with_capacity(self.opaque.len() + 4);
        if self.weak {
            quoted.push_str("W/");
        }
        quoted.push('"');
        quoted.push_str(&self.opaque);
        quoted.push('"');
        HeaderValue::from_str(&quoted).expect("visible ASCII without quotes")
    }
}

/// What the preconditions say about a request on an existing representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precondition {
    /// Go on: evaluate Range, then send the representation.
    Proceed,
    /// 304: the client's copy is current (GET and HEAD only).
    NotModified,
    /// 412: a precondition the client set is false.
    Failed,
}

/// Evaluates §13.2.2 steps 1-4 for a request on an existing representation.
pub(crate) fn evaluate(
    method: &Method,
    headers: &HeaderMap,
    etag: &ETag,
    last_modified: Option<SystemTime>,
) -> Precondition {
    evaluate_at(method, headers, etag, last_modified, SystemTime::now)
}

/// `now` is asked only when a date has to be checked against the clock: most requests carry
/// no date, and reading the clock is a host call.
fn evaluate_at(
    method: &Method,
    headers: &HeaderMap,
    etag: &ETag,
    last_modified: Option<SystemTime>,
    now: impl FnOnce() -> SystemTime,
) -> Precondition {
    let last_modified = last_modified.map(seconds);
    // Step 1: If-Match, strong comparison. Step 2, only without it: If-Unmodified-Since.
    if let Some(matched) = list_matches(headers, &IF_MATCH, etag, Comparison::Strong) {
        if !matched {
            return Precondition::Failed;
        }
    } else if let (Some(since), Some(modified)) =
        (single_date(headers, &IF_UNMODIFIED_SINCE), last_modified)
    {
        if modified > since {
            return Precondition::Failed;
        }
    }
    // Step 3: If-None-Match, weak comparison. Step 4, only without it and only for GET and
    // HEAD: If-Modified-Since.
    let get_or_head = *method == Method::GET || *method == Method::HEAD;
    if let Some(matched) = list_matches(headers, &IF_NONE_MATCH, etag, Comparison::Weak) {
        if matched {
            return if get_or_head {
                Precondition::NotModified
            } else {
                Precondition::Failed
            };
        }
    } else if get_or_head {
        // A date later than our clock is invalid (§13.1.3): the client's copy cannot be
        // from the future, so 304 on its word could hide a change.
        let since = single_date(headers, &IF_MODIFIED_SINCE).filter(|&d| d <= seconds(now()));
        if let (Some(since), Some(modified)) = (since, last_modified) {
            if modified <= since {
                return Precondition::NotModified;
            }
        }
    }
    Precondition::Proceed
}

/// §13.1.5: whether a Range request may be honoured. Without `If-Range`, yes. With an
/// entity tag, only when it is strong and equal to ours. With a date, only when it equals
/// Last-Modified and that is a strong validator. Anything else (malformed, several field
/// lines, a weak tag) says no, and the caller sends the whole representation.
pub(crate) fn if_range_allows(
    headers: &HeaderMap,
    etag: &ETag,
    last_modified: Option<SystemTime>,
) -> bool {
    if_range_allows_at(headers, etag, last_modified, SystemTime::now)
}

fn if_range_allows_at(
    headers: &HeaderMap,
    etag: &ETag,
    last_modified: Option<SystemTime>,
    now: impl FnOnce() -> SystemTime,
) -> bool {
    let mut lines = headers.get_all(IF_RANGE).iter();
    let (Some(value), None) = (lines.next(), lines.next()) else {
        return headers.get(IF_RANGE).is_none();
    };
    let value = trim_ows_bytes(value.as_bytes());
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        return match parse_tag(value) {
            Some((tag, [])) => tag.matches(etag, Comparison::Strong),
            _ => false,
        };
    }
    let (Some(date), Some(modified)) = (parse_date(value), last_modified) else {
        return false;
    };
    // §8.8.2.2: a modification time is strong only if at least a second has passed since
    // it, or the file could have changed again within the same second.
    let strong = now()
        .duration_since(modified)
        .is_ok_and(|d| d >= Duration::from_secs(1));
    strong && seconds(modified) == date
}

/// How an entity-tag list is compared (§8.8.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    /// Both tags strong and their opaque parts equal.
    Strong,
    /// Opaque parts equal, weak or not.
    Weak,
}

/// One parsed `entity-tag`, borrowing the field's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tag<'a> {
    weak: bool,
    opaque: &'a [u8],
}

impl Tag<'_> {
    fn matches(self, etag: &ETag, comparison: Comparison) -> bool {
        let strong_enough = comparison == Comparison::Weak || !(self.weak || etag.weak);
        strong_enough && self.opaque == etag.opaque.as_bytes()
    }
}

/// `None` if the field is absent; otherwise whether it is `*` or lists a tag matching
/// `etag`. The representation exists (the caller has stat'ed it), so `*` always matches.
fn list_matches(
    headers: &HeaderMap,
    name: &HeaderName,
    etag: &ETag,
    comparison: Comparison,
) -> Option<bool> {
    let lines: Vec<&[u8]> = headers
        .get_all(name)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    if lines.is_empty() {
        return None;
    }
    if let [only] = lines.as_slice() {
        if trim_ows_bytes(only) == b"*" {
            return Some(true);
        }
    }
    let mut found = false;
    for line in lines {
        match parse_list(line, |tag| found |= tag.matches(etag, comparison)) {
            Ok(()) => {}
            Err(Malformed) => return Some(false),
        }
    }
    Some(found)
}

/// A field value that does not follow the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Malformed;

/// `#entity-tag`: calls `each` for every tag, in order, or fails on the first bad element.
fn parse_list<'a>(line: &'a [u8], mut each: impl FnMut(Tag<'a>)) -> Result<(), Malformed> {
    let mut rest = line;
    loop {
        // Empty elements and the optional whitespace around commas (§5.6.1).
        while let [b' ' | b'\t' | b',', tail @ ..] = rest {
            rest = tail;
        }
        if rest.is_empty() {
            return Ok(());
        }
        let (tag, after) = parse_tag(rest).ok_or(Malformed)?;
        each(tag);
        rest = trim_ows_bytes(after);
        match rest {
            [] => return Ok(()),
            [b',', tail @ ..] => rest = tail,
            _ => return Err(Malformed),
        }
    }
}

/// One `entity-tag = [ %s"W/" ] DQUOTE *etagc DQUOTE` at the start of `text`, and the rest.
fn parse_tag(text: &[u8]) -> Option<(Tag<'_>, &[u8])> {
    let (weak, text) = match text.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let body = text.strip_prefix(b"\"")?;
    let end = body.iter().position(|&b| b == b'"')?;
    let opaque = &body[..end];
    // etagc = %x21 / %x23-7E / obs-text: no spaces, no controls (the quote ended the scan).
    if opaque.iter().any(|&b| b <= b' ' || b == 0x7f) {
        return None;
    }
    Some((Tag { weak, opaque }, &body[end + 1..]))
}

/// The date in `name`, in whole seconds, if the field is exactly one valid HTTP-date;
/// `None` means the field is to be ignored.
fn single_date(headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
    let mut lines = headers.get_all(name).iter();
    let (Some(value), None) = (lines.next(), lines.next()) else {
        return None;
    };
    parse_date(trim_ows_bytes(value.as_bytes()))
}

/// Any of the three HTTP-date forms (§5.6.7), as seconds since the epoch.
fn parse_date(value: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(value).ok()?;
    httpdate::parse_http_date(text).ok().map(seconds)
}

/// HTTP dates have one-second resolution; compare at that resolution. Times before the
/// epoch count as the epoch (no file served here is that old).
fn seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod properties;
