//! One line per request on stderr, like python's http.server, written when the body ends so
//! the byte count and the time are the real ones.
//!
//! The line is the common log format plus the time taken:
//! `client - user [date] "request" status bytes time`. With authentication on, `user` is
//! the user name of the `Authorization: Basic` credentials (RFC 7617) the request carried,
//! unless the component answered `401`; otherwise `-`. The credentials are read with the
//! component's own parser (`sandserve::basic_user`), which keeps only the user name.

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use crate::guest::progress::{Counted, Progress};
use crate::net::idle_timeout::InFlight;

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
                .and_then(|value| sandserve::basic_user(value.as_bytes()))
                .map(|user| log_safe(&user))
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

/// A response body whose request is logged when it is dropped (sent whole, failed, or
/// abandoned by the client), with the bytes it carried.
pub(crate) type Logged<B> = Counted<B, LogLine>;

/// Wraps a response body to log its request once the body is done.
pub(crate) fn logged<B>(
    body: B,
    entry: Option<Entry>,
    status: u16,
    in_flight: Option<InFlight>,
) -> Logged<B> {
    let sent = Progress::default();
    let line = LogLine {
        entry: entry.map(|e| (e, status)),
        sent: sent.clone(),
        _in_flight: in_flight,
    };
    Counted::new(body, sent).with(line)
}

/// The log line of one request, written when it is dropped with its body.
pub(crate) struct LogLine {
    entry: Option<(Entry, u16)>,
    sent: Progress,
    /// Held until the body is dropped, so the connection's idle timer sees the request
    /// running for as long as its body streams.
    _in_flight: Option<InFlight>,
}

impl Drop for LogLine {
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
            self.sent.total(),
            millis,
        );
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

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
    fn log_fields_cannot_split_the_line() {
        assert_eq!(log_safe("me"), "me");
        assert_eq!(log_safe("two words"), "two\\u{20}words");
        assert_eq!(log_safe("q\"x"), "q\\u{22}x");
        assert_eq!(log_safe("a\nb"), "a\\u{a}b");
    }
}
