//! What the TLS and sharing tests share: the real `sandserve` binary on an ephemeral
//! loopback port, certificates made at test time, and an HTTPS client (hyper over
//! tokio-rustls, HTTP/1.1 or HTTP/2) that trusts only the test's own root.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sandserve")
}

/// A running `sandserve DIR --port 0 ARGS...` (bound to 127.0.0.1 unless ARGS bind
/// elsewhere), killed on drop.
pub(crate) struct Host {
    child: Child,
    pub(crate) port: u16,
    /// The first stdout line: `Serving ... port N (...) ...`.
    pub(crate) banner: String,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl Host {
    pub(crate) fn start(dir: &Path, args: &[&str]) -> Host {
        let mut command = Command::new(bin());
        command.arg(dir).args(["--port", "0"]);
        if !args.iter().any(|a| *a == "-b" || *a == "--bind") {
            command.args(["--bind", "127.0.0.1"]);
        }
        let mut child = command
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = String::new();
        stdout.read_line(&mut banner).unwrap();
        let port = banner
            .split(" port ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!(
                    "no port in {banner:?}; stderr: {}",
                    String::from_utf8_lossy(&stderr.lock().unwrap())
                )
            });
        Host {
            child,
            port,
            banner,
            stdout,
            stderr,
        }
    }

    /// Stops the server and returns the rest of its stdout and all of its stderr.
    pub(crate) fn finish(mut self) -> (String, String) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut rest = String::new();
        let _ = self.stdout.read_to_string(&mut rest);
        // The reader thread sees EOF once the process is gone.
        let deadline = Instant::now() + Duration::from_secs(5);
        std::thread::sleep(Duration::from_millis(100));
        while Instant::now() < deadline && Arc::strong_count(&self.stderr) > 1 {
            std::thread::sleep(Duration::from_millis(20));
        }
        let err = String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned();
        (rest, err)
    }

    pub(crate) fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a start that must fail: returns (exit code, stdout, stderr). Kills it and fails the
/// test if it is still running after 30 s (it started serving).
pub(crate) fn start_fails(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(bin())
        .arg(dir)
        .args(["--port", "0", "--bind", "127.0.0.1"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sandserve {args:?} kept running");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    let mut err = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code().unwrap_or(-1), out, err)
}

/// A root CA, an intermediate, and a leaf for `localhost` and 127.0.0.1 signed by it.
pub(crate) struct Pki {
    pub(crate) root: CertificateDer<'static>,
    /// Leaf then intermediate, PEM: what `--tls-cert` takes.
    pub(crate) chain_pem: String,
    pub(crate) key_pem: String,
    pub(crate) leaf: CertificateDer<'static>,
}

/// Makes a chain whose leaf has a key of `alg` (`None`: the committed RSA test key).
pub(crate) fn pki(alg: Option<&'static rcgen::SignatureAlgorithm>) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let ca = |name: &str| {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params
    };
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
        leaf: leaf.der().clone(),
    }
}

pub(crate) fn rsa_key_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/test-only-rsa-2048.pem")
}

impl Pki {
    /// Writes cert.pem and key.pem into `dir`; returns the flags that use them.
    pub(crate) fn write(&self, dir: &Path) -> [String; 4] {
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
pub(crate) fn client(
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

pub(crate) type Tls = tokio_rustls::client::TlsStream<TcpStream>;

/// TCP to `addr` (always loopback), TLS with `name` as the server name.
pub(crate) async fn connect(
    addr: &str,
    config: Arc<ClientConfig>,
    name: &str,
) -> std::io::Result<Tls> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(name.to_owned()).unwrap();
    TlsConnector::from(config).connect(name, tcp).await
}

/// One HTTPS connection speaking HTTP/1.1 or HTTP/2, whichever ALPN chose.
pub(crate) enum Conn {
    H1(http1::SendRequest<Empty<Bytes>>),
    H2(http2::SendRequest<Empty<Bytes>>),
}

/// A response, body read whole.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) version: hyper::Version,
    pub(crate) headers: hyper::HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Conn {
    /// Handshakes HTTP/2 when ALPN picked `h2`, else HTTP/1.1; the connection task runs
    /// in the background.
    pub(crate) async fn open(tls: Tls) -> Conn {
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

    /// GET `path` with extra headers.
    pub(crate) async fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.request("GET", path, headers).await
    }

    pub(crate) async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Reply {
        let response = match self {
            Conn::H1(send) => {
                send.ready().await.unwrap();
                send.send_request(build(method, path, headers, false)).await
            }
            Conn::H2(send) => send.send_request(build(method, path, headers, true)).await,
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

    pub(crate) fn h2(&self) -> http2::SendRequest<Empty<Bytes>> {
        match self {
            Conn::H2(send) => send.clone(),
            Conn::H1(_) => panic!("not an HTTP/2 connection"),
        }
    }
}

/// HTTP/2 requests carry scheme and authority as pseudo-headers, so their URI is absolute;
/// HTTP/1.1 ones use the origin form and a Host header.
pub(crate) fn build(
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

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A plain HTTP/1.1 GET over a raw socket: the whole response, head and body.
pub(crate) fn plain_get(addr: &str, path: &str) -> Vec<u8> {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).unwrap();
    out
}

/// The body of a raw HTTP/1.1 response with a Content-Length.
pub(crate) fn body_of(response: &[u8]) -> &[u8] {
    let at = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    &response[at + 4..]
}

/// The leaf certificate a server presents, read by a client that checks nothing.
pub(crate) async fn presented_certificate(
    addr: &str,
) -> rustls::pki_types::CertificateDer<'static> {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};

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
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(std::sync::Arc::new(AcceptAnything))
        .with_no_client_auth();
    let tls = connect(addr, std::sync::Arc::new(config), "localhost")
        .await
        .unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0]
        .clone()
        .into_owned()
}

/// `AB:CD:...`, as browsers show a certificate's SHA-256.
pub(crate) fn fingerprint(cert: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(cert);
    digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
