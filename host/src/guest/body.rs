//! The response body as the connection sees it: it drives the guest that writes it, ends
//! cleanly only if the guest returned normally, and its completion is when a healthy
//! instance goes back to the idle set.
//!
//! A guest that traps or is interrupted mid-stream must cut the connection, not end the body
//! as if it were whole. An instance is kept only once its body has been sent whole (or the
//! response has none, as for `HEAD`): a client that leaves mid-body drops this body, which
//! cancels the call and drops the instance.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Frame;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::guest::call::Guest;
use crate::guest::progress::Progress;

/// The guest's body, then its outcome.
pub(crate) struct GuestBody {
    inner: HyperOutgoingBody,
    /// Until it is kept or dropped.
    guest: Option<Guest>,
    /// Bytes to send before the body is whole: the `Content-Length`, or 0 when the response
    /// carries none (a `HEAD`, a `304`). With a length, the connection stops once it has
    /// that many and drops the body without asking for its end.
    expected: Option<u64>,
    sent: u64,
    /// The guest finished the body: nothing more will come from `inner`.
    finished: bool,
    /// The request's bytes moved, which keep a streaming guest within its CPU budget.
    progress: Progress,
}

impl GuestBody {
    /// `expected`: as for the field; `None` for a chunked body, which is read to its end.
    pub(crate) fn new(
        inner: HyperOutgoingBody,
        guest: Guest,
        expected: Option<u64>,
        progress: Progress,
    ) -> Self {
        GuestBody {
            inner,
            guest: Some(guest),
            expected,
            sent: 0,
            finished: false,
            progress,
        }
    }

    /// The error frame that cuts the connection, after logging why.
    fn cut(&mut self) -> Poll<Option<Result<Frame<Bytes>, wasmtime_wasi_http::Error>>> {
        let error = self.guest.take().and_then(|mut guest| guest.take_error());
        let error = error.unwrap_or_else(|| anyhow::anyhow!("the guest failed"));
        crate::guest::failure::log_failure(&error.context("the component failed while streaming"));
        Poll::Ready(Some(Err(wasmtime_wasi_http::Error::InternalError(Some(
            "the component failed while streaming".into(),
        )))))
    }
}

impl http_body::Body for GuestBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        // Let the guest run first: it produces what `inner` yields. A guest that dies leaves
        // `inner` open (its end lives in the dead instance), so check before waiting on it.
        let guest_ended = match self.guest.as_mut().map(|guest| guest.poll_end(cx)) {
            Some(Poll::Ready(Err(()))) => return self.cut(),
            Some(Poll::Ready(Ok(()))) | None => true,
            Some(Poll::Pending) => false,
        };
        if !self.finished {
            match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Ready(None) => self.finished = true,
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        self.sent += data.len() as u64;
                        self.progress.add(data.len());
                    }
                    return Poll::Ready(Some(Ok(frame)));
                }
                other => return other,
            }
        }
        // The body is whole; it ends once the guest has returned, so a trap after the last
        // byte still cuts the connection.
        if !guest_ended {
            return Poll::Pending;
        }
        if let Some(guest) = self.guest.take() {
            guest.keep();
        }
        Poll::Ready(None)
    }
}

impl Drop for GuestBody {
    fn drop(&mut self) {
        let Some(guest) = self.guest.take() else {
            return;
        };
        // Dropped with every byte out: normal for a body with a length. Otherwise the
        // client left mid-body, and the guest is dropped (cancelled) with it.
        if self.finished || self.expected == Some(self.sent) {
            guest.keep();
        }
    }
}
