//! The syntax every request header the component reads shares (RFC 9110 §5.6), parsed in one
//! place so that the fields built on it cannot disagree:
//!
//! - Optional whitespace is SP and HTAB only (§5.6.3): [`trim_ows`].
//! - A list field may arrive on several field lines, which together are one list (§5.3);
//!   elements are separated by commas with optional whitespace around them, and empty
//!   elements are skipped (§5.6.1): [`elements`]. A field line that is not visible ASCII
//!   cannot hold a token we know, so it is skipped rather than failing the whole field.
//! - A weighted element is `token *( OWS ";" OWS parameter )`, and its weight is the `q`
//!   parameter (name case-insensitive) holding a qvalue (§12.4.2):
//!   `( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, so at most three decimals and
//!   never above 1: [`QValue`]. No `q` means 1. A malformed weight, or a second `q`, drops that
//!   element only; the rest of the field still counts. Other parameters are ignored.
//! - **Duplicates:** when a field names the same value more than once (on one line or on
//!   several), the lowest weight wins, so a refusal (`q=0`) anywhere is honoured: §12.4.2
//!   gives no rule, and taking the lowest is the reading that never sends what the client
//!   said it does not want.
//!
//! Users: content-coding negotiation (`Accept-Encoding`, `encoding.rs`), the HTML-or-JSON
//! choice of a listing and the single-page-app rule (`Accept`, `query.rs`, the router).

use http::header::HeaderName;

mod value;

pub(crate) use value::{HeaderMap, HeaderValue};

/// Strips optional whitespace (SP, HTAB) from both ends.
pub(crate) fn trim_ows(text: &str) -> &str {
    text.trim_matches([' ', '\t'])
}

/// The same for raw field bytes, which may hold obs-text.
pub(crate) fn trim_ows_bytes(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// Every non-empty element of the list field `name`, across all its field lines, trimmed.
pub(crate) fn elements<'a>(
    headers: &'a HeaderMap,
    name: &HeaderName,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(name)
        .iter()
        .filter_map(|line| line.to_str().ok())
        .flat_map(|line| line.split(','))
        .map(trim_ows)
        .filter(|element| !element.is_empty())
}

/// A quality value in thousandths: `q=0.5` is 500. Integers keep `0.3` and `0.300` equal
/// and ties exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct QValue(u16);

impl QValue {
    pub(crate) const ZERO: QValue = QValue(0);
    pub(crate) const ONE: QValue = QValue(1000);

    /// Parses a qvalue as the grammar in the module note allows; `None` otherwise.
    pub(crate) fn parse(text: &str) -> Option<QValue> {
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        match int {
            "0" => {
                let thousandths = frac
                    .bytes()
                    .chain(std::iter::repeat(b'0'))
                    .take(3)
                    .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
                Some(QValue(thousandths))
            }
            "1" if frac.bytes().all(|b| b == b'0') => Some(QValue::ONE),
            _ => None,
        }
    }

    /// `q=0`: "not acceptable".
    pub(crate) fn is_zero(self) -> bool {
        self == QValue::ZERO
    }
}

/// One element of a weighted list: the value before the parameters, and its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Weighted<'a> {
    pub(crate) value: &'a str,
    pub(crate) q: QValue,
}

/// Splits `element` into its value and weight; `None` when the weight is malformed.
pub(crate) fn weighted(element: &str) -> Option<Weighted<'_>> {
    let mut parts = element.split(';');
    let value = trim_ows(parts.next().unwrap_or_default());
    let mut q = None;
    for param in parts {
        let Some((name, text)) = trim_ows(param).split_once('=') else {
            continue;
        };
        if name.eq_ignore_ascii_case("q") {
            if q.is_some() {
                return None;
            }
            q = Some(QValue::parse(text)?);
        }
    }
    Some(Weighted {
        value,
        q: q.unwrap_or(QValue::ONE),
    })
}

