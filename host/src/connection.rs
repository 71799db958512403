//! One accepted connection, served to its end: the TLS handshake when the server has a
//! certificate, then hyper's HTTP/1.1 or HTTP/2.
//!
//! - Plain TCP is HTTP/1.1 only: no cleartext HTTP/2 (h2c).
//! - Over TLS the protocol is the one ALPN agreed (RFC 7301, RFC 9113 §3.2); a client that
//!   offered no ALPN gets the protocol it speaks, told apart by the HTTP/2 preface.
//! - The handshake has the header timeout, like a request head: a client that never sends a
//!   ClientHello is closed. A failed handshake (plaintext HTTP, garbage, a client that gives
//!   up) closes that connection only.
//! - HTTP/2 limits, set here on purpose (RFC 9113 §6.5.2): at most `MAX_STREAMS` streams at
//!   once per connection, a header list as large as HTTP/1.1's head buffer (so the 414 and
//!   431 answers are ours, the same as over HTTP/1.1), pings after the header timeout of
//!   silence, and the connection closed once no request has run for the header timeout
//!   (`idle`). Each stream is one request to the runtime, so `--max-concurrent` bounds
//!   streams exactly as it bounds HTTP/1.1 requests.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::idle_timeout::Activity;
use crate::limits::Limits;
use crate::server::{respond, Shared};
use crate::tls::{Tls, ALPN_H2};

/// Concurrent HTTP/2 streams per connection: nginx's default, above RFC 9113's advice of
/// at least 100, and small enough that one connection cannot take most of the pool.
const MAX_STREAMS: u32 = 128;

/// The HTTP/1.1 and HTTP/2 settings every connection of a server is served with.
pub(crate) struct Protocols {
    http1: auto::Builder<TokioExecutor>,
    http2: auto::Builder<TokioExecutor>,
    /// Both, for TLS clients that offered no ALPN.
    either: auto::Builder<TokioExecutor>,
    tls: Option<Tls>,
    header_timeout: Duration,
}

impl Protocols {
    pub(crate) fn new(limits: &Limits, tls: Option<Tls>) -> Protocols {
        // Room for the longest request line plus the largest head, so hyper passes heads
        // just over our limits on to `oversized_head` for a 414 or 431 rather than
        // dropping the connection (HTTP/1.1) or answering 431 for a long path (HTTP/2).
        let head_room = limits.max_request_line + limits.max_header_bytes + 8192;
        let mut either = auto::Builder::new(TokioExecutor::new());
        either
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .keep_alive(true)
            .max_headers(limits.max_headers)
            .max_buf_size(head_room);
        either
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(MAX_STREAMS)
            .max_header_list_size(u32::try_from(head_room).unwrap_or(u32::MAX))
            .keep_alive_interval(limits.header_timeout)
            .keep_alive_timeout(limits.header_timeout);
        Protocols {
            http1: either.clone().http1_only(),
            http2: either.clone().http2_only(),
            either,
            tls,
            header_timeout: limits.header_timeout,
        }
    }
}

/// Serves `stream` until it closes, fails, idles out, or `stop` says the server is stopping.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    stream: TcpStream,
    client: SocketAddr,
    mut stop: watch::Receiver<()>,
) {
    let protocols = &shared.protocols;
    let Some(tls) = &protocols.tls else {
        let builder = &protocols.http1;
        serve_io(&shared, builder, stream, client, None, stop).await;
        return;
    };
    let handshake = tokio::time::timeout(protocols.header_timeout, tls.acceptor().accept(stream));
    let stream = tokio::select! {
        done = handshake => match done {
            Ok(Ok(stream)) => stream,
            // Not TLS, a bad handshake, or too slow: this connection ends, nothing else.
            Ok(Err(_)) | Err(_) => return,
        },
        _ = stop.changed() => return,
    };
    let builder = match stream.get_ref().1.alpn_protocol() {
        Some(ALPN_H2) => &protocols.http2,
        Some(_) => &protocols.http1,
        None => &protocols.either,
    };
    serve_io(
        &shared,
        builder,
        stream,
        client,
        Some(Activity::new()),
        stop,
    )
    .await;
}

/// Runs hyper on `io`, with the idle timer when there is an `activity` to watch.
async fn serve_io<I>(
    shared: &Arc<Shared>,
    builder: &auto::Builder<TokioExecutor>,
    io: I,
    client: SocketAddr,
    activity: Option<Arc<Activity>>,
    mut stop: watch::Receiver<()>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = {
        let (shared, activity) = (shared.clone(), activity.clone());
        service_fn(move |request| {
            let shared = shared.clone();
            let in_flight = activity.as_ref().map(|a| a.begin());
            async move { Ok::<_, Infallible>(respond(&shared, client, request, in_flight).await) }
        })
    };
    let connection = builder.serve_connection(TokioIo::new(io), service);
    let mut connection = std::pin::pin!(connection);
    let timeout = shared.protocols.header_timeout;
    let mut closing = false;
    loop {
        tokio::select! {
            // Client resets and protocol errors end one connection; nothing to report.
            _ = connection.as_mut() => return,
            _ = stop.changed(), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            () = idle(activity.as_deref(), timeout), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

async fn idle(activity: Option<&Activity>, timeout: Duration) {
    match activity {
        Some(activity) => activity.idle_for(timeout).await,
        None => std::future::pending().await,
    }
}
