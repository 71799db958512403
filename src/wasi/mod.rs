//! The component's edge: `wasi:http/incoming-handler` in, a spliced response out.
//! Everything here is glue; decisions are made by [`crate::router`].

mod bindings;
mod fs;

use std::io::Write as _;

use wasi::filesystem::types::Descriptor;

use wasi::http::types::{
    Fields, IncomingRequest, Method as WasiMethod, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use wasi::io::streams::{InputStream, OutputStream, StreamError};

use crate::compress::Compressor;
use crate::config::Config;
use crate::encoding::Coding;
use crate::fs::Kind;
use crate::path::SafePath;
use crate::reply::{Body, Reply};
use crate::router::{self, Request, RequestBody};
use crate::tar;
use crate::visibility::Visibility;
use crate::xmlrpc;

struct Component;

impl bindings::exports::wasi::http::incoming_handler::Guest for Component {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let config = Config::from_vars(std::env::vars());
        let incoming = request;
        let mut request = read_request(&incoming);
        if router::wants_body(&request, &config) {
            request.body = read_body(incoming, &request.headers);
        }
        match fs::WasiFs::open() {
            Ok(fs) => send(out, router::route(&request, &fs, &config), &fs),
            Err(_) => send_without_fs(out, Reply::error(http::StatusCode::INTERNAL_SERVER_ERROR)),
        }
    }
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
        WasiMethod::Other(other) => {
            http::Method::from_bytes(other.as_bytes()).unwrap_or(http::Method::PATCH)
        }
    };
    let mut headers = http::HeaderMap::new();
    for (name, value) in request.headers().entries() {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_bytes(&value),
        ) {
            headers.append(name, value);
        }
    }
    Request {
        method,
        // No path at all (authority-form) is not a request for the root: it is malformed.
        target: request.path_with_query().unwrap_or_default(),
        headers,
        body: RequestBody::Unread,
    }
}

/// Reads a request body up to the XML-RPC cap: a declared length over it is refused unread,
/// and an undeclared one is cut off as soon as it passes the cap.
fn read_body(request: IncomingRequest, headers: &http::HeaderMap) -> RequestBody {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > xmlrpc::MAX_BODY) {
        return RequestBody::TooLarge;
    }
    let Ok(body) = request.consume() else {
        return RequestBody::Read(Vec::new());
    };
    let Ok(stream) = body.stream() else {
        return RequestBody::Read(Vec::new());
    };
    let mut out = Vec::new();
    while let Ok(chunk) = stream.blocking_read(64 * 1024) {
        out.extend_from_slice(&chunk);
        if out.len() as u64 > xmlrpc::MAX_BODY {
            return RequestBody::TooLarge;
        }
    }
    RequestBody::Read(out)
}

/// Sends `reply`, opening its file first so an open failure can still change the status.
fn send(out: ResponseOutparam, reply: Reply, fs: &fs::WasiFs) {
    let file = match &reply.body {
        Body::File { path, .. } | Body::Multipart { path, .. } => match fs.open_file(path) {
            Ok(file) => Some(file),
            Err(error) => return send_without_fs(out, Reply::error(error.status())),
        },
        Body::Empty | Body::Text(_) | Body::Tar { .. } => None,
    };
    let Some((mut stream, body)) = start(out, &reply) else {
        return;
    };
    let complete = match (&reply.body, file) {
        (
            Body::File {
                start, len, size, ..
            },
            Some(file),
        ) => match reply.compress {
            Some(_) => stream_file_gzip(&mut stream, &file, *len),
            None => send_span(&mut stream, &file, *start, *len, *size),
        },
        (
            Body::Multipart {
                parts,
                closing,
                size,
                ..
            },
            Some(file),
        ) => {
            parts.iter().all(|(framing, range)| {
                stream.write_all(framing.as_bytes()).is_ok()
                    && send_span(&mut stream, &file, range.start(), range.len(), *size)
            }) && stream.write_all(closing.as_bytes()).is_ok()
        }
        (Body::Tar { dir, visibility }, _) => stream_tar(&mut stream, fs, dir, *visibility),
        (Body::Text(html), _) => match reply.compress {
            Some(_) => gzip(&mut stream, |encoder| encoder.write_chunks(html.as_bytes())),
            None => stream.write_all(html.as_bytes()).is_ok(),
        },
        _ => true,
    };
    if complete {
        finish(stream, body);
    } else {
        // Fewer bytes than promised (the file shrank, the client left): leave the body
        // unfinished, which tells the host the response is broken (wasi:http), so it cuts
        // the connection rather than let a client wait for bytes that will never come.
        drop(stream);
        drop(body);
    }
}

fn send_without_fs(out: ResponseOutparam, reply: Reply) {
    if let Some((mut stream, body)) = start(out, &reply) {
        if let Body::Text(html) = &reply.body {
            // A client that went away is not our fault; there is nobody left to tell.
            let _ = stream.write_all(html.as_bytes());
        }
        finish(stream, body);
    }
}

/// Streams the subtree of `dir` as a tar: headers written, bodies spliced, one file at a
/// time, so memory stays flat however large the tree.
fn stream_tar(
    out: &mut OutputStream,
    fs: &fs::WasiFs,
    dir: &SafePath,
    visibility: Visibility,
) -> bool {
    let mut ok = true;
    let walked = tar::walk(fs, dir, visibility, &mut |member| {
        ok = write_member(out, fs, member);
        ok
    });
    ok && walked.is_ok() && out.write_all(&tar::end_of_archive()).is_ok()
}

