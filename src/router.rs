//! Request head -> `Reply`: methods, path safety, directories, index files, listings, files.
//!
//! Pure over the [`Fs`] trait, so the whole request-to-response decision unit-tests natively.
//! Status rules: 400 for a malformed target, 404 for anything that cannot or must not be named
//! (missing, dot-file, special file, outside the root), 403 only when the host's permissions
//! refuse, 405 with `Allow` for methods other than GET and HEAD (RFC 9110 §15.5.6).

use http::header::{
    HeaderName, HeaderValue, ACCEPT, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS, ALLOW,
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION, VARY,
};
use http::{HeaderMap, Method, StatusCode};

use crate::config::Config;
use crate::file;
use crate::fs::{self, DirEntry, Fs, FsError, Kind};
use crate::listing;
use crate::path::{PathError, SafePath};
use crate::query::{self, Format};
use crate::reply::{Body, Reply};
use crate::xmlrpc;

/// The parts of a request the file server reads.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: Method,
    /// Origin-form target as received: path plus optional `?query`.
    pub(crate) target: String,
    pub(crate) headers: HeaderMap,
    /// Read only for the one endpoint that takes a body (see [`wants_body`]).
    pub(crate) body: RequestBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum RequestBody {
    #[default]
    Unread,
    Read(Vec<u8>),
    /// Over the endpoint's cap: refused without being read whole.
    TooLarge,
}

/// The XML-RPC endpoint's path.
const RPC_PATH: &str = "/RPC2";

fn is_rpc(request: &Request, config: &Config) -> bool {
    config.xmlrpc && request.target.split(['?', '#']).next() == Some(RPC_PATH)
}

/// Whether the glue should read this request's body (up to [`xmlrpc::MAX_BODY`]).
pub(crate) fn wants_body(request: &Request, config: &Config) -> bool {
    request.method == Method::POST && is_rpc(request, config)
}

/// Answers one request against `fs`.
pub(crate) fn route(request: &Request, fs: &dyn Fs, config: &Config) -> Reply {
    let head = request.method == Method::HEAD;
    let mut reply = if is_rpc(request, config) {
        rpc(request, fs, config)
    } else if request.method == Method::GET || head {
        match get(request, fs, config) {
            Ok(reply) => reply,
            Err(status) => error(request, fs, config, status),
        }
    } else if request.method == Method::OPTIONS && config.cors {
        preflight(request)
    } else {
        let allow = if config.cors {
            "GET, HEAD, OPTIONS"
        } else {
            "GET, HEAD"
        };
        Reply::error(StatusCode::METHOD_NOT_ALLOWED).header(ALLOW, HeaderValue::from_static(allow))
    };
    if config.cors {
        reply
            .headers
            .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    for (name, value) in &config.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            reply.headers.append(name, value);
        }
    }
    if head {
        reply.without_body()
    } else {
        reply
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

/// CORS preflight (Fetch standard §3.2.2): any origin may GET and HEAD, with any headers.
fn preflight(request: &Request) -> Reply {
    let mut reply = Reply::new(StatusCode::NO_CONTENT)
        .header(ALLOW, HeaderValue::from_static("GET, HEAD, OPTIONS"))
        .header(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, HEAD, OPTIONS"),
        )
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
fn error(request: &Request, fs: &dyn Fs, config: &Config, status: StatusCode) -> Reply {
    if status == StatusCode::NOT_FOUND {
        if let Some(spa) = &config.spa {
            if request.method == Method::GET && accepts_html(&request.headers) {
                if let Some(reply) = configured_page(fs, config, spa, StatusCode::OK) {
                    return reply;
                }
            }
        }
        if let Some(page) = &config.not_found {
            if let Some(reply) = configured_page(fs, config, page, status) {
                return reply;
            }
        }
    }
    Reply::error(status)
}

/// A file named in the configuration, served with `status`; `None` if it is not a file.
fn configured_page(fs: &dyn Fs, config: &Config, path: &str, status: StatusCode) -> Option<Reply> {
    let path = SafePath::from_config(path)?;
    let meta = fs.stat(&path).ok().filter(|m| m.kind == Kind::File)?;
    Some(file::plain(config, path, meta, status))
}

/// Whether `Accept` names HTML: a browser navigating, as opposed to a script or an asset.
fn accepts_html(headers: &HeaderMap) -> bool {
    headers.get_all(ACCEPT).iter().any(|value| {
        value.to_str().is_ok_and(|v| {
            v.split(',').any(|item| {
                let mut parts = item.split(';');
                let range = parts.next().unwrap_or("").trim();
                let refused = parts.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        == Some(0.0)
                });
                range.eq_ignore_ascii_case("text/html") && !refused
            })
        })
    })
}

