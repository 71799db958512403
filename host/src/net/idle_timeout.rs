//! The idle timer of a connection whose protocol has none of its own.
//!
//! HTTP/1.1 connections are closed by hyper's header-read timeout when no request head
//! arrives in time. HTTP/2 has no such timer: an idle connection, or one that trickles a
//! header block in CONTINUATION frames and never completes a request, would stay open for
//! ever. So a TLS connection counts its requests in flight and is shut down (GOAWAY, then
//! close) once none has run for the header timeout.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

// tokio's clock, so the unit test can run it paused.
use tokio::time::Instant;

/// Requests in flight on one connection, and when the last one ended.
pub(crate) struct Activity {
    origin: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds from `origin` to the end of the last request.
    last_end: AtomicU64,
}

impl Activity {
    pub(crate) fn new() -> Arc<Activity> {
        Arc::new(Activity {
            origin: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_end: AtomicU64::new(0),
        })
    }

    /// Marks a request as started; it ends when the returned guard is dropped (with the
    /// response body, so a long download keeps the connection busy).
    pub(crate) fn begin(self: &Arc<Activity>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// Completes once the connection has had no request in flight for `timeout`.
    pub(crate) async fn idle_for(&self, timeout: Duration) {
        loop {
            let deadline = if self.in_flight.load(Ordering::Relaxed) > 0 {
                Instant::now() + timeout
            } else {
                self.origin + Duration::from_millis(self.last_end.load(Ordering::Relaxed)) + timeout
            };
            tokio::time::sleep_until(deadline).await;
            let idle_since =
                self.origin + Duration::from_millis(self.last_end.load(Ordering::Relaxed));
            if self.in_flight.load(Ordering::Relaxed) == 0 && idle_since + timeout <= Instant::now()
            {
                return;
            }
        }
    }
}

/// One request in flight; dropping it ends the request.
pub(crate) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        let now = activity.origin.elapsed().as_millis() as u64;
        activity.last_end.store(now, Ordering::Relaxed);
        activity.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn idle_only_counts_time_without_requests() {
        let activity = Activity::new();
        let timeout = Duration::from_secs(10);
        let request = activity.begin();
        // Busy for 30 s: not idle, however long it takes.
        let busy = tokio::time::timeout(Duration::from_secs(30), activity.idle_for(timeout));
        assert!(busy.await.is_err());
        drop(request);
        let started = Instant::now();
        activity.idle_for(timeout).await;
        assert!(started.elapsed() >= timeout);
    }
}
