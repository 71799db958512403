use http::{Method, StatusCode};

use super::*;
use crate::header::{HeaderMap, HeaderValue};
use crate::memfs::MemFs;
use crate::router::route;
use crate::sink::testing::VecSink;

fn tree() -> MemFs {
    MemFs::new()
        .file("notes.txt", 12)
        .file("a b/inner.txt", 3)
        .file(".env", 9)
        .file("sub/.git/config", 1)
        .special("fifo")
        .symlink("alias.txt", "notes.txt")
}

fn config(vars: &[(&str, &str)]) -> Config {
    let mut all = vec![("SANDSERVE_WEBDAV".to_owned(), "1".to_owned())];
    all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_vars(all).unwrap()
}

fn dav(method: &str, target: &str, depth: Option<&str>, body: &[u8], config: &Config) -> Reply {
    let mut headers = HeaderMap::default();
    if let Some(depth) = depth {
        headers.insert("depth", HeaderValue::from_str(depth).unwrap());
    }
    let mut request = Request::new(
        Method::from_bytes(method.as_bytes()).unwrap(),
        target,
        headers,
    );
    if crate::router::body_limit(&request, config).is_some() {
        request.body = RequestBody::Read(body.to_vec());
    }
    route(&request, &tree(), config)
}

/// The whole body: text, or a streamed collection written through a sink.
fn body_of(reply: &Reply) -> String {
    match &reply.body {
        Body::Text(text) => text.clone(),
        Body::Multistatus(collection) => {
            let fs = tree();
            let mut sink = VecSink::new(&fs);
            assert!(multistatus::stream(&fs, collection, &mut sink));
            String::from_utf8(sink.bytes).unwrap()
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn without_the_flag_every_dav_method_is_405() {
    let off = Config::default();
    for method in ["PROPFIND", "OPTIONS", "PROPPATCH", "MKCOL", "LOCK"] {
        let reply = dav(method, "/", Some("1"), b"", &off);
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(reply.headers["allow"], "GET, HEAD");
    }
}

#[test]
fn options_says_class_1_and_what_is_allowed() {
    let reply = dav("OPTIONS", "/notes.txt", None, b"", &config(&[]));
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["dav"], "1");
    assert_eq!(reply.headers["allow"], "GET, HEAD, OPTIONS, PROPFIND");
    let upload = dav(
        "OPTIONS",
        "/",
        None,
        b"",
        &config(&[("SANDSERVE_UPLOAD", "1")]),
    );
    assert_eq!(
        upload.headers["allow"],
        "GET, HEAD, POST, OPTIONS, PROPFIND, MKCOL"
    );
    // Other DAV methods stay 405, with the same list.
    let reply = dav("MKCOL", "/new/", None, b"", &config(&[]));
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.headers["allow"], "GET, HEAD, OPTIONS, PROPFIND");
}

#[test]
fn a_file_at_depth_0() {
    let reply = dav("PROPFIND", "/notes.txt", Some("0"), b"", &config(&[]));
    assert_eq!(reply.status, StatusCode::MULTI_STATUS);
    assert_eq!(
        reply.headers["content-type"],
        "application/xml; charset=utf-8"
    );
    let xml = body_of(&reply);
    assert!(xml.contains("<D:href>/notes.txt</D:href>"), "{xml}");
    assert!(xml.contains("<D:getcontentlength>12</D:getcontentlength>"));
    assert!(xml.contains("<D:resourcetype></D:resourcetype>"));
    assert_eq!(xml.matches("<D:response>").count(), 1);
    // Depth 1 of a file is the file.
    let one = body_of(&dav("PROPFIND", "/notes.txt", Some("1"), b"", &config(&[])));
    assert_eq!(one, xml);
}

#[test]
fn a_collection_at_depth_1_shows_what_a_listing_shows() {
    // Named without its slash: answered as the collection, href with the slash.
    let reply = dav("PROPFIND", "/", Some("1"), b"", &config(&[]));
    assert_eq!(reply.status, StatusCode::MULTI_STATUS);
    let xml = body_of(&reply);
    for href in ["/", "/notes.txt", "/a%20b/", "/alias.txt", "/sub/"] {
        assert!(
            xml.contains(&format!("<D:href>{href}</D:href>")),
            "{href}: {xml}"
        );
    }
    assert_eq!(xml.matches("<D:response>").count(), 5, "{xml}");
    assert!(!xml.contains(".env") && !xml.contains("fifo"));
    let sub = body_of(&dav("PROPFIND", "/a%20b", Some("1"), b"", &config(&[])));
    assert!(sub.contains("<D:href>/a%20b/</D:href>"));
    assert!(sub.contains("<D:href>/a%20b/inner.txt</D:href>"));
    assert!(sub.contains("<D:displayname>a b</D:displayname>"));
    // With --hidden the dot-file is a resource like any other.
    let hidden = body_of(&dav(
        "PROPFIND",
        "/",
        Some("1"),
        b"",
        &config(&[("SANDSERVE_HIDDEN", "1")]),
    ));
    assert!(hidden.contains("<D:href>/.env</D:href>"));
    // A base path prefixes every href.
    let mounted = config(&[("SANDSERVE_BASE_PATH", "/files")]);
    let xml = body_of(&dav("PROPFIND", "/a%20b/", Some("1"), b"", &mounted));
    assert!(
        xml.contains("<D:href>/files/a%20b/inner.txt</D:href>"),
        "{xml}"
    );
}

#[test]
fn asked_properties_and_missing_ones() {
    let asked = br#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>
        <D:getcontentlength/><D:quota-available-bytes/></D:prop></D:propfind>"#;
    let xml = body_of(&dav(
        "PROPFIND",
        "/notes.txt",
        Some("0"),
        asked,
        &config(&[]),
    ));
    assert!(xml.contains("<D:getcontentlength>12</D:getcontentlength>"));
    assert!(xml.contains("<D:quota-available-bytes/></D:prop><D:status>HTTP/1.1 404 Not Found"));
    assert!(!xml.contains("getetag"));
    let names = br#"<propfind xmlns="DAV:"><propname/></propfind>"#;
    let xml = body_of(&dav(
        "PROPFIND",
        "/notes.txt",
        Some("0"),
        names,
        &config(&[]),
    ));
    assert!(xml.contains("<D:getetag/>"));
}

#[test]
fn refusals() {
    let on = config(&[]);
    let status = |method: &str, target: &str, depth: Option<&str>, body: &[u8], c: &Config| {
        dav(method, target, depth, body, c).status
    };
    let infinite = dav("PROPFIND", "/", None, b"", &on);
    assert_eq!(infinite.status, StatusCode::FORBIDDEN);
    assert!(body_of(&infinite).contains("<D:propfind-finite-depth/>"));
    assert_eq!(
        status("PROPFIND", "/", Some("infinity"), b"", &on),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status("PROPFIND", "/", Some("2"), b"", &on),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status("PROPFIND", "/", Some("1"), b"<propfind", &on),
        StatusCode::BAD_REQUEST
    );
    for hidden in [
        "/.env",
        "/sub/.git/config",
        "/fifo",
        "/missing",
        "/notes.txt/",
    ] {
        assert_eq!(
            status("PROPFIND", hidden, Some("0"), b"", &on),
            StatusCode::NOT_FOUND,
            "{hidden}"
        );
    }
    assert_eq!(
        status("PROPFIND", "/../notes.txt", Some("0"), b"", &on),
        StatusCode::NOT_FOUND
    );
    let no_listing = config(&[("SANDSERVE_NO_LISTING", "1")]);
    assert_eq!(
        status("PROPFIND", "/", Some("1"), b"", &no_listing),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status("PROPFIND", "/a%20b/", Some("0"), b"", &no_listing),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status("PROPFIND", "/notes.txt", Some("0"), b"", &no_listing),
        StatusCode::MULTI_STATUS
    );
    let auth = config(&[("SANDSERVE_AUTH", "me:secret")]);
    assert_eq!(
        status("PROPFIND", "/", Some("1"), b"", &auth),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status("OPTIONS", "/", None, b"", &auth),
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn proppatch_refuses_each_property_and_changes_nothing() {
    let body = br#"<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z">
        <D:set><D:prop><Z:author>me</Z:author></D:prop></D:set></D:propertyupdate>"#;
    let modify = config(&[("SANDSERVE_MODIFY", "1")]);
    let reply = dav("PROPPATCH", "/notes.txt", None, body, &modify);
    assert_eq!(reply.status, StatusCode::MULTI_STATUS);
    let xml = body_of(&reply);
    assert!(xml.contains("<D:href>/notes.txt</D:href>"), "{xml}");
    assert!(xml.contains(
        "<x:author xmlns:x=\"urn:z\"/></D:prop><D:status>HTTP/1.1 403 Forbidden</D:status>"
    ));
    assert_eq!(
        dav("PROPPATCH", "/notes.txt", None, b"<nope", &modify).status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        dav("PROPPATCH", "/missing", None, body, &modify).status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        dav("PROPPATCH", "/notes.txt", None, body, &config(&[])).status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[test]
fn a_fragment_on_a_change_is_refused_not_guessed() {
    let modify = config(&[("SANDSERVE_MODIFY", "1")]);
    let delete = dav("DELETE", "/a%20b/#inner.txt", None, b"", &modify);
    assert_eq!(delete.status, StatusCode::BAD_REQUEST);
    // A safe request keeps dropping it, as a browser's link would have it.
    assert_eq!(
        dav("GET", "/notes.txt#top", None, b"", &modify).status,
        StatusCode::OK
    );
}
