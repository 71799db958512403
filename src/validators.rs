//! Validators and preconditions: RFC 9110 §8.8 (ETag, Last-Modified), §13.1 (the
//! conditional header fields) and §13.2.2 (the order in which they are evaluated).
//!
//! The ETag is strong and built from metadata only (size, modification time in nanoseconds,
//! and the inode when the host gives one), never from content, so it costs one `stat`. It
//! carries the content coding, because a gzip body and an identity body are different
//! representations (§8.8.3.3). Entity-tag lists are parsed by hand: the grammar is small,
//! and garbage must simply fail to match, never panic.

use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{
    HeaderValue, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, IF_UNMODIFIED_SINCE,
};
use http::{HeaderMap, Method};

use crate::fs::Timestamp;

/// A strong entity tag, without its quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ETag(String);

/// The ETag of a representation: `"<size>-<mtime ns>[-<inode>][-<coding>]"` in hex.
pub fn etag(size: u64, mtime: Option<Timestamp>, inode: Option<u64>, coding: Option<&str>) -> ETag {
    let nanos = mtime.map_or(0, |t| {
        u128::from(t.seconds) * 1_000_000_000 + u128::from(t.nanoseconds)
    });
    let mut tag = format!("{size:x}-{nanos:x}");
    if let Some(inode) = inode {
        tag.push_str(&format!("-{inode:x}"));
    }
    if let Some(coding) = coding {
        tag.push('-');
        tag.push_str(coding);
    }
    ETag(tag)
}

impl ETag {
    pub fn header_value(&self) -> HeaderValue {
        HeaderValue::from_str(&format!("\"{}\"", self.0)).expect("hex digits and a token")
    }

    pub fn opaque(&self) -> &str {
        &self.0
    }
}

/// What the preconditions say about a GET or HEAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    Proceed,
    /// 304: the client's copy is current.
    NotModified,
    /// 412: a precondition the client set is false.
    Failed,
}

/// Evaluates the preconditions of §13.2.2, steps 1-4, for an existing representation.
pub fn evaluate(
    method: &Method,
    headers: &HeaderMap,
    etag: &ETag,
    last_modified: Option<SystemTime>,
) -> Precondition {
    // Step 1 / 2: If-Match, else If-Unmodified-Since.
    if let Some(value) = header_str(headers, &IF_MATCH) {
        if !list_matches(value, etag, Comparison::Strong) {
            return Precondition::Failed;
        }
    } else if let (Some(since), Some(modified)) =
        (header_date(headers, &IF_UNMODIFIED_SINCE), last_modified)
    {
        if seconds(modified) > seconds(since) {
            return Precondition::Failed;
        }
    }
    let safe = *method == Method::GET || *method == Method::HEAD;
    // Step 3 / 4: If-None-Match, else If-Modified-Since (GET and HEAD only).
    if let Some(value) = header_str(headers, &IF_NONE_MATCH) {
        if list_matches(value, etag, Comparison::Weak) {
            return if safe {
                Precondition::NotModified
            } else {
                Precondition::Failed
            };
        }
    } else if safe {
        if let (Some(since), Some(modified)) =
            (header_date(headers, &IF_MODIFIED_SINCE), last_modified)
        {
            // A date in the future is invalid (§13.1.3) and ignored.
            if since <= SystemTime::now() && seconds(modified) <= seconds(since) {
                return Precondition::NotModified;
            }
        }
    }
    Precondition::Proceed
}

