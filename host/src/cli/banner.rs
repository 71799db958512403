//! The start-up message on stdout.
//!
//! Always: the first line (`Serving HTTP[S] on ADDR port N (URL) ...`, which scripts and the
//! tests read the port from), the served directory, and with TLS the certificate's SHA-256
//! fingerprint, so a self-signed certificate can be checked on the other device. Not with
//! `--quiet` (the "nothing here is printed with --quiet"): the network addresses and
//! the QR code.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use crate::cli::addresses;

/// What the start-up message says.
pub(crate) struct Banner<'a> {
    pub(crate) addr: SocketAddr,
    pub(crate) root: &'a Path,
    /// The certificate fingerprint when serving HTTPS.
    pub(crate) fingerprint: Option<&'a str>,
    /// Addresses other devices can use (see `addresses::lan`).
    pub(crate) lan: &'a [IpAddr],
    pub(crate) qr: bool,
    pub(crate) quiet: bool,
}

impl Banner<'_> {
    /// Prints the message. A closed stdout (a parent that read the first line and left)
    /// must not stop the server, so write errors are ignored.
    pub(crate) fn print(&self) {
        let scheme = if self.fingerprint.is_some() {
            "https"
        } else {
            "http"
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "Serving {} on {} port {} ({}) ...",
            scheme.to_ascii_uppercase(),
            self.addr.ip(),
            self.addr.port(),
            addresses::url(scheme, self.addr)
        );
        let _ = writeln!(out, "Directory: {}", self.root.display());
        if let Some(fingerprint) = self.fingerprint {
            let _ = writeln!(out, "Certificate SHA-256: {fingerprint}");
        }
        if !self.quiet {
            let urls: Vec<String> = (self.lan.iter())
                .map(|ip| addresses::url(scheme, SocketAddr::new(*ip, self.addr.port())))
                .collect();
            if !urls.is_empty() {
                let _ = writeln!(out, "On your network:");
                for url in &urls {
                    let _ = writeln!(out, "  {url}");
                }
            }
            if self.qr {
                let target = urls
                    .first()
                    .cloned()
                    .unwrap_or_else(|| addresses::url(scheme, self.addr));
                match crate::cli::qr::render(&target) {
                    Ok(code) => {
                        let _ = write!(out, "QR code for {target}:\n{code}");
                    }
                    Err(error) => eprintln!("sandserve: warning: no QR code for {target}: {error}"),
                }
            }
        }
        let _ = out.flush();
    }
}
