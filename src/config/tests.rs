use super::*;

fn vars(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_vars(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

fn ok(pairs: &[(&str, &str)]) -> Config {
    vars(pairs).unwrap()
}

#[test]
fn defaults_come_from_the_table() {
    let config = Config::default();
    assert_eq!(config.index, ["index.html", "index.htm"]);
    assert_eq!(config.cache_control, "no-cache");
    assert_eq!(config.visibility, Visibility::default());
    assert!(config.listing && config.compress && !config.cors && !config.xmlrpc);
    assert_eq!((config.spa.clone(), config.not_found.clone()), (None, None));
    assert!(!config.uploads());
    assert_eq!(config.max_upload, 1 << 30);
    assert_eq!(ok(&[("OTHER", "1"), ("SANDSERVE_UNKNOWN", "x")]), config);
}

#[test]
fn overrides() {
    assert_eq!(
        ok(&[("SANDSERVE_HIDDEN", "1")]).visibility,
        Visibility::new(true)
    );
    assert_eq!(
        ok(&[("SANDSERVE_HIDDEN", "true")]).visibility,
        Visibility::new(true)
    );
    assert_eq!(
        ok(&[("SANDSERVE_HIDDEN", "0")]).visibility,
        Visibility::default()
    );
    assert!(!ok(&[("SANDSERVE_NO_LISTING", "1")]).listing);
    assert_eq!(
        ok(&[("SANDSERVE_INDEX", "home.html, ,default.htm")]).index,
        ["home.html", "default.htm"]
    );
    assert_eq!(
        ok(&[("SANDSERVE_SPA", "app/index.html")]).spa,
        SafePath::from_config("app/index.html")
    );
    assert_eq!(ok(&[("SANDSERVE_SPA", " ")]).spa, None);
    assert_eq!(
        ok(&[("SANDSERVE_NOT_FOUND", "404.html")]).not_found,
        SafePath::from_config("404.html")
    );
    assert!(ok(&[("SANDSERVE_CORS", "yes")]).cors);
    assert!(ok(&[("SANDSERVE_XMLRPC", "1")]).xmlrpc);
    assert!(ok(&[("SANDSERVE_UPLOAD", "1")]).uploads());
    assert_eq!(ok(&[("SANDSERVE_MAX_UPLOAD", "64M")]).max_upload, 64 << 20);
    assert_eq!(ok(&[("SANDSERVE_MAX_UPLOAD", "100")]).max_upload, 100);
    assert_eq!(ok(&[(BASE_PATH_VAR, "/files/")]).base_path, "/files");
    assert!(!ok(&[("SANDSERVE_NO_COMPRESS", "1")]).compress);
    assert_eq!(
        ok(&[("SANDSERVE_CACHE_CONTROL", "max-age=60")]).cache_control,
        "max-age=60"
    );
}

#[test]
fn bad_values_are_errors_naming_the_variable() {
    let cases: &[(&str, &str)] = &[
        ("SANDSERVE_HIDDEN", "maybe"),
        ("SANDSERVE_INDEX", "a/b.html"),
        ("SANDSERVE_INDEX", ".."),
        ("SANDSERVE_SPA", "../outside.html"),
        ("SANDSERVE_NOT_FOUND", "a\0b"),
        ("SANDSERVE_HEADERS", "no colon"),
        ("SANDSERVE_HEADERS", "bad name: x"),
        ("SANDSERVE_HEADERS", "X-D: a\rb"),
        ("SANDSERVE_CACHE_CONTROL", ""),
        ("SANDSERVE_CACHE_CONTROL", "a\u{7f}"),
        (BASE_PATH_VAR, "files\"><x"),
        ("SANDSERVE_UPLOAD", "please"),
        ("SANDSERVE_MAX_UPLOAD", "lots"),
        ("SANDSERVE_MAX_UPLOAD", "1.5G"),
    ];
    for (var, value) in cases {
        let error = vars(&[(var, value)]).unwrap_err();
        assert_eq!(error.var, *var, "{value:?}");
        assert!(error.to_string().starts_with(var), "{error}");
    }
}

#[test]
fn header_lines() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("X-A: 1", &[("x-a", "1")]),
        (
            "X-A: 1\nX-B:two words ",
            &[("x-a", "1"), ("x-b", "two words")],
        ),
        ("\nX-C: ok\n", &[("x-c", "ok")]),
        ("", &[]),
    ];
    for (text, want) in cases {
        let got = ok(&[("SANDSERVE_HEADERS", text)]).headers;
        let got: Vec<(&str, &str)> = got
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(got, *want, "{text:?}");
    }
}

#[test]
fn the_table_is_consistent() {
    for (i, setting) in SETTINGS.iter().enumerate() {
        assert!(setting.flag.starts_with("--"), "{setting:?}");
        assert!(setting.var.starts_with("SANDSERVE_"), "{setting:?}");
        assert!(!setting.help.is_empty(), "{setting:?}");
        for other in &SETTINGS[i + 1..] {
            assert_ne!(setting.flag, other.flag);
            assert_ne!(setting.var, other.var);
        }
        // Every variable in the table is read: a switch takes 1, a value its default or a
        // sample.
        let sample = match (setting.value_name, setting.default) {
            (None, _) => "1",
            (Some(_), Some(default)) => default,
            (Some(_), None) if setting.repeatable => "X-Sample: 1",
            (Some(_), None) => "sample.html",
        };
        assert!(vars(&[(setting.var, sample)]).is_ok(), "{setting:?}");
    }
}
