//! One line per request on stderr, like python's http.server, written when the body ends so
//! the byte count and the time are the real ones.
//!
//! The line is the common log format plus the time taken:
//! `client - user [date] "request" status bytes time`. With authentication on, `user` is
//! the user name of the `Authorization: Basic` credentials (RFC 7617) the request carried,
//! unless the component answered `401`; otherwise `-`. The password is never kept: only
//! the part before the first colon is.

use std::io::Write as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use crate::idle_timeout::InFlight;

/// Longer `Authorization` values are not decoded: no real user name needs them.
const MAX_AUTHORIZATION: usize = 4096;

/// What is known of a request when its head arrives.
pub(crate) struct Entry {
    pub(crate) client: SocketAddr,
    pub(crate) method: hyper::Method,
    pub(crate) target: String,
    pub(crate) version: hyper::Version,
    pub(crate) started: Instant,
    /// The user the request claims, shown unless the answer is `401`.
    pub(crate) user: Option<String>,
}

impl Entry {
    /// `with_user`: read the Basic credentials' user name (authentication is on).
    pub(crate) fn new<B>(
        client: SocketAddr,
        request: &hyper::Request<B>,
        with_user: bool,
    ) -> Entry {
        let user = if with_user {
            request
                .headers()
                .get(hyper::header::AUTHORIZATION)
                .and_then(|value| basic_user(value.as_bytes()))
        } else {
            None
        };
        Entry {
            client,
            method: request.method().clone(),
            target: request
                .uri()
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
            version: request.version(),
            started: Instant::now(),
            user,
        }
    }
}

/// Wraps a response body, counting data bytes, and logs the request when it is dropped
/// (sent whole, failed, or abandoned by the client).
pub(crate) struct Logged<B> {
    inner: B,
    entry: Option<(Entry, u16)>,
    bytes: u64,
    /// Held until the body is dropped, so the connection's idle timer sees the request
    /// running for as long as its body streams.
    _in_flight: Option<InFlight>,
}

impl<B> Logged<B> {
    pub(crate) fn new(
        inner: B,
        entry: Option<Entry>,
        status: u16,
        in_flight: Option<InFlight>,
    ) -> Logged<B> {
        Logged {
            inner,
            entry: entry.map(|e| (e, status)),
            bytes: 0,
            _in_flight: in_flight,
        }
    }
}

impl<B: Body<Data = Bytes> + Unpin> Body for Logged<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                self.bytes += data.len() as u64;
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for Logged<B> {
    fn drop(&mut self) {
        let Some((entry, status)) = self.entry.take() else {
            return;
        };
        let millis = entry.started.elapsed().as_secs_f64() * 1000.0;
        let user = match &entry.user {
            Some(user) if status != 401 => user.as_str(),
            _ => "-",
        };
        let line = format!(
            "{} - {} [{}] \"{} {} {:?}\" {} {} {:.1}ms\n",
            entry.client.ip(),
            user,
            httpdate::fmt_http_date(SystemTime::now()),
            entry.method,
            entry.target.escape_debug(),
            entry.version,
            status,
            self.bytes,
            millis,
        );
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// The user name of `Basic` credentials, escaped for the log; `None` for anything else or
/// anything malformed (not base64, no colon, not UTF-8, empty, too long).
fn basic_user(value: &[u8]) -> Option<String> {
    if value.len() > MAX_AUTHORIZATION {
        return None;
    }
    let value = std::str::from_utf8(value).ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = LENIENT_BASE64.decode(token.trim()).ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    // Only the bytes before the colon go on; the password is dropped with `decoded`.
    let user = std::str::from_utf8(&decoded[..colon]).ok()?;
    (!user.is_empty()).then(|| log_safe(user))
}

/// Standard base64, with or without padding, as clients send it.
const LENIENT_BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// One log field: spaces, quotes, backslashes and control characters escaped, so a user name
/// cannot split the line or forge another.
fn log_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || c.is_whitespace() || c == '"' || c == '\\' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_user_names_only_the_user() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let cases = [
            (format!("Basic {}", b64("me:secret")), Some("me")),
            (format!("basic   {}", b64("me:a:b")), Some("me")),
            (
                format!("Basic {}", b64("me:x").trim_end_matches('=')),
                Some("me"),
            ),
            (
                format!("Basic {}", b64("two words:x")),
                Some("two\\u{20}words"),
            ),
            (format!("Basic {}", b64("q\"x:y")), Some("q\\u{22}x")),
            (format!("Basic {}", b64("nocolon")), None),
            (format!("Basic {}", b64(":pw")), None),
            ("Basic !!!notbase64".to_owned(), None),
            (format!("Bearer {}", b64("me:secret")), None),
            ("Basic".to_owned(), None),
            (format!("Basic {}", "QUFB".repeat(2000)), None),
        ];
        for (header, want) in cases {
            assert_eq!(basic_user(header.as_bytes()).as_deref(), want, "{header}");
        }
        let latin1 = base64::engine::general_purpose::STANDARD.encode(b"\xe9:pw");
        assert_eq!(basic_user(format!("Basic {latin1}").as_bytes()), None);
    }
}
