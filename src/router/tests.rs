use http::header::{
    ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, LAST_MODIFIED,
    LOCATION, VARY,
};
use http::{Method, StatusCode};

use super::route;
use crate::config::Config;
use crate::fs::Timestamp;
use crate::header::{HeaderMap, HeaderValue};
use crate::memfs::MemFs;
use crate::path::SafePath;
use crate::reply::{Body, Reply};
use crate::request::Request;

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
    let mut map = HeaderMap::default();
    for (name, value) in headers {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    Request::new(method, target, map)
}

fn get(target: &str) -> Reply {
    route(&req(Method::GET, target, &[]), &tree(), &Config::default())
}

fn header(reply: &Reply, name: http::header::HeaderName) -> &str {
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
        Body::File {
            path, start, len, ..
        } => {
            assert_eq!(path.relative(), "hello.txt");
            assert_eq!((*start, *len), (0, 5));
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
    assert!(matches!(get("/docs/").body, Body::Text(_)));
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
    let Body::Text(page) = get("/").body else {
        panic!("root should list");
    };
    assert!(page.contains("hello.txt"));
    assert!(!page.contains(".env"));
    assert!(!page.contains(".git"));
    let config = Config {
        visibility: crate::visibility::Visibility::new(true),
        ..Config::default()
    };
    let reply = route(&req(Method::GET, "/", &[]), &tree(), &config);
    let Body::Text(page) = reply.body else {
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
    let Body::Text(page) = reply.body else {
        panic!()
    };
    assert!(page.contains("404 Not Found"));
    assert!(!page.contains("secret-name"));
}

#[test]
fn an_error_page_names_code_and_reason_in_title_and_heading() {
    let page = crate::reply::error_page(StatusCode::NOT_FOUND);
    assert!(page.starts_with("<!DOCTYPE html>\n"), "{page}");
    assert!(page.contains("<title>404 Not Found</title>"), "{page}");
    assert!(page.contains("<h1>404 Not Found</h1>"), "{page}");
    assert!(page.ends_with("</html>\n"), "{page}");
    let unnamed = crate::reply::error_page(StatusCode::from_u16(599).unwrap());
    assert!(unnamed.contains("<h1>599 Error</h1>"), "{unnamed}");
}

fn with(config: Config, method: Method, target: &str, headers: &[(&'static str, &str)]) -> Reply {
    route(&req(method, target, headers), &tree(), &config)
}

#[test]
fn cors_headers_and_preflight() {
    let cors = Config {
        cors: true,
        ..Config::default()
    };
    let reply = with(cors.clone(), Method::GET, "/hello.txt", &[]);
    assert_eq!(
        header(&reply, http::header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "*"
    );
    let missing = with(cors.clone(), Method::GET, "/missing", &[]);
    assert_eq!(
        header(&missing, http::header::ACCESS_CONTROL_ALLOW_ORIGIN),
        "*"
    );
    let pre = with(
        cors.clone(),
        Method::OPTIONS,
        "/hello.txt",
        &[("access-control-request-headers", "x-custom")],
    );
    assert_eq!(pre.status, StatusCode::NO_CONTENT);
    assert_eq!(
        header(&pre, http::header::ACCESS_CONTROL_ALLOW_METHODS),
        "GET, HEAD, OPTIONS"
    );
    assert_eq!(
        header(&pre, http::header::ACCESS_CONTROL_ALLOW_HEADERS),
        "x-custom"
    );
    assert_eq!(pre.body, Body::Empty);
    let plain = with(Config::default(), Method::OPTIONS, "/hello.txt", &[]);
    assert_eq!(plain.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(plain
        .headers
        .get(http::header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
}

#[test]
fn extra_headers_on_every_reply() {
    let config = Config {
        headers: vec![
            (
                http::header::X_FRAME_OPTIONS,
                HeaderValue::from_static("DENY"),
            ),
            (
                http::HeaderName::from_static("x-a"),
                HeaderValue::from_static("1"),
            ),
        ],
        ..Config::default()
    };
    for target in ["/hello.txt", "/missing", "/site", "/"] {
        let reply = with(config.clone(), Method::GET, target, &[]);
        assert_eq!(
            header(&reply, http::header::X_FRAME_OPTIONS),
            "DENY",
            "{target}"
        );
        assert_eq!(reply.headers.get("x-a").unwrap(), "1", "{target}");
    }
}

#[test]
fn spa_fallback_only_for_html_navigation() {
    let config = Config {
        spa: SafePath::from_config("site/index.html"),
        ..Config::default()
    };
    let html = [("accept", "text/html,application/xhtml+xml,*/*;q=0.8")];
    let reply = with(config.clone(), Method::GET, "/app/route/42", &html);
    assert_eq!(reply.status, StatusCode::OK);
    match reply.body {
        Body::File { path, .. } => assert_eq!(path.relative(), "site/index.html"),
        other => panic!("{other:?}"),
    }
    let asset = with(
        config.clone(),
        Method::GET,
        "/missing.js",
        &[("accept", "*/*")],
    );
    assert_eq!(asset.status, StatusCode::NOT_FOUND);
    let refused = with(
        config.clone(),
        Method::GET,
        "/x",
        &[("accept", "text/html;q=0")],
    );
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    // Existing files are served as themselves.
    let real = with(config, Method::GET, "/hello.txt", &html);
    assert!(matches!(real.body, Body::File { ref path, .. } if path.relative() == "hello.txt"));
}

#[test]
fn custom_not_found_page_keeps_404() {
    let config = Config {
        not_found: SafePath::from_config("site/about.html"),
        ..Config::default()
    };
    let reply = with(config.clone(), Method::GET, "/nope", &[]);
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(header(&reply, CONTENT_TYPE), "text/html; charset=utf-8");
    assert!(
        matches!(reply.body, Body::File { ref path, .. } if path.relative() == "site/about.html")
    );
    // A missing page falls back to the built-in one.
    let broken = Config {
        not_found: SafePath::from_config("nope.html"),
        ..Config::default()
    };
    let reply = with(broken, Method::GET, "/nope", &[]);
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(matches!(reply.body, Body::Text(_)));
    // Only 404s: a bad request stays a built-in 400.
    assert_eq!(
        with(config, Method::GET, "/%zz", &[]).status,
        StatusCode::BAD_REQUEST
    );
}

#[test]
fn no_listing_hides_directories_without_index() {
    let config = Config {
        listing: false,
        ..Config::default()
    };
    assert_eq!(
        with(config.clone(), Method::GET, "/docs/", &[]).status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        with(config, Method::GET, "/site/", &[]).status,
        StatusCode::OK
    );
}

#[test]
fn cache_control_default_and_configured() {
    let reply = get("/hello.txt");
    assert_eq!(header(&reply, http::header::CACHE_CONTROL), "no-cache");
    let config = Config {
        cache_control: HeaderValue::from_static("public, max-age=3600"),
        ..Config::default()
    };
    let reply = with(config.clone(), Method::GET, "/hello.txt", &[]);
    assert_eq!(
        header(&reply, http::header::CACHE_CONTROL),
        "public, max-age=3600"
    );
    let listing = with(config, Method::GET, "/", &[]);
    assert_eq!(
        header(&listing, http::header::CACHE_CONTROL),
        "public, max-age=3600"
    );
}

#[test]
fn basic_auth_guards_every_route_but_the_preflight() {
    let config = Config {
        users: crate::auth::Users::parse("me:secret").unwrap(),
        cors: true,
        xmlrpc: true,
        ..Config::default()
    };
    // "me:secret" and "me:wrong" in base64.
    let good = [("authorization", "Basic bWU6c2VjcmV0")];
    let bad = [("authorization", "Basic bWU6d3Jvbmc=")];
    let targets = [
        "/hello.txt",
        "/docs/",
        "/docs/?format=json",
        "/docs/?download=tar",
        "/missing",
        "/.env",
        "/RPC2",
        "/%zz",
    ];
    for target in targets {
        for headers in [&[][..], &bad[..]] {
            let reply = with(config.clone(), Method::GET, target, headers);
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{target}");
            assert_eq!(
                header(&reply, http::header::WWW_AUTHENTICATE),
                "Basic realm=\"sandserve\", charset=\"UTF-8\""
            );
            let Body::Text(page) = &reply.body else {
                panic!("{target}: {:?}", reply.body)
            };
            assert!(!page.contains("hello") && !page.contains("docs"), "{page}");
        }
        let reply = with(config.clone(), Method::GET, target, &good);
        assert_ne!(reply.status, StatusCode::UNAUTHORIZED, "{target}");
    }
    let head = with(config.clone(), Method::HEAD, "/hello.txt", &[]);
    assert_eq!(head.status, StatusCode::UNAUTHORIZED);
    assert_eq!(head.body, Body::Empty);
    // A preflight carries no credentials and gets its answer; other OPTIONS need them.
    let preflight = with(
        config.clone(),
        Method::OPTIONS,
        "/hello.txt",
        &[("access-control-request-method", "GET")],
    );
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert_eq!(
        with(config.clone(), Method::OPTIONS, "/hello.txt", &[]).status,
        StatusCode::UNAUTHORIZED
    );
    // No body is read for a request that will be refused.
    let post = req(Method::POST, "/RPC2", &[]);
    assert_eq!(super::body_limit(&post, &config), None);
    let post = req(Method::POST, "/RPC2", &good);
    assert!(super::body_limit(&post, &config).is_some());
}

/// A listing's weak ETag: `If-None-Match` with it is a 304 that keeps the page's headers and
/// renders nothing; any change to what the page shows changes it.
#[test]
fn listing_revalidates_with_a_weak_etag() {
    let config = Config::default();
    let on = |fs: &MemFs, target: &str, headers: &[(&'static str, &str)]| {
        route(&req(Method::GET, target, headers), fs, &config)
    };
    let fs = tree();
    let first = on(&fs, "/docs/", &[]);
    assert_eq!(first.status, StatusCode::OK);
    let tag = header(&first, ETAG).to_owned();
    assert!(
        tag.starts_with("W/\"") && tag.ends_with('"') && tag.len() > 6,
        "{tag}"
    );

    let again = on(&fs, "/docs/", &[("if-none-match", &tag)]);
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.body, Body::Empty);
    assert_eq!(header(&again, ETAG), tag);
    assert_eq!(header(&again, VARY), "Accept, Accept-Encoding");
    assert!(again.headers.contains_key(CACHE_CONTROL));
    // The opaque part compared weakly, as RFC 9110 §13.1.2 says, and in a list.
    let bare = tag.trim_start_matches("W/");
    let listed = format!("\"x\", {bare}");
    assert_eq!(
        on(&fs, "/docs/", &[("if-none-match", &listed)]).status,
        StatusCode::NOT_MODIFIED
    );
    // If-Match compares strongly, which a weak tag never passes.
    assert_eq!(
        on(&fs, "/docs/", &[("if-match", &tag)]).status,
        StatusCode::PRECONDITION_FAILED
    );

    let tag_of = |fs: &MemFs, target: &str, headers: &[(&'static str, &str)]| {
        let reply = on(fs, target, headers);
        assert_eq!(reply.status, StatusCode::OK, "{target}");
        header(&reply, ETAG).to_owned()
    };
    let changed = [
        tag_of(&tree().file("docs/new.txt", 1), "/docs/", &[]),
        tag_of(&tree().file("docs/a b.txt", 4), "/docs/", &[]),
        tag_of(
            &tree().modified(
                "docs/a b.txt",
                Some(Timestamp {
                    seconds: 7,
                    nanoseconds: 1,
                }),
            ),
            "/docs/",
            &[],
        ),
        tag_of(&fs, "/docs/?format=json", &[]),
        tag_of(&fs, "/docs/?sort=size", &[]),
        tag_of(&fs, "/docs/?order=desc", &[]),
        tag_of(&fs, "/site/", &[]),
    ];
    for (i, other) in changed.iter().enumerate() {
        assert_ne!(*other, tag, "change {i}");
        assert_eq!(
            on(&fs, "/docs/", &[("if-none-match", other)]).status,
            StatusCode::OK,
            "change {i}"
        );
    }
    // The same tree gives the same tag: it comes from what the page shows, nothing else.
    assert_eq!(tag_of(&tree(), "/docs/", &[]), tag);
}

/// A directory past one page: JSON pages chained by `next` list every entry once, in order,
/// each page says the total, and a cursor this server did not write is a 400.
#[test]
fn a_big_directory_lists_in_pages() {
    let count = crate::page::PAGE_SIZE + 3;
    let mut fs = tree().dir("big/sub").file("big/.hidden", 1);
    for i in 0..count {
        fs = fs.file(&format!("big/f{i:05}"), (i % 7) as u64);
    }
    let config = Config::default();
    let mut target = "/big/?format=json".to_owned();
    let mut names = Vec::new();
    let mut tags = Vec::new();
    for _ in 0..4 {
        let reply = route(&req(Method::GET, &target, &[]), &fs, &config);
        assert_eq!(reply.status, StatusCode::OK, "{target}");
        tags.push(header(&reply, ETAG).to_owned());
        let Body::Text(json) = reply.body else {
            panic!("not text")
        };
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(doc["total"], count + 1, "{target}");
        for entry in doc["entries"].as_array().unwrap() {
            names.push(entry["name"].as_str().unwrap().to_owned());
        }
        match doc["next"].as_str() {
            Some(next) => target = next.to_owned(),
            None => break,
        }
    }
    let mut want = vec!["sub".to_owned()];
    want.extend((0..count).map(|i| format!("f{i:05}")));
    assert_eq!(names, want);
    assert_eq!(tags.len(), 2);
    assert_ne!(tags[0], tags[1], "each page has its own validator");

    let html = route(&req(Method::GET, "/big/", &[]), &fs, &config);
    let Body::Text(html) = html.body else {
        panic!("not text")
    };
    assert!(html.contains("Entries 1&ndash;10,000 of 10,004"), "paged");
    assert!(html.contains("&amp;after=f%2Ff09998\" rel=\"next\">next page</a>"));

    for bad in ["/big/?after=zzz", "/big/?sort=size&after=f%2Ff00001"] {
        let reply = route(&req(Method::GET, bad, &[]), &fs, &config);
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // A cursor is only read by listings: an archive link with one still downloads.
    let tar = route(
        &req(Method::GET, "/big/?download=tar&after=zzz", &[]),
        &fs,
        &config,
    );
    assert_eq!(tar.status, StatusCode::OK);
}

/// A zip that could not be finished is refused before its first byte, saying what to do.
#[test]
fn a_zip_too_big_to_finish_is_refused_with_a_way_out() {
    let reply = super::zip_refused(2_000_001);
    assert_eq!(reply.status, StatusCode::INSUFFICIENT_STORAGE);
    let Body::Text(page) = reply.body else {
        panic!("not text")
    };
    assert!(page.contains("2000001 entries"), "{page}");
    assert!(page.contains("?download=tar"), "{page}");
    // A tree within the cap downloads.
    let ok = route(
        &req(Method::GET, "/docs/?download=zip", &[]),
        &tree(),
        &Config::default(),
    );
    assert_eq!(ok.status, StatusCode::OK);
}
