//! Every resource bound the host enforces, in one place, with the defaults a laptop wants.

use std::time::Duration;

/// Bounds on what requests and guest instances may use.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Guest instances alive at once; also sizes the pooling allocator.
    pub max_concurrent: u32,
    /// How long a request waits for a free instance before it gets 503.
    pub queue_timeout: Duration,
    /// Linear memory per guest memory.
    pub max_memory: usize,
    /// Time allowed to receive a request head.
    pub header_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_concurrent: 256,
            queue_timeout: Duration::from_secs(5),
            max_memory: 64 << 20,
            header_timeout: Duration::from_secs(10),
        }
    }
}
