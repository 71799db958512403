//! The XML-RPC API driven by Python's xmlrpc.client (tests/xmlrpc/client.py), and proof
//! that /RPC2 is an ordinary path when the API is off.

use std::process::Command;

use sandserve_testkit::{noise, Fixture};

#[test]
fn python_xmlrpc_client_drives_every_method_and_fault() {
    let fx = Fixture::new();
    fx.write("hello.txt", "hello, xml-rpc\n");
    fx.write(".env", "SECRET=1");
    fx.write("docs/readme.txt", "read me");
    fx.write("big.bin", noise((17 << 20) + 3, 11));
    fx.symlink(fx.outside(), "docs/escape");
    fx.symlink(fx.outside().join("canary.txt"), "escape.txt");
    let before = fx.tree_hash();
    // With --upload too: files.* stays read-only, and the tree stays as it was.
    let server = fx.serve(&["-q", "--xmlrpc", "--upload"]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/xmlrpc/client.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(server.url(""))
        .arg(fx.root())
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("passed, 0 failed"), "{stdout}");
    assert_eq!(fx.tree_hash(), before);
}

#[test]
fn rpc2_is_an_ordinary_path_without_the_flag() {
    let fx = Fixture::new();
    let server = fx.serve(&["-q"]);
    assert_eq!(server.get("/RPC2").status, 404);
    let r = server.request("POST", "/RPC2", &[("Content-Type", "text/xml")]);
    assert_eq!(r.status, 405);
    fx.write("RPC2", "just a file");
    assert_eq!(server.get("/RPC2").text(), "just a file");
}
