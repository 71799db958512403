//! `sandserve [PATH]`: serve a directory over HTTP or HTTPS from inside a WebAssembly sandbox.

mod addresses;
mod banner;
mod qr;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Parser;
use sandserve_host::{limits, Credentials, Limits, Server, ServerBuilder, Tls};

use crate::banner::Banner;

/// Serve a directory over HTTP, read-only, from inside a WebAssembly sandbox.
#[derive(Parser, Debug)]
#[command(name = "sandserve", version)]
struct Args {
    /// Directory to serve.
    #[arg(default_value = ".")]
    path: PathBuf,

    /// Port to listen on (0 picks a free one).
    #[arg(short, long, default_value_t = 8000)]
    port: u16,

    /// Address to bind.
    #[arg(short, long, default_value = "127.0.0.1")]
    bind: IpAddr,

    /// Do not log requests, list network addresses or print the QR code.
    #[arg(short, long)]
    quiet: bool,

    /// Serve HTTPS with this PEM certificate chain, leaf first (needs --tls-key).
    #[arg(long, value_name = "FILE")]
    tls_cert: Option<PathBuf>,

    /// The PEM private key (RSA, ECDSA or Ed25519) of --tls-cert.
    #[arg(long, value_name = "FILE")]
    tls_key: Option<PathBuf>,

    /// Serve HTTPS with a certificate made at start for localhost and this machine's addresses.
    #[arg(long)]
    tls_self_signed: bool,

    /// Require a user and password: USER:PASSWORD or USER:sha256:HEX; repeatable.
    #[arg(long, value_name = "USER:PASSWORD")]
    auth: Vec<String>,

    /// Print a QR code of the first network address (or the bound one).
    #[arg(long)]
    qr: bool,

    /// List and serve dot-files (hidden by default so .git and .env do not leak).
    #[arg(long)]
    hidden: bool,

    /// Directories without an index file give 404 instead of a listing.
    #[arg(long)]
    no_listing: bool,

    /// Index file names, comma-separated.
    #[arg(long, value_name = "NAMES", default_value = "index.html,index.htm")]
    index: String,

    /// Serve FILE (relative to PATH) with 200 for browser navigations to missing paths.
    #[arg(long, value_name = "FILE")]
    spa: Option<String>,

    /// Serve FILE (relative to PATH) as the 404 page.
    #[arg(long, value_name = "FILE")]
    not_found: Option<String>,

    /// Allow cross-origin requests: Access-Control-Allow-Origin: * and preflight answers.
    #[arg(long)]
    cors: bool,

    /// Add a header to every response ('Name: value'); repeatable.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    headers: Vec<String>,

    /// Serve the XML-RPC API (and its documentation page) at /RPC2.
    #[arg(long)]
    xmlrpc: bool,

    /// Do not compress responses on the fly.
    #[arg(long)]
    no_compress: bool,

    /// Cache-Control for files and listings.
    #[arg(long, value_name = "VALUE", default_value = "no-cache")]
    cache_control: String,

    /// Run this wasi:http component instead of the built-in file server.
    #[arg(long, value_name = "FILE")]
    component: Option<PathBuf>,

    /// Compile the component at every start instead of caching it in ~/.cache/sandserve.
    #[arg(long)]
    no_compile_cache: bool,

    /// Linear memory cap per guest instance (e.g. 64M).
    #[arg(long, value_name = "SIZE", value_parser = limits::parse_size, default_value = "64M")]
    max_memory: usize,

    /// Guest CPU time per request; waiting on the client does not count (e.g. 10s, 500ms).
    #[arg(long, value_name = "TIME", value_parser = limits::parse_duration, default_value = "10s")]
    cpu_limit: Duration,

    /// Requests handled at once; more wait briefly, then get 503.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=10000))]
    max_concurrent: u32,

    /// How long a request waits for a free slot before 503 (e.g. 2s).
    #[arg(long, value_name = "TIME", value_parser = limits::parse_duration, default_value = "2s")]
    queue_timeout: Duration,

    /// Open connections at once; more wait in the kernel's queue.
    #[arg(long, value_name = "N", default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,

