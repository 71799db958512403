//! Sharing on a network, black-box: the addresses and QR code printed at start, `--auth`
//! checks and warnings, and the access log's user field. Servers bound to a wildcard
//! address are only ever *sent* traffic on loopback; their other addresses are only read.

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};
use std::time::Duration;

use base64::Engine as _;
use support::{connect, Conn, Host};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn served() -> tempfile::TempDir {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(temp.path().join("f.txt"), "shared").unwrap();
    temp
}

/// Waits until the server answers on loopback (so its start-up text is all out), then
/// stops it: returns the stdout after the first line, and stderr.
fn banner_and_log(host: Host, tls: bool) -> (String, String) {
    if tls {
        let addr = host.addr();
        support::runtime().block_on(support::presented_certificate(&addr));
    } else {
        support::plain_get(&host.addr(), "/f.txt");
    }
    host.finish()
}

/// The addresses the test can see, as `addresses.rs` should list them for `bind`.
fn interface_addresses(v6: bool) -> BTreeSet<IpAddr> {
    if_addrs::get_if_addrs()
        .unwrap()
        .into_iter()
        .filter(|i| {
            !matches!(
                i.oper_status,
                if_addrs::IfOperStatus::Down | if_addrs::IfOperStatus::LowerLayerDown
            )
        })
        .map(|i| i.ip())
        .filter(|ip| !ip.is_loopback() && (ip.is_ipv4() || v6))
        .filter(|ip| !matches!(ip, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80))
        .collect()
}

/// The URLs under "On your network:".
fn listed_urls(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| *l != "On your network:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.trim().to_owned())
        .collect()
}

fn url_ip(url: &str) -> IpAddr {
    let host = url.split("://").nth(1).unwrap();
    let host = host.rsplit_once(':').unwrap().0;
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .unwrap()
}

#[test]
fn wildcard_bind_lists_every_lan_address_and_the_qr_code_reads_back_the_first() {
    let dir = served();
    let host = Host::start(
        dir.path(),
        &["-b", "0.0.0.0", "--qr", "-q", "--tls-self-signed"],
    );
    let quiet = banner_and_log(host, true).0;
    assert!(
        !quiet.contains("On your network") && !quiet.contains("QR"),
        "{quiet}"
    );
    assert!(quiet.contains("Certificate SHA-256: "), "{quiet}");

    let host = Host::start(dir.path(), &["-b", "0.0.0.0", "--qr", "--tls-self-signed"]);
    let port = host.port;
    assert_eq!(
        host.banner,
        format!("Serving HTTPS on 0.0.0.0 port {port} (https://0.0.0.0:{port}/) ...\n")
    );
    // The certificate names every LAN address: connect on loopback, verify as each.
    let addr = host.addr();
    let expected = interface_addresses(false);
    support::runtime().block_on(async {
        let cert = support::presented_certificate(&addr).await;
        for ip in &expected {
            let config = support::client(&cert, &[b"h2"], &[&tokio_rustls::rustls::version::TLS13]);
            let tls = connect(&addr, config, &ip.to_string()).await;
            tls.unwrap_or_else(|e| panic!("certificate not valid for {ip}: {e}"));
        }
    });
    let text = banner_and_log(host, true).0;
    let urls = listed_urls(&text);
    let ips: BTreeSet<IpAddr> = urls.iter().map(|u| url_ip(u)).collect();
    assert_eq!(ips, expected, "{text}");
    assert_eq!(ips.len(), urls.len(), "no address twice: {text}");
    for url in &urls {
        assert!(
            url.starts_with("https://") && url.ends_with(&format!(":{port}/")),
            "{url}"
        );
    }
    let first = urls
        .first()
        .cloned()
        .unwrap_or_else(|| format!("https://0.0.0.0:{port}/"));
    let qr: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != format!("QR code for {first}:"))
        .skip(1)
        .collect();
    assert!(!qr.is_empty(), "no QR code for {first}: {text}");
    assert_eq!(decode_qr(&qr), first);
}

