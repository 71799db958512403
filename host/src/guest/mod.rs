//! The sandbox: the engine and the compiled component (`runtime`, `compile_cache`), the guest
//! instances that run requests and are kept warm between them (`instance`, `state`,
//! `idle_set`, `heap`), one request's run through an instance and its response body (`call`,
//! `body`, `progress`, `failure`), and the host's own directory listing, `stat-at` and
//! `open-at` for the guest (`readdir`, `stat_at`, `open_at`). The network side runs
//! requests through `runtime`, and takes only the default cache directory from
//! `compile_cache` and the byte counts from `progress`.

mod body;
mod call;
pub(crate) mod compile_cache;
mod failure;
mod heap;
mod idle_set;
mod instance;
mod open_at;
pub(crate) mod progress;
mod readdir;
pub(crate) mod runtime;
mod stat_at;
mod state;
