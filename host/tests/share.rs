//! Sharing on a network, black-box: the addresses and QR code printed at start, `--auth`
//! checks and warnings, and the access log's user field. Servers bound to a wildcard
//! address are only ever *sent* traffic on loopback; their other addresses are only read.

use std::collections::BTreeSet;
use std::net::IpAddr;

use base64::Engine as _;
use sandserve_testkit::tls::{self, connect, Conn};
use sandserve_testkit::{native_host, skip_unless, Fixture, Output, Server};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn served() -> Fixture {
    let fx = Fixture::new();
    fx.write("f.txt", "shared");
    fx
}

/// Starts the native host on the served tree with `flags`.
fn serve(fx: &Fixture, flags: &[&str]) -> Server {
    fx.serve_on(&native_host!(), flags)
}

/// Waits until the server answers on loopback (so its start-up text is all out), then
/// stops it and returns what it printed after its banner.
fn banner_and_log(server: Server, https: bool) -> Output {
    if https {
        tls::runtime().block_on(tls::presented_certificate(server.addr));
    } else {
        server.get("/f.txt");
    }
    server.finish()
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
    let fx = served();
    let server = serve(&fx, &["-b", "0.0.0.0", "--qr", "-q", "--tls-self-signed"]);
    let quiet = banner_and_log(server, true).stdout;
    assert!(
        !quiet.contains("On your network") && !quiet.contains("QR"),
        "{quiet}"
    );
    assert!(quiet.contains("Certificate SHA-256: "), "{quiet}");

    let server = serve(&fx, &["-b", "0.0.0.0", "--qr", "--tls-self-signed"]);
    let port = server.addr.port();
    assert_eq!(
        server.banner,
        format!("Serving HTTPS on 0.0.0.0 port {port} (https://0.0.0.0:{port}/) ...\n")
    );
    // The certificate names every LAN address: connect on loopback, verify as each.
    let addr = server.addr;
    let expected = interface_addresses(false);
    tls::runtime().block_on(async {
        let cert = tls::presented_certificate(addr).await;
        for ip in &expected {
            let config = tls::client(&cert, &[b"h2"], &[&tokio_rustls::rustls::version::TLS13]);
            let tls = connect(addr, config, &ip.to_string()).await;
            tls.unwrap_or_else(|e| panic!("certificate not valid for {ip}: {e}"));
        }
    });
    let text = banner_and_log(server, true).stdout;
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
    skip_unless!(ipv6);
    let fx = served();
    let server = serve(&fx, &["-b", "::"]);
    let port = server.addr.port();
    assert!(
        server.banner.contains(&format!("(http://[::]:{port}/)")),
        "{}",
        server.banner
    );
    let text = banner_and_log(server, false).stdout;
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
    let fx = served();
    let server = serve(&fx, &["--qr"]);
    let url = format!("http://127.0.0.1:{}/", server.addr.port());
    let text = banner_and_log(server, false).stdout;
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
    let fx = served();
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
        let exit = native_host!().start_fails(&fx.root(), &args);
        let err = exit.stderr;
        assert_eq!(exit.code, Some(2), "{values:?}: {err}");
        assert!(exit.stdout.is_empty(), "{values:?} started");
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
    let fx = served();
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
        let server = serve(&fx, args);
        let err = banner_and_log(server, tls).stderr;
        assert_eq!(err.contains(warning), warns, "{args:?}: {err}");
    }
}

#[test]
fn access_log_shows_the_user_and_never_the_password() {
    let fx = served();
    let hunter2 = "f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7";
    let bob = format!("bob:sha256:{hunter2}");
    let args = [
        "--tls-self-signed",
        "--auth",
        "me:s3cr3t-pw",
        "--auth",
        &bob,
    ];
    let server = serve(&fx, &args);
    let addr = server.addr;
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
    let statuses = tls::runtime().block_on(async {
        let cert = tls::presented_certificate(addr).await;
        let mut statuses = Vec::new();
        for alpn in [&b"http/1.1"[..], b"h2"] {
            let config = tls::client(&cert, &[alpn], &[&tokio_rustls::rustls::version::TLS13]);
            let mut conn = Conn::open(connect(addr, config, "localhost").await.unwrap()).await;
            for (tag, auth, _) in &cases {
                let headers: Vec<(&str, &str)> =
                    auth.iter().map(|a| ("authorization", a.as_str())).collect();
                let path = format!("/f.txt?{tag}-{}", alpn.len());
                statuses.push(conn.get(&path, &headers).await.status);
            }
        }
        statuses
    });
    let log = server.finish().stderr;
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
    let fx = served();
    let server = serve(&fx, &[]);
    let auth = B64.encode("mallory:x");
    let out = server.raw(
        format!(
            "GET /f.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    assert!(out.starts_with(b"HTTP/1.1 200"));
    let log = server.finish().stderr;
    assert!(log.contains("127.0.0.1 - - ["), "{log}");
    assert!(!log.contains("mallory"), "{log}");
}
