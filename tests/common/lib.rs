//! The harness every black-box test shares, as a library so that each test binary uses
//! what it needs without dead-code warnings for the rest:
//! - `fixture`: a temporary tree with a canary beside the served root, and its digest;
//! - `hosts`: the one launcher for the hosts that run the component (the `sandserve`
//!   binary, `wasmtime serve`, `jco serve`), started on an ephemeral loopback port, and for
//!   native starts that must fail;
//! - `server`: a started host, with its output captured (`capture`) until the test stops it;
//! - `client`: real HTTP against a started host, through `ureq`, raw bytes, or a keep-alive
//!   `Connection`;
//! - `tls`: certificates made at test time and an HTTPS client (HTTP/1.1 and HTTP/2);
//! - `skip`: what a test needs from the machine, and `skip_unless!` to say so visibly.

mod capture;
mod client;
mod fixture;
mod hosts;
mod server;
pub mod skip;
pub mod tls;

use std::path::{Path, PathBuf};

pub use client::{get_once, raw_status, Connection, Response};
pub use fixture::{noise, sha256_hex, tree_contents, Fixture, CANARY};
pub use hosts::{component_wasm, faulty_wasm, Host};
pub use server::{Exit, Output, Server};

/// `rel` under the workspace root (this crate sits at `tests/common/`).
pub(crate) fn workspace_path(rel: &str) -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors().nth(2).unwrap_or(here).join(rel)
}

/// The native host as built for the calling test crate: only `sandserve-host`'s own tests
/// have `CARGO_BIN_EXE_sandserve`, so the macro expands there, not here.
#[macro_export]
macro_rules! native_host {
    () => {
        $crate::Host::native(env!("CARGO_BIN_EXE_sandserve"))
    };
}
