//! The `sandserve` binary's own modules, for its start-up message: the banner, the network
//! addresses it lists, and the QR code. Only `main.rs` declares this folder; the library's
//! public `settings` and `limits` are what the binary shares with embedders.

pub(crate) mod addresses;
pub(crate) mod banner;
mod qr;
