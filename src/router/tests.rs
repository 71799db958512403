use http::header::{
    ALLOW, CONTENT_LENGTH, CONTENT_TYPE, IF_MODIFIED_SINCE, LAST_MODIFIED, LOCATION,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::{route, Request};
use crate::config::Config;
use crate::memfs::MemFs;
use crate::reply::{Body, Reply};

fn tree() -> MemFs {
    MemFs::new()
        .file("hello.txt", 5)
        .file("site/index.html", 20)
        .file("site/about.html", 9)
        .file("docs/a b.txt", 3)
        .file("docs/home.htm", 3)
        .file(".env", 9)
        .file(".git/config", 9)
        .file("data/x.json", 2)
        .special("fifo")
        .dir("locked")
        .deny("locked")
}

fn req(method: Method, target: &str, headers: &[(&'static str, &str)]) -> Request {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    Request {
        method,
        target: target.to_owned(),
        headers: map,
    }
}

fn get(target: &str) -> Reply {
    route(&req(Method::GET, target, &[]), &tree(), &Config::default())
}

fn header<'a>(reply: &'a Reply, name: http::header::HeaderName) -> &'a str {
    reply
        .headers
        .get(&name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

#[test]
fn statuses() {
    let cases: &[(&str, StatusCode)] = &[
        ("/hello.txt", StatusCode::OK),
        ("/hello.txt?x=1", StatusCode::OK),
        ("/missing", StatusCode::NOT_FOUND),
        ("/hello.txt/", StatusCode::NOT_FOUND),
        ("/../hello.txt", StatusCode::NOT_FOUND),
        ("/%2e%2e/hello.txt", StatusCode::NOT_FOUND),
        ("/.env", StatusCode::NOT_FOUND),
        ("/.git/config", StatusCode::NOT_FOUND),
        ("/fifo", StatusCode::NOT_FOUND),
        ("/locked/", StatusCode::FORBIDDEN),
        ("/%zz", StatusCode::BAD_REQUEST),
        ("*", StatusCode::BAD_REQUEST),
        ("/site", StatusCode::MOVED_PERMANENTLY),
        ("/site/", StatusCode::OK),
        ("/docs/", StatusCode::OK),
        ("/", StatusCode::OK),
    ];
    for (target, want) in cases {
        assert_eq!(get(target).status, *want, "{target}");
    }
}

#[test]
fn file_headers_and_body() {
    let reply = get("/hello.txt");
    assert_eq!(header(&reply, CONTENT_TYPE), "text/plain; charset=utf-8");
    assert_eq!(header(&reply, CONTENT_LENGTH), "5");
    assert_eq!(
        header(&reply, LAST_MODIFIED),
        "Tue, 14 Nov 2023 22:13:20 GMT"
    );
    match &reply.body {
        Body::File { path, len } => {
            assert_eq!(path.relative(), "hello.txt");
            assert_eq!(*len, 5);
        }
        other => panic!("unexpected body {other:?}"),
    }
}

#[test]
fn head_keeps_headers_drops_body() {
    let reply = route(
        &req(Method::HEAD, "/hello.txt", &[]),
        &tree(),
        &Config::default(),
    );
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(header(&reply, CONTENT_LENGTH), "5");
    assert_eq!(reply.body, Body::Empty);
    let listing = route(
        &req(Method::HEAD, "/docs/", &[]),
        &tree(),
        &Config::default(),
    );
    assert_eq!(listing.body, Body::Empty);
    assert_ne!(header(&listing, CONTENT_LENGTH), "0");
}

#[test]
fn other_methods_get_405_with_allow() {
    for method in [
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
    ] {
        let reply = route(
            &req(method.clone(), "/hello.txt", &[]),
            &tree(),
            &Config::default(),
        );
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(header(&reply, ALLOW), "GET, HEAD");
    }
}

#[test]
fn redirect_keeps_query_and_encodes() {
    let reply = get("/site?x=1&y=2");
    assert_eq!(header(&reply, LOCATION), "/site/?x=1&y=2");
    let tree = MemFs::new().dir("a b");
    let reply = route(&req(Method::GET, "/a%20b", &[]), &tree, &Config::default());
    assert_eq!(header(&reply, LOCATION), "/a%20b/");
}

#[test]
fn index_files_in_order() {
    let reply = get("/site/");
    match reply.body {
        Body::File { path, .. } => assert_eq!(path.relative(), "site/index.html"),
        other => panic!("{other:?}"),
    }
    // docs/ has only home.htm, which is not a default index: a listing.
    assert!(matches!(get("/docs/").body, Body::Html(_)));
    let config = Config {
        index: vec!["nope.html".into(), "home.htm".into()],
        ..Config::default()
    };
    let reply = route(&req(Method::GET, "/docs/", &[]), &tree(), &config);
    match reply.body {
        Body::File { path, .. } => assert_eq!(path.relative(), "docs/home.htm"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn listing_hides_dot_files_unless_configured() {
    let Body::Html(page) = get("/").body else {
        panic!("root should list");
    };
    assert!(page.contains("hello.txt"));
    assert!(!page.contains(".env"));
    assert!(!page.contains(".git"));
    let config = Config {
        hidden: true,
        ..Config::default()
    };
    let reply = route(&req(Method::GET, "/", &[]), &tree(), &config);
    let Body::Html(page) = reply.body else {
        panic!()
    };
    assert!(page.contains(".env"));
    let reply = route(&req(Method::GET, "/.env", &[]), &tree(), &config);
    assert_eq!(reply.status, StatusCode::OK);
}

#[test]
fn if_modified_since() {
    let cases: &[(&str, StatusCode)] = &[
        ("Tue, 14 Nov 2023 22:13:20 GMT", StatusCode::NOT_MODIFIED),
        ("Wed, 15 Nov 2023 00:00:00 GMT", StatusCode::NOT_MODIFIED),
        ("Tue, 14 Nov 2023 22:13:19 GMT", StatusCode::OK),
        ("not a date", StatusCode::OK),
    ];
    for (date, want) in cases {
        let reply = route(
            &req(
                Method::GET,
                "/hello.txt",
                &[(IF_MODIFIED_SINCE.as_str(), date)],
            ),
            &tree(),
            &Config::default(),
        );
        assert_eq!(reply.status, *want, "{date}");
        if *want == StatusCode::NOT_MODIFIED {
            assert_eq!(reply.body, Body::Empty);
        }
    }
}

#[test]
fn error_pages_name_no_paths() {
    let reply = get("/missing/secret-name");
    let Body::Html(page) = reply.body else {
        panic!()
    };
    assert!(page.contains("404 Not Found"));
    assert!(!page.contains("secret-name"));
}
