//! A streaming `multipart/form-data` parser (RFC 7578, with RFC 2046 §5.1.1 framing): bytes
//! go in as they arrive, in chunks of any size, and come out as events: a part's head, its
//! body bytes, its end. No part is ever held whole: the parser keeps only what may still
//! be the start of a delimiter, or a part head being read, so its memory is bounded by
//! [`MAX_HEAD`] plus the chunk it was fed.
//!
//! Rules:
//! - The boundary comes from the `Content-Type` parameter: 1 to 70 characters of RFC 2046
//!   `bchars`, not ending in a space, optionally quoted.
//! - A delimiter is CRLF `--` boundary at the start of a line; the first may open the body
//!   with no CRLF before it (the parser starts as if one had been seen). What comes before
//!   it is preamble and is skipped, as is everything after the close delimiter (`--`
//!   boundary `--`).
//! - After a delimiter, transport padding (spaces and tabs) then CRLF; anything else there
//!   is malformed, since the boundary must not occur inside a part.
//! - A part head is header lines up to an empty line, at most [`MAX_HEAD`] bytes, in UTF-8.
//!   Only `Content-Disposition: form-data; name=...; filename=...` is read (RFC 7578 §4.2);
//!   values are tokens or quoted strings with backslash escapes. `filename*` is ignored, as
//!   §4.2 says senders must not use it.
//! - At most [`MAX_PARTS`] parts, so a body of empty parts cannot make endless work.
//! - A body that ends before the close delimiter is truncated: an error, never a short part
//!   taken as whole.

/// The longest part head accepted.
pub(crate) const MAX_HEAD: usize = 8 * 1024;

/// The most parts one body may hold.
pub(crate) const MAX_PARTS: usize = 1000;

/// Transport padding tolerated after a delimiter.
const MAX_PADDING: usize = 64;

/// Why a body cannot be read as `multipart/form-data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MultipartError {
    /// `Content-Type` is not `multipart/form-data`.
    NotMultipart,
    /// No boundary, or one RFC 2046 does not allow.
    Boundary,
    /// Framing or a part head that does not parse.
    Malformed,
    /// A part head longer than [`MAX_HEAD`].
    HeadTooLarge,
    /// More than [`MAX_PARTS`] parts.
    TooManyParts,
    /// The body ended before the close delimiter.
    Truncated,
}

/// The status for a body that fails this way.
impl From<MultipartError> for http::StatusCode {
    fn from(error: MultipartError) -> http::StatusCode {
        match error {
            MultipartError::NotMultipart => http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            MultipartError::TooManyParts => http::StatusCode::PAYLOAD_TOO_LARGE,
            MultipartError::Boundary
            | MultipartError::Malformed
            | MultipartError::HeadTooLarge
            | MultipartError::Truncated => http::StatusCode::BAD_REQUEST,
        }
    }
}

/// What a part says about itself in its `Content-Disposition`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct PartHead {
    /// The form field's name.
    pub(crate) name: Option<String>,
    /// The file name, present for file inputs (empty when no file was chosen).
    pub(crate) filename: Option<String>,
}

/// What the parser found, in body order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Event<'a> {
    /// A part begins.
    Part(PartHead),
    /// Some of the current part's body.
    Data(&'a [u8]),
    /// The current part is complete.
    PartEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter.
    Preamble,
    /// Just after a delimiter: the close marker, or padding and CRLF, come next.
    Delimited,
    /// Reading a part head.
    Head,
    /// Reading a part body.
    Body,
    /// After the close delimiter: the rest is epilogue.
    Done,
}

/// The parser of one body.
#[derive(Debug)]
pub(crate) struct Parser {
    /// CRLF `--` boundary.
    delimiter: Vec<u8>,
    /// Bytes fed but not yet consumed: a possible delimiter start, or an unfinished head.
    pending: Vec<u8>,
    state: State,
    parts: usize,
}

