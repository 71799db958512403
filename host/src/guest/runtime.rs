//! The sandbox: one engine and one pre-instantiated component; each request runs in a warm
//! instance from the idle set, or a new one, that sees only the preopen (read-only unless
//! uploads are on) and the `SANDSERVE_*` variables. Instances serve at most `--reuse`
//! requests and are dropped on any trap, interrupt or error (see `instance`).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use anyhow::{anyhow, Context as _};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::{oneshot, Semaphore};
use wasmtime::component::Linker;
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use wasmtime_wasi::filesystem::WasiFilesystemCtx;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::guest::body::GuestBody;
use crate::guest::call::{Call, Guest, Returned};
use crate::guest::compile_cache;
use crate::guest::failure::log_failure;
use crate::guest::idle_set::{self, IdleSet};
use crate::guest::instance::{Recipe, ResponseSender, ReusePolicy, Warm};
use crate::guest::progress::{Counted, Progress};
use crate::guest::readdir;
use crate::guest::state::State;
use crate::guest::{open_at, stat_at};
use crate::limits::{self, Limits, EPOCH_TICK};

/// The compiled component and everything needed to run one request in it.
pub(crate) struct Runtime {
    recipe: Arc<Recipe>,
    idle: Arc<IdleSet>,
    reuse: ReusePolicy,
    /// One permit per running request: a request waits here, not in the allocator.
    slots: Arc<Semaphore>,
    queue_timeout: Duration,
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
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let idle = Arc::new(IdleSet::new(
            threads,
            limits::IDLE_PER_THREAD,
            limits::IDLE_TTL,
        ));
        let engine = Engine::new(&engine_config(limits, idle.capacity())).map_err(wasm_error)?;
        start_epoch_ticker(&engine);
        idle_set::start_sweeper(Arc::downgrade(&idle), limits::IDLE_SWEEP);
        let component = compile_cache::load(&engine, component, cache_dir)
            .map_err(wasm_error)
            .context("compiling the component")?;
        let mut linker = Linker::<State>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(wasm_error)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(wasm_error)?;
        readdir::add_to_linker(&mut linker).map_err(wasm_error)?;
        stat_at::add_to_linker(&mut linker).map_err(wasm_error)?;
        open_at::add_to_linker(&mut linker).map_err(wasm_error)?;
        let pre = linker
            .instantiate_pre(&component)
            .and_then(ProxyPre::new)
            .map_err(wasm_error)
            .context("the component is not a wasi:http proxy this host can run")?;
        Ok(Runtime {
            recipe: Arc::new(Recipe {
                pre,
                filesystem: open_root(&root, crate::settings::uploads(&env))?,
                env,
                cpu_time: limits.cpu_time,
            }),
            idle,
            reuse: ReusePolicy {
                max_requests: limits.reuse.max(1),
                max_memory: limits::REUSE_MAX_MEMORY,
                max_concurrent: limits.max_concurrent as usize,
            },
            slots: Arc::new(Semaphore::new(limits.max_concurrent as usize)),
            queue_timeout: limits.queue_timeout,
        })
    }

    /// Runs `request` in a guest instance. Any guest fault becomes a 500 for this request only.
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
        let head_only = request.method() == Method::HEAD;
        // Any body type an embedder's router hands over; its errors become wasi:http ones.
        let progress = Progress::default();
        let request = request.map(|body| {
            let body =
                body.map_err(|e| wasmtime_wasi_http::Error::InternalError(Some(e.to_string())));
            Counted::new(Box::pin(body), progress.clone())
        });
        // A free slot is taken at once: the queue's timer (a clock read and a timer entry)
        // is only set up for a request that has to wait.
        let slot = match self.slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                let slot = self.slots.clone().acquire_owned();
                let Ok(Ok(slot)) = tokio::time::timeout(self.queue_timeout, slot).await else {
                    return Ok(error_page(StatusCode::SERVICE_UNAVAILABLE));
                };
                slot
            }
        };
        let (sender, mut receiver) = oneshot::channel();
        let call = self.call_guest(request, sender, progress.clone());
        let mut guest = Guest::new(call, slot, self.idle.clone(), self.reuse);
        // Run the guest until it hands over a response head, or returns without one.
        let head = std::future::poll_fn(|cx| {
            let ended = guest.poll_end(cx).is_ready();
            match Pin::new(&mut receiver).poll(cx) {
                Poll::Ready(head) => Poll::Ready(head.ok()),
                Poll::Pending if ended => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            }
        })
        .await;
        match head {
            Some(Ok(response)) => {
                let expected = if head_only || !response_has_body(response.status()) {
                    Some(0)
                } else {
                    content_length(response.headers())
                };
                Ok(response
                    .map(|body| GuestBody::new(body, guest, expected, progress).boxed_unsync()))
            }
            Some(Err(code)) => Err(anyhow!("the component answered with error {code:?}")),
            None => {
                let error = guest
                    .take_error()
                    .unwrap_or_else(|| anyhow!("the component returned without a response"));
                Err(error.context("no response from the component"))
            }
        }
    }

    /// The guest's side of one request: a warm instance from the idle set or a new one,
    /// then its `handle`.
    fn call_guest<B>(
        &self,
        request: Request<B>,
        response: ResponseSender,
        progress: Progress,
    ) -> Call
    where
        B: http_body::Body<Data = Bytes, Error = wasmtime_wasi_http::Error> + Send + 'static,
    {
        let (recipe, idle) = (self.recipe.clone(), self.idle.clone());
        Box::pin(async move {
            let mut warm = match idle.take() {
                Some(warm) => warm,
                None => match Warm::new(&recipe).await {
                    Ok(warm) => warm,
                    Err(error) => {
                        return Returned {
                            warm: None,
                            result: Err(wasm_error(error).context("instantiating the component")),
                        }
                    }
                },
            };
            let result = warm
                .handle(request, response, progress)
                .await
                .map_err(wasm_error);
            Returned {
                warm: Some(warm),
                result,
            }
        })
    }
}

