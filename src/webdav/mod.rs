//! WebDAV class 1 (RFC 4918) with `--webdav`: `OPTIONS` says what the flags allow, and
//! `PROPFIND` describes a file or a directory and its entries, so file managers, `rclone`
//! and `davfs2` can mount the share. Reads go through GET and HEAD as for anyone. It is
//! read-only unless `--upload` (MKCOL, new files) or `--modify` (PROPPATCH here, COPY and
//! MOVE in `copymove.rs`; replacing PUT and DELETE in `upload/`).
//!
//! Rules:
//! - What a client may see is what a listing shows: dot-files only with `--hidden`, no
//!   special files, no link out of the root; `--no-listing` turns PROPFIND on collections
//!   off (`404`), and `--auth` guards it like everything else (the router asks first).
//! - `Depth: 0` and `1` are answered; `infinity`, which is also what no `Depth` means
//!   (§9.1), is `403` with the `propfind-finite-depth` precondition (§9.1.1); any other value
//!   is `400`.
//! - A directory named without its trailing slash is answered as the collection, its `href`
//!   with the slash, rather than redirected: clients take the `href` as its name.
//! - A `Depth: 1` answer streams: each entry is written as the directory is read, so a
//!   directory of any size costs the memory of one entry (no order is promised, §9.1).
//! - No LOCK (class 2): locks would have to be shared by every instance to be real, so the
//!   server says `DAV: 1` and clients that need locks to write (Finder, Explorer) mount it
//!   read-only.

pub(crate) mod copymove;
pub(crate) mod multistatus;
pub(crate) mod propfind;

use http::header::{HeaderName, ALLOW, CONTENT_TYPE};
use http::{Method, StatusCode};

use crate::config::Config;
use crate::fs::{Fs, FsError, Kind};
use crate::header::HeaderValue;
use crate::path::PathError;
use crate::reply::{Body, Reply};
use crate::request::{Request, RequestBody};
use crate::upload;
use multistatus::Collection;
use multistatus::{push_response, Resource, HEAD, TAIL};
use propfind::Wanted;

/// Whether this is a WebDAV request this module answers: OPTIONS and PROPFIND, MKCOL when
/// uploads are on, COPY and MOVE with `--modify`.
pub(crate) fn handles(request: &Request, config: &Config) -> bool {
    config.webdav
        && match request.method.as_str() {
            "OPTIONS" | "PROPFIND" => true,
            "MKCOL" => config.upload,
            "COPY" | "MOVE" | "PROPPATCH" => config.modify,
            _ => false,
        }
}

/// How much body the router reads first: a PROPFIND's or PROPPATCH's XML.
pub(crate) fn body_limit(request: &Request, config: &Config) -> Option<u64> {
    let reads_xml = matches!(request.method.as_str(), "PROPFIND" | "PROPPATCH");
    (handles(request, config) && reads_xml).then_some(propfind::MAX_BODY)
}

/// Whether answering a request with `method` reads the `Host` field: COPY and MOVE check
/// that `Destination` names this server. The glue fetches the authority only then (wasi:http
/// hands it over apart from the fields, one host call more).
pub(crate) fn reads_host(method: &Method) -> bool {
    matches!(method.as_str(), "COPY" | "MOVE")
}

/// Answers a request [`handles`] takes.
pub(crate) fn handle(request: &Request, fs: &dyn Fs, config: &Config) -> Reply {
    if request.method == Method::OPTIONS {
        return Reply::new(StatusCode::OK)
            .header(
                HeaderName::from_static("dav"),
                HeaderValue::from_static("1"),
            )
            .header(ALLOW, upload::allow(request, config))
            // Windows' WebDAV client looks for this before it speaks DAV.
            .header(
                HeaderName::from_static("ms-author-via"),
                HeaderValue::from_static("DAV"),
            );
    }
    match request.method.as_str() {
        "MKCOL" => upload::mkcol(request, fs, config),
        "PROPPATCH" => proppatch(request, fs, config).unwrap_or_else(Reply::error),
        "COPY" => copymove::handle(request, fs, config, true),
        "MOVE" => copymove::handle(request, fs, config, false),
        _ => propfind(request, fs, config).unwrap_or_else(Reply::error),
    }
}

/// A `Depth` this server does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DepthRefused {
    Infinite,
    Malformed,
}

