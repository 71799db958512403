//! Writes put off to the next turn of the connection's task, so that the answers its worker
//! makes meanwhile go out together.
//!
//! Each answer written at once is a segment that wakes the client. While the client waits on
//! the server, every wake-up of a sleeping client is a trip through the scheduler, often an
//! interrupt to the other core, paid by the server's thread: on a 1 KiB GET at c=64 that was
//! a third of a reschedule interrupt and two thirds of a context switch per request. Put off
//! until the worker has also run the other connections that were ready, the answers go out
//! back to back, and the first one's wake-up serves the rest.
//!
//! - HTTP/1.1 ([`Deferred`]): hyper already writes an answer's head and body in one
//!   `writev`. A small write that opens a turn is put off, with a wake-up, to the task's
//!   next turn; the writes after it in that turn, and any large one (a download's chunks,
//!   where a wake-up is a small share of the cost), go at once.
//! - HTTP/2 ([`Coalesce`]): the `h2` crate writes a DATA frame of 256 bytes or more on its
//!   own, then flushes, before it encodes the next frame: so a connection with sixteen 1 KiB
//!   answers ready sends sixteen TLS records in sixteen `writev`s, where nginx sends one.
//!   [`Coalesce`] buffers what `h2` writes, and treats a flush as "send this before the
//!   connection rests" rather than "send this now": the first flush of a turn of the task is
//!   deferred, so that the streams ready meanwhile add their frames, and the next turn's
//!   flush sends them all.
//!
//! The connection's future counts its turns in a [`Turns`], which is how a write tells "this
//! turn" from "a later one". Nothing waits on a timer: the wake-up puts the task at the back
//! of its worker's queue, behind the tasks that are producing the other answers, and the bytes
//! go out when it comes round (neither RFC 9112 nor RFC 9113 sets a deadline on a write;
//! they only order them, and the order is kept). A full buffer is written at once; a shutdown
//! writes what is buffered first.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, BufWriter, ReadBuf};

/// Bytes gathered before a write: a TLS record's most plaintext (RFC 8446 §5.1).
const GATHER: usize = 16 * 1024;

/// How many times the connection's future has been polled: one turn each.
#[derive(Clone, Default)]
pub(crate) struct Turns(Arc<AtomicU64>);