fn get(request: &Request, fs: &dyn Fs, config: &Config) -> Result<Reply, StatusCode> {
    let path = SafePath::parse(&request.target).map_err(|e| match e {
        PathError::BadRequest => StatusCode::BAD_REQUEST,
        PathError::NotFound => StatusCode::NOT_FOUND,
    })?;
    if !config.visibility.shows_path(&path) {
        return Err(StatusCode::NOT_FOUND);
    }
    let meta = fs.stat(&path).map_err(FsError::status)?;
    match meta.kind {
        Kind::Dir if !path.has_trailing_slash() => {
            Ok(redirect_to_dir(&path, &request.target, &config.base_path))
        }
        Kind::Dir => directory(request, fs, config, &path),
        Kind::File if path.has_trailing_slash() => Err(StatusCode::NOT_FOUND),
        Kind::File => Ok(file::reply(request, fs, config, path, meta)),
        Kind::Other => Err(StatusCode::NOT_FOUND),
    }
}

/// `/dir` -> `301 /dir/`, keeping the query so links relative to the page still work.
fn redirect_to_dir(path: &SafePath, target: &str, base: &str) -> Reply {
    let mut location = format!("{base}{}", path.to_url(true));
    if let Some((_, query)) = target.split_once('?') {
        let query = query.split_once('#').map_or(query, |(q, _)| q);
        location.push('?');
        location.push_str(query);
    }
    let location = HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/"));
    Reply::error(StatusCode::MOVED_PERMANENTLY).header(LOCATION, location)
}

fn directory(
    request: &Request,
    fs: &dyn Fs,
    config: &Config,
    dir: &SafePath,
) -> Result<Reply, StatusCode> {
    let query = query::parse(&request.target, &request.headers);
    if query.tar {
        // An archive shows what a listing would, so it obeys the same switch.
        return if config.listing {
            Ok(archive(config, dir))
        } else {
            Err(StatusCode::NOT_FOUND)
        };
    }
    for name in &config.index {
        let Some(candidate) = dir.join(name) else {
            continue;
        };
        if let Ok(meta) = fs.stat(&candidate) {
            if meta.kind == Kind::File {
                return Ok(file::reply(request, fs, config, candidate, meta));
            }
        }
    }
    if !config.listing {
        return Err(StatusCode::NOT_FOUND);
    }
    let mut entries: Vec<DirEntry> = Vec::new();
    fs.read_dir(dir, &mut |entry| {
        if config.visibility.shows_entry(&entry) {
            entries.push(entry);
        }
    })
    .map_err(FsError::status)?;
    fs::sort_entries(&mut entries, query.sort, query.order);
    let reply = Reply::new(StatusCode::OK).header(CACHE_CONTROL, file::cache_control(config));
    let mut reply = match query.format {
        Format::Html => reply.html(listing::render_html(
            dir,
            &entries,
            &query,
            &config.base_path,
        )),
        Format::Json => reply.text(
            "application/json; charset=utf-8",
            listing::render_json(dir, &entries),
        ),
    };
    // The same URL answers HTML or JSON by Accept, and plain or gzip by Accept-Encoding.
    reply
        .headers
        .insert(VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
    file::compress_text(request, config, &mut reply);
    Ok(reply)
}

/// `?download=tar`: `NAME.tar` as an attachment (RFC 6266), streamed without a length.
fn archive(config: &Config, dir: &SafePath) -> Reply {
    let name = dir.file_name().unwrap_or("download");
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
    let disposition =
        format!("attachment; filename=\"{ascii}.tar\"; filename*=UTF-8''{encoded}.tar");
    let mut reply = Reply::new(StatusCode::OK)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/x-tar"))
        .header(
            CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition).expect("ASCII by construction"),
        )
        .header(CACHE_CONTROL, file::cache_control(config));
    reply.body = Body::Tar {
        dir: dir.clone(),
        visibility: config.visibility,
    };
    reply
}

#[cfg(test)]
mod tests;
