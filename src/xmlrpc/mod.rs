//! An XML-RPC API for the served tree, like Python's SimpleXMLRPCServer, with the
//! self-documenting page of DocXMLRPCServer. Opt-in (`--xmlrpc`): `POST /RPC2` takes a
//! `methodCall`, `GET /RPC2` shows the documentation.
//!
//! Paths go through the same `SafePath` normaliser and sandbox as HTTP, and dot-files stay
//! hidden unless `--hidden`. Every failure is a fault with a stable code ([`FAULTS`]);
//! bad input never becomes a 500.

mod methods;
pub mod value;

use crate::config::Config;
use crate::fs::{Fs, FsError};
use crate::listing::escape;
use value::Value;

/// Request bodies above this are refused with 413, unread.
pub const MAX_BODY: u64 = 1 << 20;

/// Most bytes `files.read` returns in one call.
pub const MAX_READ: u64 = 16 << 20;

/// Fault codes, stable across releases.
pub const NOT_FOUND: i64 = 1;
pub const IS_A_DIRECTORY: i64 = 2;
pub const PERMISSION_DENIED: i64 = 3;
pub const BAD_ARGUMENTS: i64 = 4;
pub const TOO_LARGE: i64 = 5;
pub const PARSE_ERROR: i64 = 6;
pub const UNKNOWN_METHOD: i64 = 7;

/// The fault table, as documented on the page and in the README.
pub const FAULTS: [(i64, &str); 7] = [
    (
        NOT_FOUND,
        "not found (missing, hidden, or outside the served directory)",
    ),
    (IS_A_DIRECTORY, "is a directory"),
    (PERMISSION_DENIED, "permission denied"),
    (BAD_ARGUMENTS, "bad arguments (wrong number or types)"),
    (
        TOO_LARGE,
        "too large (files.read returns at most 16 MiB per call)",
    ),
    (PARSE_ERROR, "malformed request (not a methodCall document)"),
    (UNKNOWN_METHOD, "unknown method"),
];

/// A failed call: the `faultCode` and `faultString` of the response.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub code: i64,
    pub message: String,
}

impl Fault {
    pub fn new(code: i64, message: impl Into<String>) -> Fault {
        Fault {
            code,
            message: message.into(),
        }
    }

    fn value(&self) -> Value {
        Value::Struct(vec![
            ("faultCode".into(), Value::Int(self.code)),
            ("faultString".into(), Value::Str(self.message.clone())),
        ])
    }
}

impl From<FsError> for Fault {
    fn from(error: FsError) -> Fault {
        match error {
            FsError::NotFound => Fault::new(NOT_FOUND, "not found"),
            FsError::Forbidden => Fault::new(PERMISSION_DENIED, "permission denied"),
            FsError::Io => Fault::new(NOT_FOUND, "cannot be read"),
        }
    }
}

/// Answers one request body with a complete `methodResponse` document.
pub fn handle_call(body: &[u8], fs: &dyn Fs, config: &Config) -> String {
    let result = match value::parse_call(body) {
        Ok(call) => methods::dispatch(&call.method, &call.params, fs, config),
        Err(error) => Err(Fault::new(PARSE_ERROR, error.0)),
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
            value::encode(&mut out, &fault.value());
            out.push_str("</fault>");
        }
    }
    out.push_str("</methodResponse>\n");
    out
}

/// The documentation page: every method with its signature and help, and the faults.
pub fn doc_page() -> String {
    let mut html = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>sandserve XML-RPC API</title>\n<style>:root{color-scheme:light dark}\
         body{font:15px/1.5 system-ui,sans-serif;margin:1rem auto;max-width:60rem;padding:0 1rem}\
         code{font-size:95%}dt{margin-top:1rem;font-weight:bold}</style>\n</head>\n<body>\n\
         <h1>sandserve XML-RPC API</h1>\n<p>POST a <code>methodCall</code> to <code>/RPC2</code> \
         (<code>Content-Type: text/xml</code>, at most 1 MiB). Paths are relative to the served \
         directory, read-only.</p>\n<h2>Methods</h2>\n<dl>\n",
    );
    for method in methods::METHODS {
        html.push_str("<dt><code>");
        html.push_str(&escape(method.usage));
        html.push_str("</code></dt>\n<dd>");
        html.push_str(&escape(method.help));
        html.push_str("</dd>\n");
    }
    html.push_str("</dl>\n<h2>Faults</h2>\n<dl>\n");
    for (code, meaning) in FAULTS {
        html.push_str(&format!("<dt>{code}</dt><dd>{}</dd>\n", escape(meaning)));
    }
    html.push_str("</dl>\n</body>\n</html>\n");
    html
}
