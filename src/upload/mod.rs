//! Uploads, only with `--upload`: `PUT /path/name` stores its body as a new file (what
//! `curl -T file URL/` sends), and `POST /dir/` stores the files of a `multipart/form-data`
//! form (the listing's upload form, RFC 7578) in that directory.
//!
//! Rules, the same for both:
//! - A file is only ever created, never replaced: a name that exists (file, directory or
//!   link) is `409 Conflict` and stays as it was. Missing parent directories are created,
//!   except with `--webdav`, where a PUT or MKCOL into a missing collection is `409` as
//!   RFC 4918 §9.7.1 says (WebDAV clients make each collection with MKCOL first).
//! - Names follow the `SafePath` rules (`400`/`404` otherwise); a dot-file name, or a
//!   dot-directory on the way, is `403` unless `--hidden` (the one rule of `visibility.rs`).
//!   A form's file name must be one path segment: one that is `.` or `..`, or holds `/`,
//!   `\`, NUL or a control character, is `400`. Where the sandbox refuses a path (a link out
//!   of the root) nothing is written.
//! - A body over `--max-upload` is `413`: refused unread when its `Content-Length` says so,
//!   or as soon as a chunked body grows past it.
//! - A request stores everything it sent or nothing (see `store.rs`): a body that breaks
//!   off, a full disk or a taken name leaves no file and no temporary file behind.
//! - Memory stays flat: the body is read [`CHUNK`] bytes at a time and written on at once.
//!
//! Success is `201 Created` (with `Location` for `PUT`); a form post from a browser is sent
//! back to the directory with `303 See Other`, and a script that prefers JSON gets `201`
//! with the list of stored files.

pub(crate) mod multipart;
pub(crate) mod store;
#[cfg(test)]
pub(crate) mod testing;

use std::fmt::Write as _;
use std::time::Duration;

use http::header::{ALLOW, CONTENT_TYPE, LOCATION};
use http::{Method, StatusCode};

use crate::config::Config;
use crate::fs::{Fs, Store, WriteError};
use crate::header::HeaderValue;
use crate::listing::push_json_string;
use crate::path::{PathError, SafePath};
use crate::query::prefers_json;
use crate::reply::Reply;
use crate::request::{BodyError, BodyStream, Request, RequestBody, Source};
use multipart::{Event, Parser};
use store::Batch;
pub(crate) use store::Stored;

/// The most body bytes read (and written) at a time.
pub(crate) const CHUNK: usize = 64 * 1024;

/// How long a body may send nothing before the upload is abandoned (`408`), so a stalled
/// client cannot hold a request slot forever.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether the router hands this request here (and the glue leaves its body to be streamed).
pub(crate) fn is_upload(request: &Request, config: &Config) -> bool {
    config.upload && (request.method == Method::PUT || request.method == Method::POST)
}

/// The methods a path allows (RFC 9110 §10.2.1), the one list `Allow` and `OPTIONS` give:
/// uploads add `PUT` for a file name and `POST` for a directory (a path ending in `/`),
/// `--modify` adds `DELETE`, CORS and WebDAV add `OPTIONS`, WebDAV adds `PROPFIND` (and
/// `MKCOL` with uploads).
pub(crate) fn allow(request: &Request, config: &Config) -> HeaderValue {
    let path = request.path.as_ref().ok();
    let dir = path.is_some_and(SafePath::has_trailing_slash);
    let root = path.is_some_and(SafePath::is_root);
    let mut methods = vec!["GET", "HEAD"];
    if config.upload {
        methods.push(if dir { "POST" } else { "PUT" });
    }
    if config.modify && !root {
        methods.push("DELETE");
    }
    if config.cors || config.webdav {
        methods.push("OPTIONS");
    }
    if config.webdav {
        methods.push("PROPFIND");
        if config.upload {
            methods.push("MKCOL");
        }
        if config.modify && !root {
            methods.extend(["COPY", "MOVE", "PROPPATCH"]);
        }
    }
    HeaderValue::from_str(&methods.join(", ")).expect("tokens")
}

/// Answers an upload request (see [`is_upload`]).
pub(crate) fn handle(request: &Request, fs: &dyn Fs, config: &Config) -> Reply {
    let result = if request.method == Method::PUT {
        put(request, fs, config)
    } else {
        post(request, fs, config)
    };
    result.unwrap_or_else(|status| {
        let reply = Reply::error(status);
        if status == StatusCode::METHOD_NOT_ALLOWED {
            reply.header(ALLOW, allow(request, config))
        } else {
            reply
        }
    })
}

