//! Request -> `Reply`: every policy decision of the component is made here, from the method,
//! the `SafePath` and the configuration; the pure modules answer the questions it asks, and
//! the WASI glue only moves the bytes the reply names.
//!
//! Pure over the [`Fs`] trait, so the whole request-to-response decision unit-tests natively.
//! Status rules: 400 for a malformed target, 404 for anything that cannot or must not be named
//! (missing, dot-file, special file, outside the root), 403 only when the host's permissions
//! refuse, 405 with `Allow` for methods other than GET and HEAD (RFC 9110 §15.5.6).

use http::header::{
    ACCEPT, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, ALLOW, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, ETAG,
    LOCATION, VARY, WWW_AUTHENTICATE,
};
use http::{Method, StatusCode};

use crate::auth;
use crate::compress;
use crate::config::Config;
use crate::file;
use crate::fs::{self, Fs, FsError, Kind};
use crate::header::{self, HeaderValue};
use crate::listing;
use crate::page;
use crate::path::{PathError, SafePath};
use crate::query::{self, Download, Format, ListingQuery, Start};
use crate::reply::{Body, Reply};
use crate::request::{Request, RequestBody};
use crate::search;
use crate::tree;
use crate::upload;
use crate::validators::{self, Precondition};
use crate::webdav;
use crate::xmlrpc;
use crate::zip;

/// The XML-RPC endpoint's path segments (`/RPC2`).
const RPC_PATH: &[&str] = &["RPC2"];

fn is_rpc(request: &Request, config: &Config) -> bool {
    config.xmlrpc
        && request
            .path
            .as_ref()
            .is_ok_and(|p| p.segments() == RPC_PATH && !p.has_trailing_slash())
}

/// How many body bytes the glue should read for this request before routing it; `None`
/// means the route takes no body and it stays unread (as it does without credentials).
pub(crate) fn body_limit(request: &Request, config: &Config) -> Option<u64> {
    if unauthorized(request, config).is_some() {
        return None;
    }
    let rpc = request.method == Method::POST && is_rpc(request, config);
    if rpc {
        Some(xmlrpc::MAX_BODY)
    } else {
        webdav::body_limit(request, config)
    }
}

/// Whether the route reads the request's `Host` field (see [`webdav::reads_host`]).
pub(crate) fn reads_host(method: &Method) -> bool {
    webdav::reads_host(method)
}

/// Whether the route reads this request's body itself, as it arrives (uploads); never
/// without credentials.
pub(crate) fn streams_body(request: &Request, config: &Config) -> bool {
    upload::is_upload(request, config)
        && !is_rpc(request, config)
        && unauthorized(request, config).is_none()
}

