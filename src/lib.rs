//! sandserve: a read-only directory server that runs as a `wasi:http` component.
//!
//! The HTTP logic lives in plain modules that unit-test natively; only `wasi/` touches WASI,
//! and only when built for `wasm32-wasip2`.

pub mod compress;
pub mod config;
pub mod encoding;
pub mod file;
pub mod fs;
pub mod listing;
pub mod mime;
pub mod path;
pub mod query;
pub mod range;
pub mod reply;
pub mod router;
pub mod tar;
pub mod validators;
pub mod xmlrpc;

#[cfg(any(test, feature = "memfs"))]
pub mod memfs;

#[cfg(target_os = "wasi")]
mod wasi;
