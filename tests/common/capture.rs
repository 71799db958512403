//! A started process's output pipe, read to its end on a thread of its own: the process
//! never blocks on a full pipe (an access log can be long), and a test reads what it
//! printed once it has stopped. Memory is bounded: the first `LIMIT` bytes are kept, the
//! rest is read and counted.

use std::io::Read;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Enough for every start-up text and the access log of any test here, and small enough
/// that a runaway log cannot exhaust the test machine.
const LIMIT: usize = 1 << 20;
/// How long to wait for the last output of a process that has been stopped or has exited.
const DRAIN_WAIT: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Kept {
    bytes: Vec<u8>,
    dropped: u64,
    /// The reader has seen the end of the pipe (or an error reading it).
    ended: bool,
}

/// What a pipe has delivered so far. `Sync`, so a `Server` can be shared with the threads
/// of a test.
pub(crate) struct Capture {
    kept: Arc<(Mutex<Kept>, Condvar)>,
}

impl Capture {
    /// Reads `pipe` until it ends, on a thread of its own.
    pub(crate) fn start(mut pipe: impl Read + Send + 'static) -> Capture {
        let kept = Arc::new((Mutex::new(Kept::default()), Condvar::new()));
        let shared = kept.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                let mut kept = lock(&shared.0);
                let room = LIMIT.saturating_sub(kept.bytes.len()).min(n);
                kept.bytes.extend_from_slice(&buf[..room]);
                kept.dropped += (n - room) as u64;
            }
            lock(&shared.0).ended = true;
            shared.1.notify_all();
        });
        Capture { kept }
    }

    /// Waits a few seconds at most for the end of the pipe (call it once the process has
    /// exited or been killed), then returns what was kept, lossily decoded, with a last line
    /// saying how much was not.
    pub(crate) fn text(&self) -> String {
        let (mutex, ended) = &*self.kept;
        let kept = ended
            .wait_timeout_while(lock(mutex), DRAIN_WAIT, |kept| !kept.ended)
            .unwrap_or_else(|e| e.into_inner())
            .0;
        let mut text = String::from_utf8_lossy(&kept.bytes).into_owned();
        if kept.dropped > 0 {
            text.push_str(&format!(
                "\n[testkit: {} more bytes not kept]\n",
                kept.dropped
            ));
        }
        text
    }
}

/// The lock even if a panicking test thread poisoned it: the bytes are still good.
fn lock(mutex: &Mutex<Kept>) -> MutexGuard<'_, Kept> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
