//! Request target -> `SafePath`: the only way a URL becomes a name inside the served root.
//!
//! Rules (RFC 3986 §3.3, §5.2.4, applied per segment so an encoded `/` can never split one):
//! each segment is percent-decoded on its own and must be
//! UTF-8 without NUL, `/` or `\`; `.` and empty segments vanish; `..` removes the previous
//! segment, and a `..` with nothing left to remove is refused rather than clamped, because a
//! client that tries to climb out of the root is not asking for the root.

use std::fmt;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

/// Why a request target cannot name anything inside the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathError {
    /// Not an origin-form path, or broken percent-encoding: the request itself is malformed.
    BadRequest,
    /// Well-formed, but it cannot name a file in the root (NUL, `\`, encoded `/`, climbing).
    NotFound,
}

impl PathError {
    /// The status for a request whose path failed this way.
    pub(crate) fn status(&self) -> http::StatusCode {
        match self {
            PathError::BadRequest => http::StatusCode::BAD_REQUEST,
            PathError::NotFound => http::StatusCode::NOT_FOUND,
        }
    }
}

/// A normalised path inside the served root. Only [`SafePath::parse`] builds one, so holding a
/// `SafePath` is proof that no segment is empty, `.`, `..`, or contains a separator or NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SafePath {
    segments: Vec<String>,
    trailing_slash: bool,
}

/// Characters escaped in a path segment of a URL we generate (links, `Location`): everything
/// outside RFC 3986 `pchar`, plus the ones that would end or split a segment.
pub(crate) const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'\'')
    .add(b'&');

impl SafePath {
    /// Parses the path of a request target (`/a/b`, the query already split off by
    /// `Request::new`) into a path inside the root.
    pub(crate) fn parse(path: &str) -> Result<SafePath, PathError> {
        let rest = path.strip_prefix('/').ok_or(PathError::BadRequest)?;

        let mut segments: Vec<String> = Vec::new();
        let mut trailing_slash = true;
        for raw in rest.split('/') {
            let segment = decode_segment(raw)?;
            match segment.as_str() {
                "" | "." => trailing_slash = true,
                ".." => {
                    segments.pop().ok_or(PathError::NotFound)?;
                    trailing_slash = true;
                }
                _ => {
                    segments.push(segment);
                    trailing_slash = false;
                }
            }
        }
        Ok(SafePath {
            segments,
            trailing_slash,
        })
    }

    /// The root itself.
    pub(crate) fn root() -> SafePath {
        SafePath {
            segments: Vec::new(),
            trailing_slash: true,
        }
    }

    /// A path from configuration (`--spa app/index.html`), relative to the root. Unlike a
    /// URL it is not percent-decoded; it obeys the same segment rules.
    pub(crate) fn from_config(path: &str) -> Option<SafePath> {
        let mut out = SafePath::root();
        for segment in path.split('/').filter(|s| !s.is_empty() && *s != ".") {
            out = out.join(segment)?;
        }
        (!out.is_root()).then_some(out)
    }

    /// This path with one more (already validated) segment, e.g. an index file name.
    pub(crate) fn join(&self, name: &str) -> Option<SafePath> {
        let mut text = String::from("/");
        text.extend(utf8_percent_encode(name, SEGMENT));
        let mut joined = SafePath::parse(&text)
            .ok()
            .filter(|p| p.segments.len() == 1)?;
        let mut segments = self.segments.clone();
        segments.append(&mut joined.segments);
        Some(SafePath {
            segments,
            trailing_slash: false,
        })
    }

    /// The directory that holds this path (with its trailing slash); `None` for the root.
    pub(crate) fn parent(&self) -> Option<SafePath> {
        let (_, parents) = self.segments.split_last()?;
        Some(SafePath {
            segments: parents.to_vec(),
            trailing_slash: true,
        })
    }

    /// The sibling named like this file plus `suffix` (`a/b.css` -> `a/b.css.gz`).
    pub(crate) fn with_suffix(&self, suffix: &str) -> Option<SafePath> {
        let (last, parents) = self.segments.split_last()?;
        let mut segments = parents.to_vec();
        // Joined, not `format!`: this runs on every GET that accepts a coding, and formatting
        // calls through a vtable (see `header/value.rs`).
        segments.push([last.as_str(), suffix].concat());
        Some(SafePath {
            segments,
            trailing_slash: false,
        })
    }

    pub(crate) fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// Whether the request named a directory (ended in `/`, `/.` or `/..`).
    pub(crate) fn has_trailing_slash(&self) -> bool {
        self.trailing_slash
    }

    pub(crate) fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The last segment, or `None` for the root.
    pub(crate) fn file_name(&self) -> Option<&str> {
        self.segments.last().map(String::as_str)
    }

    /// The path relative to the preopened root, as WASI `open-at` wants it (`.` for the root).
    pub(crate) fn relative(&self) -> String {
        if self.segments.is_empty() {
            ".".to_owned()
        } else {
            self.segments.join("/")
        }
    }

    /// The path as a percent-encoded URL path, with a trailing `/` when `dir` is set.
    pub(crate) fn to_url(&self, dir: bool) -> String {
        let mut url =
            String::with_capacity(self.segments.iter().map(|s| s.len() + 1).sum::<usize>() + 1);
        for segment in &self.segments {
            url.push('/');
            url.extend(utf8_percent_encode(segment, SEGMENT));
        }
        if dir || self.segments.is_empty() {
            url.push('/');
        }
        url
    }
}

impl fmt::Display for SafePath {
    /// The decoded path as a person reads it (`/docs/naïve notes/`), for titles and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for segment in &self.segments {
            write!(f, "/{segment}")?;
        }
        if self.trailing_slash || self.segments.is_empty() {
            f.write_str("/")?;
        }
        Ok(())
    }
}

fn decode_segment(raw: &str) -> Result<String, PathError> {
    if !well_formed_escapes(raw) {
        return Err(PathError::BadRequest);
    }
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| PathError::NotFound)?;
    if decoded.contains(['\0', '/', '\\']) {
        return Err(PathError::NotFound);
    }
    Ok(decoded.into_owned())
}

/// Every `%` must start a two-hex-digit escape; `percent_decode` would pass bad ones through.
fn well_formed_escapes(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let ok = bytes.len() > i + 2
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit();
            if !ok {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod properties;