/// `PUT /path/name`: the body becomes the new file `name`.
fn put(request: &Request, fs: &dyn Fs, config: &Config) -> Result<Reply, StatusCode> {
    let target = writable_path(request, config)?;
    if target.has_trailing_slash() {
        return Err(StatusCode::METHOD_NOT_ALLOWED);
    }
    let declared = declared_length(request, config)?;
    let replace = match fs.stat(&target) {
        Ok(meta) if config.modify && meta.kind == crate::fs::Kind::File => {
            validators_hold(request, meta)?;
            true
        }
        Ok(_) => return Err(StatusCode::CONFLICT),
        Err(_) if request.headers.contains_key(http::header::IF_MATCH) => {
            return Err(StatusCode::PRECONDITION_FAILED)
        }
        Err(_) => false,
    };
    if config.webdav {
        parent_exists(fs, &target)?;
    }
    let (store, body) = (store_of(fs)?, stream_of(request)?);
    let mut source = body.source();
    let ((), stored) = Batch::run(store, |batch| {
        if replace {
            batch.replacing();
        }
        batch.begin(&target)?;
        let received = receive(&mut *source, config.max_upload, &mut |chunk| {
            batch.write(chunk)
        })?;
        check_length(declared, received)
    })?;
    if replace {
        return Ok(Reply::new(StatusCode::NO_CONTENT));
    }
    let location = format!("{}{}", config.base_path, target.to_url(false));
    let reply = Reply::new(StatusCode::CREATED).header(
        LOCATION,
        HeaderValue::from_str(&location).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?,
    );
    Ok(stored_reply(reply, request, &stored))
}

/// `POST /dir/` with `multipart/form-data`: each part with a file name becomes a new file
/// in `dir`; other parts (plain form fields) are read past.
fn post(request: &Request, fs: &dyn Fs, config: &Config) -> Result<Reply, StatusCode> {
    let dir = writable_path(request, config)?;
    if !dir.has_trailing_slash() {
        return Err(StatusCode::METHOD_NOT_ALLOWED);
    }
    let content_type = request
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut parser = Parser::new(content_type)?;
    let declared = declared_length(request, config)?;
    let (store, body) = (store_of(fs)?, stream_of(request)?);
    let mut source = body.source();
    let ((), stored) = Batch::run(store, |batch| {
        let mut on = |event: Event<'_>| match event {
            Event::Part(head) => match head.filename.filter(|name| !name.is_empty()) {
                Some(name) => {
                    let target = file_in(&dir, &name, config)?;
                    refuse_taken(fs, &target)?;
                    batch.begin(&target)
                }
                None => batch.end(),
            },
            Event::Data(bytes) => batch.write(bytes),
            Event::PartEnd => batch.end(),
        };
        let received = receive(&mut *source, config.max_upload, &mut |chunk| {
            parser.feed(chunk, &mut on)
        })?;
        parser.finish()?;
        check_length(declared, received)
    })?;
    if prefers_json(&request.headers) {
        return Ok(stored_reply(
            Reply::new(StatusCode::CREATED),
            request,
            &stored,
        ));
    }
    let location = format!("{}{}", config.base_path, dir.to_url(true));
    Ok(Reply::error(StatusCode::SEE_OTHER).header(
        LOCATION,
        HeaderValue::from_str(&location).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?,
    ))
}

/// `If-Match` and `If-None-Match` on a write to an existing file (RFC 9110 §13.1.1-2): `412`
/// unless they hold for the file as a GET would tag it.
pub(crate) fn validators_hold(
    request: &Request,
    meta: crate::fs::Metadata,
) -> Result<(), StatusCode> {
    let etag = crate::validators::etag(meta.size, meta.modified, None);
    let modified = meta.modified.map(|t| t.to_system_time());
    match crate::validators::evaluate(&request.method, &request.headers, &etag, modified) {
        crate::validators::Precondition::Proceed => Ok(()),
        _ => Err(StatusCode::PRECONDITION_FAILED),
    }
}