#[test]
fn ipv6_wildcard_lists_ipv4_then_ipv6_without_link_local() {
    if std::net::TcpListener::bind("[::]:0").is_err() {
        eprintln!("SKIP: no IPv6 on this machine");
        return;
    }
    let dir = served();
    let host = Host::start(dir.path(), &["-b", "::"]);
    let port = host.port;
    assert!(
        host.banner.contains(&format!("(http://[::]:{port}/)")),
        "{}",
        host.banner
    );
    let text = banner_and_log(host, false).0;
    let urls = listed_urls(&text);
    let ips: Vec<IpAddr> = urls.iter().map(|u| url_ip(u)).collect();
    assert_eq!(
        ips.iter().copied().collect::<BTreeSet<_>>(),
        interface_addresses(true)
    );
    let first_v6 = ips.iter().position(IpAddr::is_ipv6).unwrap_or(ips.len());
    assert!(
        ips[first_v6..].iter().all(IpAddr::is_ipv6),
        "IPv4 first: {urls:?}"
    );
    for (url, ip) in urls.iter().zip(&ips) {
        let host = if ip.is_ipv6() {
            format!("[{ip}]")
        } else {
            ip.to_string()
        };
        assert_eq!(url, &format!("http://{host}:{port}/"));
    }
}

#[test]
fn qr_code_without_lan_addresses_is_the_bound_url() {
    let dir = served();
    let host = Host::start(dir.path(), &["--qr"]);
    let url = format!("http://127.0.0.1:{}/", host.port);
    let text = banner_and_log(host, false).0;
    assert!(!text.contains("On your network"), "{text}");
    let qr: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != format!("QR code for {url}:"))
        .skip(1)
        .collect();
    assert_eq!(decode_qr(&qr), url);
}

/// Reads the QR code back from the terminal text: each `▀` cell is two modules, the upper
/// one in the foreground colour and the lower one in the background colour (xterm-256
/// 16 = dark, 231 = light). Also checks the 4-module light quiet zone on every side.
fn decode_qr(lines: &[&str]) -> String {
    let mut rows: Vec<Vec<bool>> = Vec::new();
    for line in lines {
        let (mut fg, mut bg) = (None, None);
        let (mut top, mut bottom) = (Vec::new(), Vec::new());
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\x1b' => {
                    assert_eq!(chars.next(), Some('['), "{line:?}");
                    let params: String = chars.by_ref().take_while(|c| *c != 'm').collect();
                    let nums: Vec<u32> = params.split(';').map(|p| p.parse().unwrap()).collect();
                    match nums[..] {
                        [0] => (fg, bg) = (None, None),
                        [38, 5, f, 48, 5, b] => (fg, bg) = (Some(f), Some(b)),
                        _ => panic!("unexpected colours {params:?}"),
                    }
                }
                '▀' => {
                    let shade = |c: Option<u32>| match c {
                        Some(16) => true,
                        Some(231) => false,
                        other => panic!("cell without explicit colour: {other:?}"),
                    };
                    top.push(shade(fg));
                    bottom.push(shade(bg));
                }
                other => panic!("unexpected {other:?} in {line:?}"),
            }
        }
        rows.push(top);
        rows.push(bottom);
    }
    let width = rows[0].len();
    assert!(rows.iter().all(|r| r.len() == width), "ragged QR code");
    for row in rows.iter().take(4).chain(rows.iter().rev().take(4)) {
        assert!(row.iter().all(|dark| !dark), "quiet zone rows");
    }
    for row in &rows {
        assert!(
            row[..4].iter().chain(&row[width - 4..]).all(|d| !d),
            "quiet zone sides"
        );
    }
    let scale = 4;
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width * scale, rows.len() * scale, |x, y| {
            if rows[y / scale][x / scale] {
                0
            } else {
                255
            }
        });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().unwrap().1
}

#[test]
fn bad_auth_values_fail_at_start_without_echoing_secrets() {
    let dir = served();
    let hex = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["mysecretpw".into()], "no colon"),
        (
            vec![":mysecretpw".into()],
            "user name before the colon is empty",
        ),
        (vec!["me:".into()], "password is empty"),
        (vec!["me:my\nsecretpw".into()], "line break"),
        (
            vec![format!("me:sha256:{}", hex.to_uppercase())],
            "64 lower-case hex",
        ),
        (
            vec![format!("me:sha256:{}", &hex[1..])],
            "64 lower-case hex",
        ),
        (vec![format!("me:sha256:{hex}0")], "64 lower-case hex"),
        (
            vec!["me:mysecretpw".into(), "me:othersecretpw".into()],
            "given twice",
        ),
    ];
    for (values, want) in cases {
        let mut args = Vec::new();
        for value in &values {
            args.extend(["--auth", value.as_str()]);
        }
        let (code, out, err) = support::start_fails(dir.path(), &args);
        assert_eq!(code, 2, "{values:?}: {err}");
        assert!(out.is_empty(), "{values:?} started");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("sandserve: error: --auth: ") && err.contains(want),
            "{err}"
        );
        assert!(
            !err.contains("secretpw") && !err.contains(&hex[10..30]),
            "echoed: {err}"
        );
    }
}

