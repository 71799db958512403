use super::*;

fn ok(target: &str) -> String {
    SafePath::parse(target)
        .unwrap_or_else(|e| panic!("{target:?} refused: {e:?}"))
        .relative()
}

#[test]
fn accepts_and_normalises() {
    let cases: &[(&str, &str)] = &[
        ("/", "."),
        ("/a", "a"),
        ("/a/", "a"),
        ("/a/b/c.txt", "a/b/c.txt"),
        ("//a//b//", "a/b"),
        ("/./a/./b", "a/b"),
        ("/a/../b", "b"),
        ("/a/b/../../c", "c"),
        ("/a/..", "."),
        ("/a%20b", "a b"),
        ("/na%C3%AFve", "naïve"),
        ("/%E6%97%A5%E6%9C%AC", "日本"),
        ("/100%25", "100%"),
        ("/a%23b", "a#b"),
        ("/a%3Fb", "a?b"),
        ("/%2e%2e%2e", "..."),
        ("/a/%2e/b", "a/b"),
        ("/a/%2e%2e/b", "b"),
        ("/a+b", "a+b"),
        ("/C:", "C:"),
        ("/a;b", "a;b"),
    ];
    for (target, want) in cases {
        assert_eq!(ok(target), *want, "target {target:?}");
    }
}

#[test]
fn refuses_hostile_targets() {
    use PathError::*;
    let cases: &[(&str, PathError)] = &[
        ("", BadRequest),
        ("a/b", BadRequest),
        ("*", BadRequest),
        ("http://example.com/a", BadRequest),
        ("..", BadRequest),
        ("/..", NotFound),
        ("/../", NotFound),
        ("/../etc/passwd", NotFound),
        ("/a/../../etc/passwd", NotFound),
        ("/a/b/../../../x", NotFound),
        ("/%2e%2e", NotFound),
        ("/%2E%2E/", NotFound),
        ("/%2e%2e/etc/passwd", NotFound),
        ("/.%2e/x", NotFound),
        ("/%2e./x", NotFound),
        ("/a%2f..%2f..%2fetc", NotFound),
        ("/..%2f", NotFound),
        ("/%2f", NotFound),
        ("/%2F", NotFound),
        ("/a%2fb", NotFound),
        ("/..%5c..%5cetc", NotFound),
        ("/a%5cb", NotFound),
        ("/a\\b", NotFound),
        ("/..\\..\\etc", NotFound),
        ("/%00", NotFound),
        ("/a%00.txt", NotFound),
        ("/a%00/../b", NotFound),
        ("/%c0%ae%c0%ae/x", NotFound),
        ("/%c0%af", NotFound),
        ("/%e0%80%ae%e0%80%ae", NotFound),
        ("/%c1%9c", NotFound),
        ("/%ff", NotFound),
        ("/%fe%ff", NotFound),
        ("/%", BadRequest),
        ("/%2", BadRequest),
        ("/%zz", BadRequest),
        ("/%%32%65", BadRequest),
        ("/a%g0", BadRequest),
        ("/%u002e%u002e", BadRequest),
        ("/a/%2e%2e/%2e%2e/x", NotFound),
        ("/%2e%2e%2f", NotFound),
        ("/..%00/x", NotFound),
        ("/a/..%5c..%5c", NotFound),
        ("/%5c", NotFound),
        ("/a/b/c/../../../../", NotFound),
    ];
    assert!(cases.len() >= 40);
    for (target, want) in cases {
        assert_eq!(SafePath::parse(target), Err(*want), "target {target:?}");
    }
}

#[test]
fn double_encoding_decodes_once() {
    // `%252e` is the literal name `%2e`, never a dot: decoding twice is how servers leak.
    assert_eq!(ok("/%252e%252e/x"), "%2e%2e/x");
    assert_eq!(ok("/%252f"), "%2f");
}

#[test]
fn trailing_slash_and_display() {
    let p = SafePath::parse("/docs/na%C3%AFve%20notes/").unwrap();
    assert!(p.has_trailing_slash());
    assert_eq!(p.to_string(), "/docs/naïve notes/");
    assert_eq!(p.to_url(true), "/docs/na%C3%AFve%20notes/");
    let f = SafePath::parse("/a/b.txt").unwrap();
    assert!(!f.has_trailing_slash());
    assert_eq!(f.file_name(), Some("b.txt"));
    assert!(SafePath::parse("/a/.").unwrap().has_trailing_slash());
    assert!(SafePath::parse("/a/b/..").unwrap().has_trailing_slash());
    assert_eq!(SafePath::root().to_string(), "/");
    assert_eq!(SafePath::root().to_url(false), "/");
}

#[test]
fn url_round_trips_odd_names() {
    for name in [
        "a b",
        "100%",
        "a#b",
        "q?x",
        "say \"hi\"",
        "<tag>",
        "a&b",
        "naïve",
        "日本",
        "x'y",
    ] {
        let p = SafePath::root().join(name).unwrap();
        let url = p.to_url(false);
        assert!(
            !url[1..].contains(['/', '#', '?', ' ', '"', '<', '&']),
            "{url}"
        );
        assert_eq!(SafePath::parse(&url).unwrap(), p, "{name} via {url}");
    }
}

#[test]
fn config_paths_are_literal() {
    assert_eq!(
        SafePath::from_config("index.html").unwrap().relative(),
        "index.html"
    );
    assert_eq!(
        SafePath::from_config("/app/./index.html")
            .unwrap()
            .relative(),
        "app/index.html"
    );
    assert_eq!(
        SafePath::from_config("a%20b.html").unwrap().relative(),
        "a%20b.html"
    );
    assert!(SafePath::from_config("../outside.html").is_none());
    assert!(SafePath::from_config("a/../../x").is_none());
    assert!(SafePath::from_config("").is_none());
    assert!(SafePath::from_config("/").is_none());
}

#[test]
fn join_refuses_separators() {
    let root = SafePath::root();
    assert_eq!(root.join("index.html").unwrap().relative(), "index.html");
    assert!(root.join("a/b").is_none());
    assert!(root.join("..").is_none());
    assert!(root.join("").is_none());
}