/// `DELETE` with `--modify`: a file, or a directory with everything in it that a client may
/// see (RFC 4918 §9.6.1). `204` when all of it is gone; `207` naming each member that could
/// not be removed, the rest removed. A directory that holds what the client may not see
/// (dot-files without `--hidden`) keeps those and itself.
pub(crate) fn delete(request: &Request, fs: &dyn Fs, config: &Config) -> Reply {
    let done = (|| {
        let target = writable_path(request, config)?;
        if target.is_root() {
            return Err(StatusCode::FORBIDDEN);
        }
        let meta = fs.stat(&target).map_err(crate::fs::FsError::status)?;
        validators_hold(request, meta)?;
        let store = store_of(fs)?;
        let mut failed = Vec::new();
        match meta.kind {
            crate::fs::Kind::Dir => {
                remove_tree(fs, store, &target, config, &mut failed);
            }
            _ => store.remove_file(&target).map_err(WriteError::status)?,
        }
        Ok(failed)
    })();
    match done {
        Ok(failed) if failed.is_empty() => Reply::new(StatusCode::NO_CONTENT),
        Ok(failed) => {
            let mut xml = String::from(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\">\n",
            );
            for (path, dir, status) in failed {
                let _ = write!(xml, "<D:response><D:href>{}", config.base_path);
                crate::html::push_escaped(&mut xml, &path.to_url(dir));
                let _ = writeln!(
                    xml,
                    "</D:href><D:status>HTTP/1.1 {}</D:status></D:response>",
                    status
                );
            }
            xml.push_str("</D:multistatus>\n");
            Reply::new(StatusCode::MULTI_STATUS).text("application/xml; charset=utf-8", xml)
        }
        Err(status) => Reply::error(status),
    }
}

