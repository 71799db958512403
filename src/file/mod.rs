//! A regular file -> `Reply`, in three steps: which representation to send
//! (`representation.rs`), its validators and the preconditions of RFC 9110 §13.2.2
//! (`validators.rs` evaluates them), and Range (§14) on the representation actually sent
//! (`range.rs` decides and frames it).

mod representation;

use std::time::SystemTime;

use http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE,
    ETAG, LAST_MODIFIED, RANGE, VARY,
};
use http::StatusCode;

use crate::config::Config;
use crate::fs::{Fs, Metadata, Timestamp};
use crate::header::HeaderValue;
use crate::mime;
use crate::path::SafePath;
use crate::range::{self, Multipart, RangeDecision};
use crate::reply::{Body, Reply};
use crate::request::Request;
use crate::validators::{self, ETag, Precondition};
use representation::Representation;

/// The full answer for a GET or HEAD of the file at `path`.
pub(crate) fn reply<F: Fs>(
    request: &Request,
    fs: &F,
    config: &Config,
    path: SafePath,
    meta: Metadata,
) -> Reply {
    let chosen = representation::choose(request, fs, config, &path, meta);
    let etag = validators::etag(
        chosen.meta.size,
        chosen.meta.modified,
        chosen.coding.map(|c| c.token()),
    );
    // Last-Modified is the requested file's: a sidecar is a copy of it, made at any time.
    let modified = meta.modified.map(|t| t.to_system_time());
    let mut reply = validated(config, &etag, meta.modified, chosen.varies);
    match validators::evaluate(&request.method, &request.headers, &etag, modified) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            reply.status = StatusCode::NOT_MODIFIED;
            return reply;
        }
        Precondition::Failed => {
            return Reply::new(StatusCode::PRECONDITION_FAILED)
                .header(CONTENT_LENGTH, HeaderValue::from(0u64));
        }
    }
    reply
        .headers
        .insert(CONTENT_TYPE, header(&chosen.content_type));
    if let Some(coding) = chosen.coding {
        reply
            .headers
            .insert(CONTENT_ENCODING, HeaderValue::from_static(coding.token()));
    }
    if chosen.on_the_fly {
        reply.compress = chosen.coding;
        reply.body = whole(chosen.source, meta.size);
        return reply;
    }
    ranged(reply, request, &etag, modified, chosen)
}

/// The headers every answer about a representation carries, 304 included (§15.4.5).
fn validated(config: &Config, etag: &ETag, modified: Option<Timestamp>, varies: bool) -> Reply {
    let mut reply = Reply::new(StatusCode::OK)
        .header(CACHE_CONTROL, config.cache_control.clone())
        .header(ETAG, etag.header_value());
    if let Some(date) = modified.and_then(|t| crate::civil::http_date(t.seconds)) {
        reply.headers.insert(LAST_MODIFIED, header(&date));
    }
    if varies {
        reply
            .headers
            .insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    reply
}

/// The representation whole, one range of it, several as `multipart/byteranges`, or 416.
fn ranged(
    mut reply: Reply,
    request: &Request,
    etag: &ETag,
    modified: Option<SystemTime>,
    chosen: Representation,
) -> Reply {
    let size = chosen.meta.size;
    reply
        .headers
        .insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let decision = match request.headers.get(RANGE).and_then(|v| v.to_str().ok()) {
        Some(value) if validators::if_range_allows(&request.headers, etag, modified) => {
            range::parse(value, size)
        }
        _ => RangeDecision::Full,
    };
    let (length, body) = match decision {
        RangeDecision::Full => (size, whole(chosen.source, size)),
        RangeDecision::Single(r) => {
            reply.status = StatusCode::PARTIAL_CONTENT;
            let content_range = header(&r.content_range(size));
            reply.headers.insert(CONTENT_RANGE, content_range);
            let (start, len) = (r.start(), r.len());
            let path = chosen.source;
            (
                len,
                Body::File {
                    path,
                    start,
                    len,
                    size,
                },
            )
        }
        RangeDecision::Multi(ranges) => {
            reply.status = StatusCode::PARTIAL_CONTENT;
            // The boundary only has to be absent from the framing lines; the ETag is stable.
            let seed = size
                ^ chosen
                    .meta
                    .modified
                    .map_or(0, |t| t.seconds.rotate_left(17) ^ u64::from(t.nanoseconds));
            let parts = Multipart::new(seed, &chosen.content_type, &ranges, size);
            reply
                .headers
                .insert(CONTENT_TYPE, header(&parts.content_type()));
            let path = chosen.source;
            (parts.len(), Body::Multipart { path, parts })
        }
        RangeDecision::Unsatisfiable => {
            return Reply::error(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(
                    CONTENT_RANGE,
                    header(&range::unsatisfied_content_range(size)),
                )
                .header(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        }
    };
    reply
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(length));
    reply.body = body;
    reply
}

/// A file served as it is, without validators or ranges: error pages and the SPA shell.
pub(crate) fn plain(config: &Config, path: SafePath, meta: Metadata, status: StatusCode) -> Reply {
    let content_type = mime::content_type(path.file_name().unwrap_or_default());
    let mut reply = Reply::new(status)
        .header(CACHE_CONTROL, config.cache_control.clone())
        .header(CONTENT_TYPE, header(&content_type))
        .header(CONTENT_LENGTH, HeaderValue::from(meta.size));
    reply.body = whole(path, meta.size);
    reply
}

/// The whole of a file of `size` bytes.
fn whole(path: SafePath, size: u64) -> Body {
    Body::File {
        path,
        start: 0,
        len: size,
        size,
    }
}

fn header(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("generated header values are visible ASCII")
}

#[cfg(test)]
mod tests;
