//! The component's edge: `wasi:http/incoming-handler` in, a response out. This module moves
//! bytes and decides nothing: it reads the request head (and a body, up to the limit the
//! router names, or hands an upload's body over as a stream), asks [`router::route`] for a
//! [`Reply`], and writes what the reply names.
//!
//! Configuration and the root directory are read once per instance: the environment cannot
//! change during an instance's life, and a host that reuses instances (issue 13) then pays
//! neither the parse nor the `get-directories` call per request.

mod bindings;
mod body;
mod fs;
mod instance;
mod upload;

use wasi::http::types::{IncomingRequest, Method as WasiMethod, ResponseOutparam};

use crate::config::Config;
use crate::reply::Reply;
use crate::request::{Request, RequestBody};
use crate::router;

struct Component;

impl bindings::exports::wasi::http::incoming_handler::Guest for Component {
    fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
        match instance::get(start) {
            Ok((config, fs)) => {
                let mut request = read_request(&incoming);
                if let Some(limit) = router::body_limit(&request, config) {
                    request.body = body::read(incoming, &request.headers, limit);
                } else if router::streams_body(&request, config) {
                    request.body = upload::body(incoming);
                }
                body::send(out, router::route(&request, fs, config), fs);
            }
            Err(reason) => {
                eprintln!("sandserve: cannot serve: {reason}");
                body::send_error(out, Reply::error(http::StatusCode::INTERNAL_SERVER_ERROR));
            }
        }
    }
}

/// Parses the configuration and finds the root: once per instance.
fn start() -> instance::Instance {
    // Straight from wasi:cli, not `std::env::vars()`: wasi-libc would copy the list into C
    // strings first and write its `environ` pointer, a static in `.data` that shares no page
    // with the instance cell (see `instance.rs` on first touches).
    let vars = wasi::cli::environment::get_environment();
    let config = Config::from_vars(vars).map_err(|e| e.to_string())?;
    let fs = fs::WasiFs::open().map_err(|_| "no directory is mounted at /".to_owned())?;
    Ok((config, fs))
}

fn read_request(request: &IncomingRequest) -> Request {
    let method = match request.method() {
        WasiMethod::Get => http::Method::GET,
        WasiMethod::Head => http::Method::HEAD,
        WasiMethod::Post => http::Method::POST,
        WasiMethod::Put => http::Method::PUT,
        WasiMethod::Delete => http::Method::DELETE,
        WasiMethod::Connect => http::Method::CONNECT,
        WasiMethod::Options => http::Method::OPTIONS,
        WasiMethod::Trace => http::Method::TRACE,
        WasiMethod::Patch => http::Method::PATCH,
        // Any other method is answered 405 by the router, like PATCH, unless it is WebDAV's.
        // jco's shim (preview2-shim 0.17) lower-cases the methods WASI does not name, so
        // `PROPFIND` arrives as `propfind`: methods are upper case in every registered name
        // (RFC 9110 §16.1), so the case is put back.
        WasiMethod::Other(other) => http::Method::from_bytes(other.to_ascii_uppercase().as_bytes())
            .unwrap_or(http::Method::PATCH),
    };
    let mut headers = crate::header::HeaderMap::default();
    for (name, value) in request.headers().entries() {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            crate::header::HeaderValue::from_bytes(&value),
        ) {
            headers.append(name, value);
        }
    }
    // wasi:http hands the authority over apart from the fields (`host` is a forbidden
    // field there); WebDAV's `Destination` is checked against it, so it goes back in for
    // the requests that read it.
    if router::reads_host(&method) && !headers.contains_key(http::header::HOST) {
        if let Some(host) = request
            .authority()
            .and_then(|a| crate::header::HeaderValue::from_str(&a).ok())
        {
            headers.insert(http::header::HOST, host);
        }
    }
    // No path at all (authority-form) is not a request for the root: it is malformed.
    let target = request.path_with_query().unwrap_or_default();
    let mut request = Request::new(method, &target, headers);
    request.body = RequestBody::Unread;
    request
}
