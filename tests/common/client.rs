//! Real HTTP against a started host: `ureq` requests that never follow redirects and keep
//! every status as a response; raw bytes on a fresh connection for requests no client
//! library would send; and a keep-alive HTTP/1.1 `Connection` for several requests on one
//! connection (the native host serves a connection on one worker, with its idle instances),
//! which reads each response by its framing (RFC 9112 §6.3) and can leave mid-body.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::server::Server;

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, &[])
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = agent().request(method, &self.url(path));
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let response = match request.call() {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("{method} {path}: {error}"),
        };
        Response::read(response)
    }

    /// GETs `path` and copies the body into `into` as it arrives, without holding it (a
    /// multi-gigabyte archive); returns the status and headers.
    pub fn download(&self, path: &str, into: &mut dyn Write) -> (u16, Vec<(String, String)>) {
        let response = match agent().get(&self.url(path)).call() {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("GET {path}: {error}"),
        };
        let status = response.status();
        let headers = headers_of(&response);
        std::io::copy(&mut response.into_reader(), into).unwrap();
        (status, headers)
    }

    /// A request with a body (sent with its `Content-Length`).
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let mut request = agent().request(method, &self.url(path));
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let response = match request.send_bytes(body) {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("{method} {path}: {error}"),
        };
        Response::read(response)
    }

    /// Sends raw bytes on a fresh connection and returns everything the server sent back
    /// until it closed the connection (or 5 s passed).
    pub fn raw(&self, request: &[u8]) -> Vec<u8> {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(request).unwrap();
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        out
    }

    /// Opens a keep-alive HTTP/1.1 connection to the host.
    pub fn connection(&self) -> Connection {
        let stream = TcpStream::connect(self.addr).unwrap();
        // Long enough for a busy machine, short enough that a host that stops answering
        // fails the test instead of hanging it.
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Connection {
            reader: BufReader::new(stream),
        }
    }
}

/// An HTTP agent that does not follow redirects, so tests see them.
fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(Duration::from_secs(60))
        .build()
}

/// A fully read response.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    fn read(response: ureq::Response) -> Response {
        let status = response.status();
        let headers = headers_of(&response);
        let mut body = Vec::new();
        response.into_reader().read_to_end(&mut body).unwrap();
        Response {
            status,
            headers,
            body,
        }
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Every header line of a response, in order.
fn headers_of(response: &ureq::Response) -> Vec<(String, String)> {
    response
        .headers_names()
        .into_iter()
        .flat_map(|name| {
            response
                .all(&name)
                .into_iter()
                .map(|v| (name.clone(), v.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// One `GET` on a fresh connection to a server the testkit did not start (an embedded or
/// example server): everything it sent back until it closed the connection.
pub fn get_once(addr: &str, path: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    out
}

/// The status code of a raw HTTP/1.1 response, if it starts like one.
pub fn raw_status(raw: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(raw);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// One keep-alive HTTP/1.1 connection. Requests carry only a `Host` header and no body, and
/// each response is read whole before the next request, so they pair up in order.
pub struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    /// Sends `method path` without reading the response (`read_exact` then reads raw).
    pub fn send(&mut self, method: &str, path: &str) {
        let request = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        self.reader.get_mut().write_all(request.as_bytes()).unwrap();
    }

    /// Sends `method path` and reads its whole response, leaving the connection open.
    pub fn request(&mut self, method: &str, path: &str) -> Response {
        self.send(method, path);
        let (status, headers) = self.head();
        let mut response = Response {
            status,
            headers,
            body: Vec::new(),
        };
        // RFC 9112 §6.3: no body after HEAD or with 204/304; else chunked or Content-Length.
        // A body that ends when the connection closes would end the keep-alive: refused.
        if method != "HEAD" && !matches!(status, 204 | 304) {
            response.body = if let Some(length) = response.header("content-length") {
                let mut body = vec![0; length.parse().expect("Content-Length")];
                self.reader.read_exact(&mut body).unwrap();
                body
            } else {
                let coding = response.header("transfer-encoding");
                assert_eq!(coding, Some("chunked"), "{method} {path}: no framing");
                self.chunked()
            };
        }
        response
    }

    pub fn get(&mut self, path: &str) -> Response {
        self.request("GET", path)
    }

    /// Reads exactly `buf.len()` bytes of what the host sent, head and body alike, so a
    /// test can leave in the middle of a response by dropping the connection.
    pub fn read_exact(&mut self, buf: &mut [u8]) {
        self.reader.read_exact(buf).unwrap();
    }

    /// One line without its line ending; the host closing the connection fails the test.
    fn line(&mut self) -> String {
        let mut line = String::new();
        let read = self.reader.read_line(&mut line).unwrap();
        assert!(read > 0, "the host closed the connection");
        line.trim_end_matches(['\r', '\n']).to_owned()
    }

    /// The status code and header lines of a response.
    fn head(&mut self) -> (u16, Vec<(String, String)>) {
        let status_line = self.line();
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3)?.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let mut headers = Vec::new();
        loop {
            let line = self.line();
            if line.is_empty() {
                return (status, headers);
            }
            let (name, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("bad header line {line:?}"));
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
    }

    /// A chunked body (RFC 9112 §7.1), chunk extensions and trailer fields skipped.
    fn chunked(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let line = self.line();
            let size = line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16)
                .unwrap_or_else(|_| panic!("bad chunk size line {line:?}"));
            if size == 0 {
                while !self.line().is_empty() {}
                return body;
            }
            let start = body.len();
            body.resize(start + size, 0);
            self.reader.read_exact(&mut body[start..]).unwrap();
            assert_eq!(self.line(), "", "no line ending after a chunk");
        }
    }
}