impl Parser {
    /// A parser for a body of the given `Content-Type`.
    pub(crate) fn new(content_type: &str) -> Result<Parser, MultipartError> {
        let boundary = boundary(content_type)?;
        let mut delimiter = b"\r\n--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        Ok(Parser {
            delimiter,
            // As if the body began after a line break, so a delimiter on its first line is
            // found like any other.
            pending: b"\r\n".to_vec(),
            state: State::Preamble,
            parts: 0,
        })
    }

    /// Parses `input`, the next bytes of the body, calling `on` for each event; an error
    /// from `on` stops the parse and is returned.
    pub(crate) fn feed<E: From<MultipartError>>(
        &mut self,
        input: &[u8],
        on: &mut dyn FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.state == State::Done {
            return Ok(());
        }
        self.pending.extend_from_slice(input);
        let mut at = 0;
        let result = loop {
            match self.step(at, on) {
                Ok(Some(next)) => at = next,
                Ok(None) => break Ok(()),
                Err(error) => break Err(error),
            }
        };
        // Only what a later chunk may complete stays: see `step`.
        let keep_from = if self.state == State::Done {
            self.pending.len()
        } else {
            at
        };
        self.pending.drain(..keep_from);
        result
    }

    /// Bytes held between feeds: after a successful feed, at most a part head being read
    /// (`MAX_HEAD` and its end) or less than a delimiter. For tests and fuzzing.
    #[cfg(any(test, feature = "memfs"))]
    pub(crate) fn held(&self) -> usize {
        self.pending.len()
    }

    /// Checks that the body, now ended, was complete.
    pub(crate) fn finish(&self) -> Result<(), MultipartError> {
        match self.state {
            State::Done => Ok(()),
            _ => Err(MultipartError::Truncated),
        }
    }

    /// One step from offset `at` of the pending bytes: `Some(new offset)` when it moved on
    /// (and may move again), `None` when it needs more input.
    fn step<E: From<MultipartError>>(
        &mut self,
        at: usize,
        on: &mut dyn FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<Option<usize>, E> {
        let rest = &self.pending[at..];
        let dlen = self.delimiter.len();
        match self.state {
            State::Preamble => Ok(match find(rest, &self.delimiter) {
                Some(i) => {
                    self.state = State::Delimited;
                    Some(at + i + dlen)
                }
                // Keep only what may be the start of a delimiter.
                None => {
                    let skip = rest.len().saturating_sub(dlen - 1);
                    (skip > 0).then_some(at + skip)
                }
            }),
            State::Delimited => Ok(after_delimiter(rest)?.map(|(n, next)| {
                self.state = next;
                at + n
            })),
            State::Head => {
                let Some((head, skip)) = head_end(rest)? else {
                    return Ok(None);
                };
                self.parts += 1;
                if self.parts > MAX_PARTS {
                    return Err(MultipartError::TooManyParts.into());
                }
                on(Event::Part(parse_head(&rest[..head])?))?;
                self.state = State::Body;
                Ok(Some(at + skip))
            }
            State::Body => match find(rest, &self.delimiter) {
                Some(i) => {
                    if i > 0 {
                        on(Event::Data(&rest[..i]))?;
                    }
                    on(Event::PartEnd)?;
                    self.state = State::Delimited;
                    Ok(Some(at + i + dlen))
                }
                None => {
                    // Everything but a possible delimiter start is the part's.
                    let safe = rest.len().saturating_sub(dlen - 1);
                    if safe == 0 {
                        return Ok(None);
                    }
                    on(Event::Data(&rest[..safe]))?;
                    Ok(Some(at + safe))
                }
            },
            State::Done => Ok(None),
        }
    }
}

/// After a delimiter: `--` closes the body; padding and CRLF open a part head. Returns how
/// many bytes that took and the state that follows, or `None` when more are needed.
fn after_delimiter(rest: &[u8]) -> Result<Option<(usize, State)>, MultipartError> {
    if rest.len() < 2 {
        return Ok(None);
    }
    if rest.starts_with(b"--") {
        return Ok(Some((2, State::Done)));
    }
    let padding = rest
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    if padding > MAX_PADDING {
        return Err(MultipartError::Malformed);
    }
    match rest.get(padding..padding + 2) {
        None => Ok(None),
        Some(b"\r\n") => Ok(Some((padding + 2, State::Head))),
        Some(_) => Err(MultipartError::Malformed),
    }
}

