//! TLS for the listening socket: the rustls server configuration, from PEM files or from a
//! certificate made at start.
//!
//! - TLS 1.2 and 1.3 only (RFC 8446, RFC 5246), with rustls' `ring` provider.
//! - No client certificates.
//! - ALPN (RFC 7301) offers `h2` then `http/1.1`, so HTTP/2 clients get HTTP/2 (RFC 9113 §3.2).
//! - Keys: RSA, ECDSA and Ed25519, as PKCS#8, PKCS#1 or SEC1 PEM; the certificate file holds
//!   the chain, leaf first. A key that does not match the leaf is refused at start.

use std::fmt::Write as _;
use std::io::Read as _;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context as _};
use sha2::{Digest, Sha256};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// PEM files larger than this are refused rather than read: a certificate chain is a few
/// KiB, and a path like `/dev/zero` must not be read forever.
const MAX_PEM_BYTES: u64 = 1 << 20;

/// The ALPN protocol id of HTTP/2.
pub(crate) const ALPN_H2: &[u8] = b"h2";

/// A TLS server configuration, ready to accept connections.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
    fingerprint: String,
}

impl Tls {
    /// Loads a PEM certificate chain (leaf first) and its PEM private key.
    pub fn from_pem_files(cert: &Path, key: &Path) -> anyhow::Result<Tls> {
        let cert_pem = read_pem(cert, "--tls-cert")?;
        let key_pem = read_pem(key, "--tls-key")?;
        let chain = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow!("--tls-cert {}: not PEM certificates: {e}", cert.display()))?;
        if chain.is_empty() {
            bail!("--tls-cert {}: no certificate in it", cert.display());
        }
        let key_der = PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|e| anyhow!("--tls-key {}: no PEM private key in it: {e}", key.display()))?;
        Tls::new(chain, key_der).with_context(|| {
            format!(
                "--tls-cert {} with --tls-key {}",
                cert.display(),
                key.display()
            )
        })
    }

    /// Makes a certificate in memory, valid for `localhost`, the loopback addresses and
    /// `addresses`, with a fresh ECDSA P-256 key that never touches the disk.
    pub fn self_signed(addresses: &[IpAddr]) -> anyhow::Result<Tls> {
        let key = rcgen::KeyPair::generate().context("generating a TLS key")?;
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .context("self-signed certificate")?;
        let loopback: [IpAddr; 2] = [[127, 0, 0, 1].into(), std::net::Ipv6Addr::LOCALHOST.into()];
        for ip in loopback.iter().chain(addresses) {
            let san = rcgen::SanType::IpAddress(*ip);
            if !ip.is_unspecified() && !params.subject_alt_names.contains(&san) {
                params.subject_alt_names.push(san);
            }
        }
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "sandserve self-signed");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        // Made fresh at every start, so a short life costs nothing; a day of slack covers
        // clocks that run behind.
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(365);
        let cert = params
            .self_signed(&key)
            .context("signing the self-signed certificate")?;
        let key_der = PrivatePkcs8KeyDer::from(key.serialize_der()).into();
        Tls::new(vec![cert.der().clone()], key_der)
    }

    fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> anyhow::Result<Tls> {
        let fingerprint = fingerprint(&chain[0]);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| anyhow!("unusable certificate or key: {e}"))?;
        config.alpn_protocols = vec![ALPN_H2.to_vec(), b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            fingerprint,
        })
    }

    /// The SHA-256 fingerprint of the leaf certificate, as browsers show it
    /// (`AB:CD:...`), for comparing on another device.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

fn fingerprint(cert: &CertificateDer<'_>) -> String {
    let digest = Sha256::digest(cert.as_ref());
    let mut out = String::with_capacity(digest.len() * 3);
    for (i, byte) in digest.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{byte:02X}");
    }
    out
}

/// Reads a small regular file whole; anything else is a one-line error naming the flag.
fn read_pem(path: &Path, flag: &str) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read {flag} {}", path.display()))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {flag} {}", path.display()))?;
    if !meta.is_file() {
        bail!("{flag} {}: not a regular file", path.display());
    }
    let mut bytes = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {flag} {}", path.display()))?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        bail!(
            "{flag} {}: larger than 1 MiB, not a PEM file",
            path.display()
        );
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_fingerprint_is_sha256_of_the_leaf_in_colon_hex() {
        let tls = Tls::self_signed(&["192.0.2.7".parse().unwrap()]).unwrap();
        let fp = tls.fingerprint();
        assert_eq!(fp.len(), 32 * 3 - 1, "{fp}");
        assert!(fp.split(':').all(|b| b.len() == 2
            && b.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())));
    }

    #[test]
    fn pem_files_are_bounded_and_regular() {
        let err = read_pem(Path::new("/dev/zero"), "--tls-cert").unwrap_err();
        assert!(format!("{err:#}").contains("not a regular file"), "{err:#}");
        let dir = std::env::temp_dir();
        let err = read_pem(&dir, "--tls-key").unwrap_err();
        assert!(format!("{err:#}").contains("--tls-key"), "{err:#}");
    }
}
