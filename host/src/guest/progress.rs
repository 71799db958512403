//! Bytes a body carried: what the access log reports, and what a request has moved through
//! the guest, in and out, so the CPU meter can tell a guest that streams (a multi-gigabyte
//! zip checksums every byte it sends) from one that spins: every [`BYTES_PER_TICK`] moved
//! extends the request's CPU budget by one epoch tick.
//!
//! 2 MiB per 10 ms tick is five times what the costliest stream needs (zip: about 1 ms of
//! guest CPU per MiB on this project's machines), so no real download or upload runs out,
//! while a guest that computes without moving bytes still stops at `--cpu-limit`.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// Bytes moved that buy one more tick of guest CPU time.
pub(crate) const BYTES_PER_TICK: u64 = 2 << 20;

/// One request's count of bytes moved, shared by its bodies and its CPU meter.
#[derive(Clone, Default)]
pub(crate) struct Progress(Arc<AtomicU64>);

impl Progress {
    pub(crate) fn add(&self, bytes: usize) {
        self.0.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Bytes counted so far.
    pub(crate) fn total(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// The extra ticks of CPU time earned so far.
    pub(crate) fn credit(&self) -> u64 {
        self.0.load(Ordering::Relaxed) / BYTES_PER_TICK
    }
}

/// A body that counts its data frames into a [`Progress`], and carries `G` until it is
/// dropped (the access log's line, written then).
pub(crate) struct Counted<B, G = ()> {
    inner: B,
    progress: Progress,
    _guard: G,
}

impl<B> Counted<B> {
    pub(crate) fn new(inner: B, progress: Progress) -> Counted<B> {
        Counted {
            inner,
            progress,
            _guard: (),
        }
    }

    /// The same body, carrying `guard` until it is dropped.
    pub(crate) fn with<G>(self, guard: G) -> Counted<B, G> {
        Counted {
            inner: self.inner,
            progress: self.progress,
            _guard: guard,
        }
    }
}

impl<B: Body<Data = Bytes> + Unpin, G: Unpin> Body for Counted<B, G> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                self.progress.add(data.len());
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

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full};

    #[test]
    fn frames_count_and_buy_ticks() {
        let progress = Progress::default();
        let body = Counted::new(Full::new(Bytes::from(vec![0u8; 5 << 20])), progress.clone());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = runtime.block_on(body.collect()).unwrap().to_bytes();
        assert_eq!(bytes.len(), 5 << 20);
        assert_eq!(progress.credit(), 2, "5 MiB buys two 2 MiB ticks");
    }
}
