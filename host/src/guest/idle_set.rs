//! Warm instances waiting for their next request: a few per thread, most recently used
//! first, each dropped after a short idle time, and all of them as soon as the server goes
//! quiet, so that an idle server gives its memory back.
//!
//! Each thread has its own shard, so a worker takes back the instance it just used (its
//! store is still in that core's cache) and never waits on another worker's lock.
//!
//! The sweeper notices when the server has gone quiet (no instance taken or returned for
//! two of its looks, a quarter second apart) and then also gives the host heap's free
//! memory back (see `heap`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};

use crate::guest::instance::Warm;

/// One thread's idle instances with the time each went idle, oldest first, and how many
/// times the set was used.
type Shard = Mutex<ShardState>;

#[derive(Default)]
struct ShardState {
    idle: Vec<(Instant, Warm)>,
    uses: u64,
}

/// Bounded, expiring sets of idle instances, one per thread.
pub(crate) struct IdleSet {
    shards: Box<[Shard]>,
    per_shard: usize,
    ttl: Duration,
}

impl IdleSet {
    /// `shards` sets of at most `per_shard` instances, each kept at most `ttl` while idle.
    pub(crate) fn new(shards: usize, per_shard: usize, ttl: Duration) -> IdleSet {
        IdleSet {
            shards: (0..shards.max(1)).map(|_| Shard::default()).collect(),
            per_shard,
            ttl,
        }
    }

    /// Most instances the set can hold at once: the pool must have room for them too.
    pub(crate) fn capacity(&self) -> usize {
        self.shards.len() * self.per_shard
    }

    /// The calling thread's most recently returned instance, if any.
    pub(crate) fn take(&self) -> Option<Warm> {
        let mut shard = self.shard().lock().ok()?;
        shard.uses += 1;
        shard.idle.pop().map(|(_, warm)| warm)
    }

    /// Keeps `warm` for the calling thread's next request; drops it if the set is full.
    pub(crate) fn put(&self, warm: Warm) {
        let Ok(mut shard) = self.shard().lock() else {
            return;
        };
        shard.uses += 1;
        if shard.idle.len() < self.per_shard {
            shard.idle.push((Instant::now(), warm));
            return;
        }
        drop(shard);
        // Dropped outside the lock: tearing an instance down is the slow part.
        drop(warm);
    }

    /// Drops every instance idle for longer than the time-to-live.
    pub(crate) fn expire(&self) {
        let now = Instant::now();
        for shard in self.shards.iter() {
            let expired: Vec<_> = {
                let Ok(mut shard) = shard.lock() else {
                    continue;
                };
                // Oldest first: instances are pushed in the order they went idle.
                let stale = shard
                    .idle
                    .iter()
                    .take_while(|(since, _)| now.duration_since(*since) > self.ttl)
                    .count();
                shard.idle.drain(..stale).collect()
            };
            drop(expired);
        }
    }

    /// Drops every idle instance.
    fn clear(&self) {
        for shard in self.shards.iter() {
            let dropped = match shard.lock() {
                Ok(mut shard) => std::mem::take(&mut shard.idle),
                Err(_) => continue,
            };
            drop(dropped);
        }
    }

    /// Times instances were taken or returned, over all threads.
    fn uses(&self) -> u64 {
        self.shards
            .iter()
            .filter_map(|shard| shard.lock().ok().map(|shard| shard.uses))
            .sum()
    }

    fn shard(&self) -> &Shard {
        &self.shards[thread_index() % self.shards.len()]
    }
}

/// A small number per thread, handed out in the order threads first ask: the server's
/// worker threads are the only callers, so each gets a shard of its own.
fn thread_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    INDEX.with(|index| *index)
}

/// Sweeps `idle` every `period` for as long as it exists: drops expired instances, and when
/// no instance was used for two sweeps, drops every idle one and releases free heap memory.
pub(crate) fn start_sweeper(idle: Weak<IdleSet>, period: Duration) {
    let spawned = std::thread::Builder::new()
        .name("sandserve-idle".into())
        .spawn(move || {
            let (mut last_uses, mut quiet) = (0, 0);
            while let Some(idle) = idle.upgrade() {
                idle.expire();
                let uses = idle.uses();
                quiet = if uses == last_uses { quiet + 1 } else { 0 };
                last_uses = uses;
                // Quiet for two looks: a warm instance saves tens of microseconds on a busy
                // server and nothing on a quiet one, where its memory is better back with the
                // OS, like the heap's free memory. Not only once: connections that close after
                // the requests stop free their buffers later still.
                if quiet >= 2 {
                    idle.clear();
                    crate::guest::heap::release_free_memory();
                }
                drop(idle);
                std::thread::sleep(period);
            }
        });
    // Without the sweeper idle instances live until they are used again or the server
    // stops; serving still works, so this is not worth failing start-up over.
    if let Err(error) = spawned {
        eprintln!("sandserve: no idle-instance sweeper: {error}");
    }
}