/// The depth a PROPFIND asks for: false for 0, true for 1.
fn depth(request: &Request) -> Result<bool, DepthRefused> {
    match request.headers.get("depth").map(HeaderValue::as_bytes) {
        Some(b"0") => Ok(false),
        Some(b"1") => Ok(true),
        None | Some(b"infinity" | b"Infinity") => Err(DepthRefused::Infinite),
        Some(_) => Err(DepthRefused::Malformed),
    }
}

/// `403` with the precondition that names why (RFC 4918 §9.1.1, §16).
fn finite_depth_only() -> Reply {
    let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
                <D:error xmlns:D=\"DAV:\"><D:propfind-finite-depth/></D:error>\n";
    Reply::new(StatusCode::FORBIDDEN).text("application/xml; charset=utf-8", body.to_owned())
}

/// `PROPPATCH` with `--modify` (RFC 4918 §9.2): every property it would set or remove comes
/// back in a `403` propstat. The server keeps no dead properties: there is nowhere to keep
/// them that every host and every instance shares, and a mounted share works without them;
/// saying so is better than a `405`, which clients read as "no WebDAV here".
fn proppatch(request: &Request, fs: &dyn Fs, config: &Config) -> Result<Reply, StatusCode> {
    let path = upload::writable_path(request, config)?;
    let meta = fs.stat(&path).map_err(FsError::status)?;
    if meta.kind == Kind::Other {
        return Err(StatusCode::NOT_FOUND);
    }
    let named = match &request.body {
        RequestBody::Read(body) => {
            propfind::parse_update(body).map_err(|_| StatusCode::BAD_REQUEST)?
        }
        RequestBody::TooLarge => return Err(StatusCode::PAYLOAD_TOO_LARGE),
        RequestBody::Unread | RequestBody::Stream(_) => return Err(StatusCode::BAD_REQUEST),
    };
    let href = format!(
        "{}{}",
        config.base_path,
        path.to_url(meta.kind == Kind::Dir)
    );
    let mut xml = String::from(HEAD);
    multistatus::push_refusal(&mut xml, &href, &named);
    xml.push_str(TAIL);
    Ok(Reply::new(StatusCode::MULTI_STATUS).text("application/xml; charset=utf-8", xml))
}

fn propfind(request: &Request, fs: &dyn Fs, config: &Config) -> Result<Reply, StatusCode> {
    let path = request.path.as_ref().map_err(PathError::status)?;
    if !config.visibility.shows_path(path) {
        return Err(StatusCode::NOT_FOUND);
    }
    let deep = match depth(request) {
        Ok(deep) => deep,
        Err(DepthRefused::Infinite) => return Ok(finite_depth_only()),
        Err(DepthRefused::Malformed) => return Err(StatusCode::BAD_REQUEST),
    };
    let wanted = match &request.body {
        RequestBody::Read(body) => propfind::parse(body).map_err(|_| StatusCode::BAD_REQUEST)?,
        RequestBody::TooLarge => return Err(StatusCode::PAYLOAD_TOO_LARGE),
        RequestBody::Unread | RequestBody::Stream(_) => Wanted::All,
    };
    let meta = fs.stat(path).map_err(FsError::status)?;
    let dir = match meta.kind {
        Kind::Dir if !config.listing => return Err(StatusCode::NOT_FOUND),
        Kind::Dir => true,
        Kind::File if path.has_trailing_slash() => return Err(StatusCode::NOT_FOUND),
        Kind::File => false,
        Kind::Other => return Err(StatusCode::NOT_FOUND),
    };
    let href = format!("{}{}", config.base_path, path.to_url(dir));
    let reply = Reply::new(StatusCode::MULTI_STATUS).header(
        CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    if dir && deep {
        let mut reply = reply;
        reply.body = Body::Multistatus(Collection {
            dir: path.clone(),
            meta,
            wanted,
            visibility: config.visibility,
            href,
        });
        return Ok(reply);
    }
    let mut xml = String::from(HEAD);
    let resource = Resource {
        href: &href,
        name: path.file_name(),
        meta,
    };
    push_response(&mut xml, &resource, &wanted);
    xml.push_str(TAIL);
    Ok(reply.text("application/xml; charset=utf-8", xml))
}

#[cfg(test)]
mod tests;
