//! One accepted connection, served to its end: the TLS handshake when the server has a
//! certificate, then hyper's HTTP/1.1 or HTTP/2.
//!
//! - Plain TCP is HTTP/1.1 only: no cleartext HTTP/2 (h2c).
//! - Over TLS the protocol is the one ALPN agreed (RFC 7301, RFC 9113 §3.2); a client that
//!   offered no ALPN gets the protocol it speaks, told apart by the HTTP/2 preface.
//! - The handshake has the header timeout, like a request head: a client that never sends a
//!   ClientHello is closed. A failed handshake (plaintext HTTP, garbage, a client that gives
//!   up) closes that connection only.
//! - HTTP/2 limits are set on purpose in `protocols` (RFC 9113 §6.5.2); here, the connection
//!   is closed once no request has run for the header timeout (`idle`).
//! - Writes wait for the connection's next turn, so that the answers the worker makes
//!   meanwhile go out together (`coalesce`).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::net::coalesce::{Coalesce, Deferred, Turns};
use crate::net::idle_timeout::Activity;
use crate::net::shared::{respond, Shared};
use crate::net::tls::ALPN_H2;

/// Serves `stream` until it closes, fails, idles out, or `stop` says the server is stopping.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    stream: TcpStream,
    client: SocketAddr,
    mut stop: watch::Receiver<()>,
) {
    let protocols = &shared.protocols;
    let Some(tls) = &protocols.tls else {
        let (builder, turns) = (&protocols.http1, Turns::default());
        let stream = Deferred::new(stream, turns.clone());
        serve_io(&shared, builder, stream, client, None, turns, stop).await;
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
    let activity = Some(Activity::new());
    let turns = Turns::default();
    match stream.get_ref().1.alpn_protocol() {
        // HTTP/2 multiplexes answers, so its writes are gathered too; HTTP/1.1 writes each
        // answer whole, in one write already, so it is only put off (see `coalesce`).
        Some(ALPN_H2) => {
            let stream = Coalesce::new(stream, turns.clone());
            let builder = &protocols.http2;
            serve_io(&shared, builder, stream, client, activity, turns, stop).await;
        }
        alpn => {
            let builder = match alpn {
                Some(_) => &protocols.http1,
                None => &protocols.either,
            };
            let stream = Deferred::new(stream, turns.clone());
            serve_io(&shared, builder, stream, client, activity, turns, stop).await;
        }
    }
}

/// Runs hyper on `io`, with the idle timer when there is an `activity` to watch, counting
/// each poll of the connection in `turns`.
async fn serve_io<I>(
    shared: &Arc<Shared>,
    builder: &auto::Builder<TokioExecutor>,
    io: I,
    client: SocketAddr,
    activity: Option<Arc<Activity>>,
    turns: Turns,
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
            _ = std::future::poll_fn(|cx| {
                turns.next();
                connection.as_mut().poll(cx)
            }) => return,
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