/// Whether a response with `status` has a body on the wire (RFC 9110 §6.4.1).
fn response_has_body(status: StatusCode) -> bool {
    !(status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED)
}

/// The declared body length, if there is exactly one valid `Content-Length`.
fn content_length(headers: &hyper::HeaderMap) -> Option<u64> {
    let mut values = headers.get_all(CONTENT_LENGTH).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    value.to_str().ok()?.parse().ok()
}

/// Advances the engine's epoch every tick for as long as the engine lives.
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("sandserve-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                crate::guest::state::TICKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning the epoch thread");
}

/// Bytes of each pooled memory, table and stack reset in place rather than decommitted,
/// when every request tears its instance down (`--reuse 1`).
const KEEP_RESIDENT: usize = 2 << 20;

/// `idle` more instances than requests may be alive: those waiting in the idle set.
fn engine_config(limits: &Limits, idle: usize) -> wasmtime::Config {
    let mut pool = PoolingAllocationConfig::default();
    let instances = limits.max_concurrent + u32::try_from(idle).unwrap_or(u32::MAX);
    // A std-built component holds a few core instances, memories and tables (the main module,
    // the WASI adapter, shims); size the pool so every concurrent request and every idle
    // instance fits.
    // With a teardown per request, reset small memories and tables in place and keep them
    // mapped: returning pages with madvise costs a TLB shootdown across cores each time.
    // With reuse a teardown is rare, and a slot that keeps its pages holds memory nobody
    // uses, so everything goes back. Decommits are not batched either way, so a guest that
    // grew to the cap gives its memory back at once.
    let keep = if limits.reuse > 1 { 0 } else { KEEP_RESIDENT };
    pool.total_component_instances(instances)
        .total_core_instances(instances * 8)
        .total_memories(instances * 2)
        .total_tables(instances * 4)
        .max_memory_size(limits.max_memory)
        .linear_memory_keep_resident(keep)
        .table_keep_resident(keep)
        .async_stack_keep_resident(keep)
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
    let page = sandserve::error_page(status);
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

/// Opens `root` as the guest's `/`, once for all requests: read-only, or read-write when the
/// configuration turns uploads on.
fn open_root(root: &std::path::Path, writable: bool) -> anyhow::Result<WasiFilesystemCtx> {
    let mut wasi = WasiCtxBuilder::new();
    // Local file operations take microseconds: run them inline rather than paying a
    // thread hand-off to tokio's blocking pool for every stat, open and read.
    // The stat-at shadow (`stat_at`) relies on this: its fallback must finish at once.
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
