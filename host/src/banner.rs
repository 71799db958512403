//! The start-up message on stdout: the first line (`Serving HTTP[S] on ADDR port N (URL)
//! ...`, which scripts and the tests read the port from), the served directory, and with
//! TLS the certificate's SHA-256 fingerprint, so a self-signed certificate can be checked on
//! the other device.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

/// What the start-up message says.
pub(crate) struct Banner<'a> {
    pub(crate) addr: SocketAddr,
    pub(crate) root: &'a Path,
    /// The certificate fingerprint when serving HTTPS.
    pub(crate) fingerprint: Option<&'a str>,
}

impl Banner<'_> {
    /// Prints the message. A closed stdout (a parent that read the first line and left)
    /// must not stop the server, so write errors are ignored.
    pub(crate) fn print(&self) {
        let scheme = if self.fingerprint.is_some() { "https" } else { "http" };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "Serving {} on {} port {} ({}) ...",
            scheme.to_ascii_uppercase(),
            self.addr.ip(),
            self.addr.port(),
            url(scheme, self.addr)
        );
        let _ = writeln!(out, "Directory: {}", self.root.display());
        if let Some(fingerprint) = self.fingerprint {
            let _ = writeln!(out, "Certificate SHA-256: {fingerprint}");
        }
        let _ = out.flush();
    }
}

/// `scheme://host:port/`, with IPv6 hosts in brackets.
fn url(scheme: &str, addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V6(ip) => format!("{scheme}://[{ip}]:{}/", addr.port()),
        IpAddr::V4(ip) => format!("{scheme}://{ip}:{}/", addr.port()),
    }
}
