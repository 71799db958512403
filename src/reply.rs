//! The router's answer as a plain value: status, headers and what the body is made of. The
//! WASI glue turns it into a response, moving the bytes it names and deciding nothing; tests
//! read it directly.

use http::header::{HeaderName, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::StatusCode;

use crate::encoding::Coding;
use crate::header::{HeaderMap, HeaderValue};
use crate::path::SafePath;
use crate::range::Multipart;
use crate::tree;

/// Where the body's bytes come from. A file is named, not read: the glue splices it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    Empty,
    /// A generated page or document (error pages, listings).
    Text(String),
    /// `len` bytes of the file from `start`; `size` is the file's size when it was looked at.
    File {
        path: SafePath,
        start: u64,
        len: u64,
        size: u64,
    },
    /// `multipart/byteranges` of ranges of the file (see `range::Multipart`).
    Multipart {
        path: SafePath,
        parts: Multipart,
    },
    /// A directory's subtree as a tar archive, streamed (see `tar.rs`).
    Tar(tree::Plan),
    /// The same as a zip archive (see `zip.rs`).
    Zip(tree::Plan),
    /// A collection's WebDAV `Depth: 1` multistatus, streamed (see `webdav/`).
    Multistatus(crate::webdav::multistatus::Collection),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
    /// Compress the body on the fly with this coding (set only for codings the glue makes).
    pub(crate) compress: Option<Coding>,
}

impl Reply {
    pub(crate) fn new(status: StatusCode) -> Reply {
        Reply {
            status,
            headers: HeaderMap::default(),
            body: Body::Empty,
            compress: None,
        }
    }

    pub(crate) fn header(mut self, name: HeaderName, value: HeaderValue) -> Reply {
        self.headers.insert(name, value);
        self
    }

    /// An HTML body, with its type and length set.
    pub(crate) fn html(self, html: String) -> Reply {
        self.text("text/html; charset=utf-8", html)
    }

    /// A generated body of `content_type`, with its length set.
    pub(crate) fn text(mut self, content_type: &'static str, text: String) -> Reply {
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        self.headers
            .insert(CONTENT_LENGTH, HeaderValue::from(text.len()));
        self.body = Body::Text(text);
        self
    }

    /// The length of a generated body (0 for any other).
    pub(crate) fn text_len(&self) -> u64 {
        match &self.body {
            Body::Text(text) => text.len() as u64,
            _ => 0,
        }
    }

    /// The same body, compressed on the fly with `coding`: its length is unknown until the
    /// encoder is done, so it goes chunked.
    pub(crate) fn compressed(mut self, coding: Coding) -> Reply {
        self.headers.remove(CONTENT_LENGTH);
        self.headers
            .insert(CONTENT_ENCODING, HeaderValue::from_static(coding.token()));
        self.compress = Some(coding);
        self
    }

    /// A small error page (see [`error_page`]).
    pub(crate) fn error(status: StatusCode) -> Reply {
        Reply::new(status).html(error_page(status))
    }

    /// An error page that says why, in a sentence of plain text.
    pub(crate) fn explained(status: StatusCode, why: &str) -> Reply {
        let mut page = error_page(status);
        let mut paragraph = String::from("<p>");
        crate::html::push_escaped(&mut paragraph, why);
        paragraph.push_str("</p>\n</body>");
        page = page.replacen("</body>", &paragraph, 1);
        Reply::new(status).html(page)
    }

    /// Drops the body but keeps every header, as HEAD requires (RFC 9110 §9.3.2).
    pub(crate) fn without_body(mut self) -> Reply {
        self.body = Body::Empty;
        self
    }
}

/// The HTML of a small error page. It names the status only: never a host path or an OS
/// message. Hosts use it for the errors they answer themselves, so both look alike.
///
/// Joined, not `format!`: formatting calls through a vtable, and under a host that makes an
/// instance per request the first indirect call of an instance costs a fault (see
/// `header/value.rs`); a 404 is as common as any answer.
pub fn error_page(status: StatusCode) -> String {
    let title = [
        status.as_str(),
        " ",
        status.canonical_reason().unwrap_or("Error"),
    ]
    .concat();
    [
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>",
        &title,
        "</title></head>\n<body><h1>",
        &title,
        "</h1></body>\n</html>\n",
    ]
    .concat()
}
