//! Every resource bound the host enforces, in one place, with defaults a laptop or a LAN
//! wants. Each has a flag in the binary.

use std::time::Duration;

/// Bounds on what connections, requests and guest instances may use.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Guest instances alive at once; also sizes the pooling allocator.
    pub max_concurrent: u32,
    /// How long a request waits for a free instance before it gets 503.
    pub queue_timeout: Duration,
    /// Linear memory per guest memory, in bytes.
    pub max_memory: usize,
    /// Guest CPU time per request; time blocked on the client or the disk does not count.
    pub cpu_time: Duration,
    /// Time allowed to receive a request head, and to wait for the next one on an idle
    /// keep-alive connection.
    pub header_timeout: Duration,
    /// Open connections at once; more wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Longest request line (414 beyond it).
    pub max_request_line: usize,
    /// Largest request head, all header lines together (431 beyond it).
    pub max_header_bytes: usize,
    /// Most header fields in one request (431 beyond it).
    pub max_headers: usize,
    /// Requests one guest instance serves before it is replaced; 1 gives every request a
    /// fresh instance.
    pub reuse: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_concurrent: 256,
            queue_timeout: Duration::from_secs(2),
            max_memory: 64 << 20,
            cpu_time: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            max_connections: 4096,
            max_request_line: 64 << 10,
            max_header_bytes: 64 << 10,
            max_headers: 100,
            reuse: DEFAULT_REUSE,
        }
    }
}

/// Epoch ticks drive the CPU deadline: this is their period.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Default for `--reuse`. A retired instance gives all its memory back (see the pool in
/// `runtime`), so a new one faults its pages in again: a whole instance life costs about
/// 87 us of server CPU (1 KiB at c=64: 35.1 us per request at `--reuse 10` against 26.4 at
/// 10000). Spread over 1000 requests that is 0.09 us, under 0.5%; over 100 it would be 3%.
pub const DEFAULT_REUSE: u32 = 1000;

/// An instance whose linear memory grew past this is not reused: an idle instance keeps
/// every page it touched, so this bounds what the idle set can hold on to. The sandserve
/// component holds 1.2-1.8 MiB (1 MiB of it stack) after files, 1000-entry listings, gzip
/// and tar; a guest that needed more than 8 MiB once gives it back rather than keeping it.
pub(crate) const REUSE_MAX_MEMORY: usize = 8 << 20;

/// Idle instances kept per worker thread. A small response finishes, and its instance is
/// back, before the worker starts the next request, so one would do; a few more serve
/// bodies that stream concurrently without a teardown each.
pub(crate) const IDLE_PER_THREAD: usize = 4;

/// How long an idle instance is kept before it is dropped.
pub(crate) const IDLE_TTL: Duration = Duration::from_secs(5);

/// How often idle instances are checked for expiry, and the server for having gone quiet.
pub(crate) const IDLE_SWEEP: Duration = Duration::from_millis(250);

/// Parses `64M`, `64MiB`, `512k`, `1G` or plain bytes, with the component's own size parser
/// (`sandserve::parse_size`), so host and component settings spell sizes alike.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let bytes = sandserve::parse_size(text)?;
    usize::try_from(bytes).map_err(|_| format!("size too large: {text:?}"))
}

/// Parses `10s`, `500ms`, `2m` (humantime syntax).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| format!("{text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let ok = [
            ("64M", 64 << 20),
            ("64MiB", 64 << 20),
            ("512k", 512 << 10),
            ("1G", 1 << 30),
            ("4096", 4096),
            (" 2 m", 2 << 20),
        ];
        for (text, want) in ok {
            assert_eq!(parse_size(text), Ok(want), "{text}");
        }
        for bad in ["", "M", "64X", "-1", "99999999999999999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("soon").is_err());
    }
}
