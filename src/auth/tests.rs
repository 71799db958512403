use super::*;

const SECRET_SHA256: &str = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";

fn users() -> Users {
    Users::parse(&format!(
        "me:p:w d\nyou:sha256:{SECRET_SHA256}\n\nnaïve:日本"
    ))
    .unwrap()
}

fn headers(lines: &[&[u8]]) -> HeaderMap {
    let mut headers = HeaderMap::default();
    for line in lines {
        headers.append(AUTHORIZATION, HeaderValue::from_bytes(line).unwrap());
    }
    headers
}

fn basic(user_password: &str) -> Vec<u8> {
    let token = base64::engine::general_purpose::STANDARD.encode(user_password);
    format!("Basic {token}").into_bytes()
}

#[test]
fn plain_and_hashed_users() {
    let users = users();
    let cases: &[(&str, Option<&str>)] = &[
        ("me:p:w d", Some("me")),
        ("you:secret", Some("you")),
        ("naïve:日本", Some("naïve")),
        ("me:p:w", None),
        ("me:", None),
        ("you:SECRET", None),
        (
            "you:sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
            None,
        ),
        ("nobody:secret", None),
        ("Me:p:w d", None),
        (":p:w d", None),
    ];
    for (given, want) in cases {
        assert_eq!(
            users.authenticate(&headers(&[&basic(given)])).as_deref(),
            *want,
            "{given:?}"
        );
    }
}

#[test]
fn malformed_fields_are_not_authenticated() {
    let users = users();
    let good = basic("me:p:w d");
    let huge = format!("Basic {}", "A".repeat(MAX_FIELD));
    let cases: Vec<Vec<&[u8]>> = vec![
        vec![],
        vec![b"Basic"],
        vec![b"Basic "],
        vec![b"Basic !!!notbase64"],
        vec![b"Basic bWU="],          // "me": no colon
        vec![b"Basic /w=="],          // not UTF-8
        vec![b"Bearer bWU6cDp3IGQ="], // another scheme
        vec![b"Basic  bWU6cDp3IGQ="], // two spaces
        vec![b"Basic bWU6cDp3IGQ"],   // padding missing
        vec![huge.as_bytes()],
        vec![&good, &good], // two field lines
    ];
    for lines in cases {
        assert_eq!(users.authenticate(&headers(&lines)), None, "{lines:?}");
    }
    // The scheme is case-insensitive.
    let mut lower = good.clone();
    lower[..5].copy_from_slice(b"bASIC");
    assert_eq!(
        users.authenticate(&headers(&[&lower])).as_deref(),
        Some("me")
    );
}

#[test]
fn bad_entries_are_errors() {
    for bad in [
        "nocolon",
        ":password",
        "me:sha256:abc",
        &format!("me:sha256:{}", SECRET_SHA256.to_uppercase()),
        &format!("me:sha256:{SECRET_SHA256}0"),
    ] {
        assert!(Users::parse(bad).is_err(), "{bad:?}");
    }
    for bad in ["me:", "me:a\tb", "me:x\nme:y", "me:x\n\nyou:y\nme:z"] {
        assert!(Users::parse(bad).is_err(), "{bad:?}");
    }
    let error = Users::parse("me:ok\nyou:pass\u{7f}word").unwrap_err();
    assert!(
        error.starts_with("entry 2:") && !error.contains("pass"),
        "{error}"
    );
    assert!(Users::parse("").unwrap().is_empty());
}

#[test]
fn the_user_name_alone_for_a_log() {
    assert_eq!(basic_user(&basic("me:p:w d")).as_deref(), Some("me"));
    assert_eq!(basic_user(&basic("naïve:x")).as_deref(), Some("naïve"));
    for bad in [
        basic(":pw"),
        basic("nocolon"),
        b"Bearer bWU6eA==".to_vec(),
        b"Basic".to_vec(),
    ] {
        assert_eq!(basic_user(&bad), None, "{}", String::from_utf8_lossy(&bad));
    }
}

#[test]
fn debug_shows_no_digest() {
    let shown = format!("{:?}", users());
    assert_eq!(shown, "Users(3 configured)");
}
