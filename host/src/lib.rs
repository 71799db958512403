//! sandserve-host: serves a directory over HTTP or HTTPS through the sandboxed sandserve component.
//!
//! The binary is a thin CLI over [`Server`]; the same server can be embedded in other programs.

// No production function over 80 lines (clippy.toml sets the threshold).
#![cfg_attr(not(test), warn(clippy::too_many_lines))]
#![deny(missing_docs)]

mod access_log;
mod compile_cache;
mod connection;
mod failure;
mod guest;
mod guest_body;
mod heap;
mod idle_set;
mod idle_timeout;
mod instance;
pub mod limits;
mod progress;
mod protocols;
mod readdir;
mod runtime;
mod server;
pub mod settings;
mod shared;
mod state;
pub mod tls;

pub use limits::Limits;
pub use server::{Handler, ResponseBody, Server, ServerBuilder};
pub use tls::Tls;

/// The sandserve component this crate was built with.
pub const COMPONENT: &[u8] = include_bytes!(env!("SANDSERVE_COMPONENT_WASM"));
