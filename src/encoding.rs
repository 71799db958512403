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

use crate::header::{self, HeaderMap, QValue};

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
mod tests;
