//! The host's start-up: its banner, one-line errors for arguments it cannot serve with
//! (a missing root, a file as root, a taken port, a malformed setting), and the compiled
//! component cached between runs.

use sandserve_testkit::{native_host, Fixture};

#[test]
fn banner_names_address_and_port() {
    let fx = Fixture::new();
    let server = fx.serve_on(&native_host!(), &["-q"]);
    let port = server.addr.port();
    assert_eq!(
        server.banner.trim_end(),
        format!("Serving HTTP on 127.0.0.1 port {port} (http://127.0.0.1:{port}/) ...")
    );
}

#[test]
fn start_up_errors_exit_2_with_one_line() {
    let fx = Fixture::new();
    let file = fx.write("file.txt", "x");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let root = fx.root();
    let missing = root.join("missing");
    // (root, flags): the launcher adds `--port 0` unless the flags name a port.
    let cases: [(&std::path::Path, &[&str]); 3] =
        [(&missing, &[]), (&file, &[]), (&root, &["--port", &port])];
    for (root, flags) in cases {
        let out = native_host!().start_fails(root, flags);
        assert_eq!(out.code, Some(2), "{root:?} {flags:?}");
        let stderr = out.stderr;
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{root:?} {flags:?}: {stderr}"
        );
        assert!(stderr.starts_with("sandserve: error:"), "{stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"));
    }
}

#[test]
fn malformed_settings_are_one_line_errors_naming_the_flag() {
    let fx = Fixture::new();
    let cases: &[(&[&str], &str)] = &[
        (&["-H", "no colon"], "--header"),
        (&["-H", "bad name: x"], "--header"),
        (&["-H", "X-Ok: bad\u{7f}value"], "--header"),
        (&["--spa", "../outside.html"], "--spa"),
        (&["--not-found", "a/../../x.html"], "--not-found"),
        (&["--index", "sub/index.html"], "--index"),
        (&["--cache-control", ""], "--cache-control"),
    ];
    for (flags, flag) in cases {
        let out = native_host!().start_fails(&fx.root(), flags);
        assert_eq!(out.code, Some(2), "{flags:?}");
        let stderr = out.stderr;
        assert_eq!(stderr.trim_end().lines().count(), 1, "{flags:?}: {stderr}");
        assert!(
            stderr.starts_with(&format!("sandserve: error: {flag}: ")),
            "{flags:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "nothing listens: {flags:?}");
    }
}

#[test]
fn compiled_component_is_cached_and_a_bad_cache_is_ignored() {
    let fx = Fixture::new();
    fx.write("f.txt", "cached");
    let cache = tempfile::tempdir().unwrap();
    let host = native_host!().with_env("XDG_CACHE_HOME", cache.path());
    let start = || {
        let r = fx.serve_on(&host, &["-q"]).get("/f.txt");
        assert_eq!(r.status, 200);
        r.text()
    };
    assert_eq!(start(), "cached");
    let artifacts: Vec<_> = std::fs::read_dir(cache.path().join("sandserve"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(artifacts.len(), 1, "{artifacts:?}");
    assert_eq!(start(), "cached", "served from the cached artifact");
    std::fs::write(&artifacts[0], b"not a compiled component").unwrap();
    assert_eq!(
        start(),
        "cached",
        "a corrupt artifact is recompiled, not fatal"
    );
}
