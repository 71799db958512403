//! `sandserve [PATH]`: serve a directory over HTTP from inside a WebAssembly sandbox.

// No production function over 80 lines (clippy.toml sets the threshold).
#![cfg_attr(not(test), warn(clippy::too_many_lines))]

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{CommandFactory, FromArgMatches};
use sandserve_host::{limits, settings, Limits, Server};

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

    /// Do not log requests.
    #[arg(short, long)]
    quiet: bool,

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
    // This thread only accepts; `Server::run` starts the threads that serve.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let _guard = runtime.enter();
    let server = builder.build()?;
    let addr = server.local_addr();
    let url_host = match addr.ip() {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    // A closed stdout (a parent that read the banner and left) must not stop the server.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(
        stdout,
        "Serving HTTP on {} port {} (http://{url_host}:{}/) ...",
        addr.ip(),
        addr.port(),
        addr.port()
    );
    let _ = writeln!(stdout, "Directory: {}", server.root().display());
    let _ = stdout.flush();
    drop(stdout);
    runtime.block_on(server.run(shutdown_signal()))
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
