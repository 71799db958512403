//! Request target -> `SafePath`: the only way a URL becomes a name inside the served root.
//!
//! Rules (RFC 3986 §3.3, §5.2.4, applied per segment so an encoded `/` can never split one):
//! each segment is percent-decoded on its own and must be
//! UTF-8 without NUL, `/` or `\`; `.` and empty segments vanish; `..` removes the previous
//! segment, and a `..` with nothing left to remove is refused rather than clamped, because a
//! client that tries to climb out of the root is not asking for the root.

use std::fmt;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

/// Why a request target cannot name anything inside the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathError {
    /// Not an origin-form path, or broken percent-encoding: the request itself is malformed.
    BadRequest,
    /// Well-formed, but it cannot name a file in the root (NUL, `\`, encoded `/`, climbing).
    NotFound,
}

/// A normalised path inside the served root. Only [`SafePath::parse`] builds one, so holding a
/// `SafePath` is proof that no segment is empty, `.`, `..`, or contains a separator or NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SafePath {
    segments: Vec<String>,
    trailing_slash: bool,
}

/// Characters escaped in a path segment of a URL we generate (links, `Location`): everything
/// outside RFC 3986 `pchar`, plus the ones that would end or split a segment.
pub(crate) const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'\'')
    .add(b'&');

impl SafePath {
    /// Parses the path of a request target (`/a/b`, the query already split off by
    /// `Request::new`) into a path inside the root.
    pub(crate) fn parse(path: &str) -> Result<SafePath, PathError> {
        let rest = path.strip_prefix('/').ok_or(PathError::BadRequest)?;

        let mut segments: Vec<String> = Vec::new();
        let mut trailing_slash = true;
        for raw in rest.split('/') {
            let segment = decode_segment(raw)?;
            match segment.as_str() {
                "" | "." => trailing_slash = true,
                ".." => {
                    segments.pop().ok_or(PathError::NotFound)?;
                    trailing_slash = true;
                }
                _ => {
                    segments.push(segment);
                    trailing_slash = false;
                }
            }
        }
        Ok(SafePath {
            segments,
            trailing_slash,
        })
    }

    /// The root itself.
    pub(crate) fn root() -> SafePath {
        SafePath {
            segments: Vec::new(),
            trailing_slash: true,
        }
    }

    /// A path from configuration (`--spa app/index.html`), relative to the root. Unlike a
    /// URL it is not percent-decoded; it obeys the same segment rules.
    pub(crate) fn from_config(path: &str) -> Option<SafePath> {
        let mut out = SafePath::root();
        for segment in path.split('/').filter(|s| !s.is_empty() && *s != ".") {
            out = out.join(segment)?;
        }
        (!out.is_root()).then_some(out)
    }

    /// This path with one more (already validated) segment, e.g. an index file name.
    pub(crate) fn join(&self, name: &str) -> Option<SafePath> {
        let mut joined = SafePath::parse(&format!("/{}", utf8_percent_encode(name, SEGMENT)))
            .ok()
            .filter(|p| p.segments.len() == 1)?;
        let mut segments = self.segments.clone();
        segments.append(&mut joined.segments);
        Some(SafePath {
            segments,
            trailing_slash: false,
        })
    }

    /// The sibling named like this file plus `suffix` (`a/b.css` -> `a/b.css.gz`).
    pub(crate) fn with_suffix(&self, suffix: &str) -> Option<SafePath> {
        let (last, parents) = self.segments.split_last()?;
        let mut segments = parents.to_vec();
        segments.push(format!("{last}{suffix}"));
        Some(SafePath {
            segments,
            trailing_slash: false,
        })
    }

    pub(crate) fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// Whether the request named a directory (ended in `/`, `/.` or `/..`).
    pub(crate) fn has_trailing_slash(&self) -> bool {
        self.trailing_slash
    }

    pub(crate) fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The last segment, or `None` for the root.
    pub(crate) fn file_name(&self) -> Option<&str> {
        self.segments.last().map(String::as_str)
    }

    /// The path relative to the preopened root, as WASI `open-at` wants it (`.` for the root).
    pub(crate) fn relative(&self) -> String {
        if self.segments.is_empty() {
            ".".to_owned()
        } else {
            self.segments.join("/")
        }
    }

    /// The path as a percent-encoded URL path, with a trailing `/` when `dir` is set.
    pub(crate) fn to_url(&self, dir: bool) -> String {
        let mut url =
            String::with_capacity(self.segments.iter().map(|s| s.len() + 1).sum::<usize>() + 1);
        for segment in &self.segments {
            url.push('/');
            url.extend(utf8_percent_encode(segment, SEGMENT));
        }
        if dir || self.segments.is_empty() {
            url.push('/');
        }
        url
    }
}

impl fmt::Display for SafePath {
    /// The decoded path as a person reads it (`/docs/naïve notes/`), for titles and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for segment in &self.segments {
            write!(f, "/{segment}")?;
        }
        if self.trailing_slash || self.segments.is_empty() {
            f.write_str("/")?;
        }
        Ok(())
    }
}

fn decode_segment(raw: &str) -> Result<String, PathError> {
    if !well_formed_escapes(raw) {
        return Err(PathError::BadRequest);
    }
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| PathError::NotFound)?;
    if decoded.contains(['\0', '/', '\\']) {
        return Err(PathError::NotFound);
    }
    Ok(decoded.into_owned())
}

/// Every `%` must start a two-hex-digit escape; `percent_decode` would pass bad ones through.
fn well_formed_escapes(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let ok = bytes.len() > i + 2
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit();
            if !ok {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

#[cfg(test)]
mod tests {
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
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Targets built from the characters that matter to traversal, so the search spends its
    /// time on dots, separators and escapes rather than on letters.
    fn hostile_target() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("/".to_owned()),
            Just(".".to_owned()),
            Just("..".to_owned()),
            Just("%2e".to_owned()),
            Just("%2f".to_owned()),
            Just("%5c".to_owned()),
            Just("%00".to_owned()),
            Just("%25".to_owned()),
            Just("%".to_owned()),
            Just("\\".to_owned()),
            Just("?".to_owned()),
            Just("#".to_owned()),
            "[a-z]{1,3}",
            "\\PC{1,2}",
        ];
        prop::collection::vec(piece, 0..24).prop_map(|parts| format!("/{}", parts.concat()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Whatever the target, a parsed path joined under a root stays under that root.
        #[test]
        fn never_leaves_the_root(target in hostile_target()) {
            if let Ok(path) = SafePath::parse(&target) {
                let mut resolved = std::path::PathBuf::from("/srv/root");
                for segment in path.segments() {
                    prop_assert!(!segment.is_empty() && segment != "." && segment != "..");
                    prop_assert!(!segment.contains(['/', '\\', '\0']));
                    resolved.push(segment);
                }
                prop_assert!(resolved.starts_with("/srv/root"));
                prop_assert_eq!(resolved.components().count(), 3 + path.segments().len());
            }
        }

        /// Normalising is idempotent: a parsed path, printed as a URL, parses to itself.
        #[test]
        fn idempotent(target in hostile_target()) {
            if let Ok(path) = SafePath::parse(&target) {
                let again = SafePath::parse(&path.to_url(path.has_trailing_slash()));
                prop_assert_eq!(again, Ok(path));
            }
        }
    }
}
