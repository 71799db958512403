//! What a guest instance's store holds for its whole life: WASI with one read-only directory
//! and the fixed `SANDSERVE_*` environment, wasi:http with outgoing requests denied, the
//! resource table, a CPU meter reset for each request, a watch on linear memory size, and
//! the file the last `stat-at` found.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreContextMut, UpdateDeadline};
use wasmtime_wasi::filesystem::WasiFilesystemCtx;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{
    WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView, DEFAULT_FORBIDDEN_HEADERS,
};

use crate::guest::progress::Progress;
use crate::limits::EPOCH_TICK;

/// Store data of one instance. The WASI context (environment, preopen) is built once and
/// kept across requests: the guest caches the preopen descriptors it got at its first call,
/// and those live in `table`.
pub(crate) struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    hooks: NoOutgoingRequests,
    pub(crate) cpu: CpuMeter,
    pub(crate) memory: MemoryWatch,
    /// The file the last `stat-at` found, for the `open-at` that follows (`open_at`).
    pub(crate) stated: StatedFile,
}

impl State {
    pub(crate) fn new(
        filesystem: &WasiFilesystemCtx,
        env: &[(String, String)],
        cpu_time: Duration,
    ) -> State {
        let mut wasi = WasiCtxBuilder::new().envs(env).build();
        *wasi.filesystem() = filesystem.clone();
        State {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: NoOutgoingRequests,
            cpu: CpuMeter::new(cpu_time),
            memory: MemoryWatch::default(),
            stated: StatedFile::default(),
        }
    }
}

/// The regular file the guest's last `stat-at` found by one name, on `stat_at`'s fast path:
/// what `open_at` may open without asking the kernel its type again. The next `open-at`
/// uses it up, whatever it opens.
#[derive(Default)]
pub(crate) struct StatedFile {
    /// The directory descriptor's handle, or `None` when there is no such file.
    dir: Option<u32>,
    /// Kept allocated across requests: a name is copied in, not allocated.
    name: String,
}

impl StatedFile {
    pub(crate) fn record(&mut self, dir: u32, name: &str) {
        self.dir = Some(dir);
        self.name.clear();
        self.name.push_str(name);
    }

    pub(crate) fn forget(&mut self) {
        self.dir = None;
    }

    pub(crate) fn is(&self, dir: u32, name: &str) -> bool {
        self.dir == Some(dir) && self.name == name
    }
}

/// Epoch ticks since the host started, counted beside the engine's epoch by the ticker
/// thread, so the CPU meter can tell which ticks passed while its guest was in a host call.
pub(crate) static TICKS: AtomicU64 = AtomicU64::new(0);

/// Guest CPU time spent in the current request, in epoch ticks.
///
/// A tick is charged when it passes while the guest runs: while the future that drives its
/// call is being polled ([`metered`]), which covers the guest's own code and the host calls
/// that answer at once. Ticks that pass while the call is suspended are not: a client
/// draining a download, an upload arriving, a file read on the blocking pool, or a turn of
/// other requests on the thread after a yield. So a guest that streams for minutes while
/// computing little stays within its budget, and one that computes is stopped. At most two
/// ticks are charged per meter call, so a long stretch the meter could not see (its thread
/// taken away by the kernel) is not charged as the guest's own.
///
/// Measured per poll rather than per host call: a store call hook ran on every crossing of
/// the guest's boundary, four for each listing entry, and cost 5% of a 1000-entry listing.
pub(crate) struct CpuMeter {
    used: u64,
    limit: u64,
    turn: Arc<Turn>,
    /// Bytes the request has moved, which extend its budget (see `progress`).
    progress: Progress,
}

/// Whether the guest's call is being polled, and the ticks it has run: shared by the meter
/// in the store and the future that polls the call, which cannot reach the store meanwhile.
/// One thread touches it at a time (the one polling the call), so plain loads and stores do.
#[derive(Default)]
pub(crate) struct Turn {
    running: AtomicBool,
    /// The tick count when the call was last polled or suspended, or the meter last ran.
    since: AtomicU64,
    /// Ticks run since the meter last ran.
    pending: AtomicU64,
}

