//! The sandbox: one engine and one pre-instantiated component, then a fresh store and
//! instance per request that sees only the preopen (read-only unless uploads are on) and the
//! `SANDSERVE_*` variables.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use tokio::sync::{oneshot, Semaphore};
use tokio::task::JoinHandle;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{
    Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreContextMut,
    UpdateDeadline,
};
use wasmtime_wasi::filesystem::WasiFilesystemCtx;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::compile_cache;
use crate::limits::{Limits, EPOCH_TICK};

/// The compiled component and everything needed to run one request in it.
pub(crate) struct Runtime {
    pre: ProxyPre<State>,
    /// The preopen of the served directory, opened once: each request's context
    /// gets a clone sharing the handle, instead of opening the path again.
    filesystem: WasiFilesystemCtx,
    env: Vec<(String, String)>,
    /// One permit per pooled instance slot: a request waits here, not in the allocator.
    slots: Arc<Semaphore>,
    queue_timeout: Duration,
    cpu_time: Duration,
}

impl Runtime {
    /// Compiles `component` once and links it against WASI with a view of `root`
    /// (read-only unless the variables turn uploads on).
    pub(crate) fn new(
        component: &[u8],
        root: PathBuf,
        env: Vec<(String, String)>,
        limits: &Limits,
        cache_dir: Option<&std::path::Path>,
    ) -> anyhow::Result<Runtime> {
        let engine = Engine::new(&engine_config(limits)).map_err(wasm_error)?;
        start_epoch_ticker(&engine);
        let component = compile_cache::load(&engine, component, cache_dir)
            .map_err(wasm_error)
            .context("compiling the component")?;
        let mut linker = Linker::<State>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(wasm_error)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(wasm_error)?;
        let pre = linker
            .instantiate_pre(&component)
            .and_then(ProxyPre::new)
            .map_err(wasm_error)
            .context("the component is not a wasi:http proxy this host can run")?;
        Ok(Runtime {
            pre,
            filesystem: open_root(&root, crate::settings::uploads(&env))?,
            env,
            slots: Arc::new(Semaphore::new(limits.max_concurrent as usize)),
            queue_timeout: limits.queue_timeout,
            cpu_time: limits.cpu_time,
        })
    }

    /// Runs `request` in a new instance. Any guest fault becomes a 500 for this request only.
    pub(crate) async fn handle<B>(&self, request: Request<B>) -> Response<HyperOutgoingBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        match self.call(request).await {
            Ok(response) => response,
            Err(error) => {
                log_failure(&error);
                error_page(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    async fn call<B>(&self, request: Request<B>) -> anyhow::Result<Response<HyperOutgoingBody>>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        // Any body type an embedder's router hands over; its errors become wasi:http ones.
        let request = request.map(|body| {
            body.map_err(|e| wasmtime_wasi_http::Error::InternalError(Some(e.to_string())))
        });
        let slot = self.slots.clone().acquire_owned();
        let Ok(Ok(slot)) = tokio::time::timeout(self.queue_timeout, slot).await else {
            return Ok(error_page(StatusCode::SERVICE_UNAVAILABLE));
        };
        let mut store = Store::new(
            self.pre.engine(),
            State::new(&self.filesystem, &self.env, self.cpu_time),
        );
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(meter_cpu);
        let (sender, receiver) = oneshot::channel();
        let request = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, request)
            .map_err(wasm_error)?;
        let out = store
            .data_mut()
            .http()
            .new_response_outparam(sender)
            .map_err(wasm_error)?;
        let pre = self.pre.clone();
        // The guest keeps running after it hands over the response head: it streams the body.
        let task = tokio::spawn(async move {
            // The slot is held until the guest returns, which is after the body is streamed.
            let _slot = slot;
            let proxy = pre.instantiate_async(&mut store).await?;
            let handled = proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, request, out)
                .await;
            // Let the connection write the response out before this thread spends time
            // tearing the instance down: the client reads while we clean up.
            tokio::task::yield_now().await;
            drop(store);
            handled
        });
        match receiver.await {
            Ok(Ok(response)) => Ok(response.map(|body| GuestBody::new(body, task).boxed_unsync())),
            Ok(Err(code)) => Err(anyhow!("the component answered with error {code:?}")),
            Err(_) => {
                let error = match task.await {
                    Ok(Ok(())) => anyhow!("the component returned without a response"),
                    Ok(Err(error)) => wasm_error(error),
                    Err(join) => anyhow!("the request task failed: {join}"),
                };
                Err(error.context("no response from the component"))
            }
        }
    }
}

/// A response body that only ends cleanly if the guest did: a guest that traps mid-stream
/// must cut the connection, not end the body as if it were whole.
struct GuestBody {
    inner: HyperOutgoingBody,
    guest: Option<JoinHandle<wasmtime::Result<()>>>,
}

