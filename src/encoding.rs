//! Content-coding negotiation: RFC 9110 §12.5.3 (`Accept-Encoding`), §12.4.2 (quality
//! values) and §8.4 (content codings).
//!
//! Rules, including the ones chosen where the RFC leaves room:
//! - Coding names are case-insensitive; `x-gzip` is gzip (§8.4.1.3). Names we cannot produce
//!   are ignored, as are elements that are not a token.
//! - A weight is `q=` and a qvalue (`0`, `0.5`, `0.001`, `1`, `1.000`; at most three decimals,
//!   never above 1). A malformed weight, or a second `q`, drops its element; the rest of the
//!   header still counts. Other parameters (not in the grammar) are ignored.
//! - `q=0` refuses a coding. `*` weighs every coding the header does not name.
//! - A coding named twice keeps its lowest weight, so a refusal anywhere is honoured.
//! - An empty header accepts identity only (§12.5.3). A missing header would let us pick any
//!   coding, but we only compress for clients that ask, so it is treated as empty.
//! - Choosing: the highest weight among what is available, ties to the caller's order (the
//!   server's preference), never a coding weighted 0.

use http::header::ACCEPT_ENCODING;
use http::HeaderMap;

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

/// A quality value in thousandths: `q=0.5` is `Weight(500)`. Integers keep `0.3` and `0.300`
/// equal and ties exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Weight(u16);

impl Weight {
    const ONE: Weight = Weight(1000);

    /// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`.
    fn parse(text: &str) -> Option<Weight> {
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
                Some(Weight(thousandths))
            }
            "1" if frac.bytes().all(|b| b == b'0') => Some(Weight::ONE),
            _ => None,
        }
    }

    fn as_f32(self) -> f32 {
        f32::from(self.0) / 1000.0
    }
}

/// A parsed `Accept-Encoding`: the weight the client gave each name we care about, if any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AcceptEncoding {
    br: Option<Weight>,
    zstd: Option<Weight>,
    gzip: Option<Weight>,
    identity: Option<Weight>,
    any: Option<Weight>,
}

/// Parses every `Accept-Encoding` field line as one list (§5.3). Lines that are not visible
/// ASCII cannot name a coding and are skipped.
pub(crate) fn from_headers(headers: &HeaderMap) -> AcceptEncoding {
    let mut accept = AcceptEncoding::default();
    for line in headers.get_all(ACCEPT_ENCODING) {
        if let Ok(line) = line.to_str() {
            accept.add(line);
        }
    }
    accept
}

/// Parses one `Accept-Encoding` field value.
pub(crate) fn parse_accept_encoding(value: &str) -> AcceptEncoding {
    let mut accept = AcceptEncoding::default();
    accept.add(value);
    accept
}

impl AcceptEncoding {
    fn add(&mut self, value: &str) {
        for element in value.split(',') {
            let mut parts = element.split(';');
            let name = trim_ows(parts.next().unwrap_or_default());
            let Some(weight) = element_weight(parts) else {
                continue;
            };
            let slot = match name.to_ascii_lowercase().as_str() {
                "br" => &mut self.br,
                "zstd" => &mut self.zstd,
                "gzip" | "x-gzip" => &mut self.gzip,
                "identity" => &mut self.identity,
                "*" => &mut self.any,
                _ => continue,
            };
            *slot = Some(slot.map_or(weight, |w| w.min(weight)));
        }
    }

    fn named(&self, coding: Coding) -> Option<Weight> {
        match coding {
            Coding::Br => self.br,
            Coding::Zstd => self.zstd,
            Coding::Gzip => self.gzip,
        }
    }

    fn weight(&self, coding: Coding) -> Weight {
        self.named(coding).or(self.any).unwrap_or(Weight(0))
    }

    /// The weight the client gives `coding` (its own entry, else `*`, else 0), from 0 to 1.
    pub(crate) fn accepts(&self, coding: Coding) -> f32 {
        self.weight(coding).as_f32()
    }

    /// Whether an unencoded body is acceptable: unless `identity;q=0`, or `*;q=0` without an
    /// `identity` entry (§12.5.3). A server may still send identity then (most do, rather
    /// than answer 406); the caller decides.
    pub(crate) fn accepts_identity(&self) -> bool {
        self.identity.or(self.any).is_none_or(|w| w > Weight(0))
    }

    /// The coding with the highest weight among `available`, ties going to the earlier one;
    /// `None` when the client accepts none of them.
    pub(crate) fn choose(&self, available: &[Coding]) -> Option<Coding> {
        let mut best: Option<(Coding, Weight)> = None;
        for &coding in available {
            let w = self.weight(coding);
            if w > Weight(0) && best.is_none_or(|(_, b)| w > b) {
                best = Some((coding, w));
            }
        }
        best.map(|(coding, _)| coding)
    }
}

/// The element's weight from its parameters: 1 without `q`, `None` if the `q` is malformed
/// or repeated.
fn element_weight<'a>(params: impl Iterator<Item = &'a str>) -> Option<Weight> {
    let mut weight = None;
    for param in params {
        let param = trim_ows(param);
        let Some((name, value)) = param.split_once('=') else {
            continue;
        };
        if name.eq_ignore_ascii_case("q") {
            if weight.is_some() {
                return None;
            }
            weight = Some(Weight::parse(value)?);
        }
    }
    Some(weight.unwrap_or(Weight::ONE))
}

/// Optional whitespace, SP and HTAB only (§5.6.3).
fn trim_ows(text: &str) -> &str {
    text.trim_matches([' ', '\t'])
}

#[cfg(test)]
mod tests {
    use super::Coding::*;
    use super::*;
    use http::HeaderValue;

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
        let cases: &[(&str, Coding, f32)] = &[
            ("gzip", Gzip, 1.0),
            ("gzip;q=0.5", Gzip, 0.5),
            ("gzip;q=0.125", Gzip, 0.125),
            ("gzip;q=0.001", Gzip, 0.001),
            ("gzip;q=0", Gzip, 0.0),
            ("br", Gzip, 0.0),
            ("*;q=0.25", Zstd, 0.25),
            ("*;q=0.25, zstd;q=0.75", Zstd, 0.75),
            ("zstd;q=0.75, *;q=0.25", Zstd, 0.75),
            ("", Br, 0.0),
        ];
        for (header, coding, want) in cases {
            assert_eq!(
                parse_accept_encoding(header).accepts(*coding),
                *want,
                "{header:?} {coding:?}"
            );
        }
    }

    #[test]
    fn identity() {
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("gzip", true),
            ("identity", true),
            ("identity;q=0", false),
            ("IDENTITY;Q=0", false),
            ("*;q=0", false),
            ("*;q=0, identity", true),
            ("*;q=0, identity;q=0.1", true),
            ("identity;q=0, *", false),
            ("gzip;q=1.0, identity; q=0.5, *;q=0", true),
        ];
        for (header, want) in cases {
            assert_eq!(
                parse_accept_encoding(header).accepts_identity(),
                *want,
                "{header:?}"
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
    fn qvalues() {
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
        ];
        for (text, want) in cases {
            assert_eq!(Weight::parse(text).map(|w| w.0), *want, "{text:?}");
        }
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
