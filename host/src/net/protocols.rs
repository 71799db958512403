//! The HTTP/1.1 and HTTP/2 settings a server's connections are served with (see `connection`).
//!
//! HTTP/2 limits, set here on purpose (RFC 9113 §6.5.2): at most `MAX_STREAMS` streams at
//! once per connection, a header list as large as HTTP/1.1's head buffer (so the 414 and
//! 431 answers are ours, the same as over HTTP/1.1), pings after the header timeout of
//! silence. Each stream is one request to the runtime, so `--max-concurrent` bounds streams
//! exactly as it bounds HTTP/1.1 requests.

use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;

use crate::limits::Limits;
use crate::net::tls::Tls;

/// Concurrent HTTP/2 streams per connection: nginx's default, above RFC 9113's advice of
/// at least 100, and small enough that one connection cannot take most of the pool.
const MAX_STREAMS: u32 = 128;

/// The HTTP/1.1 and HTTP/2 settings every connection of a server is served with.
pub(crate) struct Protocols {
    pub(crate) http1: auto::Builder<TokioExecutor>,
    pub(crate) http2: auto::Builder<TokioExecutor>,
    /// Both, for TLS clients that offered no ALPN.
    pub(crate) either: auto::Builder<TokioExecutor>,
    pub(crate) tls: Option<Tls>,
    pub(crate) header_timeout: Duration,
}

impl Protocols {
    pub(crate) fn new(limits: &Limits, tls: Option<Tls>) -> Protocols {
        // Room for the longest request line plus the largest head, so hyper passes heads
        // just over our limits on to `oversized_head` for a 414 or 431 rather than
        // dropping the connection (HTTP/1.1) or answering 431 for a long path (HTTP/2).
        let head_room = limits.max_request_line + limits.max_header_bytes + 8192;
        let mut either = auto::Builder::new(TokioExecutor::new());
        either
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .keep_alive(true)
            .max_headers(limits.max_headers)
            .max_buf_size(head_room);
        either
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(MAX_STREAMS)
            .max_header_list_size(u32::try_from(head_room).unwrap_or(u32::MAX))
            .keep_alive_interval(limits.header_timeout)
            .keep_alive_timeout(limits.header_timeout);
        Protocols {
            http1: either.clone().http1_only(),
            http2: either.clone().http2_only(),
            either,
            tls,
            header_timeout: limits.header_timeout,
        }
    }
}
