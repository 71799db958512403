//! One line per request on stderr, like python's http.server, written when the body ends so
//! the byte count and the time are the real ones.

use std::io::Write as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use crate::idle::InFlight;

/// What is known of a request when its head arrives.
pub struct Entry {
    pub client: SocketAddr,
    pub method: hyper::Method,
    pub target: String,
    pub version: hyper::Version,
    pub started: Instant,
}

impl Entry {
    pub fn new<B>(client: SocketAddr, request: &hyper::Request<B>) -> Entry {
        Entry {
            client,
            method: request.method().clone(),
            target: request
                .uri()
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
            version: request.version(),
            started: Instant::now(),
        }
    }
}

/// Wraps a response body, counting data bytes, and logs the request when it is dropped
/// (sent whole, failed, or abandoned by the client).
pub struct Logged<B> {
    inner: B,
    entry: Option<(Entry, u16)>,
    bytes: u64,
    /// Held until the body is dropped, so the connection's idle timer sees the request
    /// running for as long as its body streams.
    _in_flight: Option<InFlight>,
}

impl<B> Logged<B> {
    pub fn new(
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
        let line = format!(
            "{} - - [{}] \"{} {} {:?}\" {} {} {:.1}ms\n",
            entry.client.ip(),
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

