//! HTTPS against a started host: certificates made at test time (`pki`), a client that
//! trusts only the test's own root (`client`, `connect`), and one connection speaking
//! HTTP/1.1 or HTTP/2 as ALPN chose (`Conn`, hyper over tokio-rustls with ring).
//!
//! rcgen over ring cannot generate RSA keys, so the RSA leaf uses the committed,
//! test-only key in `data/test-only-rsa-2048.pem`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tokio::net::TcpStream;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_rustls::TlsConnector;

/// A root CA, an intermediate, and a leaf for `localhost` and 127.0.0.1 signed by it.
pub struct Pki {
    pub root: CertificateDer<'static>,
    /// Leaf then intermediate, PEM: what `--tls-cert` takes.
    pub chain_pem: String,
    pub key_pem: String,
}

/// Makes a chain whose leaf has a key of `alg` (`None`: the committed RSA test key).
pub fn pki(alg: Option<&'static rcgen::SignatureAlgorithm>) -> Pki {
    let root_key = KeyPair::generate().unwrap();
    let root_params = ca("sandserve test root");
    let root = root_params.self_signed(&root_key).unwrap();
    let root_issuer = Issuer::new(root_params, root_key);
    let mid_key = KeyPair::generate().unwrap();
    let mid_params = ca("sandserve test intermediate");
    let mid = mid_params.signed_by(&mid_key, &root_issuer).unwrap();
    let mid_issuer = Issuer::new(mid_params, mid_key);
    let leaf_key = match alg {
        Some(alg) => KeyPair::generate_for(alg).unwrap(),
        None => KeyPair::from_pem(&std::fs::read_to_string(rsa_key_path()).unwrap()).unwrap(),
    };
    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    leaf_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf_params.signed_by(&leaf_key, &mid_issuer).unwrap();
    Pki {
        root: root.der().clone(),
        chain_pem: format!("{}{}", leaf.pem(), mid.pem()),
        key_pem: leaf_key.serialize_pem(),
    }
}

/// A certificate authority's parameters, named `name`.
fn ca(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params
}

fn rsa_key_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/test-only-rsa-2048.pem")
}

impl Pki {
    /// Writes cert.pem and key.pem into `dir`; returns the flags that use them.
    pub fn write(&self, dir: &Path) -> [String; 4] {
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        std::fs::write(&cert, &self.chain_pem).unwrap();
        std::fs::write(&key, &self.key_pem).unwrap();
        [
            "--tls-cert".into(),
            cert.display().to_string(),
            "--tls-key".into(),
            key.display().to_string(),
        ]
    }
}

/// A client trusting only `root`, offering `alpn`, on the given TLS versions.
pub fn client(
    root: &CertificateDer<'static>,
    alpn: &[&[u8]],
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(root.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// A client-side TLS stream.
pub type Tls = tokio_rustls::client::TlsStream<TcpStream>;

/// TCP to `addr` (a started host's, so loopback), TLS with `name` as the server name.
pub async fn connect(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
    name: &str,
) -> std::io::Result<Tls> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(name.to_owned()).unwrap();
    TlsConnector::from(config).connect(name, tcp).await
}

/// One HTTPS connection speaking HTTP/1.1 or HTTP/2, whichever ALPN chose.
pub enum Conn {
    H1(http1::SendRequest<Empty<Bytes>>),
    H2(http2::SendRequest<Empty<Bytes>>),
}

/// A response, body read whole.
pub struct Reply {
    pub status: u16,
    pub version: hyper::Version,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of header `name`, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Conn {
    /// Handshakes HTTP/2 when ALPN picked `h2`, else HTTP/1.1; the connection task runs
    /// in the background (on the current tokio runtime).
    pub async fn open(tls: Tls) -> Conn {
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        let io = TokioIo::new(tls);
        if h2 {
            let (send, conn) = http2::Builder::new(TokioExecutor::new())
                .handshake(io)
                .await
                .unwrap();
            tokio::spawn(conn);
            Conn::H2(send)
        } else {
            let (send, conn) = http1::handshake(io).await.unwrap();
            tokio::spawn(conn);
            Conn::H1(send)
        }
    }

    /// GET `path` with extra headers, the body read whole.
    pub async fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let response = match self {
            Conn::H1(send) => {
                send.ready().await.unwrap();
                send.send_request(request("GET", path, headers, false))
                    .await
            }
            Conn::H2(send) => send.send_request(request("GET", path, headers, true)).await,
        }
        .unwrap();
        let (parts, body) = response.into_parts();
        Reply {
            status: parts.status.as_u16(),
            version: parts.version,
            headers: parts.headers,
            body: body.collect().await.unwrap().to_bytes().to_vec(),
        }
    }

    /// The HTTP/2 sender, to run many streams at once; panics on an HTTP/1.1 connection.
    pub fn h2(&self) -> http2::SendRequest<Empty<Bytes>> {
        match self {
            Conn::H2(send) => send.clone(),
            Conn::H1(_) => panic!("not an HTTP/2 connection"),
        }
    }
}

/// A request without a body. HTTP/2 requests carry scheme and authority as pseudo-headers,
/// so their URI is absolute; HTTP/1.1 ones use the origin form and a Host header.
pub fn request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    h2: bool,
) -> hyper::Request<Empty<Bytes>> {
    let mut request = hyper::Request::builder().method(method);
    if h2 {
        request = request
            .uri(format!("https://localhost{path}"))
            .version(hyper::Version::HTTP_2);
    } else {
        request = request.uri(path).header("host", "localhost");
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Empty::new()).unwrap()
}

/// A single-threaded tokio runtime for a test's client side.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The leaf certificate a server presents, read by a client that checks nothing.
pub async fn presented_certificate(addr: SocketAddr) -> CertificateDer<'static> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnything))
        .with_no_client_auth();
    let tls = connect(addr, Arc::new(config), "localhost").await.unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0]
        .clone()
        .into_owned()
}

/// A verifier that accepts any certificate: only for reading what a server presents.
#[derive(Debug)]
struct AcceptAnything;

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `AB:CD:...`, as browsers show a certificate's SHA-256.
pub fn fingerprint(cert: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(cert);
    digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