impl GuestBody {
    fn new(inner: HyperOutgoingBody, guest: JoinHandle<wasmtime::Result<()>>) -> GuestBody {
        GuestBody {
            inner,
            guest: Some(guest),
        }
    }
}

impl http_body::Body for GuestBody {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(None) => {}
            other => return other,
        }
        let Some(guest) = self.guest.as_mut() else {
            return Poll::Ready(None);
        };
        // The body ended: wait for the guest to return to learn whether it finished or died.
        let outcome = std::task::ready!(Pin::new(guest).poll(cx));
        self.guest = None;
        let failure = match outcome {
            Ok(Ok(())) => return Poll::Ready(None),
            Ok(Err(error)) => wasm_error(error),
            Err(join) => anyhow!("the request task failed: {join}"),
        };
        log_failure(&failure.context("the component failed while streaming"));
        Poll::Ready(Some(Err(wasmtime_wasi_http::Error::InternalError(Some(
            "the component failed while streaming".into(),
        )))))
    }
}

/// One line per failure: wasm backtraces are multi-line and would break the log's shape.
fn log_failure(error: &anyhow::Error) {
    let text = format!("{error:#}");
    eprintln!(
        "sandserve: request failed: {}",
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    );
}

/// Guest CPU accounting, called each time a running guest crosses an epoch tick. Ticks
/// arrive about `EPOCH_TICK` apart while the guest computes; a longer gap means it was
/// blocked in a host call (a slow client, the disk), which is charged one tick at most.
fn meter_cpu(mut store: StoreContextMut<'_, State>) -> wasmtime::Result<UpdateDeadline> {
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

/// Advances the engine's epoch every tick for as long as the engine lives.
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("sandserve-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning the epoch thread");
}

/// Bytes of each pooled memory, table and stack reset in place rather than decommitted.
const KEEP_RESIDENT: usize = 2 << 20;

fn engine_config(limits: &Limits) -> wasmtime::Config {
    let mut pool = PoolingAllocationConfig::default();
    let instances = limits.max_concurrent;
    // A std-built component holds a few core instances, memories and tables (the main module,
    // the WASI adapter, shims); size the pool so every concurrent request fits.
    pool.total_component_instances(instances)
        .total_core_instances(instances * 8)
        .total_memories(instances * 2)
        .total_tables(instances * 4)
        .max_memory_size(limits.max_memory)
        // Reset small memories and tables in place and keep them mapped: returning pages
        // with madvise costs a TLB shootdown across cores on every request. Decommits are
        // not batched, so a guest that grew to the cap gives its memory back at once.
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT)
        .async_stack_keep_resident(KEEP_RESIDENT)
        // Where the kernel can say which pages a request dirtied (Linux 6.7+), reset only those.
        .pagemap_scan(wasmtime::Enabled::Auto);
    let mut config = wasmtime::Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .cranelift_opt_level(wasmtime::OptLevel::Speed);
    config
}

/// wasmtime has its own error type; carry its full chain into anyhow.
fn wasm_error(error: wasmtime::Error) -> anyhow::Error {
    anyhow!("{error:?}")
}

/// The host's own error page, for when the guest failed, or never ran.
pub(crate) fn error_page(status: StatusCode) -> Response<HyperOutgoingBody> {
    let reason = status.canonical_reason().unwrap_or("Error");
    let code = status.as_u16();
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{code} {reason}</title></head>\n<body><h1>{code} {reason}</h1></body>\n</html>\n"
    );
    let len = page.len();
    let mut response = Response::new(
        Full::new(Bytes::from(page))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    response
}

/// Per-request store data: WASI with one directory, and wasi:http.
struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: NoOutgoingRequests,
    cpu: CpuMeter,
}

struct CpuMeter {
    used: Duration,
    last: Instant,
    limit: Duration,
}

impl State {
    fn new(filesystem: &WasiFilesystemCtx, env: &[(String, String)], cpu_time: Duration) -> State {
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
        }
    }
}

/// Opens `root` as the guest's `/`, once for all requests: read-only, or read-write when the
/// configuration turns uploads on.
fn open_root(root: &std::path::Path, writable: bool) -> anyhow::Result<WasiFilesystemCtx> {
    let mut wasi = WasiCtxBuilder::new();
    // Local file operations take microseconds: run them inline rather than paying a
    // thread hand-off to tokio's blocking pool for every stat, open and read.
    wasi.allow_blocking_current_thread(true);
    let perms = if writable {
        FsPerms::ReadWrite
    } else {
        FsPerms::ReadOnly
    };
    wasi.preopened_dir(root, "/", perms)
        .map_err(wasm_error)
        .context("opening the served directory")?;
    Ok(wasi.build().filesystem().clone())
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