#[test]
fn auth_without_tls_on_a_network_address_warns() {
    let dir = served();
    let warning = "sandserve: warning: --auth without TLS on 0.0.0.0";
    let runs: [(&[&str], bool, bool); 5] = [
        (&["-b", "0.0.0.0", "--auth", "me:secret"], false, true),
        (&["-b", "0.0.0.0", "--auth", "me:secret", "-q"], false, true),
        (
            &["-b", "0.0.0.0", "--auth", "me:secret", "--tls-self-signed"],
            true,
            false,
        ),
        (&["--auth", "me:secret"], false, false),
        (&["-b", "0.0.0.0"], false, false),
    ];
    for (args, tls, warns) in runs {
        let host = Host::start(dir.path(), args);
        let err = banner_and_log(host, tls).1;
        assert_eq!(err.contains(warning), warns, "{args:?}: {err}");
    }
}

#[test]
fn access_log_shows_the_user_and_never_the_password() {
    let dir = served();
    let hunter2 = "f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7";
    let bob = format!("bob:sha256:{hunter2}");
    let args = [
        "--tls-self-signed",
        "--auth",
        "me:s3cr3t-pw",
        "--auth",
        &bob,
    ];
    let host = Host::start(dir.path(), &args);
    let addr = host.addr();
    let basic = |credentials: &[u8]| format!("Basic {}", B64.encode(credentials));
    let huge = basic(format!("me:{}", "p".repeat(5000)).as_bytes());
    // (query tag, Authorization, user shown unless the answer is 401)
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("plain", Some(basic(b"me:s3cr3t-pw")), "me"),
        ("hashed", Some(basic(b"bob:hunter2")), "bob"),
        ("wrong", Some(basic(b"me:not-the-pw")), "me"),
        ("none", None, "-"),
        ("notbase64", Some("Basic !!!".into()), "-"),
        ("nocolon", Some(basic(b"me")), "-"),
        ("notutf8", Some(basic(b"\xff\xfe:pw")), "-"),
        ("bearer", Some("Bearer me:s3cr3t-pw".into()), "-"),
        ("huge", Some(huge), "-"),
    ];
    let statuses = support::runtime().block_on(async {
        let cert = support::presented_certificate(&addr).await;
        let mut statuses = Vec::new();
        for alpn in [&b"http/1.1"[..], b"h2"] {
            let config = support::client(&cert, &[alpn], &[&tokio_rustls::rustls::version::TLS13]);
            let mut conn = Conn::open(connect(&addr, config, "localhost").await.unwrap()).await;
            for (tag, auth, _) in &cases {
                let headers: Vec<(&str, &str)> =
                    auth.iter().map(|a| ("authorization", a.as_str())).collect();
                let path = format!("/f.txt?{tag}-{}", alpn.len());
                statuses.push(conn.get(&path, &headers).await.status);
            }
        }
        statuses
    });
    let log = host.finish().1;
    let mut statuses = statuses.into_iter();
    for alpn_len in [8, 2] {
        for (tag, _, user) in &cases {
            let status = statuses.next().unwrap();
            let line = log
                .lines()
                .find(|l| l.contains(&format!("/f.txt?{tag}-{alpn_len} ")))
                .unwrap_or_else(|| panic!("no log line for {tag}: {log}"));
            let shown = if status == 401 { "-" } else { user };
            assert!(
                line.starts_with(&format!("127.0.0.1 - {shown} [")),
                "{tag}: {line}"
            );
        }
    }
    for secret in ["s3cr3t-pw", "hunter2", "not-the-pw", "pppppppp"] {
        assert!(!log.contains(secret), "{secret} in the log: {log}");
    }
    assert!(!log.contains(&B64.encode("me:s3cr3t-pw")), "{log}");
}

#[test]
fn without_auth_the_log_shows_no_claimed_user() {
    let dir = served();
    let host = Host::start(dir.path(), &[]);
    let mut stream = TcpStream::connect(host.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let auth = B64.encode("mallory:x");
    write!(
        stream,
        "GET /f.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).unwrap();
    assert!(out.starts_with(b"HTTP/1.1 200"));
    let log = host.finish().1;
    assert!(log.contains("127.0.0.1 - - ["), "{log}");
    assert!(!log.contains("mallory"), "{log}");
}
