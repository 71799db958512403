//! The request as the router sees it: the method, the target parsed once into a path and a
//! query, the header fields, and the body when the route asked for one.
//!
//! The target is origin-form (RFC 9110 §7.1): a path, then an optional `?query`. A fragment
//! never travels in a request, but a `#` that does is cut off with whatever follows, so it can
//! neither name a file nor reach the query.

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::rc::Rc;

use http::{Method, StatusCode};

use crate::encoding::{self, AcceptEncoding};
use crate::header::HeaderMap;
use crate::path::{PathError, SafePath};

/// The declared body length (`Content-Length`, RFC 9110 §8.6): `Ok(None)` when there is
/// none, `Err(())` when the field is not a plain decimal length.
pub(crate) fn content_length(headers: &HeaderMap) -> Result<Option<u64>, ()> {
    let Some(value) = headers.get(http::header::CONTENT_LENGTH) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| ())?.trim();
    text.parse::<u64>().map(Some).map_err(|_| ())
}

/// The parts of a request the file server reads.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: Method,
    /// The target's path inside the root, or why it cannot name anything there.
    pub(crate) path: Result<SafePath, PathError>,
    /// The query after `?`, still encoded; `None` when the target has no `?`.
    pub(crate) query: Option<String>,
    pub(crate) headers: HeaderMap,
    /// `Accept-Encoding`, parsed once here for every part of the route that negotiates a
    /// coding (sidecar files, compression on the fly).
    pub(crate) accept_encoding: AcceptEncoding,
    /// Read only when the router asked for it (see `router::body_limit`).
    pub(crate) body: RequestBody,
}

/// A request body, as far as the glue read it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum RequestBody {
    #[default]
    Unread,
    Read(Vec<u8>),
    /// Over the route's limit: refused without being read whole.
    TooLarge,
    /// Left for the route to read as it arrives (uploads: see `router::streams_body`).
    Stream(BodyStream),
}

/// A body the route reads as it arrives, chunk by chunk. Shared, so a `Request` stays a
/// plain value that can be cloned and compared.
#[derive(Clone)]
pub(crate) struct BodyStream(Rc<RefCell<dyn Source>>);

impl BodyStream {
    pub(crate) fn new(source: impl Source + 'static) -> BodyStream {
        BodyStream(Rc::new(RefCell::new(source)))
    }

    /// The body's reader; a route reads it once.
    pub(crate) fn source(&self) -> RefMut<'_, dyn Source> {
        self.0.borrow_mut()
    }
}

impl fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BodyStream")
    }
}

/// Two requests have the same streamed body only if they share its reader.
impl PartialEq for BodyStream {
    fn eq(&self, other: &BodyStream) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for BodyStream {}

impl Request {
    /// A request for `target` (path and query, as received), its body not yet read.
    /// A fragment (never part of a request target, RFC 9112 §3.2) is dropped from a safe
    /// request, as browsers' links would have it; on a request that changes something it
    /// makes the path a `400`, rather than guess which resource `DELETE /dir/#x` meant.
    pub(crate) fn new(method: Method, target: &str, headers: HeaderMap) -> Request {
        let (target, fragment) = target
            .split_once('#')
            .map_or((target, false), |(t, _)| (t, true));
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (target, None),
        };
        let path = if fragment && !method.is_safe() {
            Err(PathError::BadRequest)
        } else {
            SafePath::parse(path)
        };
        Request {
            method,
            path,
            query,
            accept_encoding: encoding::from_headers(&headers),
            headers,
            body: RequestBody::Unread,
        }
    }

    /// The query, or the empty string when there is none.
    pub(crate) fn query_str(&self) -> &str {
        self.query.as_deref().unwrap_or_default()
    }
}

/// Why a request body could not be read to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// The client went away or sent a broken body.
    Broken,
    /// Nothing arrived for longer than the glue waits (`upload::IDLE_TIMEOUT`).
    Stalled,
}

impl BodyError {
    pub(crate) fn status(self) -> StatusCode {
        match self {
            BodyError::Broken => StatusCode::BAD_REQUEST,
            BodyError::Stalled => StatusCode::REQUEST_TIMEOUT,
        }
    }
}

/// A request body, read as it arrives.
pub(crate) trait Source {
    /// The next bytes of the body (at most `upload::CHUNK`, never empty), or `None` at its end.
    fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, BodyError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_is_a_plain_decimal() {
        let of = |value: &str| {
            let mut headers = HeaderMap::default();
            headers.insert("content-length", value.parse().unwrap());
            content_length(&headers)
        };
        assert_eq!(content_length(&HeaderMap::default()), Ok(None));
        assert_eq!(of("12"), Ok(Some(12)));
        assert_eq!(of(" 7 "), Ok(Some(7)));
        for bad in ["", "-1", "1e3", "0x10", "1, 1", "18446744073709551616"] {
            assert_eq!(of(bad), Err(()), "{bad:?}");
        }
    }

    #[test]
    fn target_splits_once() {
        let cases: &[(&str, Result<&str, PathError>, Option<&str>)] = &[
            ("/a/b", Ok("/a/b"), None),
            ("/a/?sort=size", Ok("/a/"), Some("sort=size")),
            ("/a?x=1?y=2", Ok("/a"), Some("x=1?y=2")),
            ("/a#frag?x=1", Ok("/a"), None),
            (
                "/a?x=/../../etc/passwd",
                Ok("/a"),
                Some("x=/../../etc/passwd"),
            ),
            ("/a?x=1#frag", Ok("/a"), Some("x=1")),
            ("/?", Ok("/"), Some("")),
            ("", Err(PathError::BadRequest), None),
            ("*", Err(PathError::BadRequest), None),
            ("/%2e%2e/x", Err(PathError::NotFound), None),
        ];
        for (target, path, query) in cases {
            let request = Request::new(Method::GET, target, HeaderMap::default());
            assert_eq!(
                request
                    .path
                    .as_ref()
                    .map(ToString::to_string)
                    .map_err(|e| *e),
                path.map(str::to_owned),
                "{target:?}"
            );
            assert_eq!(request.query.as_deref(), *query, "{target:?}");
        }
    }
}