/// §13.1.5: whether a Range request may be honoured. Without `If-Range`, yes; with an
/// entity tag, only on a strong match; with a date, only if it equals Last-Modified exactly.
pub fn if_range_allows(
    headers: &HeaderMap,
    etag: &ETag,
    last_modified: Option<SystemTime>,
) -> bool {
    let Some(value) = header_str(headers, &IF_RANGE) else {
        return headers.get(IF_RANGE).is_none();
    };
    let value = value.trim();
    if value.starts_with('"') || value.starts_with("W/") {
        return match parse_tag(value) {
            Some((tag, false, "")) => tag == etag.0,
            _ => false,
        };
    }
    match (httpdate::parse_http_date(value), last_modified) {
        (Ok(date), Some(modified)) => seconds(date) == seconds(modified),
        _ => false,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Strong,
    Weak,
}

/// `*` or a comma-separated list of entity tags; true if any matches `etag`.
fn list_matches(value: &str, etag: &ETag, comparison: Comparison) -> bool {
    if value.trim() == "*" {
        return true;
    }
    let mut rest = value.trim();
    while !rest.is_empty() {
        let Some((tag, weak, after)) = parse_tag(rest) else {
            return false;
        };
        let matches = match comparison {
            Comparison::Strong => !weak && tag == etag.0,
            Comparison::Weak => tag == etag.0,
        };
        if matches {
            return true;
        }
        rest = after.trim_start();
        match rest.strip_prefix(',') {
            Some(after_comma) => rest = after_comma.trim_start(),
            None if rest.is_empty() => {}
            None => return false,
        }
    }
    false
}

/// One `[W/]"opaque"` at the start of `text`: (opaque, weak, the rest).
fn parse_tag(text: &str) -> Option<(&str, bool, &str)> {
    let (weak, text) = match text.strip_prefix("W/") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let body = text.strip_prefix('"')?;
    let end = body.find('"')?;
    let opaque = &body[..end];
    // etagc = %x21 / %x23-7E / obs-text: no spaces, no quotes, no controls.
    if opaque.bytes().any(|b| b <= 0x20 || b == 0x7f) {
        return None;
    }
    Some((opaque, weak, &body[end + 1..]))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &http::header::HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn header_date(headers: &HeaderMap, name: &http::header::HeaderName) -> Option<SystemTime> {
    header_str(headers, name).and_then(|v| httpdate::parse_http_date(v.trim()).ok())
}

/// HTTP dates have one-second resolution; compare at that resolution.
fn seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const TAG: &str = "\"5-65537f00\"";

    fn tag() -> ETag {
        ETag("5-65537f00".into())
    }

    fn modified() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn etag_shape() {
        let t = Timestamp {
            seconds: 1,
            nanoseconds: 5,
        };
        assert_eq!(etag(16, Some(t), None, None).opaque(), "10-3b9aca05");
        assert_eq!(
            etag(16, Some(t), Some(255), None).opaque(),
            "10-3b9aca05-ff"
        );
        assert_eq!(
            etag(16, Some(t), None, Some("br")).opaque(),
            "10-3b9aca05-br"
        );
        assert_ne!(
            etag(16, Some(t), None, Some("gzip")),
            etag(16, Some(t), None, None)
        );
        assert_eq!(
            etag(16, Some(t), None, None).header_value(),
            "\"10-3b9aca05\""
        );
    }

    #[test]
    fn preconditions_in_rfc_order() {
        use Precondition::*;
        let get = Method::GET;
        let cases: &[(&[(&'static str, &str)], Precondition)] = &[
            (&[], Proceed),
            // If-Match: strong comparison, `*`, lists (§13.1.1).
            (&[("if-match", TAG)], Proceed),
            (&[("if-match", "*")], Proceed),
            (&[("if-match", "\"x\", \"5-65537f00\"")], Proceed),
            (&[("if-match", "\"x\"")], Failed),
            (&[("if-match", "W/\"5-65537f00\"")], Failed),
            (&[("if-match", "garbage")], Failed),
            // If-Unmodified-Since, only without If-Match (§13.1.4).
            (
                &[("if-unmodified-since", "Tue, 14 Nov 2023 22:13:20 GMT")],
                Proceed,
            ),
            (
                &[("if-unmodified-since", "Tue, 14 Nov 2023 22:13:19 GMT")],
                Failed,
            ),
            (&[("if-unmodified-since", "not a date")], Proceed),
            (
                &[
                    ("if-match", TAG),
                    ("if-unmodified-since", "Mon, 01 Jan 1990 00:00:00 GMT"),
                ],
                Proceed,
            ),
            // If-None-Match: weak comparison, `*`, lists (§13.1.2).
            (&[("if-none-match", TAG)], NotModified),
            (&[("if-none-match", "W/\"5-65537f00\"")], NotModified),
            (&[("if-none-match", "*")], NotModified),
            (&[("if-none-match", "\"a\", W/\"5-65537f00\"")], NotModified),
            (&[("if-none-match", "\"a\",\"b\"")], Proceed),
            (&[("if-none-match", "\"5-65537f00")], Proceed),
            // If-Modified-Since is ignored when If-None-Match is present (§13.1.3).
            (
                &[("if-modified-since", "Tue, 14 Nov 2023 22:13:20 GMT")],
                NotModified,
            ),
            (
                &[("if-modified-since", "Tue, 14 Nov 2023 22:13:19 GMT")],
                Proceed,
            ),
            (
                &[
                    ("if-none-match", "\"other\""),
                    ("if-modified-since", "Tue, 14 Nov 2023 22:13:20 GMT"),
                ],
                Proceed,
            ),
            (
                &[("if-modified-since", "Fri, 01 Jan 2100 00:00:00 GMT")],
                Proceed,
            ),
            // 412 wins over 304: step 1 comes first.
            (&[("if-match", "\"x\""), ("if-none-match", TAG)], Failed),
        ];
        for (pairs, want) in cases {
            assert_eq!(
                evaluate(&get, &headers(pairs), &tag(), Some(modified())),
                *want,
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn if_none_match_on_unsafe_methods_fails() {
        let h = headers(&[("if-none-match", "*")]);
        assert_eq!(
            evaluate(&Method::PUT, &h, &tag(), Some(modified())),
            Precondition::Failed
        );
        let h = headers(&[("if-modified-since", "Tue, 14 Nov 2023 22:13:20 GMT")]);
        assert_eq!(
            evaluate(&Method::POST, &h, &tag(), Some(modified())),
            Precondition::Proceed
        );
    }

    #[test]
    fn weak_and_strong_comparison_table() {
        // RFC 9110 §8.8.3.2.
        let cases = [
            ("W/\"1\"", "W/\"1\"", false, true),
            ("W/\"1\"", "W/\"2\"", false, false),
            ("W/\"1\"", "\"1\"", false, true),
            ("\"1\"", "\"1\"", true, true),
        ];
        for (a, b, strong, weak) in cases {
            let (tag_b, weak_b, _) = parse_tag(b).unwrap();
            let etag_b = ETag(tag_b.into());
            if !weak_b {
                assert_eq!(
                    list_matches(a, &etag_b, Comparison::Strong),
                    strong,
                    "{a} {b}"
                );
            }
            assert_eq!(list_matches(a, &etag_b, Comparison::Weak), weak, "{a} {b}");
        }
    }

    #[test]
    fn if_range() {
        let cases: &[(&[(&'static str, &str)], bool)] = &[
            (&[], true),
            (&[("if-range", TAG)], true),
            (&[("if-range", "\"other\"")], false),
            (&[("if-range", "W/\"5-65537f00\"")], false),
            (&[("if-range", "Tue, 14 Nov 2023 22:13:20 GMT")], true),
            (&[("if-range", "Tue, 14 Nov 2023 22:13:21 GMT")], false),
            (&[("if-range", "yesterday")], false),
            (&[("if-range", "\"5-65537f00\" trailing")], false),
        ];
        for (pairs, want) in cases {
            assert_eq!(
                if_range_allows(&headers(pairs), &tag(), Some(modified())),
                *want,
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn hostile_lists_never_panic() {
        for value in [
            "",
            ",",
            "\"",
            "W/",
            "W/\"",
            "\"a\",,\"b\"",
            "\"\u{7f}\"",
            "*, \"a\"",
            "\"a\" \"b\"",
        ] {
            let _ = list_matches(value, &tag(), Comparison::Weak);
            let _ = list_matches(value, &tag(), Comparison::Strong);
        }
        assert!(list_matches(
            "\"a\", \"5-65537f00\"",
            &tag(),
            Comparison::Strong
        ));
    }
}
