//! Basic authentication in the component (`--auth`, `SANDSERVE_AUTH`): every kind of
//! response needs credentials, a refusal names nothing, malformed credentials are a 401 (never
//! a 400 or 500), and only a CORS preflight passes without them. Runs under every host, since
//! the setting travels as an environment variable.

use sandserve_testkit::{raw_status, Fixture};

/// `me:secret`, and `you` whose password `pass word` is given as its SHA-256.
const USERS: [&str; 4] = [
    "--auth",
    "me:secret",
    "--auth",
    "you:sha256:78980e257f412437fbf9343787bc00ec5b10636429bc000b290107335b089786",
];

fn site() -> Fixture {
    let fx = Fixture::new();
    fx.write("notes.txt", "private notes");
    fx.write("docs/plan.txt", "the plan");
    fx
}

fn basic(user_password: &str) -> String {
    use base64::Engine as _;
    let token = base64::engine::general_purpose::STANDARD.encode(user_password);
    format!("Basic {token}")
}

#[test]
fn every_response_needs_valid_credentials() {
    let fx = site();
    let before = fx.tree_hash();
    let mut flags = USERS.to_vec();
    flags.extend(["-q", "--cors", "--xmlrpc"]);
    let server = fx.serve(&flags);
    let targets = [
        "/notes.txt",
        "/docs/",
        "/docs/?format=json",
        "/docs/?download=tar",
        "/docs/?download=zip",
        "/?q=notes",
        "/RPC2",
        "/missing.txt",
        "/docs",
    ];
    let wrong = [
        basic("me:wrong"),
        basic("nobody:secret"),
        basic("you:pass"),
        basic("me"),
        "Basic !!!".to_owned(),
        "Digest me".to_owned(),
        format!("Basic {}", "A".repeat(5_000)),
    ];
    for target in targets {
        let mut attempts: Vec<Vec<(&str, &str)>> = vec![vec![]];
        attempts.extend(wrong.iter().map(|w| vec![("Authorization", w.as_str())]));
        for headers in attempts {
            let r = server.request("GET", target, &headers);
            assert_eq!(r.status, 401, "{target} {headers:?}");
            assert_eq!(
                r.header("www-authenticate"),
                Some("Basic realm=\"sandserve\", charset=\"UTF-8\"")
            );
            let body = r.text();
            for name in ["notes", "docs", "plan", "missing"] {
                assert!(!body.contains(name), "{target}: {body}");
            }
        }
    }
    let me = basic("me:secret");
    let you = basic("you:pass word");
    for auth in [&me, &you] {
        let h = [("Authorization", auth.as_str())];
        assert_eq!(
            server.request("GET", "/notes.txt", &h).text(),
            "private notes"
        );
        assert!(server
            .request("GET", "/docs/", &h)
            .text()
            .contains("plan.txt"));
        assert_eq!(server.request("GET", "/missing.txt", &h).status, 404);
        assert_eq!(server.request("GET", "/RPC2", &h).status, 200);
    }
    // A body sent without credentials is refused before it is looked at.
    let post = b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    assert_eq!(raw_status(&server.raw(post)), Some(401));
    assert_eq!(fx.tree_hash(), before);
}

#[test]
fn malformed_authorization_bytes_are_401() {
    let fx = site();
    let mut flags = USERS.to_vec();
    flags.push("-q");
    let server = fx.serve(&flags);
    for field in [
        &b"Basic \xff\xfe"[..],
        b"Basic bWU=", // no colon
        b"Basic /w==", // not UTF-8 once decoded
    ] {
        let mut request =
            b"GET /notes.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: ".to_vec();
        request.extend_from_slice(field);
        request.extend_from_slice(b"\r\n\r\n");
        let response = server.raw(&request);
        assert_eq!(
            raw_status(&response),
            Some(401),
            "{}",
            String::from_utf8_lossy(field)
        );
    }
}

#[test]
fn a_cors_preflight_needs_no_credentials() {
    let fx = site();
    let mut flags = USERS.to_vec();
    flags.extend(["-q", "--cors"]);
    let server = fx.serve(&flags);
    let preflight = server.request(
        "OPTIONS",
        "/notes.txt",
        &[
            ("Origin", "https://example.org"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert!(preflight.body.is_empty());
    // The request it precedes still needs them.
    let r = server.request("GET", "/notes.txt", &[("Origin", "https://example.org")]);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
}
