//! Accepts connections and hands each request to the sandbox: `TCP_NODELAY`, then HTTP/1.1
//! or, over TLS, HTTP/2 (`connection.rs`), and a graceful stop.
//!
//! One worker thread per core, each with a single-threaded runtime: a connection goes to the
//! least busy worker and stays there with its requests and their guest instances. A
//! work-stealing pool moved tasks between threads on every request, and those hand-offs
//! cost a third of the small-file throughput.

use std::future::Future;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

use crate::guest::runtime::Runtime;
use crate::limits::Limits;
use crate::net::connection;
use crate::net::protocols::Protocols;
use crate::net::shared::Shared;
use crate::net::tls::Tls;

/// Configures a [`Server`]: what to serve, with which component, where.
pub struct ServerBuilder {
    root: PathBuf,
    component: Option<Vec<u8>>,
    addr: SocketAddr,
    quiet: bool,
    env: Vec<(String, String)>,
    limits: Limits,
    cache_dir: Option<PathBuf>,
    threads: usize,
    tls: Option<Tls>,
}

impl ServerBuilder {
    /// Serves HTTPS (HTTP/1.1 and HTTP/2, by ALPN) with this certificate instead of HTTP.
    pub fn tls(mut self, tls: Tls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Threads accepting and serving connections. Default: one per available core.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Where compiled components are cached (default: `~/.cache/sandserve`); `None` compiles
    /// at every start.
    pub fn compile_cache(mut self, dir: Option<PathBuf>) -> Self {
        self.cache_dir = dir;
        self
    }

    /// The directory to serve; read-only unless uploads are on. Default: the current directory.
    pub fn root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = root.into();
        self
    }

    /// A wasi:http component to run instead of the embedded sandserve component.
    pub fn component(mut self, bytes: Vec<u8>) -> Self {
        self.component = Some(bytes);
        self
    }

    /// The address to listen on. Default: `127.0.0.1:8000`; port 0 picks a free port.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Turns the access log off.
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// An environment variable for the component, e.g. `SANDSERVE_HIDDEN=1`.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Resource limits per request and per server (memory, CPU, concurrency, timeouts).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The URL path under which an embedding router mounts the handler (e.g. `/files`), so
    /// redirects and breadcrumbs point back inside it.
    pub fn base_path(self, prefix: &str) -> Self {
        self.env(sandserve::BASE_PATH_VAR, prefix)
    }

    /// Checks the directory, compiles the component and binds the socket.
    pub fn build(self) -> anyhow::Result<Server> {
        let listener = StdListener::bind(self.addr)
            .with_context(|| format!("cannot listen on {}", self.addr))?;
        listener.set_nonblocking(true)?;
        let (quiet, limits, threads) = (self.quiet, self.limits.clone(), self.threads);
        let tls = self.tls.clone();
        let (handler, log_users) = self.prepare()?;
        Ok(Server {
            listener,
            root: handler.root.clone(),
            runtime: handler.runtime,
            quiet,
            limits,
            threads,
            tls,
            log_users,
        })
    }

    /// Checks the directory and compiles the component, without a socket: for mounting the
    /// sandboxed file server inside another program's router (see `examples/axum.rs`).
    pub fn handler(self) -> anyhow::Result<Handler> {
        self.prepare().map(|(handler, _)| handler)
    }

    /// The handler, and whether the access log shows user names (the built-in component
    /// requires authentication).
    fn prepare(self) -> anyhow::Result<(Handler, bool)> {
        let root = served_dir(&self.root)?;
        // The built-in component would refuse a bad setting on every request: say so now.
        let auth = match self.component {
            None => crate::settings::check(&self.env)?.requires_auth(),
            Some(_) => false,
        };
        let component = self.component.as_deref().unwrap_or(crate::COMPONENT);
        let runtime = Runtime::new(
            component,
            root.clone(),
            self.env,
            &self.limits,
            self.cache_dir.as_deref(),
        )?;
        let runtime = Arc::new(runtime);
        Ok((Handler { runtime, root }, auth))
    }
}

/// The sandboxed file server as a request handler: cheap to clone; requests run in warm
/// guest instances, each reused for a bounded number of requests (see [`Limits::reuse`]).
#[derive(Clone)]
pub struct Handler {
    runtime: Arc<Runtime>,
    root: PathBuf,
}

/// The body type of every response.
pub type ResponseBody = wasmtime_wasi_http::p2::body::HyperOutgoingBody;

impl Handler {
    /// Answers one request. Guest faults become a 500 for this request only.
    pub async fn handle<B>(&self, request: hyper::Request<B>) -> hyper::Response<ResponseBody>
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        self.runtime.handle(request).await
    }

    /// The canonical directory being served.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

fn served_dir(path: &Path) -> anyhow::Result<PathBuf> {
    let root = path
        .canonicalize()
        .with_context(|| format!("cannot serve {}", path.display()))?;
    if !root.is_dir() {
        bail!("cannot serve {}: not a directory", path.display());
    }
    Ok(root)
}