/// Where the head that `rest` starts with ends: its length and the bytes up to the body;
/// `None` when the empty line has not arrived yet.
fn head_end(rest: &[u8]) -> Result<Option<(usize, usize)>, MultipartError> {
    let end = if rest.starts_with(b"\r\n") {
        Some((0, 2))
    } else {
        find(rest, b"\r\n\r\n").map(|i| (i, i + 4))
    };
    match end {
        Some((head, _)) if head > MAX_HEAD => Err(MultipartError::HeadTooLarge),
        Some(end) => Ok(Some(end)),
        None if rest.len() > MAX_HEAD + 4 => Err(MultipartError::HeadTooLarge),
        None => Ok(None),
    }
}

/// The first index at which `needle` occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    (0..=haystack.len() - needle.len())
        .filter(|&i| haystack[i] == first)
        .find(|&i| haystack[i..].starts_with(needle))
}

/// The boundary of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Result<String, MultipartError> {
    let mut params = Params::new(content_type);
    let kind = params.kind();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return Err(MultipartError::NotMultipart);
    }
    let mut found = None;
    for param in params {
        let (name, value) = param.map_err(|_| MultipartError::Boundary)?;
        if name.eq_ignore_ascii_case("boundary") && found.is_none() {
            found = Some(value);
        }
    }
    let boundary = found.ok_or(MultipartError::Boundary)?;
    // RFC 2046 §5.1.1: bchars, 1 to 70 of them, not ending in a space.
    let bchar = |c: char| c.is_ascii_alphanumeric() || "'()+_,-./:=? ".contains(c);
    let valid = (1..=70).contains(&boundary.len())
        && boundary.chars().all(bchar)
        && !boundary.ends_with(' ');
    if valid {
        Ok(boundary)
    } else {
        Err(MultipartError::Boundary)
    }
}

/// A part head's fields; only `Content-Disposition` matters (RFC 7578 §4.2).
fn parse_head(head: &[u8]) -> Result<PartHead, MultipartError> {
    let head = std::str::from_utf8(head).map_err(|_| MultipartError::Malformed)?;
    let mut part = PartHead::default();
    for line in head.split("\r\n").filter(|line| !line.is_empty()) {
        let (name, value) = line.split_once(':').ok_or(MultipartError::Malformed)?;
        if !name.trim().eq_ignore_ascii_case("content-disposition") {
            continue;
        }
        let mut params = Params::new(value);
        if !params.kind().eq_ignore_ascii_case("form-data") {
            continue;
        }
        for param in params.by_ref() {
            let (key, value) = param?;
            let slot = match key.to_ascii_lowercase().as_str() {
                "name" => &mut part.name,
                "filename" => &mut part.filename,
                _ => continue,
            };
            slot.get_or_insert(value);
        }
    }
    Ok(part)
}

/// `type; key=value; key="quoted \" value"`: a header value with parameters.
struct Params<'a> {
    rest: &'a str,
}

impl<'a> Params<'a> {
    fn new(value: &'a str) -> Params<'a> {
        Params { rest: value }
    }

    /// The value before the first `;`, trimmed.
    fn kind(&mut self) -> &'a str {
        let (kind, rest) = self.rest.split_once(';').unwrap_or((self.rest, ""));
        self.rest = rest;
        kind.trim()
    }
}

impl Iterator for Params<'_> {
    type Item = Result<(String, String), MultipartError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            return None;
        }
        let Some((name, value)) = rest.split_once('=') else {
            self.rest = "";
            return Some(Err(MultipartError::Malformed));
        };
        let value = value.trim_start_matches([' ', '\t']);
        let parsed = if let Some(quoted) = value.strip_prefix('"') {
            unquote(quoted)
        } else {
            let end = value.find(';').unwrap_or(value.len());
            Ok((value[..end].trim_end().to_owned(), &value[end..]))
        };
        Some(match parsed {
            Ok((value, rest)) => {
                self.rest = rest;
                Ok((name.trim().to_owned(), value))
            }
            Err(error) => {
                self.rest = "";
                Err(error)
            }
        })
    }
}

/// The rest of a quoted string (after its opening quote): its unescaped text and what
/// follows the closing quote.
fn unquote(quoted: &str) -> Result<(String, &str), MultipartError> {
    let mut text = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((text, &quoted[i + 1..])),
            '\\' => text.push(chars.next().ok_or(MultipartError::Malformed)?.1),
            c => text.push(c),
        }
    }
    Err(MultipartError::Malformed)
}

#[cfg(test)]
mod tests;
