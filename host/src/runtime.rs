//! The sandbox: one engine and one pre-instantiated component, then a fresh store and
//! instance per request that sees only the read-only preopen and the `SANDSERVE_*` variables.

use std::future::Future;
use std::path::PathBuf;

use anyhow::{anyhow, Context as _};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use tokio::sync::oneshot;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::limits::Limits;

/// The compiled component and everything needed to run one request in it.
pub struct Runtime {
    pre: ProxyPre<State>,
    root: PathBuf,
    env: Vec<(String, String)>,
}

impl Runtime {
    /// Compiles `component` once and links it against WASI with a read-only view of `root`.
    pub fn new(
        component: &[u8],
        root: PathBuf,
        env: Vec<(String, String)>,
        limits: &Limits,
    ) -> anyhow::Result<Runtime> {
        let engine = Engine::new(&engine_config(limits)).map_err(wasm_error)?;
        let component = Component::new(&engine, component)
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
        Ok(Runtime { pre, root, env })
    }

    /// Runs `request` in a new instance. Any guest fault becomes a 500 for this request only.
    pub async fn handle(&self, request: Request<Incoming>) -> Response<HyperOutgoingBody> {
        match self.call(request).await {
            Ok(response) => response,
            Err(error) => {
                tracing_error(&error);
                internal_error()
            }
        }
    }

    async fn call(
        &self,
        request: Request<Incoming>,
    ) -> anyhow::Result<Response<HyperOutgoingBody>> {
        let mut store = Store::new(self.pre.engine(), State::new(&self.root, &self.env)?);
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
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, request, out)
                .await
        });
        match receiver.await {
            Ok(Ok(response)) => Ok(response),
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

fn engine_config(limits: &Limits) -> wasmtime::Config {
    let mut pool = PoolingAllocationConfig::default();
    let instances = limits.max_concurrent;
    // A std-built component holds a few core instances, memories and tables (the main module,
    // the WASI adapter, shims); size the pool so every concurrent request fits.
    pool.total_component_instances(instances)
        .total_core_instances(instances * 8)
        .total_memories(instances * 2)
        .total_tables(instances * 4)
        .max_memory_size(limits.max_memory);
    let mut config = wasmtime::Config::new();
    config
        .wasm_component_model(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .cranelift_opt_level(wasmtime::OptLevel::Speed);
    config
}

/// wasmtime has its own error type; carry its full chain into anyhow.
fn wasm_error(error: wasmtime::Error) -> anyhow::Error {
    anyhow!("{error:?}")
}

fn tracing_error(error: &anyhow::Error) {
    eprintln!("sandserve: request failed: {error:#}");
}

/// The host's own 500: the guest failed before or instead of answering.
fn internal_error() -> Response<HyperOutgoingBody> {
    let page: &'static [u8] = b"<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>500 Internal Server Error</title></head>\n<body><h1>500 Internal Server Error</h1></body>\n</html>\n";
    let mut response = Response::new(
        Full::new(Bytes::from_static(page))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CONTENT_LENGTH, HeaderValue::from(page.len()));
    response
}

/// Per-request store data: WASI with one read-only directory, and wasi:http.
struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: NoOutgoingRequests,
}

impl State {
    fn new(root: &PathBuf, env: &[(String, String)]) -> anyhow::Result<State> {
        let mut wasi = WasiCtxBuilder::new();
        wasi.preopened_dir(root, "/", FsPerms::ReadOnly)
            .map_err(wasm_error)
            .context("opening the served directory")?;
        wasi.envs(env);
        Ok(State {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: NoOutgoingRequests,
        })
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
