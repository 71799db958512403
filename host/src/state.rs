//! What a guest instance's store holds for its whole life: WASI with one read-only directory
//! and the fixed `SANDSERVE_*` environment, wasi:http with outgoing requests denied, the
//! resource table, a CPU meter reset for each request, and a watch on linear memory size.

use std::future::Future;
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreContextMut, UpdateDeadline};
use wasmtime_wasi::filesystem::WasiFilesystemCtx;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

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
            cpu: CpuMeter {
                used: Duration::ZERO,
                last: Instant::now(),
                limit: cpu_time,
            },
            memory: MemoryWatch::default(),
        }
    }
}

/// Guest CPU time spent in the current request.
pub(crate) struct CpuMeter {
    used: Duration,
    last: Instant,
    limit: Duration,
}

impl CpuMeter {
    /// A request starts with none of its CPU time used.
    pub(crate) fn restart(&mut self) {
        self.used = Duration::ZERO;
        self.last = Instant::now();
    }
}

/// Guest CPU accounting, called each time a running guest crosses an epoch tick. Ticks
/// arrive about `EPOCH_TICK` apart while the guest computes; a longer gap means it was
/// blocked in a host call (a slow client, the disk), which is charged one tick at most.
pub(crate) fn meter_cpu(mut store: StoreContextMut<'_, State>) -> wasmtime::Result<UpdateDeadline> {
    let cpu = &mut store.data_mut().cpu;
    let now = Instant::now();
    cpu.used += now.duration_since(cpu.last).min(EPOCH_TICK * 2);
    cpu.last = now;
    if cpu.used > cpu.limit {
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

impl WasiHttpHooks for NoOutgoingRequests {
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