/// Every well-formed weighted element of the field `name`.
pub(crate) fn weights<'a>(
    headers: &'a HeaderMap,
    name: &HeaderName,
) -> impl Iterator<Item = Weighted<'a>> + 'a {
    elements(headers, name).filter_map(weighted)
}

/// The weight the field `name` gives `value` (compared case-insensitively), the lowest when
/// it is named more than once; `None` when it is not named.
pub(crate) fn weight_of(headers: &HeaderMap, name: &HeaderName, value: &str) -> Option<QValue> {
    weights(headers, name)
        .filter(|w| w.value.eq_ignore_ascii_case(value))
        .map(|w| w.q)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::ACCEPT;

    fn accept(lines: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::default();
        for line in lines {
            headers.append(ACCEPT, HeaderValue::from_bytes(line).unwrap());
        }
        headers
    }

    #[test]
    fn qvalue_grammar() {
        let cases: &[(&str, Option<u16>)] = &[
            ("1", Some(1000)),
            ("1.", Some(1000)),
            ("1.0", Some(1000)),
            ("1.000", Some(1000)),
            ("0", Some(0)),
            ("0.", Some(0)),
            ("0.5", Some(500)),
            ("0.05", Some(50)),
            ("0.005", Some(5)),
            ("0.999", Some(999)),
            ("1.001", None),
            ("1.0000", None),
            ("0.1234", None),
            ("", None),
            (".5", None),
            ("00.5", None),
            ("01", None),
            ("2", None),
            ("0.5 ", None),
            ("0,5", None),
            ("-1", None),
            ("0.5e0", None),
            ("NaN", None),
        ];
        for (text, want) in cases {
            assert_eq!(QValue::parse(text).map(|q| q.0), *want, "{text:?}");
        }
    }

    #[test]
    fn elements_span_lines_and_skip_empties() {
        let headers = accept(&[b" a , ,b", b"", b"c,,", b"d\xff, e"]);
        let got: Vec<&str> = elements(&headers, &ACCEPT).collect();
        assert_eq!(got, ["a", "b", "c"], "a non-ASCII line is skipped whole");
    }

    #[test]
    fn weighted_elements() {
        let cases: &[(&str, Option<(&str, u16)>)] = &[
            ("text/html", Some(("text/html", 1000))),
            ("text/html;q=0.5", Some(("text/html", 500))),
            ("text/html ; Q=0.5", Some(("text/html", 500))),
            ("text/html;level=1;q=0", Some(("text/html", 0))),
            ("text/html;q=0.5;q=0.5", None),
            ("text/html;q=1.5", None),
            ("text/html;q= 0.5", None),
            ("text/html;q=0.0001", None),
        ];
        for (element, want) in cases {
            assert_eq!(
                weighted(element).map(|w| (w.value, w.q.0)),
                *want,
                "{element:?}"
            );
        }
    }

    #[test]
    fn duplicates_keep_the_lowest_weight() {
        let headers = accept(&[b"text/html, application/json;q=0.9", b"TEXT/HTML;q=0"]);
        assert_eq!(
            weight_of(&headers, &ACCEPT, "text/html"),
            Some(QValue::ZERO)
        );
        assert_eq!(
            weight_of(&headers, &ACCEPT, "application/json"),
            Some(QValue(900))
        );
        assert_eq!(weight_of(&headers, &ACCEPT, "image/png"), None);
        // A malformed weight drops its element only.
        let headers = accept(&[b"text/html;q=2, text/html;q=0.4"]);
        assert_eq!(weight_of(&headers, &ACCEPT, "text/html"), Some(QValue(400)));
    }

    #[test]
    fn ows_is_space_and_tab_only() {
        assert_eq!(trim_ows(" \tx \t"), "x");
        assert_eq!(trim_ows("\nx"), "\nx");
        assert_eq!(trim_ows_bytes(b" \t\"a\"\t "), b"\"a\"");
        assert_eq!(trim_ows_bytes(b""), b"");
    }
}
