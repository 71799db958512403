//! The host run as an unprivileged user, so file permissions bind it as they bind a real
//! user: an unreadable directory or file is `403` and reveals nothing, and the rest is
//! served.

use std::os::unix::fs::PermissionsExt;

use sandserve_testkit::{native_host, skip_unless, Fixture};

#[test]
fn unreadable_directory_and_file_are_403() {
    skip_unless!(privilege_drop);
    let fx = Fixture::new();
    fx.write("locked/secret.txt", "secret");
    fx.write("closed.txt", "closed");
    fx.write("open.txt", "open");
    let server = fx.serve_unprivileged(&native_host!(), &["-q"]);
    std::fs::set_permissions(
        fx.root().join("locked"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    std::fs::set_permissions(
        fx.root().join("closed.txt"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    assert_eq!(server.get("/open.txt").text(), "open");
    let listing = server.get("/locked/");
    assert_eq!(listing.status, 403);
    assert!(!listing.text().contains("secret"));
    assert_eq!(server.get("/closed.txt").status, 403);
    assert_eq!(server.get("/").status, 200);
    std::fs::set_permissions(
        fx.root().join("locked"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
}
