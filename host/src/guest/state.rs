//! What a guest instance's store holds for its whole life: WASI with one read-only directory
//! and the fixed `SANDSERVE_*` environment, wasi:http with outgoing requests denied, the
//! resource table, a CPU meter reset for each request, a watch on linear memory size, and
//! the file the last `stat-at` found.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime::{CallHook, ResourceLimiter, StoreContextMut, UpdateDeadline};
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
/// A tick is charged when it passes while the guest is running its own code. Ticks that pass
/// while it waits in a host call (a client draining a download, an upload arriving, the
/// disk) are not: the store's call hook tells the meter each time control passes between
/// the guest and the host (a host call can itself call back into the guest, to allocate its
/// results). So a guest that streams for minutes while computing little stays within its
/// budget, and one that computes is stopped. At most two ticks are charged per meter call,
/// so time a yielded guest spends waiting for its thread is not charged as its own.
pub(crate) struct CpuMeter {
    used: u64,
    limit: u64,
    /// Where control is: in the guest's code, or in the host's.
    in_guest: bool,
    /// The tick count when control last changed hands, or the meter last ran.
    since: u64,
    /// Ticks run in the guest's code since the meter last ran.
    pending: u64,
    /// Bytes the request has moved, which extend its budget (see `progress`).
    progress: Progress,
}

impl CpuMeter {
    fn new(limit: Duration) -> CpuMeter {
        let limit = (limit.as_nanos() / EPOCH_TICK.as_nanos()).max(1);
        CpuMeter {
            used: 0,
            limit: u64::try_from(limit).unwrap_or(u64::MAX),
            in_guest: false,
            since: TICKS.load(Ordering::Relaxed),
            pending: 0,
            progress: Progress::default(),
        }
    }

    /// A request starts with none of its CPU time used, and none of its bytes moved.
    pub(crate) fn restart(&mut self, progress: Progress) {
        self.used = 0;
        self.pending = 0;
        self.since = TICKS.load(Ordering::Relaxed);
        self.progress = progress;
    }

    /// Control passes to the guest (`true`) or to the host; the ticks since the last change
    /// count as the guest's if it had control.
    fn hand_over(&mut self, to_guest: bool) {
        let now = TICKS.load(Ordering::Relaxed);
        if self.in_guest {
            self.pending += now.saturating_sub(self.since);
        }
        self.since = now;
        self.in_guest = to_guest;
    }
}

/// The store's call hook: control passing between guest and host.
pub(crate) fn note_host_calls(
    mut store: StoreContextMut<'_, State>,
    hook: CallHook,
) -> wasmtime::Result<()> {
    let to_guest = matches!(hook, CallHook::CallingWasm | CallHook::ReturningFromHost);
    store.data_mut().cpu.hand_over(to_guest);
    Ok(())
}

/// Guest CPU accounting, called each time a running guest crosses an epoch tick.
pub(crate) fn meter_cpu(mut store: StoreContextMut<'_, State>) -> wasmtime::Result<UpdateDeadline> {
    let cpu = &mut store.data_mut().cpu;
    // Only running guest code reaches an epoch check.
    cpu.hand_over(true);
    cpu.used += cpu.pending.min(2);
    cpu.pending = 0;
    if cpu.used > cpu.limit.saturating_add(cpu.progress.credit()) {
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

    use super::NoOutgoingRequests;

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
}