impl Turns {
    /// Counts a turn: called by the connection's future each time it is polled.
    pub(crate) fn next(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn now(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Largest write [`Deferred`] puts off: a small answer whole, head and body.
const SMALL: usize = 16 * 1024;

/// `io` with a small write that opens a turn put off to the next (see the module note).
pub(crate) struct Deferred<I> {
    io: I,
    turns: Turns,
    /// The turn in which a write was put off, until it goes out.
    put_off: Option<u64>,
    /// The last turn in which a write went out.
    wrote: Option<u64>,
}

impl<I> Deferred<I> {
    pub(crate) fn new(io: I, turns: Turns) -> Deferred<I> {
        Deferred {
            io,
            turns,
            put_off: None,
            wrote: None,
        }
    }

    /// Whether a write of `len` bytes waits for a later turn; if so, the task is woken for
    /// it the first time.
    fn wait(&mut self, cx: &Context<'_>, len: usize) -> bool {
        let now = self.turns.now();
        let wait = match self.put_off {
            Some(turn) => turn == now,
            None => len <= SMALL && self.wrote != Some(now),
        };
        if wait && self.put_off.is_none() {
            self.put_off = Some(now);
            cx.waker().wake_by_ref();
        }
        wait
    }

    fn went_out<T>(&mut self, written: &Poll<io::Result<T>>) {
        if written.is_ready() {
            self.put_off = None;
            self.wrote = Some(self.turns.now());
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Deferred<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Deferred<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.wait(cx, buf.len()) {
            return Poll::Pending;
        }
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        self.went_out(&written);
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|buf| buf.len()).sum();
        if self.wait(cx, len) {
            return Poll::Pending;
        }
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.went_out(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// `io` with its writes gathered (see the module note).
pub(crate) struct Coalesce<I> {
    io: BufWriter<I>,
    turns: Turns,
    /// The turn in which a flush was put off, while bytes wait in the buffer.
    deferred: Option<u64>,
}

impl<I: AsyncWrite> Coalesce<I> {
    pub(crate) fn new(io: I, turns: Turns) -> Coalesce<I> {
        Coalesce {
            io: BufWriter::with_capacity(GATHER, io),
            turns,
            deferred: None,
        }
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin> AsyncRead for Coalesce<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Coalesce<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.io.buffer().is_empty() {
            let now = self.turns.now();
            match self.deferred {
                // The first flush with bytes waiting: come back on a later turn.
                None => {
                    self.deferred = Some(now);
                    cx.waker().wake_by_ref();
                    return Poll::Ready(Ok(()));
                }
                // Still the same turn: keep gathering.
                Some(turn) if turn == now => return Poll::Ready(Ok(())),
                Some(_) => {}
            }
        }
        let flushed = Pin::new(&mut self.io).poll_flush(cx);
        if flushed.is_ready() {
            self.deferred = None;
        }
        flushed
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // BufWriter writes what it holds before it shuts the stream down.
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    /// A stream that records each write it is given.
    #[derive(Default)]
    struct Recorder {
        writes: Vec<Vec<u8>>,
        shut: bool,
    }

    impl AsyncRead for Recorder {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.writes.push(buf.to_vec());
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.shut = true;
            Poll::Ready(Ok(()))
        }
    }

    fn write(io: &mut Coalesce<Recorder>, bytes: &[u8]) {
        let mut cx = Context::from_waker(Waker::noop());
        let written = Pin::new(io).poll_write(&mut cx, bytes);
        assert!(matches!(written, Poll::Ready(Ok(n)) if n == bytes.len()));
    }

    fn flush(io: &mut Coalesce<Recorder>) {
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(
            Pin::new(io).poll_flush(&mut cx),
            Poll::Ready(Ok(()))
        ));
    }

    #[test]
    fn flushes_of_one_turn_go_out_as_one_write_on_the_next() {
        let turns = Turns::default();
        let mut io = Coalesce::new(Recorder::default(), turns.clone());
        turns.next();
        for frame in [&b"one"[..], b"two", b"three"] {
            write(&mut io, frame);
            flush(&mut io);
        }
        assert!(
            io.io.get_ref().writes.is_empty(),
            "nothing is sent in the same turn"
        );
        turns.next();
        flush(&mut io);
        assert_eq!(io.io.get_ref().writes, vec![b"onetwothree".to_vec()]);
        // Nothing waits any more: a later flush sends nothing new.
        turns.next();
        flush(&mut io);
        assert_eq!(io.io.get_ref().writes.len(), 1);
    }

    #[test]
    fn a_deferred_flush_wakes_the_task_for_its_next_turn() {
        let count = Arc::new(Count(Default::default()));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let mut io = Coalesce::new(Recorder::default(), Turns::default());
        write(&mut io, b"frame");
        assert!(Pin::new(&mut io).poll_flush(&mut cx).is_ready());
        assert_eq!(count.0.load(Ordering::Relaxed), 1);
    }

    /// Counts the wake-ups it is given.
    struct Count(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn put(io: &mut Deferred<Recorder>, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<usize> {
        Pin::new(io)
            .poll_write(cx, bytes)
            .map(|written| written.expect("the recorder does not fail"))
    }

    #[test]
    fn a_small_answer_that_opens_a_turn_goes_out_on_the_next() {
        let count = Arc::new(Count(Default::default()));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let turns = Turns::default();
        let mut io = Deferred::new(Recorder::default(), turns.clone());
        turns.next();
        assert!(put(&mut io, &mut cx, b"answer one").is_pending());
        assert!(
            io.io.writes.is_empty(),
            "nothing is sent in the turn it was made"
        );
        assert_eq!(
            count.0.load(Ordering::Relaxed),
            1,
            "the task is woken for it"
        );
        turns.next();
        assert_eq!(put(&mut io, &mut cx, b"answer one"), Poll::Ready(10));
        // The turn's writes are open now: the next answer made in it goes at once.
        assert_eq!(put(&mut io, &mut cx, b"answer two"), Poll::Ready(10));
        assert_eq!(
            io.io.writes,
            vec![b"answer one".to_vec(), b"answer two".to_vec()]
        );
        // A later turn's first small write waits again.
        turns.next();
        assert!(put(&mut io, &mut cx, b"answer three").is_pending());
        assert_eq!(count.0.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_large_write_goes_at_once() {
        let mut cx = Context::from_waker(Waker::noop());
        let turns = Turns::default();
        let mut io = Deferred::new(Recorder::default(), turns.clone());
        turns.next();
        let chunk = vec![7u8; SMALL + 1];
        assert_eq!(put(&mut io, &mut cx, &chunk), Poll::Ready(chunk.len()));
        assert_eq!(io.io.writes.len(), 1);
    }

    #[test]
    fn a_full_buffer_and_a_shutdown_send_at_once() {
        let mut io = Coalesce::new(Recorder::default(), Turns::default());
        let big = vec![7u8; GATHER + 1];
        write(&mut io, b"head");
        write(&mut io, &big);
        let sent: Vec<u8> = io.io.get_ref().writes.concat();
        assert_eq!(
            sent.len(),
            4 + big.len(),
            "a write past the buffer goes out whole"
        );
        write(&mut io, b"tail");
        let mut cx = Context::from_waker(Waker::noop());
        assert!(Pin::new(&mut io).poll_shutdown(&mut cx).is_ready());
        let recorder = io.io.get_ref();
        assert!(recorder.shut);
        assert!(recorder.writes.concat().ends_with(b"tail"));
    }
}
