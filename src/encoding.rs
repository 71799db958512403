//! Content-coding negotiation, RFC 9110 §12.5.3 (`Accept-Encoding`) and §8.4.
//!
//! q-values weigh the codings; `q=0` refuses one; `*` covers codings not named; a missing
//! header means the client takes anything, but we only compress for clients that ask, so
//! a missing header selects identity. A malformed q-value drops its element rather than the
//! whole header. Ties go to the server's order (smallest output first).

use http::header::ACCEPT_ENCODING;
use http::HeaderMap;

/// Content codings the server can produce, precompressed on disk or on the fly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Br,
    Zstd,
    Gzip,
}

impl Coding {
    /// The server's preference, best compression first.
    pub const PREFERENCE: [Coding; 3] = [Coding::Br, Coding::Zstd, Coding::Gzip];

    pub fn token(self) -> &'static str {
        match self {
            Coding::Br => "br",
            Coding::Zstd => "zstd",
            Coding::Gzip => "gzip",
        }
    }

    /// The sidecar file suffix: `NAME.br`, `NAME.zst`, `NAME.gz`.
    pub fn extension(self) -> &'static str {
        match self {
            Coding::Br => ".br",
            Coding::Zstd => ".zst",
            Coding::Gzip => ".gz",
        }
    }
}

/// A parsed `Accept-Encoding`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AcceptEncoding {
    entries: Vec<(String, f32)>,
}

/// Joins every `Accept-Encoding` field line (§5.3) and parses the result.
pub fn from_headers(headers: &HeaderMap) -> AcceptEncoding {
    let joined: Vec<&str> = headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    parse_accept_encoding(&joined.join(","))
}

pub fn parse_accept_encoding(value: &str) -> AcceptEncoding {
    let mut entries = Vec::new();
    for item in value.split(',') {
        let mut parts = item.split(';');
        let token = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        if token.is_empty() {
            continue;
        }
        let mut q = Some(1.0);
        for param in parts {
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("q") {
                q = qvalue(value.trim());
            }
        }
        let Some(q) = q else {
            continue;
        };
        let token = if token == "x-gzip" {
            "gzip".to_owned()
        } else {
            token
        };
        entries.push((token, q));
    }
    AcceptEncoding { entries }
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` (§12.4.2).
fn qvalue(text: &str) -> Option<f32> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match int {
        "0" => Some(format!("0.{frac}0").parse().ok()?),
        "1" if frac.bytes().all(|b| b == b'0') => Some(1.0),
        _ => None,
    }
}

impl AcceptEncoding {
    /// The weight the client gives `coding`: its own entry, else `*`, else 0.
    pub fn accepts(&self, coding: Coding) -> f32 {
        let named = self
            .entries
            .iter()
            .filter(|(t, _)| t == coding.token())
            .map(|(_, q)| *q)
            .reduce(f32::max);
        named
            .or_else(|| self.entries.iter().find(|(t, _)| t == "*").map(|(_, q)| *q))
            .unwrap_or(0.0)
    }

    /// The acceptable coding with the highest weight among `available` (in server order).
    pub fn choose(&self, available: &[Coding]) -> Option<Coding> {
        let mut best: Option<(Coding, f32)> = None;
        for &coding in available {
            let q = self.accepts(coding);
            if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((coding, q));
            }
        }
        best.map(|(c, _)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::Coding::*;
    use super::*;

    #[test]
    fn negotiation_table() {
        let all = Coding::PREFERENCE;
        let cases: &[(&str, Option<Coding>)] = &[
            ("", None),
            ("identity", None),
            ("gzip", Some(Gzip)),
            ("GZIP", Some(Gzip)),
            ("x-gzip", Some(Gzip)),
            ("br", Some(Br)),
            ("gzip, deflate, br", Some(Br)),
            ("gzip, deflate, br, zstd", Some(Br)),
            ("zstd, gzip", Some(Zstd)),
            ("br;q=0.5, gzip;q=0.8", Some(Gzip)),
            ("br;q=1.0, gzip;q=1", Some(Br)),
            ("gzip;q=0", None),
            ("br;q=0, gzip", Some(Gzip)),
            ("*", Some(Br)),
            ("*;q=0", None),
            ("*;q=0.1, br;q=0", Some(Zstd)),
            ("gzip;q=0.001", Some(Gzip)),
            ("gzip;q=1.5", None),
            ("gzip;q=0.0001", None),
            ("gzip;q=abc, br", Some(Br)),
            ("gzip;q=-1", None),
            ("gzip ; q = 0.5", Some(Gzip)),
            ("  ,  , gzip", Some(Gzip)),
            ("deflate, compress", None),
            ("gzip;level=9", Some(Gzip)),
            ("br;q=0.3, br;q=0.9, gzip;q=0.5", Some(Br)),
        ];
        for (header, want) in cases {
            assert_eq!(
                parse_accept_encoding(header).choose(&all),
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
    }

    #[test]
    fn several_field_lines_join() {
        let mut headers = HeaderMap::new();
        headers.append(ACCEPT_ENCODING, "gzip;q=0.5".parse().unwrap());
        headers.append(ACCEPT_ENCODING, "br".parse().unwrap());
        assert_eq!(from_headers(&headers).choose(&Coding::PREFERENCE), Some(Br));
        assert_eq!(
            from_headers(&HeaderMap::new()).choose(&Coding::PREFERENCE),
            None
        );
    }

    #[test]
    fn qvalues() {
        let cases = [
            ("1", Some(1.0)),
            ("1.000", Some(1.0)),
            ("0.5", Some(0.5)),
            ("0", Some(0.0)),
            ("1.001", None),
            ("0.1234", None),
            ("", None),
            (".5", None),
        ];
        for (text, want) in cases {
            assert_eq!(qvalue(text), want, "{text}");
        }
    }
}