impl Turn {
    /// The call starts (`true`) or stops running at tick `now`; the ticks since the last
    /// change count as run if it was running.
    fn hand_over(&self, running: bool, now: u64) {
        if self.running.load(Ordering::Relaxed) {
            let since = self.since.load(Ordering::Relaxed);
            let pending = self.pending.load(Ordering::Relaxed);
            self.pending
                .store(pending + now.saturating_sub(since), Ordering::Relaxed);
        }
        self.since.store(now, Ordering::Relaxed);
        self.running.store(running, Ordering::Relaxed);
    }

    /// The ticks run since the last take, counted up to `now`.
    fn take(&self, now: u64) -> u64 {
        self.hand_over(self.running.load(Ordering::Relaxed), now);
        self.pending.swap(0, Ordering::Relaxed)
    }
}

/// Drives `call` with `turn` told each time it runs and stops: the CPU meter's view of it.
pub(crate) async fn metered<F: Future>(turn: &Turn, call: F) -> F::Output {
    let mut call = std::pin::pin!(call);
    std::future::poll_fn(|cx| {
        turn.hand_over(true, TICKS.load(Ordering::Relaxed));
        let polled = call.as_mut().poll(cx);
        turn.hand_over(false, TICKS.load(Ordering::Relaxed));
        polled
    })
    .await
}

impl CpuMeter {
    fn new(limit: Duration) -> CpuMeter {
        let limit = (limit.as_nanos() / EPOCH_TICK.as_nanos()).max(1);
        CpuMeter {
            used: 0,
            limit: u64::try_from(limit).unwrap_or(u64::MAX),
            turn: Arc::default(),
            progress: Progress::default(),
        }
    }

    /// A request starts with none of its CPU time used, and none of its bytes moved.
    pub(crate) fn restart(&mut self, progress: Progress) {
        self.used = 0;
        self.turn.take(TICKS.load(Ordering::Relaxed));
        self.progress = progress;
    }

    /// What the future driving this instance's calls tells when it runs.
    pub(crate) fn turn(&self) -> Arc<Turn> {
        self.turn.clone()
    }

    /// Charges the ticks run since the last charge, at most two; whether the request is now
    /// past its budget (its limit plus what its bytes moved have earned).
    fn charge(&mut self, now: u64) -> bool {
        self.used += self.turn.take(now).min(2);
        self.used > self.limit.saturating_add(self.progress.credit())
    }
}

/// Guest CPU accounting, called each time a running guest crosses an epoch tick.
pub(crate) fn meter_cpu(mut store: StoreContextMut<'_, State>) -> wasmtime::Result<UpdateDeadline> {
    if store.data_mut().cpu.charge(TICKS.load(Ordering::Relaxed)) {
        return Ok(UpdateDeadline::Interrupt);
    }
    // Yielding each tick keeps one busy guest from starving the other requests on its thread.
    Ok(UpdateDeadline::Yield(1))
}

/// Bytes of linear memory the instance's memories hold together. Wasm memories never
/// shrink, so this is also the most the instance has ever held; a warm instance that grew
/// past the reuse bound is not kept (see `instance::Warm::reusable`).
#[derive(Default)]
pub(crate) struct MemoryWatch {
    pub(crate) bytes: usize,
}

impl ResourceLimiter for MemoryWatch {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // The pool's per-memory cap still refuses growth past `--max-memory`; this only
        // watches, so the two limits cannot disagree.
        self.bytes += desired.saturating_sub(current);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// A file server has no business calling out: outgoing requests are denied.
struct NoOutgoingRequests;

/// wasmtime-wasi-http's default forbidden fields, built once: its default
/// `is_forbidden_header` builds an `Arc`'d closure, one allocation for every field of every
/// request and response (14 of a 1 KiB GET's 81 host allocations over HTTP/2).
static FORBIDDEN_HEADERS: [hyper::header::HeaderName; 9] = DEFAULT_FORBIDDEN_HEADERS;

impl WasiHttpHooks for NoOutgoingRequests {
    /// The default list, answered the default's way, without the allocation.
    fn is_forbidden_header(&mut self, name: &hyper::header::HeaderName) -> bool {
        FORBIDDEN_HEADERS.contains(name)
    }

