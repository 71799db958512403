//! The network side: the listening socket and its worker threads (`server`), each accepted
//! connection with its TLS handshake and HTTP/1.1 or HTTP/2 (`connection`, `protocols`,
//! `tls`, `idle_timeout`, and `coalesce`, which puts writes off to the connection's next
//! turn), and each request's answer and access log line (`shared`, `access_log`). What runs a
//! request is the sandbox's, in `guest`.

mod access_log;
mod coalesce;
mod connection;
mod idle_timeout;
mod protocols;
pub(crate) mod server;
mod shared;
pub mod tls;
