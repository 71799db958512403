//! A field value as the component keeps it, in requests and replies alike: the bytes of one
//! field line, checked once when made (RFC 9110 §5.5: no control characters but HTAB, so a
//! value can never split a response head), and read as text only when it is visible ASCII.
//!
//! Why not `http::HeaderValue`: it keeps its bytes in a `bytes::Bytes`, whose clone and drop
//! go through a table of function pointers. In WebAssembly each is an indirect call, and under
//! a host that makes a fresh instance for every request (`wasmtime serve`, edge platforms) the
//! first indirect call of an instance costs far more than the call: the host fills the
//! function table lazily, so its page is read, then written (a copy-on-write fault whose TLB
//! shootdown interrupts the other cores), then discarded with the instance (another). That
//! was about 30 us of CPU per request, a fifth of a whole trivial request. This type owns a
//! plain `Box<[u8]>` or borrows a `'static` literal, and dropping it calls nothing indirectly.
//!
//! The API is the subset of `http::HeaderValue`'s the crate uses, with the same checks, so
//! `http::HeaderMap<HeaderValue>` (the [`HeaderMap`] alias) reads as it always did.

use std::fmt;

/// The fields of a request or a reply, keyed by `http`'s names (the standard ones hold no
/// `Bytes` either).
pub(crate) type HeaderMap = http::HeaderMap<HeaderValue>;

#[derive(Clone)]
pub(crate) struct HeaderValue(Bytes);

#[derive(Clone)]
enum Bytes {
    Static(&'static [u8]),
    Owned(Box<[u8]>),
}

/// A value with a control character in it (other than HTAB): it cannot be a field value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidHeaderValue;

/// A value that is not all visible ASCII, asked for as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ToStrError;

/// Allowed in a field value: HTAB, SP, visible ASCII and obs-text (RFC 9110 §5.5).
fn allowed(byte: u8) -> bool {
    byte == b'\t' || (byte >= 0x20 && byte != 0x7f)
}

/// Readable as text: HTAB, SP and visible ASCII (what `http` calls `to_str`-able).
const fn visible(byte: u8) -> bool {
    byte == b'\t' || (byte >= 0x20 && byte < 0x7f)
}

impl HeaderValue {
    /// A literal; panics on a byte no field value may hold, like `http`'s (a bug, found by
    /// the first test that makes it).
    pub(crate) const fn from_static(text: &'static str) -> HeaderValue {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            assert!(visible(bytes[i]), "invalid header value");
            i += 1;
        }
        HeaderValue(Bytes::Static(bytes))
    }

    /// Visible ASCII text, checked.
    #[allow(clippy::should_implement_trait)] // fallible with our own error, as `http` has it
    pub(crate) fn from_str(text: &str) -> Result<HeaderValue, InvalidHeaderValue> {
        if text.bytes().all(visible) {
            Ok(HeaderValue(Bytes::Owned(text.as_bytes().into())))
        } else {
            Err(InvalidHeaderValue)
        }
    }

    /// Raw field bytes, which may hold obs-text, checked.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<HeaderValue, InvalidHeaderValue> {
        if bytes.iter().copied().all(allowed) {
            Ok(HeaderValue(Bytes::Owned(bytes.into())))
        } else {
            Err(InvalidHeaderValue)
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Bytes::Static(bytes) => bytes,
            Bytes::Owned(bytes) => bytes,
        }
    }

    /// The value as text, if it is all visible ASCII.
    pub(crate) fn to_str(&self) -> Result<&str, ToStrError> {
        let bytes = self.as_bytes();
        if bytes.iter().copied().all(visible) {
            // Visible ASCII is UTF-8.
            std::str::from_utf8(bytes).map_err(|_| ToStrError)
        } else {
            Err(ToStrError)
        }
    }
}

impl std::str::FromStr for HeaderValue {
    type Err = InvalidHeaderValue;

    fn from_str(text: &str) -> Result<HeaderValue, InvalidHeaderValue> {
        HeaderValue::from_str(text)
    }
}

/// A decimal number, without the formatting machinery (see the module note).
impl From<u64> for HeaderValue {
    fn from(number: u64) -> HeaderValue {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut rest = number;
        loop {
            at -= 1;
            digits[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        HeaderValue(Bytes::Owned(digits[at..].into()))
    }
}

impl From<usize> for HeaderValue {
    fn from(number: usize) -> HeaderValue {
        HeaderValue::from(number as u64)
    }
}

impl fmt::Debug for HeaderValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_str() {
            Ok(text) => fmt::Debug::fmt(text, f),
            Err(_) => fmt::Debug::fmt(self.as_bytes(), f),
        }
    }
}

/// Equal when the bytes are, whether borrowed or owned.
impl PartialEq for HeaderValue {
    fn eq(&self, other: &HeaderValue) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for HeaderValue {}

impl PartialEq<str> for HeaderValue {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for HeaderValue {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_checked_like_http() {
        assert!(HeaderValue::from_str("bytes=0-1").is_ok());
        assert_eq!(HeaderValue::from_str("a\r\nb"), Err(InvalidHeaderValue));
        assert_eq!(HeaderValue::from_str("caf\u{e9}"), Err(InvalidHeaderValue));
        assert_eq!(HeaderValue::from_bytes(b"a\nb"), Err(InvalidHeaderValue));
        assert_eq!(HeaderValue::from_bytes(b"a\x7fb"), Err(InvalidHeaderValue));
        // obs-text is a valid field byte, but not text.
        let obs = HeaderValue::from_bytes(b"caf\xe9").unwrap();
        assert_eq!(obs.as_bytes(), b"caf\xe9");
        assert_eq!(obs.to_str(), Err(ToStrError));
        assert_eq!(
            HeaderValue::from_bytes(b"a\tb").unwrap().to_str(),
            Ok("a\tb")
        );
    }

    #[test]
    fn numbers_are_decimal() {
        for n in [0u64, 7, 10, 1024, u64::MAX] {
            assert_eq!(HeaderValue::from(n).to_str(), Ok(n.to_string().as_str()));
        }
    }

    #[test]
    fn literals_and_owned_values_compare_by_bytes() {
        let literal = HeaderValue::from_static("no-cache");
        assert_eq!(literal, HeaderValue::from_str("no-cache").unwrap());
        assert_eq!(literal, "no-cache");
        assert_eq!(format!("{literal:?}"), "\"no-cache\"");
    }

    #[test]
    #[should_panic(expected = "invalid header value")]
    fn a_literal_with_a_newline_is_a_bug() {
        let _ = HeaderValue::from_static("a\nb");
    }
}
