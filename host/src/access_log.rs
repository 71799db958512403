//! One line per request on stderr, like python's http.server, written when the body ends so
//! the byte count and the time are the real ones.

use std::io::Write as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// What is known of a request when its head arrives.
pub(crate) struct Entry {
    pub(crate) client: SocketAddr,
    pub(crate) method: hyper::Method,
    pub(crate) target: String,
    pub(crate) version: hyper::Version,
    pub(crate) started: Instant,
}

impl Entry {
    pub(crate) fn new<B>(client: SocketAddr, request: &hyper::Request<B>) -> Entry {
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
pub(crate) struct Logged<B> {
    inner: B,
    entry: Option<(Entry, u16)>,
    bytes: u64,
}

impl<B> Logged<B> {
    pub(crate) fn new(inner: B, entry: Option<Entry>, status: u16) -> Logged<B> {
        Logged {
            inner,
            entry: entry.map(|e| (e, status)),
            bytes: 0,
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
