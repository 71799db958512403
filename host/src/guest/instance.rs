//! One guest instance kept warm across requests, and the rule for when it may serve another.
//!
//! wasmtime lets an embedder call a p2 `incoming-handler` export again once the previous call
//! has returned, and refuses entry after a trap. Reuse keeps the same `Store`, so the guest's
//! long-lived resources (the preopen descriptors wasi-libc caches, a cached root handle) stay
//! valid. What is per request is reset for each call: the CPU meter and the epoch deadline.
//! The per-request resources (the incoming request, the response outparam, the body streams)
//! must be gone from the table when the call returns; an instance whose table holds more than
//! after its first call leaked one and is dropped, not reused.

use std::sync::Arc;

use hyper::Request;
use tokio::sync::oneshot;
use wasmtime::Store;
use wasmtime_wasi::filesystem::WasiFilesystemCtx;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::WasiHttpView;

use crate::guest::progress::Progress;
use crate::guest::state::{meter_cpu, metered, State, Turn};

/// What an instance is made from: the pre-instantiated component and the fixed context.
pub(crate) struct Recipe {
    pub(crate) pre: ProxyPre<State>,
    /// The read-only preopen of the served directory, opened once: each instance's context
    /// gets a clone sharing the handle, instead of opening the path again.
    pub(crate) filesystem: WasiFilesystemCtx,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) cpu_time: std::time::Duration,
}

/// When a warm instance may take another request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReusePolicy {
    /// Requests one instance serves at most (`--reuse`); 1 means a fresh instance each time.
    pub(crate) max_requests: u32,
    /// Linear memory (all of the instance's memories together) past which it is dropped.
    pub(crate) max_memory: usize,
    /// Requests that may run at once (`--max-concurrent`): how a request can tell it is
    /// the only one in flight.
    pub(crate) max_concurrent: usize,
}

/// Where the guest's response head goes once it has one.
pub(crate) type ResponseSender =
    oneshot::Sender<Result<hyper::Response<HyperOutgoingBody>, ErrorCode>>;

/// An instantiated component with its store.
pub(crate) struct Warm {
    store: Store<State>,
    proxy: Proxy,
    /// The CPU meter's view of the calls into this instance (see `state::metered`).
    turn: Arc<Turn>,
    served: u32,
    /// Resource-table entries after the first call returned: what the guest keeps for its
    /// life (preopens, a cached root). More after a later call means a per-request resource
    /// outlived its request.
    baseline: Option<usize>,
    leaked: bool,
}

impl Warm {
    /// Instantiates a fresh copy of the component from the pool.
    pub(crate) async fn new(recipe: &Recipe) -> wasmtime::Result<Warm> {
        let state = State::new(&recipe.filesystem, &recipe.env, recipe.cpu_time);
        let mut store = Store::new(recipe.pre.engine(), state);
        store.limiter(|state| &mut state.memory);
        store.epoch_deadline_callback(meter_cpu);
        // Instantiation runs start functions: give it a deadline like any call.
        store.set_epoch_deadline(1);
        let turn = store.data().cpu.turn();
        let proxy = metered(&turn, recipe.pre.instantiate_async(&mut store)).await?;
        Ok(Warm {
            store,
            proxy,
            turn,
            served: 0,
            baseline: None,
            leaked: false,
        })
    }

    /// Runs one request through the guest's `handle`, with a fresh CPU meter and deadline.
    /// Returns when the guest returns, which is after it has written (or abandoned) its body.
    pub(crate) async fn handle<B>(
        &mut self,
        request: Request<B>,
        response: ResponseSender,
        progress: Progress,
    ) -> wasmtime::Result<()>
    where
        B: http_body::Body<Data = bytes::Bytes, Error = wasmtime_wasi_http::Error> + Send + 'static,
    {
        self.served += 1;
        self.store.data_mut().cpu.restart(progress);
        // A file stat'ed in an earlier request is opened by asking again.
        self.store.data_mut().stated.forget();
        self.store.set_epoch_deadline(1);
        let http = self.store.data_mut();
        let request = http.http().new_incoming_request(Scheme::Http, request)?;
        let out = http.http().new_response_outparam(response)?;
        let call =
            self.proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut self.store, request, out);
        metered(&self.turn, call).await?;
        let entries = self.store.data_mut().table.iter_mut().count();
        self.leaked = entries > *self.baseline.get_or_insert(entries);
        Ok(())
    }

    /// Whether this instance, whose last call returned `Ok`, may serve another request.
    pub(crate) fn reusable(&self, policy: &ReusePolicy) -> bool {
        self.served < policy.max_requests
            && self.store.data().memory.bytes <= policy.max_memory
            && !self.leaked
    }
}