/// Answers one request against `fs`.
pub(crate) fn route<F: Fs>(request: &Request, fs: &F, config: &Config) -> Reply {
    let head = request.method == Method::HEAD;
    let mut reply = unauthorized(request, config).unwrap_or_else(|| dispatch(request, fs, config));
    if config.cors {
        reply
            .headers
            .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    for (name, value) in &config.headers {
        reply.headers.append(name.clone(), value.clone());
    }
    if head {
        reply.without_body()
    } else {
        reply
    }
}

/// A 401 when users are configured and the request is not one of them. The one request let
/// through without credentials is a CORS preflight, which browsers never send them on
/// (Fetch standard §4.8); it reveals nothing about the tree.
fn unauthorized(request: &Request, config: &Config) -> Option<Reply> {
    if config.users.is_empty() || is_preflight(request, config) {
        return None;
    }
    match config.users.authenticate(&request.headers) {
        Some(_) => None,
        None => {
            Some(Reply::error(StatusCode::UNAUTHORIZED).header(WWW_AUTHENTICATE, auth::challenge()))
        }
    }
}

fn is_preflight(request: &Request, config: &Config) -> bool {
    config.cors
        && request.method == Method::OPTIONS
        && request.headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer for an authorised request.
fn dispatch<F: Fs>(request: &Request, fs: &F, config: &Config) -> Reply {
    let head = request.method == Method::HEAD;
    if is_rpc(request, config) {
        rpc(request, fs, config)
    } else if request.method == Method::GET || head {
        get(request, fs, config).unwrap_or_else(|status| error(request, fs, config, status))
    } else if upload::is_upload(request, config) {
        upload::handle(request, fs, config)
    } else if request.method == Method::DELETE && config.modify {
        upload::delete(request, fs, config)
    } else if is_preflight(request, config) {
        preflight(request, config)
    } else if webdav::handles(request, config) {
        webdav::handle(request, fs, config)
    } else if request.method == Method::OPTIONS && config.cors {
        preflight(request, config)
    } else {
        Reply::error(StatusCode::METHOD_NOT_ALLOWED).header(ALLOW, upload::allow(request, config))
    }
}

/// `POST /RPC2` answers a method call; `GET /RPC2` shows the documentation.
fn rpc(request: &Request, fs: &dyn Fs, config: &Config) -> Reply {
    match (&request.method, &request.body) {
        (&Method::GET | &Method::HEAD, _) => Reply::new(StatusCode::OK).html(xmlrpc::doc_page()),
        (&Method::POST, RequestBody::Read(body)) => Reply::new(StatusCode::OK).text(
            "text/xml; charset=utf-8",
            xmlrpc::handle_call(body, fs, config),
        ),
        (&Method::POST, RequestBody::TooLarge) => Reply::error(StatusCode::PAYLOAD_TOO_LARGE),
        (&Method::POST, RequestBody::Unread) => Reply::error(StatusCode::BAD_REQUEST),
        _ => Reply::error(StatusCode::METHOD_NOT_ALLOWED)
            .header(ALLOW, HeaderValue::from_static("GET, HEAD, POST")),
    }
}

/// CORS preflight (Fetch standard §3.2.2): any origin may GET and HEAD (and upload, with
/// `--upload`), with any headers.
fn preflight(request: &Request, config: &Config) -> Reply {
    let methods = HeaderValue::from_static(if config.upload {
        "GET, HEAD, PUT, POST, OPTIONS"
    } else {
        "GET, HEAD, OPTIONS"
    });
    let mut reply = Reply::new(StatusCode::NO_CONTENT)
        .header(ALLOW, methods.clone())
        .header(ACCESS_CONTROL_ALLOW_METHODS, methods)
        .header(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    if let Some(asked) = request.headers.get(ACCESS_CONTROL_REQUEST_HEADERS) {
        reply
            .headers
            .insert(ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    reply
}

/// The reply for a failed GET: the SPA entry point for a browser navigating to a missing
/// path, the configured 404 page, or the built-in error page.
fn error<F: Fs>(request: &Request, fs: &F, config: &Config, status: StatusCode) -> Reply {
    if status != StatusCode::NOT_FOUND {
        return Reply::error(status);
    }
    let navigation = request.method == Method::GET && accepts_html(request);
    let spa = config.spa.as_ref().filter(|_| navigation);
    spa.and_then(|page| configured_page(fs, config, page, StatusCode::OK))
        .or_else(|| {
            let page = config.not_found.as_ref()?;
            configured_page(fs, config, page, status)
        })
        .unwrap_or_else(|| Reply::error(status))
}

/// A file named in the configuration, served with `status`; `None` if it is not a file.
fn configured_page<F: Fs>(
    fs: &F,
    config: &Config,
    path: &SafePath,
    status: StatusCode,
) -> Option<Reply> {
    let meta = fs.stat(path).ok().filter(|m| m.kind == Kind::File)?;
    Some(file::plain(config, path.clone(), meta, status))
}

/// Whether `Accept` names HTML with a weight above 0: a browser navigating, as opposed to a
/// script or an asset (`*/*` alone does not count).
fn accepts_html(request: &Request) -> bool {
    header::weight_of(&request.headers, &ACCEPT, "text/html").is_some_and(|q| !q.is_zero())
}

fn get<F: Fs>(request: &Request, fs: &F, config: &Config) -> Result<Reply, StatusCode> {
    let path = request.path.as_ref().map_err(PathError::status)?;
    if !config.visibility.shows_path(path) {
        return Err(StatusCode::NOT_FOUND);
    }
    let meta = fs.stat(path).map_err(FsError::status)?;
    match meta.kind {
        Kind::Dir if !path.has_trailing_slash() => Ok(redirect_to_dir(path, request, config)),
        Kind::Dir => directory(request, fs, config, path),
        Kind::File if path.has_trailing_slash() => Err(StatusCode::NOT_FOUND),
        Kind::File => Ok(file::reply(request, fs, config, path.clone(), meta)),
        Kind::Other => Err(StatusCode::NOT_FOUND),
    }
}

/// `/dir` -> `301 /dir/`, keeping the query so links relative to the page still work.
fn redirect_to_dir(path: &SafePath, request: &Request, config: &Config) -> Reply {
    // Joined, not `format!`, like `reply::error_page`.
    let mut location = [config.base_path.as_str(), &path.to_url(true)].concat();
    if let Some(query) = &request.query {
        location.push('?');
        location.push_str(query);
    }
    let location = HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/"));
    Reply::error(StatusCode::MOVED_PERMANENTLY).header(LOCATION, location)
}

fn directory<F: Fs>(
    request: &Request,
    fs: &F,
    config: &Config,
    dir: &SafePath,
) -> Result<Reply, StatusCode> {
    let query = query::parse(request);
    let deeper = query.download.is_some() || query.search.is_some();
    // An archive or a search shows what a listing would, so it obeys the same switch.
    if deeper && !config.listing {
        return Err(StatusCode::NOT_FOUND);
    }
    let plan = tree::Plan {
        dir: dir.clone(),
        visibility: config.visibility,
    };
    if let Some(download) = query.download {
        if download == Download::Zip {
            match zip::check(fs, &plan) {
                Ok(()) => {}
                Err(zip::Refusal::Unreadable(error)) => return Err(error.status()),
                Err(zip::Refusal::TooManyMembers(members)) => return Ok(zip_refused(members)),
            }
        }
        return Ok(archive(config, plan, download));
    }
    if let Some(term) = &query.search {
        return search(request, fs, config, plan, term, query.format);
    }
    if let Some((index, meta)) = index_file(fs, config, dir) {
        return Ok(file::reply(request, fs, config, index, meta));
    }
    if !config.listing {
        return Err(StatusCode::NOT_FOUND);
    }
    listing(request, fs, config, dir, &query)
}

/// The first configured index file that exists in `dir`.
fn index_file<F: Fs>(fs: &F, config: &Config, dir: &SafePath) -> Option<(SafePath, fs::Metadata)> {
    config.index.iter().find_map(|name| {
        let candidate = dir.join(name)?;
        let meta = fs.stat(&candidate).ok().filter(|m| m.kind == Kind::File)?;
        Some((candidate, meta))
    })
}

/// The listing of `dir`, as HTML or JSON, gzip'd when that pays.
fn listing(
    request: &Request,
    fs: &dyn Fs,
    config: &Config,
    dir: &SafePath,
    query: &ListingQuery,
) -> Result<Reply, StatusCode> {
    let after = match &query.start {
        Start::First => None,
        Start::After(cursor) => Some(cursor.clone()),
        Start::Unreadable => return Err(StatusCode::BAD_REQUEST),
    };
    let asked = page::Request {
        sort: query.sort,
        order: query.order,
        after,
        limit: page::PAGE_SIZE,
    };
    let page = page::read(fs, dir, config.visibility, &asked).map_err(FsError::status)?;
    // The validator comes from the entries, so a matching revalidation skips the rendering.
    let etag = listing::etag(dir, &page, query, &config.base_path, config.upload);
    match validators::evaluate(&request.method, &request.headers, &etag, None) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            return Ok(
                page_reply(config, StatusCode::NOT_MODIFIED).header(ETAG, etag.header_value())
            )
        }
        Precondition::Failed => return Err(StatusCode::PRECONDITION_FAILED),
    }
    let page = match query.format {
        Format::Html => Generated::Html(listing::render_html(
            dir,
            &page,
            query,
            &config.base_path,
            config.upload,
        )),
        Format::Json => Generated::Json(listing::render_json(dir, &page, query, &config.base_path)),
    };
    Ok(generated(request, config, page).header(ETAG, etag.header_value()))
}

/// `?q=TERM`: the names below `plan.dir` that contain TERM, as HTML or JSON.
fn search(
    request: &Request,
    fs: &dyn Fs,
    config: &Config,
    plan: tree::Plan,
    term: &str,
    format: Format,
) -> Result<Reply, StatusCode> {
    let found = search::search(fs, &plan, term).map_err(FsError::status)?;
    let page = match format {
        Format::Html => Generated::Html(listing::render_search_html(
            &plan.dir,
            term,
            &found,
            &config.base_path,
        )),
        Format::Json => Generated::Json(listing::render_search_json(&plan.dir, term, &found)),
    };
    Ok(generated(request, config, page))
}

/// A page the component generated about a directory.
enum Generated {
    Html(String),
    Json(String),
}

/// The reply for a generated page, gzip'd when that pays. The same URL answers HTML or JSON
/// by `Accept`, and plain or gzip by `Accept-Encoding`.
fn generated(request: &Request, config: &Config, page: Generated) -> Reply {
    let reply = page_reply(config, StatusCode::OK);
    let reply = match page {
        Generated::Html(html) => reply.html(html),
        Generated::Json(json) => reply.text("application/json; charset=utf-8", json),
    };
    match compress::on_the_fly(&request.accept_encoding, config, reply.text_len()) {
        Some(coding) => reply.compressed(coding),
        None => reply,
    }
}

/// The headers every answer about a generated page carries, a 304 included (RFC 9110
/// §15.4.5): its caching rule, and that it varies by `Accept` and `Accept-Encoding`.
fn page_reply(config: &Config, status: StatusCode) -> Reply {
    Reply::new(status)
        .header(CACHE_CONTROL, config.cache_control.clone())
        .header(VARY, HeaderValue::from_static("Accept, Accept-Encoding"))
}

/// A zip too big to finish: 507 (RFC 4918 §11.5: the server cannot keep what answering
/// needs), before any byte, with the way out.
fn zip_refused(members: u64) -> Reply {
    Reply::explained(
        StatusCode::INSUFFICIENT_STORAGE,
        &format!(
            "This directory holds {members} entries, more than a zip archive can be streamed \
             with here. Download it as a tar instead: ?download=tar"
        ),
    )
}

/// `?download=tar|zip`: `NAME.tar` or `NAME.zip` as an attachment (RFC 6266), streamed
/// without a length.
fn archive(config: &Config, plan: tree::Plan, download: Download) -> Reply {
    let name = plan.dir.file_name().unwrap_or("download");
    let (extension, content_type) = match download {
        Download::Tar => ("tar", "application/x-tar"),
        Download::Zip => ("zip", "application/zip"),
    };
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.+ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String =
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}.{extension}\"; filename*=UTF-8''{encoded}.{extension}"
    );
    let mut reply = Reply::new(StatusCode::OK)
        .header(CONTENT_TYPE, HeaderValue::from_static(content_type))
        .header(
            CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition).expect("ASCII by construction"),
        )
        .header(CACHE_CONTROL, config.cache_control.clone());
    reply.body = match download {
        Download::Tar => Body::Tar(plan),
        Download::Zip => Body::Zip(plan),
    };
    reply
}

#[cfg(test)]
mod tests;
