//! Host flags that configure the component: each one observed over real HTTP.

use sandserve_testkit::Fixture;

fn site() -> Fixture {
    let fx = Fixture::new();
    fx.write(".env", "SECRET=1");
    fx.write(".well-known/security.txt", "contact");
    fx.write("visible.txt", "visible");
    fx.write("docs/readme.txt", "readme");
    fx.write("home/default.htm", "default page");
    fx.write("home/index.html", "index page");
    fx.write("app/index.html", "<html>spa shell</html>");
    fx.write("errors/404.html", "<h1>custom missing page</h1>");
    fx
}

#[test]
fn dot_files_hidden_by_default_and_shown_with_hidden() {
    let fx = site();
    let server = fx.serve(&["-q"]);
    assert_eq!(server.get("/.env").status, 404);
    assert_eq!(server.get("/.well-known/security.txt").status, 404);
    assert!(!server.get("/").text().contains(".env"));

    let server = fx.serve(&["-q", "--hidden"]);
    assert_eq!(server.get("/.env").text(), "SECRET=1");
    assert_eq!(server.get("/.well-known/security.txt").text(), "contact");
    let listing = server.get("/").text();
    assert!(listing.contains(".env") && listing.contains(".well-known/"));
}

#[test]
fn no_listing_gives_404_but_index_still_works() {
    let fx = site();
    let server = fx.serve(&["-q", "--no-listing"]);
    assert_eq!(server.get("/docs/").status, 404);
    assert_eq!(server.get("/").status, 404);
    assert_eq!(server.get("/home/").text(), "index page");
    assert_eq!(server.get("/docs/readme.txt").text(), "readme");
}

#[test]
fn index_names_in_the_given_order() {
    let fx = site();
    let server = fx.serve(&["-q", "--index", "default.htm,index.html"]);
    assert_eq!(server.get("/home/").text(), "default page");
    let server = fx.serve(&["-q", "--index", "nothing.html"]);
    assert!(server.get("/home/").text().contains("Index of /home/"));
}

#[test]
fn spa_serves_the_shell_for_navigations_only() {
    let fx = site();
    let server = fx.serve(&["-q", "--spa", "app/index.html"]);
    let nav = server.request("GET", "/app/users/42", &[("Accept", "text/html,*/*;q=0.8")]);
    assert_eq!(nav.status, 200);
    assert_eq!(nav.text(), "<html>spa shell</html>");
    let asset = server.request("GET", "/app/missing.js", &[("Accept", "*/*")]);
    assert_eq!(asset.status, 404);
    assert_eq!(server.get("/visible.txt").text(), "visible");
}

#[test]
fn not_found_page_is_served_with_404() {
    let fx = site();
    let server = fx.serve(&["-q", "--not-found", "errors/404.html"]);
    let r = server.get("/no/such/thing");
    assert_eq!(r.status, 404);
    assert_eq!(r.text(), "<h1>custom missing page</h1>");
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let head = server.request("HEAD", "/no/such/thing", &[]);
    assert_eq!(head.status, 404);
    assert!(head.body.is_empty());
}

#[test]
fn cors_and_preflight() {
    let fx = site();
    let server = fx.serve(&["-q", "--cors"]);
    let r = server.request("GET", "/visible.txt", &[("Origin", "https://example.org")]);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let pre = server.request(
        "OPTIONS",
        "/visible.txt",
        &[
            ("Origin", "https://example.org"),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "x-requested-with"),
        ],
    );
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    let methods = pre.header("access-control-allow-methods").unwrap();
    assert!(methods.contains("GET") && methods.contains("HEAD"));
    assert_eq!(
        pre.header("access-control-allow-headers"),
        Some("x-requested-with")
    );

    let plain = fx.serve(&["-q"]);
    assert_eq!(
        plain
            .get("/visible.txt")
            .header("access-control-allow-origin"),
        None
    );
    assert_eq!(plain.request("OPTIONS", "/visible.txt", &[]).status, 405);
}

#[test]
fn extra_headers_on_every_response() {
    let fx = site();
    let server = fx.serve(&[
        "-q",
        "-H",
        "X-Frame-Options: DENY",
        "--header",
        "X-Served-By: sandserve",
    ]);
    for path in ["/visible.txt", "/", "/missing", "/docs"] {
        let r = server.get(path);
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(r.header("x-served-by"), Some("sandserve"), "{path}");
    }
}

#[test]
fn cache_control_default_and_flag() {
    let fx = site();
    let server = fx.serve(&["-q"]);
    assert_eq!(
        server.get("/visible.txt").header("cache-control"),
        Some("no-cache")
    );
    let server = fx.serve(&["-q", "--cache-control", "public, max-age=600"]);
    assert_eq!(
        server.get("/visible.txt").header("cache-control"),
        Some("public, max-age=600")
    );
}
