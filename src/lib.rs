//! sandserve: a read-only directory server that runs as a `wasi:http` component.
//!
//! The HTTP logic lives in plain modules that unit-test natively; only `wasi/` touches WASI,
//! and only when built for `wasm32-wasip2`.

// Natively the library has no entry point (the handler export exists only for WASI), so
// natively everything looks unused: dead code is found by the wasm32-wasip2 build instead,
// which `make lint` runs with `-D warnings`.
#![cfg_attr(not(target_os = "wasi"), allow(dead_code))]
// No production function over 80 lines (clippy.toml sets the threshold); tests may be long.
#![cfg_attr(not(test), warn(clippy::too_many_lines))]

mod auth;
mod civil;
mod compress;
mod config;
mod encoding;
mod file;
mod fs;
mod header;
mod html;
mod listing;
mod mime;
mod order;
mod page;
mod path;
mod query;
mod range;
mod reply;
mod request;
mod router;
mod search;
mod sink;
mod size;
mod tar;
mod tree;
mod upload;
mod validators;
mod visibility;
mod webdav;
mod xmlrpc;
mod zip;

#[cfg(any(test, feature = "memfs"))]
mod memfs;

#[cfg(any(test, feature = "memfs"))]
pub mod fuzz;

#[cfg(target_os = "wasi")]
mod wasi;

pub use auth::basic_user;
pub use config::{Config, ConfigError, Setting, BASE_PATH_VAR, SETTINGS};
pub use reply::error_page;
pub use size::parse_size;
