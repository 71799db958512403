//! The embedding example, run for real: an axum app with the file server at /files/.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn example() -> PathBuf {
    // target/<profile>/deps/embed-* -> target/<profile>/examples/axum
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/axum")
}

fn get(addr: &str, path: &str) -> String {
    String::from_utf8_lossy(&sandserve_testkit::get_once(addr, path)).into_owned()
}

#[test]
fn axum_app_mounts_the_sandboxed_file_server() {
    let outer = tempfile::tempdir().unwrap();
    // A canary beside the served directory: no request may ever return its bytes.
    std::fs::write(outer.path().join("canary.txt"), "CANARY-OUTSIDE").unwrap();
    let dir = outer.path().join("served");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("hello.txt"), "hello from the sandbox").unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/inner.txt"), "inner").unwrap();
    let mut child = Command::new(example())
        .arg(&dir)
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", example().display()));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .trim_start_matches("listening on http://")
        .trim_end_matches('/')
        .to_owned();

    let app = get(&addr, "/");
    assert!(app.ends_with("the host application\n"), "{app}");
    let file = get(&addr, "/files/hello.txt");
    assert!(file.starts_with("HTTP/1.1 200"), "{file}");
    assert!(file.ends_with("hello from the sandbox"), "{file}");
    let redirect = get(&addr, "/files/sub");
    assert!(redirect.starts_with("HTTP/1.1 301"), "{redirect}");
    assert!(
        redirect.to_lowercase().contains("location: /files/sub/"),
        "{redirect}"
    );
    let listing = get(&addr, "/files/sub/");
    assert!(listing.contains("href=\"inner.txt\""), "{listing}");
    assert!(
        listing.contains("<a href=\"/files/\">home</a>"),
        "{listing}"
    );
    for attack in [
        "/files/../canary.txt",
        "/files/%2e%2e/canary.txt",
        "/files/sub/..%2f..%2fcanary.txt",
    ] {
        let reply = get(&addr, attack);
        assert!(!reply.contains("CANARY-OUTSIDE"), "{attack}: {reply}");
    }
    let _ = child.kill();
    let _ = child.wait();
}
