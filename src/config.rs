//! `SANDSERVE_*` environment -> `Config`. The host sets these from its flags; under
//! `wasmtime serve` they come from `--env`, so every host configures the component the same
//! way. Unknown variables are ignored and malformed values fall back to the default.

use crate::visibility::Visibility;

/// Settings that change what the component serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Config {
    /// Whether dot-files are served and listed (`SANDSERVE_HIDDEN=1`).
    pub(crate) visibility: Visibility,
    /// List directories that have no index file (`SANDSERVE_NO_LISTING=1` turns it off).
    pub(crate) listing: bool,
    /// Index file names tried in order for a directory (`SANDSERVE_INDEX=a.html,b.htm`).
    pub(crate) index: Vec<String>,
    /// Served with 200 for GETs of missing paths that accept HTML (`SANDSERVE_SPA=index.html`).
    pub(crate) spa: Option<String>,
    /// Served with 404 for missing paths (`SANDSERVE_NOT_FOUND=404.html`).
    pub(crate) not_found: Option<String>,
    /// `Access-Control-Allow-Origin: *` and preflight answers (`SANDSERVE_CORS=1`).
    pub(crate) cors: bool,
    /// Extra response headers, one `Name: value` per line (`SANDSERVE_HEADERS`).
    pub(crate) headers: Vec<(String, String)>,
    /// Compress compressible responses on the fly (`SANDSERVE_NO_COMPRESS=1` turns it off).
    pub(crate) compress: bool,
    /// `Cache-Control` for files and listings (`SANDSERVE_CACHE_CONTROL`).
    pub(crate) cache_control: String,
    /// The XML-RPC API at `/RPC2` (`SANDSERVE_XMLRPC=1`).
    pub(crate) xmlrpc: bool,
    /// Where an embedding router mounts the server (`SANDSERVE_BASE_PATH=/files`): prefixed
    /// to the absolute URLs the component generates (redirects, breadcrumbs).
    pub(crate) base_path: String,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            visibility: Visibility::default(),
            listing: true,
            index: vec!["index.html".to_owned(), "index.htm".to_owned()],
            spa: None,
            not_found: None,
            cors: false,
            headers: Vec::new(),
            compress: true,
            // A local server's files change under it: caches may keep them but must ask.
            cache_control: "no-cache".to_owned(),
            xmlrpc: false,
            base_path: String::new(),
        }
    }
}

impl Config {
    /// Builds the configuration from `(name, value)` pairs such as `std::env::vars()`.
    pub(crate) fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Config {
        let mut config = Config::default();
        for (name, value) in vars {
            match name.as_str() {
                "SANDSERVE_HIDDEN" => config.visibility = Visibility::new(truthy(&value)),
                "SANDSERVE_NO_LISTING" => config.listing = !truthy(&value),
                "SANDSERVE_INDEX" => {
                    config.index = value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect();
                }
                "SANDSERVE_SPA" => config.spa = non_empty(&value),
                "SANDSERVE_NOT_FOUND" => config.not_found = non_empty(&value),
                "SANDSERVE_CORS" => config.cors = truthy(&value),
                "SANDSERVE_HEADERS" => config.headers = parse_headers(&value),
                "SANDSERVE_NO_COMPRESS" => config.compress = !truthy(&value),
                "SANDSERVE_XMLRPC" => config.xmlrpc = truthy(&value),
                "SANDSERVE_BASE_PATH" => config.base_path = base_path(&value),
                "SANDSERVE_CACHE_CONTROL" => {
                    if let Some(value) = non_empty(&value) {
                        config.cache_control = value;
                    }
                }
                _ => {}
            }
        }
        config
    }
}

/// `Name: value` lines; lines without a colon or with an invalid name are dropped (the host
/// validates `-H` before it gets here, this is for hand-written `--env`).
pub(crate) fn parse_headers(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            let name = name.trim();
            let valid = http::header::HeaderName::from_bytes(name.as_bytes()).is_ok()
                && http::header::HeaderValue::from_str(value.trim()).is_ok();
            valid.then(|| (name.to_owned(), value.trim().to_owned()))
        })
        .collect()
}

/// `/files/` -> `/files`; anything that is not a plain absolute path is ignored.
fn base_path(value: &str) -> String {
    let value = value.trim().trim_end_matches('/');
    let plain = value.starts_with('/')
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-._~".contains(&b));
    if plain {
        value.to_owned()
    } else {
        String::new()
    }
}

fn non_empty(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

fn truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Config {
        Config::from_vars(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(vars(&[]), Config::default());
        assert_eq!(
            vars(&[("SANDSERVE_HIDDEN", "1")]).visibility,
            Visibility::new(true)
        );
        assert_eq!(
            vars(&[("SANDSERVE_HIDDEN", "true")]).visibility,
            Visibility::new(true)
        );
        assert_eq!(
            vars(&[("SANDSERVE_HIDDEN", "0")]).visibility,
            Visibility::default()
        );
        assert!(!vars(&[("SANDSERVE_NO_LISTING", "1")]).listing);
        assert_eq!(
            vars(&[("SANDSERVE_INDEX", "home.html, ,default.htm")]).index,
            ["home.html", "default.htm"]
        );
        assert_eq!(
            vars(&[("SANDSERVE_SPA", "app.html")]).spa.as_deref(),
            Some("app.html")
        );
        assert_eq!(vars(&[("SANDSERVE_SPA", " ")]).spa, None);
        assert_eq!(
            vars(&[("SANDSERVE_NOT_FOUND", "404.html")])
                .not_found
                .as_deref(),
            Some("404.html")
        );
        assert!(vars(&[("SANDSERVE_CORS", "yes")]).cors);
        assert!(vars(&[("SANDSERVE_XMLRPC", "1")]).xmlrpc);
        assert_eq!(
            vars(&[("SANDSERVE_BASE_PATH", "/files/")]).base_path,
            "/files"
        );
        assert_eq!(vars(&[("SANDSERVE_BASE_PATH", "files\"><x")]).base_path, "");
        assert!(!vars(&[("SANDSERVE_NO_COMPRESS", "1")]).compress);
        assert_eq!(
            vars(&[("SANDSERVE_CACHE_CONTROL", "max-age=60")]).cache_control,
            "max-age=60"
        );
        assert_eq!(vars(&[("OTHER", "1")]), Config::default());
    }

    #[test]
    fn header_lines() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("X-A: 1", &[("X-A", "1")]),
            (
                "X-A: 1\nX-B:two words ",
                &[("X-A", "1"), ("X-B", "two words")],
            ),
            ("no colon\nX-C: ok", &[("X-C", "ok")]),
            ("bad name: x", &[]),
            ("X-D: a\rb", &[]),
            ("", &[]),
        ];
        for (text, want) in cases {
            let got = parse_headers(text);
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            assert_eq!(got, want, "{text:?}");
        }
    }
}
