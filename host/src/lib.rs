//! sandserve-host: serves a directory over HTTP or HTTPS through the sandboxed sandserve component.
//!
//! The binary is a thin CLI over [`Server`]; the same server can be embedded in other programs.

// No production function over 80 lines (clippy.toml sets the threshold).
#![cfg_attr(not(test), warn(clippy::too_many_lines))]
#![deny(missing_docs)]

mod guest;
pub mod limits;
mod net;
pub mod settings;

pub use limits::Limits;
pub use net::server::{Handler, ResponseBody, Server, ServerBuilder};
pub use net::tls::{self, Tls};

/// The sandserve component this crate was built with.
pub const COMPONENT: &[u8] = include_bytes!(env!("SANDSERVE_COMPONENT_WASM"));