/// A bound, ready server.
pub struct Server {
    listener: StdListener,
    runtime: Arc<Runtime>,
    root: PathBuf,
    quiet: bool,
    limits: Limits,
    threads: usize,
    tls: Option<Tls>,
    log_users: bool,
}

impl Server {
    /// A builder serving `.` on 127.0.0.1:8000 with the embedded component and default limits.
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            root: PathBuf::from("."),
            component: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 8000)),
            quiet: false,
            env: Vec::new(),
            limits: Limits::default(),
            cache_dir: crate::guest::compile_cache::default_dir(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            tls: None,
        }
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound socket has an address")
    }

    /// The canonical directory being served.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the server speaks HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Serves until `shutdown` completes, then lets open requests finish for a few seconds.
    ///
    /// The calling task accepts; each connection goes to the worker thread (see `threads`)
    /// serving the fewest, which keeps it, its requests and their guest instances.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let shared = Arc::new(Shared {
            runtime: self.runtime,
            protocols: Protocols::new(&self.limits, self.tls),
            limits: self.limits,
            quiet: self.quiet,
            log_users: self.log_users,
        });
        let mut workers = Vec::new();
        for index in 0..self.threads {
            workers.push(Worker::start(index, shared.clone())?);
        }
        let listener = TcpListener::from_std(self.listener)?;
        let connections = Arc::new(Semaphore::new(shared.limits.max_connections));
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            // Past the bound, new connections wait in the kernel's accept queue.
            let permit = tokio::select! {
                permit = connections.clone().acquire_owned() => permit?,
                () = &mut shutdown => break,
            };
            let (stream, client) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of descriptors or a reset before accept: back off, keep serving.
                        eprintln!("sandserve: accept failed: {error}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let Ok(stream) = stream.into_std() else {
                continue;
            };
            let worker = workers
                .iter()
                .min_by_key(|worker| worker.open.load(Ordering::Relaxed))
                .expect("at least one worker");
            let open = OpenConnection::count(&worker.open);
            if worker
                .connections
                .send((stream, client, permit, open))
                .is_err()
            {
                bail!("a server thread stopped");
            }
        }
        drop(listener);
        // Close every worker's channel first, so they all wind down at once.
        let threads: Vec<_> = workers.into_iter().map(Worker::close).collect();
        for thread in threads {
            tokio::task::spawn_blocking(move || thread.join())
                .await?
                .map_err(|_| anyhow::anyhow!("a server thread panicked"))??;
        }
        Ok(())
    }
}

/// An accepted connection on its way to a worker, with its share of `max_connections` and
/// its place in the worker's count; both are given back when it is dropped.
type Accepted = (
    std::net::TcpStream,
    SocketAddr,
    OwnedSemaphorePermit,
    OpenConnection,
);

/// One connection in a worker's count of open connections, for as long as it lives.
struct OpenConnection(Arc<AtomicUsize>);

impl OpenConnection {
    fn count(open: &Arc<AtomicUsize>) -> OpenConnection {
        open.fetch_add(1, Ordering::Relaxed);
        OpenConnection(open.clone())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A thread with a single-threaded runtime that serves the connections it is given.
struct Worker {
    connections: mpsc::UnboundedSender<Accepted>,
    /// Connections open on this worker, for choosing the least busy one.
    open: Arc<AtomicUsize>,
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
}

impl Worker {
    fn start(index: usize, shared: Arc<Shared>) -> anyhow::Result<Worker> {
        let (connections, received) = mpsc::unbounded_channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting a server thread's runtime")?;
        let thread = std::thread::Builder::new()
            .name(format!("sandserve-{index}"))
            .spawn(move || runtime.block_on(serve(received, shared)))
            .context("starting a server thread")?;
        Ok(Worker {
            connections,
            open: Arc::new(AtomicUsize::new(0)),
            thread,
        })
    }

    /// Closing the channel tells the worker to finish; its open requests get a few seconds.
    fn close(self) -> std::thread::JoinHandle<anyhow::Result<()>> {
        drop(self.connections);
        self.thread
    }
}

/// A worker's loop: serves each connection it is handed until the acceptor closes the
/// channel, then lets them finish for a few seconds.
async fn serve(
    mut received: mpsc::UnboundedReceiver<Accepted>,
    shared: Arc<Shared>,
) -> anyhow::Result<()> {
    // Every connection holds a receiver; a send asks them to finish, and the sender learns
    // when the last one is gone.
    let (stop, _) = watch::channel(());
    while let Some((stream, client, permit, open)) = received.recv().await {
        let Ok(stream) = TcpStream::from_std(stream) else {
            continue;
        };
        // Without it, small responses wait ~40 ms for delayed ACKs (Nagle).
        let _ = stream.set_nodelay(true);
        let (shared, stopping) = (shared.clone(), stop.subscribe());
        tokio::spawn(async move {
            connection::serve(shared, stream, client, stopping).await;
            drop((permit, open));
        });
    }
    let _ = stop.send(());
    tokio::select! {
        () = stop.closed() => {}
        () = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
    Ok(())
}
