//! Content-coding negotiation: RFC 9110 §12.5.3 (`Accept-Encoding`), §12.4.2 (quality
//! values) and §8.4 (content codings).
//!
//! Rules, including the ones chosen where the RFC leaves room (the list, weight and
//! duplicate rules are `header.rs`'s, shared with `Accept`):
//! - Coding names are case-insensitive; `x-gzip` is gzip (§8.4.1.3). Names we cannot produce
//!   are ignored, as are elements that are not a token.
//! - `q=0` refuses a coding. `*` weighs every coding the header does not name.
//! - An empty header accepts identity only (§12.5.3). A missing header would let us pick any
//!   coding, but we only compress for clients that ask, so it is treated as empty.
//! - Choosing: the highest weight among what is available, ties to the caller's order (the
//!   server's preference), never a coding weighted 0.

use http::header::ACCEPT_ENCODING;
use http::HeaderMap;

use crate::header::{self, QValue};

/// Content codings the server can send, precompressed on disk or made on the fly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Br,
    Zstd,
    Gzip,
}

impl Coding {
    /// The server's preference, smallest output first.
    pub(crate) const PREFERENCE: [Coding; 3] = [Coding::Br, Coding::Zstd, Coding::Gzip];

    /// The name in `Content-Encoding` and `Accept-Encoding`.
    pub(crate) fn token(self) -> &'static str {
        match self {
            Coding::Br => "br",
            Coding::Zstd => "zstd",
            Coding::Gzip => "gzip",
        }
    }

    /// The sidecar file suffix: `NAME.br`, `NAME.zst`, `NAME.gz`.
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Coding::Br => ".br",
            Coding::Zstd => ".zst",
            Coding::Gzip => ".gz",
        }
    }
}

/// A parsed `Accept-Encoding`: the weight the client gave each name we care about, if any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AcceptEncoding {
    br: Option<QValue>,
    zstd: Option<QValue>,
    gzip: Option<QValue>,
    any: Option<QValue>,
}

/// Parses every `Accept-Encoding` field line as one list.
pub(crate) fn from_headers(headers: &HeaderMap) -> AcceptEncoding {
    let mut accept = AcceptEncoding::default();
    for element in header::weights(headers, &ACCEPT_ENCODING) {
        let slot = match element.value.to_ascii_lowercase().as_str() {
            "br" => &mut accept.br,
            "zstd" => &mut accept.zstd,
            "gzip" | "x-gzip" => &mut accept.gzip,
            "*" => &mut accept.any,
            _ => continue,
        };
        *slot = Some(slot.map_or(element.q, |q| q.min(element.q)));
    }
    accept
}

impl AcceptEncoding {
    fn named(&self, coding: Coding) -> Option<QValue> {
        match coding {
            Coding::Br => self.br,
            Coding::Zstd => self.zstd,
            Coding::Gzip => self.gzip,
        }
    }

    /// The weight the client gives `coding`: its own entry, else `*`, else 0.
    pub(crate) fn weight(&self, coding: Coding) -> QValue {
        self.named(coding).or(self.any).unwrap_or(QValue::ZERO)
    }

    /// The coding with the highest weight among `available`, ties going to the earlier one;
    /// `None` when the client accepts none of them.
    pub(crate) fn choose(&self, available: &[Coding]) -> Option<Coding> {
        let mut best: Option<(Coding, QValue)> = None;
        for &coding in available {
            let w = self.weight(coding);
            if !w.is_zero() && best.is_none_or(|(_, b)| w > b) {
                best = Some((coding, w));
            }
        }
        best.map(|(coding, _)| coding)
    }
}

#[cfg(test)]
mod tests {
    use super::Coding::*;
    use super::*;
    use http::HeaderValue;

    fn parse_accept_encoding(value: &str) -> AcceptEncoding {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        from_headers(&headers)
    }

