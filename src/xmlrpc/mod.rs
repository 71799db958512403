//! An XML-RPC API for the served tree, like Python's `SimpleXMLRPCServer`, with the
//! self-documenting page of `DocXMLRPCServer`. Opt-in (`--xmlrpc`): `POST /RPC2` takes a
//! `methodCall` ([`handle_call`]), `GET /RPC2` shows [`doc_page`].
//!
//! Methods (`methods.rs`): `files.list`, `files.stat`, `files.read`, and the introspection
//! methods of the XML-RPC introspection spec plus `system.multicall` (Eric Kidd's RFC).
//! Values and documents: `value.rs`; dateTime: `datetime.rs`; the page: `doc.rs`.
//!
//! Every failure is a fault with a stable code, never a panic or an HTTP error: [`FAULTS`]
//! lists them and [`FaultCode::meaning`] says what each means, for the page (the README
//! quotes it). "Not found" is one answer for every reason a name cannot be served, as the
//! HTTP side's 404 is, so faults never tell a client whether a hidden or outside file exists.
//!
//! Limits, per request (a `system.multicall` shares them): [`MAX_READ`] bytes of file
//! contents and [`MAX_ENTRIES`] listed entries. The component runs in a small linear memory
//! (64 MiB by default), and a body of [`MAX_BODY`] could otherwise ask for thousands of
//! full-size reads; a call over the budget is a "too large" fault, the others still answer.
//! Every text that quotes a limit (fault strings, method help, the page) renders it from
//! these constants.

mod datetime;
mod doc;
#[cfg(test)]
mod fixture;
mod methods;
pub(crate) mod value;

use crate::config::Config;
use crate::fs::{Fs, FsError};
use value::Value;

pub(crate) use doc::doc_page;

/// Request bodies above this are refused: with 413 by the glue, unread; as a fault here.
pub(crate) const MAX_BODY: u64 = 1 << 20;

/// Most bytes of file contents one request returns (`files.read`, summed over a multicall).
pub(crate) const MAX_READ: u64 = 16 << 20;

/// Most directory entries one request lists (`files.list`, summed over a multicall). A
/// listing entry costs about 600 bytes on its way out, so this keeps a response under
/// 20 MiB; a directory with more entries is "too large".
pub(crate) const MAX_ENTRIES: usize = 1 << 15;

/// The stable fault codes (see the module note).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultCode {
    NotFound = 1,
    IsADirectory = 2,
    PermissionDenied = 3,
    BadArguments = 4,
    TooLarge = 5,
    MalformedRequest = 6,
    UnknownMethod = 7,
    NotADirectory = 8,
    IoError = 9,
}

/// Every fault code, in order: the table the documentation page renders.
pub(crate) const FAULTS: [FaultCode; 9] = [
    FaultCode::NotFound,
    FaultCode::IsADirectory,
    FaultCode::PermissionDenied,
    FaultCode::BadArguments,
    FaultCode::TooLarge,
    FaultCode::MalformedRequest,
    FaultCode::UnknownMethod,
    FaultCode::NotADirectory,
    FaultCode::IoError,
];

/// A byte limit as people read it: `16 MiB`, or a plain count when not whole mebibytes.
pub(crate) fn size(bytes: u64) -> String {
    if bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

impl FaultCode {
    /// The `faultCode` a client sees.
    pub(crate) const fn code(self) -> i32 {
        self as i32
    }

    /// What the code means, for the documentation (limits rendered from their constants).
    pub(crate) fn meaning(self) -> String {
        match self {
            FaultCode::NotFound => {
                "not found: missing, a dot-file, a special file, or outside the served directory"
            }
            FaultCode::IsADirectory => "is a directory",
            FaultCode::PermissionDenied => "permission denied",
            FaultCode::BadArguments => "bad arguments: wrong number or types",
            FaultCode::TooLarge => {
                return format!(
                    "too large: over {} of file contents or {MAX_ENTRIES} listed entries in one \
                     request",
                    size(MAX_READ),
                )
            }
            FaultCode::MalformedRequest => {
                "malformed request: not a methodCall document (a DOCTYPE is refused)"
            }
            FaultCode::UnknownMethod => "unknown method",
            FaultCode::NotADirectory => "not a directory",
            FaultCode::IoError => "I/O error reading the served directory",
        }
        .to_owned()
    }
}

/// A failed call: the `faultCode` and `faultString` of the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    pub(crate) code: FaultCode,
    pub(crate) message: String,
}

impl Fault {
    pub(crate) fn new(code: FaultCode, message: impl Into<String>) -> Fault {
        Fault {
            code,
            message: message.into(),
        }
    }

    /// The one answer for every name that cannot be served.
    pub(crate) fn not_found() -> Fault {
        Fault::new(FaultCode::NotFound, "not found")
    }

    /// The `{faultCode, faultString}` struct, as a response and a multicall item carry it.
    pub(crate) fn to_value(&self) -> Value {
        Value::Struct(vec![
            ("faultCode".into(), Value::Int(self.code.code().into())),
            ("faultString".into(), Value::Str(self.message.clone())),
        ])
    }
}

impl From<FsError> for Fault {
    fn from(error: FsError) -> Fault {
        match error {
            FsError::NotFound => Fault::not_found(),
            FsError::Forbidden => Fault::new(FaultCode::PermissionDenied, "permission denied"),
            FsError::Io => Fault::new(FaultCode::IoError, "I/O error"),
        }
    }
}

/// Answers one request body (at most [`MAX_BODY`] bytes: the router asks the glue for no
/// more, and a larger one is a 413) with a complete `methodResponse` document.
pub(crate) fn handle_call(body: &[u8], fs: &dyn Fs, config: &Config) -> String {
    let result = match value::parse_call(body) {
        Ok(call) => methods::dispatch(
            &methods::Context::new(fs, config),
            &call.method,
            &call.params,
        ),
        Err(error) => Err(Fault::new(
            FaultCode::MalformedRequest,
            format!("bad request: {error}"),
        )),
    };
    response(&result)
}

fn response(result: &Result<Value, Fault>) -> String {
    let mut out = String::from("<?xml version=\"1.0\"?>\n<methodResponse>");
    match result {
        Ok(value) => {
            out.push_str("<params><param>");
            value::encode(&mut out, value);
            out.push_str("</param></params>");
        }
        Err(fault) => {
            out.push_str("<fault>");
            value::encode(&mut out, &fault.to_value());
            out.push_str("</fault>");
        }
    }
    out.push_str("</methodResponse>\n");
    out
}

#[cfg(test)]
mod tests;
