//! `sandserve [PATH]`: serve a directory over HTTP from inside a WebAssembly sandbox.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use sandserve_host::Server;

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

    /// Do not log requests.
    #[arg(short, long)]
    quiet: bool,

    /// Run this wasi:http component instead of the built-in file server.
    #[arg(long, value_name = "FILE")]
    component: Option<PathBuf>,
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

fn run(args: Args) -> anyhow::Result<()> {
    let mut builder = Server::builder()
        .root(&args.path)
        .bind(SocketAddr::new(args.bind, args.port))
        .quiet(args.quiet);
    if let Some(path) = &args.component {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read component {}", path.display()))?;
        builder = builder.component(bytes);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
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