    /// Time to receive a request head, and to keep an idle keep-alive connection (e.g. 10s).
    #[arg(long, value_name = "TIME", value_parser = limits::parse_duration, default_value = "10s")]
    header_timeout: Duration,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sandserve: error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Every flag that changes what is served reaches the component as a `SANDSERVE_*`
/// variable, exactly as `wasmtime serve --env` would pass it.
fn component_env(args: &Args) -> Vec<(&'static str, String)> {
    let mut env = Vec::new();
    let mut flag = |name, on: bool| {
        if on {
            env.push((name, "1".to_owned()));
        }
    };
    flag("SANDSERVE_HIDDEN", args.hidden);
    flag("SANDSERVE_NO_LISTING", args.no_listing);
    flag("SANDSERVE_CORS", args.cors);
    flag("SANDSERVE_NO_COMPRESS", args.no_compress);
    flag("SANDSERVE_XMLRPC", args.xmlrpc);
    env.push(("SANDSERVE_INDEX", args.index.clone()));
    env.push(("SANDSERVE_CACHE_CONTROL", args.cache_control.clone()));
    if let Some(spa) = &args.spa {
        env.push(("SANDSERVE_SPA", spa.clone()));
    }
    if let Some(page) = &args.not_found {
        env.push(("SANDSERVE_NOT_FOUND", page.clone()));
    }
    if !args.headers.is_empty() {
        env.push(("SANDSERVE_HEADERS", args.headers.join("\n")));
    }
    env
}

/// `-H 'Name: value'`: refused at start-up rather than silently dropped later.
fn parse_header(text: &str) -> Result<String, String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not 'Name: value'"))?;
    let (name, value) = (name.trim(), value.trim());
    hyper::header::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a valid header name"))?;
    hyper::header::HeaderValue::from_str(value)
        .map_err(|_| format!("{value:?} is not a valid header value"))?;
    Ok(format!("{name}: {value}"))
}

fn run(args: Args) -> anyhow::Result<()> {
    // Every check that can fail comes before the socket is bound.
    let credentials = Credentials::parse(&args.auth)?;
    let lan = addresses::lan(args.bind);
    let tls = tls(&args, &lan)?;
    let mut builder = builder(&args)?.basic_auth(&credentials);
    if let Some(tls) = &tls {
        builder = builder.tls(tls.clone());
    }
    // This thread only accepts; `Server::run` starts the threads that serve.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let _guard = runtime.enter();
    let server = builder.build()?;
    if !credentials.is_empty() && tls.is_none() && !args.bind.is_loopback() {
        eprintln!(
            "sandserve: warning: --auth without TLS on {}: passwords cross the network \
             readable by anyone on it; add --tls-self-signed or --tls-cert/--tls-key",
            args.bind
        );
    }
    Banner {
        addr: server.local_addr(),
        root: server.root(),
        fingerprint: tls.as_ref().map(Tls::fingerprint),
        lan: &lan,
        qr: args.qr,
        quiet: args.quiet,
    }
    .print();
    runtime.block_on(server.run(shutdown_signal()))
}

/// The TLS configuration the flags ask for, if any; a bad combination is an error.
fn tls(args: &Args, lan: &[IpAddr]) -> anyhow::Result<Option<Tls>> {
    let (cert, key) = (args.tls_cert.as_deref(), args.tls_key.as_deref());
    match (cert, key, args.tls_self_signed) {
        (None, None, false) => Ok(None),
        (None, None, true) => {
            let mut names = lan.to_vec();
            names.push(args.bind);
            Tls::self_signed(&names).map(Some)
        }
        (Some(_), _, true) | (_, Some(_), true) => {
            bail!("--tls-self-signed cannot be combined with --tls-cert or --tls-key")
        }
        (Some(cert), Some(key), false) => Tls::from_pem_files(cert, key).map(Some),
        (Some(_), None, false) => bail!("--tls-cert needs --tls-key"),
        (None, Some(_), false) => bail!("--tls-key needs --tls-cert"),
    }
}

/// The server the flags describe, before TLS and authentication.
fn builder(args: &Args) -> anyhow::Result<ServerBuilder> {
    let mut builder = Server::builder();
    for (name, value) in component_env(args) {
        builder = builder.env(name, value);
    }
    let mut builder = builder
        .root(&args.path)
        .bind(SocketAddr::new(args.bind, args.port))
        .quiet(args.quiet)
        .limits(Limits {
            max_memory: args.max_memory,
            cpu_time: args.cpu_limit,
            max_concurrent: args.max_concurrent,
            queue_timeout: args.queue_timeout,
            max_connections: args.max_connections as usize,
            header_timeout: args.header_timeout,
            ..Limits::default()
        });
    if args.no_compile_cache {
        builder = builder.compile_cache(None);
    }
    if let Some(path) = &args.component {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read component {}", path.display()))?;
        builder = builder.component(bytes);
    }
    Ok(builder)
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
