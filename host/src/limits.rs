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
        }
    }
}

/// Epoch ticks drive the CPU deadline: this is their period.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

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