    #[test]
    fn negotiation_table() {
        let all = Coding::PREFERENCE;
        let cases: &[(&str, Option<Coding>)] = &[
            ("", None),
            ("identity", None),
            ("gzip", Some(Gzip)),
            ("GZIP", Some(Gzip)),
            ("GZip", Some(Gzip)),
            ("x-gzip", Some(Gzip)),
            ("X-GZIP", Some(Gzip)),
            ("br", Some(Br)),
            ("zstd", Some(Zstd)),
            // What browsers send: server order breaks the tie.
            ("gzip, deflate", Some(Gzip)),
            ("gzip, deflate, br", Some(Br)),
            ("gzip, deflate, br, zstd", Some(Br)),
            ("zstd, gzip", Some(Zstd)),
            // RFC 9110 §12.5.3 examples.
            ("compress, gzip", Some(Gzip)),
            ("*", Some(Br)),
            ("compress;q=0.5, gzip;q=1.0", Some(Gzip)),
            ("gzip;q=1.0, identity; q=0.5, *;q=0", Some(Gzip)),
            // Weights.
            ("br;q=0.5, gzip;q=0.8", Some(Gzip)),
            ("br;q=1.0, gzip;q=1", Some(Br)),
            ("br;q=0.300, gzip;q=0.3", Some(Br)),
            ("br;q=0.299, gzip;q=0.3", Some(Gzip)),
            ("gzip;q=0", None),
            ("gzip;q=0.000", None),
            ("gzip;Q=0", None),
            ("br;q=0, gzip", Some(Gzip)),
            ("*;q=0", None),
            ("*;q=0.1, br;q=0", Some(Zstd)),
            ("*;q=0.5, gzip", Some(Gzip)),
            ("gzip;q=0.001", Some(Gzip)),
            ("gzip;q=0.", None),
            ("gzip;q=1.", Some(Gzip)),
            // Malformed weights drop only their element.
            ("gzip;q=1.5", None),
            ("gzip;q=2", None),
            ("gzip;q=1.001", None),
            ("gzip;q=0.0001", None),
            ("gzip;q=abc, br", Some(Br)),
            ("gzip;q=-1", None),
            ("gzip;q=.5", None),
            ("gzip;q=", None),
            ("gzip;q=0.5;q=0.9", None),
            ("gzip;q= 0.5", None),
            ("gzip;q=0.5e0", None),
            ("gzip;q=NaN", None),
            ("gzip;q=inf", None),
            // Whitespace where the grammar allows it, empty elements, unknown parameters.
            ("gzip ; q=0.5", Some(Gzip)),
            ("\tgzip\t;\tq=0.5\t", Some(Gzip)),
            ("  ,  , gzip", Some(Gzip)),
            ("gzip,,", Some(Gzip)),
            ("gzip;level=9", Some(Gzip)),
            ("deflate, compress", None),
            ("gzip br", None),
            ("\"gzip\"", None),
            ("gz", None),
            ("gzipx", None),
            // A coding named twice keeps its lowest weight.
            ("br;q=0.3, br;q=0.9, gzip;q=0.5", Some(Gzip)),
            ("gzip, gzip;q=0", None),
        ];
        assert!(cases.len() >= 50);
        for (header, want) in cases {
            assert_eq!(
                parse_accept_encoding(header).choose(&all),
                *want,
                "{header:?}"
            );
        }
    }

    #[test]
    fn weights() {
        let cases: &[(&str, Coding, &str)] = &[
            ("gzip", Gzip, "1"),
            ("gzip;q=0.5", Gzip, "0.5"),
            ("gzip;q=0.125", Gzip, "0.125"),
            ("gzip;q=0.001", Gzip, "0.001"),
            ("gzip;q=0", Gzip, "0"),
            ("br", Gzip, "0"),
            ("*;q=0.25", Zstd, "0.25"),
            ("*;q=0.25, zstd;q=0.75", Zstd, "0.75"),
            ("zstd;q=0.75, *;q=0.25", Zstd, "0.75"),
            ("", Br, "0"),
        ];
        for (header, coding, want) in cases {
            assert_eq!(
                parse_accept_encoding(header).weight(*coding),
                QValue::parse(want).unwrap(),
                "{header:?} {coding:?}"
            );
        }
    }

    #[test]
    fn only_what_is_available() {
        let ae = parse_accept_encoding("br, gzip;q=0.9");
        assert_eq!(ae.choose(&[Gzip]), Some(Gzip));
        assert_eq!(ae.choose(&[Zstd]), None);
        assert_eq!(ae.choose(&[]), None);
        assert_eq!(
            ae.choose(&[Gzip, Br]),
            Some(Br),
            "the weight beats the order"
        );
        let tie = parse_accept_encoding("br, gzip");
        assert_eq!(tie.choose(&[Gzip, Br]), Some(Gzip), "the order breaks ties");
        assert_eq!(tie.choose(&[Br, Gzip]), Some(Br));
    }

    #[test]
    fn several_field_lines_join() {
        let mut headers = HeaderMap::new();
        headers.append(ACCEPT_ENCODING, HeaderValue::from_static("gzip;q=0.5"));
        headers.append(ACCEPT_ENCODING, HeaderValue::from_static("br"));
        assert_eq!(from_headers(&headers).choose(&Coding::PREFERENCE), Some(Br));
        // A refusal on one line holds against the other.
        headers.append(ACCEPT_ENCODING, HeaderValue::from_static("br;q=0"));
        assert_eq!(
            from_headers(&headers).choose(&Coding::PREFERENCE),
            Some(Gzip)
        );
        // A line that is not ASCII is skipped, not fatal.
        headers.append(
            ACCEPT_ENCODING,
            HeaderValue::from_bytes(b"zstd\xff").unwrap(),
        );
        assert_eq!(
            from_headers(&headers).choose(&Coding::PREFERENCE),
            Some(Gzip)
        );
        assert_eq!(from_headers(&HeaderMap::new()), AcceptEncoding::default());
        assert_eq!(
            from_headers(&HeaderMap::new()).choose(&Coding::PREFERENCE),
            None
        );
    }

    #[test]
    fn names_and_suffixes() {
        let cases = [
            (Br, "br", ".br"),
            (Zstd, "zstd", ".zst"),
            (Gzip, "gzip", ".gz"),
        ];
        for (coding, token, extension) in cases {
            assert_eq!(coding.token(), token);
            assert_eq!(coding.extension(), extension);
            // A coding's own name selects it.
            assert_eq!(parse_accept_encoding(token).choose(&[coding]), Some(coding));
        }
    }
}