    fn send_request(
        &mut self,
        _request: hyper::Request<wasmtime_wasi_http::WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        hyper::Response<wasmtime_wasi_http::WasiBody>,
                        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

#[cfg(test)]
mod tests {
    use hyper::header::{HeaderName, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST};
    use wasmtime_wasi_http::WasiHttpHooks;

    use super::{CpuMeter, NoOutgoingRequests};
    use crate::guest::progress::{Progress, BYTES_PER_TICK};
    use crate::limits::EPOCH_TICK;

    /// The shortcut answers as wasmtime-wasi-http's default filter does, name for name.
    #[test]
    fn forbidden_headers_are_the_defaults() {
        let mut hooks = NoOutgoingRequests;
        let default = hooks.forbidden_header_filter();
        let names = [
            HOST,
            CONTENT_LENGTH,
            CONTENT_TYPE,
            AUTHORIZATION,
            HeaderName::from_static("keep-alive"),
            HeaderName::from_static("http2-settings"),
            HeaderName::from_static("x-sandserve"),
        ];
        let mut forbidden = 0;
        for name in &names {
            assert_eq!(hooks.is_forbidden_header(name), default(name), "{name}");
            forbidden += usize::from(hooks.is_forbidden_header(name));
        }
        assert_eq!(forbidden, 3, "host, keep-alive and http2-settings");
        for name in &wasmtime_wasi_http::DEFAULT_FORBIDDEN_HEADERS {
            assert!(hooks.is_forbidden_header(name), "{name}");
        }
    }

    /// A meter whose clock starts at tick 100, with a budget of `ticks`.
    fn meter(ticks: u32) -> CpuMeter {
        let cpu = CpuMeter::new(EPOCH_TICK * ticks);
        cpu.turn.take(100);
        cpu
    }

    /// Only the ticks that pass while the call is polled are charged: not those while it
    /// waits (on a client, a read on the blocking pool), however many.
    #[test]
    fn ticks_count_only_while_the_call_runs() {
        let mut cpu = meter(10);
        let turn = cpu.turn();
        turn.hand_over(true, 100);
        turn.hand_over(false, 101); // one tick run, then suspended
        turn.hand_over(true, 500); // resumed 399 ticks later
        assert!(!cpu.charge(501));
        assert_eq!(
            cpu.used, 2,
            "the tick before the wait and the one after, not the wait"
        );
        turn.hand_over(false, 501);
        assert!(!cpu.charge(900), "nothing runs while suspended");
        assert_eq!(cpu.used, 2);
    }

    /// A guest that keeps computing is stopped once its ticks pass the limit, two at most
    /// per meter call; bytes moved extend the budget.
    #[test]
    fn a_computing_guest_is_stopped_at_its_limit() {
        let mut cpu = meter(5);
        cpu.turn().hand_over(true, 100);
        assert!(
            !cpu.charge(200),
            "at most two ticks per call, however long since"
        );
        assert_eq!(cpu.used, 2);
        assert!(!cpu.charge(201));
        assert!(!cpu.charge(202));
        assert!(!cpu.charge(203));
        assert!(cpu.charge(204), "6 ticks used of 5");
        cpu.turn().hand_over(false, 204);

        let progress = Progress::default();
        cpu.restart(progress.clone());
        assert_eq!(cpu.used, 0, "a new request starts afresh");
        progress.add(BYTES_PER_TICK as usize * 3);
        cpu.turn().hand_over(true, 300);
        for now in 301..=308 {
            assert!(!cpu.charge(now), "5 ticks plus 3 earned by 6 MiB moved");
        }
        assert!(cpu.charge(309));
    }
}
