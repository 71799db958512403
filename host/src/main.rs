//! `sandserve [PATH]`: serve a directory over HTTP or HTTPS from inside a WebAssembly sandbox.

// No production function over 80 lines (clippy.toml sets the threshold).
#![cfg_attr(not(test), warn(clippy::too_many_lines))]

mod cli;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{CommandFactory, FromArgMatches};
use sandserve_host::{limits, settings, Limits, Server, ServerBuilder, Tls};

use crate::cli::addresses;
use crate::cli::banner::Banner;

/// Serve a directory over HTTP, read-only, from inside a WebAssembly sandbox.
#[derive(clap::Parser, Debug)]
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

    /// Print a QR code of the first network address (or the bound one).
    #[arg(long)]
    qr: bool,

    /// Run this wasi:http component instead of the built-in file server.
    #[arg(long, value_name = "FILE")]
    component: Option<PathBuf>,

    /// Compile the component at every start instead of caching it in ~/.cache/sandserve.
    #[arg(long)]
    no_compile_cache: bool,

    /// Linear memory cap per guest instance (e.g. 64M).
    #[arg(long, value_name = "SIZE", value_parser = limits::parse_size, default_value = "64M")]
    max_memory: usize,

    /// Guest CPU time per request; waiting on the client does not count, and every 2 MiB moved adds 10 ms (e.g. 10s, 500ms).
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

    /// Requests one guest instance serves before a fresh one replaces it (1: a fresh
    /// instance for every request).
    #[arg(long, value_name = "N", default_value_t = limits::DEFAULT_REUSE, value_parser = clap::value_parser!(u32).range(1..))]
    reuse: u32,
}

fn main() -> ExitCode {
    // The component's settings join the host's own flags, from the component's table.
    let matches = Args::command().args(settings::args()).get_matches();
    let parsed = Args::from_arg_matches(&matches)
        .map_err(anyhow::Error::from)
        .and_then(|args| Ok((args, settings::env_from_matches(&matches)?)));
    match parsed.and_then(|(args, env)| run(args, env)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sandserve: error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args, env: Vec<(String, String)>) -> anyhow::Result<()> {
    // Every check that can fail comes before the socket is bound.
    let lan = addresses::lan(args.bind);
    let tls = tls(&args, &lan)?;
    let auth = settings::check(&env)?.requires_auth();
    let mut builder = builder(&args, env)?;
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
    if auth && tls.is_none() && !args.bind.is_loopback() {
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

/// The server the flags describe, before TLS; `env` holds the component's settings.
fn builder(args: &Args, env: Vec<(String, String)>) -> anyhow::Result<ServerBuilder> {
    let mut builder = Server::builder();
    for (name, value) in env {
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
            reuse: args.reuse,
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