/// Removes what `dir` holds that a client may see, then `dir` itself; each failure is added
/// to `failed`. Names are read a bounded batch at a time and the batch removed before the
/// next read, so a directory of any size costs one batch of memory.
pub(crate) fn remove_tree(
    fs: &dyn Fs,
    store: &dyn Store,
    dir: &SafePath,
    config: &Config,
    failed: &mut Vec<(SafePath, bool, StatusCode)>,
) -> bool {
    const BATCH: usize = 256;
    let mut skipped: Vec<String> = Vec::new();
    let mut hidden = false;
    loop {
        let mut batch = Vec::new();
        let read = fs.read_names(dir, &mut |name| {
            if !config.visibility.shows_entry(&name.name, name.kind) {
                hidden = true;
            } else if !skipped.contains(&name.name) {
                batch.push(name);
            }
            if batch.len() == BATCH {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        });
        if read.is_err() || batch.is_empty() {
            break;
        }
        for name in batch {
            let Some(path) = dir.join(&name.name) else {
                skipped.push(name.name);
                continue;
            };
            let removed = if name.kind == crate::fs::Kind::Dir && !name.symlink {
                remove_tree(fs, store, &path, config, failed)
            } else {
                match store.remove_file(&path) {
                    Ok(()) => true,
                    Err(error) => {
                        failed.push((path, false, error.status()));
                        false
                    }
                }
            };
            if !removed {
                skipped.push(name.name);
            }
        }
    }
    if hidden {
        // What the client cannot see is not its to delete: the directory stays, and says why.
        failed.push((dir.clone(), true, StatusCode::FORBIDDEN));
    }
    if hidden || !skipped.is_empty() {
        return false;
    }
    match store.remove_dir(dir) {
        Ok(()) => true,
        Err(error) => {
            failed.push((dir.clone(), true, error.status()));
            false
        }
    }
}

/// With `--webdav`, RFC 4918 §9.7.1 and §9.3.1: a PUT or MKCOL whose parent collection is
/// missing is `409`, rather than creating it (which `curl -T` users get without WebDAV).
pub(crate) fn parent_exists(fs: &dyn Fs, target: &SafePath) -> Result<(), StatusCode> {
    let parent = target.parent().ok_or(StatusCode::CONFLICT)?;
    match fs.stat(&parent) {
        Ok(meta) if meta.kind == crate::fs::Kind::Dir => Ok(()),
        _ => Err(StatusCode::CONFLICT),
    }
}

/// `MKCOL /path/` (RFC 4918 §9.3), with `--webdav` and `--upload`: a new, empty directory.
/// A name that exists is `405`, a missing parent `409`, a body `415`.
pub(crate) fn mkcol(request: &Request, fs: &dyn Fs, config: &Config) -> Reply {
    let made = (|| {
        let target = writable_path(request, config)?;
        if target.is_root() || fs.stat(&target).is_ok() {
            return Err(StatusCode::METHOD_NOT_ALLOWED);
        }
        let has_body = request
            .headers
            .contains_key(http::header::TRANSFER_ENCODING)
            || declared_length(request, config)?.is_some_and(|n| n > 0);
        if has_body {
            return Err(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        }
        parent_exists(fs, &target)?;
        let store = store_of(fs)?;
        store.create_dir(&target).map_err(|error| match error {
            crate::fs::WriteError::Exists => StatusCode::METHOD_NOT_ALLOWED,
            other => other.status(),
        })?;
        Ok(target)
    })();
    match made {
        Ok(target) => {
            let location = format!("{}{}", config.base_path, target.to_url(true));
            let reply = Reply::error(StatusCode::CREATED);
            match HeaderValue::from_str(&location) {
                Ok(location) => reply.header(LOCATION, location),
                Err(_) => reply,
            }
        }
        Err(status) => Reply::error(status),
    }
}

/// The request's path, if an upload may write there.
pub(crate) fn writable_path(request: &Request, config: &Config) -> Result<SafePath, StatusCode> {
    let path = request.path.as_ref().map_err(PathError::status)?;
    if !config.visibility.shows_path(path) {
        return Err(StatusCode::FORBIDDEN);
    }
    Ok(path.clone())
}

/// The path of a form's file `name` in `dir`: one plain path segment.
fn file_in(dir: &SafePath, name: &str, config: &Config) -> Result<SafePath, StatusCode> {
    let bad = name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| matches!(c, '/' | '\\') || c.is_control());
    if bad {
        return Err(StatusCode::BAD_REQUEST);
    }
    if !config.visibility.shows_name(name) {
        return Err(StatusCode::FORBIDDEN);
    }
    dir.join(name).ok_or(StatusCode::BAD_REQUEST)
}

/// `409` early, before any byte is read, when the name is visibly taken; the final link
/// still refuses a name taken meanwhile.
fn refuse_taken(fs: &dyn Fs, target: &SafePath) -> Result<(), StatusCode> {
    match fs.stat(target) {
        Ok(_) => Err(StatusCode::CONFLICT),
        Err(_) => Ok(()),
    }
}

/// The declared body length: `413` over the limit, before anything is read.
fn declared_length(request: &Request, config: &Config) -> Result<Option<u64>, StatusCode> {
    let length =
        crate::request::content_length(&request.headers).map_err(|()| StatusCode::BAD_REQUEST)?;
    if length.is_some_and(|n| n > config.max_upload) {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    Ok(length)
}

/// A body shorter (or longer) than declared is broken, however it ended.
fn check_length(declared: Option<u64>, received: u64) -> Result<(), StatusCode> {
    match declared {
        Some(length) if length != received => Err(StatusCode::BAD_REQUEST),
        _ => Ok(()),
    }
}

/// Passes the body to `each`, chunk by chunk, and returns its length; `413` as soon as it
/// passes `max`.
fn receive(
    source: &mut dyn Source,
    max: u64,
    each: &mut dyn FnMut(&[u8]) -> Result<(), StatusCode>,
) -> Result<u64, StatusCode> {
    let mut received: u64 = 0;
    while let Some(chunk) = source.next_chunk().map_err(BodyError::status)? {
        received = received.saturating_add(chunk.len() as u64);
        if received > max {
            return Err(StatusCode::PAYLOAD_TOO_LARGE);
        }
        each(&chunk)?;
    }
    Ok(received)
}

pub(crate) fn store_of(fs: &dyn Fs) -> Result<&dyn Store, StatusCode> {
    // A filesystem with no write side refuses, as a read-only mount does.
    fs.store().ok_or(StatusCode::FORBIDDEN)
}

fn stream_of(request: &Request) -> Result<&BodyStream, StatusCode> {
    match &request.body {
        RequestBody::Stream(body) => Ok(body),
        // The glue streams every body `router::streams_body` names: anything else is a bug.
        _ => Err(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// `reply` with what was stored: JSON when the client prefers it, else a line of text.
fn stored_reply(reply: Reply, request: &Request, stored: &[Stored]) -> Reply {
    if prefers_json(&request.headers) {
        return reply.text("application/json; charset=utf-8", stored_json(stored));
    }
    let mut text = String::new();
    for file in stored {
        let _ = writeln!(text, "stored {} ({} bytes)", file.path, file.size);
    }
    reply.text("text/plain; charset=utf-8", text)
}

/// `{"stored": [{"name": "a.txt", "path": "/dir/a.txt", "size": 5}]}`: `path` is the URL
/// path from the served root, not percent-encoded, as in search results.
fn stored_json(stored: &[Stored]) -> String {
    let mut json = String::from("{\"stored\": [");
    for (i, file) in stored.iter().enumerate() {
        if i > 0 {
            json.push_str(", ");
        }
        json.push_str("{\"name\": ");
        push_json_string(&mut json, file.path.file_name().unwrap_or_default());
        json.push_str(", \"path\": ");
        push_json_string(&mut json, &file.path.to_string());
        let _ = write!(json, ", \"size\": {}}}", file.size);
    }
    json.push_str("]}\n");
    json
}

#[cfg(test)]
mod tests;
