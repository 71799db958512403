//! What every worker shares, and the answer to one request made with it: the host's own 414
//! or 431, or the sandbox's, wrapped for the access log. The server builds it, each
//! connection answers its requests with it.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::StatusCode;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::guest::runtime::{error_page, Runtime};
use crate::limits::Limits;
use crate::net::access_log::{logged, Entry, Logged};
use crate::net::idle_timeout::InFlight;
use crate::net::protocols::Protocols;

/// What every worker shares: the sandbox, the protocols and the server-wide limits.
pub(crate) struct Shared {
    pub(crate) runtime: Arc<Runtime>,
    pub(crate) protocols: Protocols,
    pub(crate) limits: Limits,
    pub(crate) quiet: bool,
    /// Authentication is on: the access log shows users.
    pub(crate) log_users: bool,
}

/// Answers one request: the host's own 414/431, or the component's answer, wrapped so the
/// access log line is written when the body ends and `in_flight` ends with it.
pub(crate) async fn respond(
    shared: &Shared,
    client: SocketAddr,
    request: hyper::Request<hyper::body::Incoming>,
    in_flight: Option<InFlight>,
) -> hyper::Response<Logged<HyperOutgoingBody>> {
    let entry = (!shared.quiet).then(|| Entry::new(client, &request, shared.log_users));
    let response = match oversized_head(&request, &shared.limits) {
        Some(status) => error_page(status),
        None => shared.runtime.handle(request).await,
    };
    let status = response.status().as_u16();
    response.map(|body| logged(body, entry, status, in_flight))
}

/// 414 or 431 for a head within hyper's buffer but over our limits. hyper counts HTTP/1.1
/// header fields itself; HTTP/2 has no such count, so it is checked here for both.
fn oversized_head<B>(request: &hyper::Request<B>, limits: &Limits) -> Option<StatusCode> {
    if request.headers().len() > limits.max_headers {
        return Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    }
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if target > limits.max_request_line {
        return Some(StatusCode::URI_TOO_LONG);
    }
    let head: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    (head > limits.max_header_bytes).then_some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
}