fn write_member(out: &mut OutputStream, fs: &fs::WasiFs, member: &tar::Member) -> bool {
    if member.meta.kind != Kind::File {
        return out.write_all(&tar::header(member)).is_ok();
    }
    // Open before the header: a file that vanished since the walk saw it is left out,
    // rather than leaving a header without its body.
    let Ok(file) = fs.open_file(&member.path) else {
        return true;
    };
    let size = member.meta.size;
    out.write_all(&tar::header(member)).is_ok()
        && splice_file(out, &file, 0, size)
        && out
            .write_all(&[0; tar::BLOCK][..tar::padding(size)])
            .is_ok()
}

/// Sends `len` bytes of `file` from `start`, of a file that was `size` bytes long.
///
/// Splicing keeps the bytes host-side, but jco's shim (preview2-shim 0.17) splices past the
/// length it is asked for, which would overrun `Content-Length`. So only a span that runs to
/// the end of the file, where there is nothing more to over-read, is spliced; a span inside
/// the file is copied through guest memory in bounded chunks, which every host bounds.
fn send_span(out: &mut OutputStream, file: &Descriptor, start: u64, len: u64, size: u64) -> bool {
    if start.checked_add(len) == Some(size) {
        return splice_file(out, file, start, len);
    }
    let Ok(input) = file.read_via_stream(start) else {
        return false;
    };
    let mut remaining = len;
    let mut idle = 0;
    while remaining > 0 {
        match input.blocking_read(remaining.min(SPLICE_CHUNK)) {
            // As with splice, some hosts answer "nothing yet" rather than block.
            Ok(chunk) if chunk.is_empty() => {
                idle += 1;
                if idle > MAX_IDLE_SPLICES {
                    return false;
                }
                input.subscribe().block();
            }
            Ok(chunk) => {
                idle = 0;
                let n = (chunk.len() as u64).min(remaining);
                if out.write_all(&chunk[..n as usize]).is_err() {
                    return false;
                }
                remaining -= n;
            }
            // The file shrank: fewer bytes than promised.
            Err(_) => return false,
        }
    }
    true
}

/// Splices `len` bytes of `file` from `start`.
fn splice_file(out: &OutputStream, file: &Descriptor, start: u64, len: u64) -> bool {
    match file.read_via_stream(start) {
        Ok(input) => splice(out, &input, len),
        Err(_) => false,
    }
}

/// Reads `len` bytes of `file` in bounded chunks through a gzip encoder: the only path on
/// which whole-file bytes enter guest memory, one chunk at a time.
fn stream_file_gzip(out: &mut OutputStream, file: &Descriptor, len: u64) -> bool {
    let Ok(input) = file.read_via_stream(0) else {
        return false;
    };
    gzip(out, |encoder| encoder.copy_from(input, len))
}

fn gzip(
    out: &mut OutputStream,
    fill: impl FnOnce(&mut Compressor<&mut OutputStream>) -> std::io::Result<()>,
) -> bool {
    let Some(mut encoder) = Compressor::new(Coding::Gzip, out) else {
        return false;
    };
    fill(&mut encoder).is_ok() && encoder.finish().is_ok()
}

/// Sends the head and returns the body stream.
fn start(out: ResponseOutparam, reply: &Reply) -> Option<(OutputStream, OutgoingBody)> {
    let entries: Vec<(String, Vec<u8>)> = reply
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    let headers = Fields::from_list(&entries).ok()?;
    let response = OutgoingResponse::new(headers);
    response.set_status_code(reply.status.as_u16()).ok()?;
    let body = response.body().ok()?;
    ResponseOutparam::set(out, Ok(response));
    let stream = body.write().ok()?;
    Some((stream, body))
}

/// Largest single splice: big enough to amortise the host call, small enough to keep the
/// host's buffers modest while a slow client drains.
const SPLICE_CHUNK: u64 = 64 * 1024;

/// Consecutive empty splices tolerated before the body is abandoned as stuck.
const MAX_IDLE_SPLICES: u32 = 100_000;

/// Moves `len` bytes host-side from the file to the body; false if fewer could be moved (the
/// file shrank, or the client left).
fn splice(out: &OutputStream, input: &InputStream, len: u64) -> bool {
    let mut remaining = len;
    let mut idle = 0;
    while remaining > 0 {
        match out.blocking_splice(input, remaining.min(SPLICE_CHUNK)) {
            // Some hosts (jco) return 0 rather than block when the file read is not ready
            // yet: wait for both ends, and give up only if nothing ever moves.
            Ok(0) => {
                idle += 1;
                if idle > MAX_IDLE_SPLICES {
                    return false;
                }
                input.subscribe().block();
                out.subscribe().block();
            }
            Ok(n) => {
                idle = 0;
                remaining = remaining.saturating_sub(n);
            }
            Err(StreamError::Closed | StreamError::LastOperationFailed(_)) => return false,
        }
    }
    true
}

fn finish(stream: OutputStream, body: OutgoingBody) {
    // After exactly Content-Length bytes the host may report the stream closed: not an error.
    let _ = stream.blocking_flush();
    drop(stream);
    let _ = OutgoingBody::finish(body, None);
}
