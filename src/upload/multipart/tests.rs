use super::*;

const CT: &str = "multipart/form-data; boundary=XyZ";

/// An event with its bytes owned, adjacent data merged, so that any chunking of the same
/// body gives the same list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owned {
    Part(Option<String>, Option<String>),
    Data(Vec<u8>),
    End,
}

fn parse_in(content_type: &str, body: &[u8], chunk: usize) -> Result<Vec<Owned>, MultipartError> {
    let mut parser = Parser::new(content_type)?;
    let mut events: Vec<Owned> = Vec::new();
    for piece in body.chunks(chunk.max(1)) {
        parser.feed(piece, &mut |event| {
            match event {
                Event::Part(head) => events.push(Owned::Part(head.name, head.filename)),
                Event::Data(bytes) => match events.last_mut() {
                    Some(Owned::Data(data)) => data.extend_from_slice(bytes),
                    _ => events.push(Owned::Data(bytes.to_vec())),
                },
                Event::PartEnd => events.push(Owned::End),
            }
            Ok::<(), MultipartError>(())
        })?;
        // Memory stays bounded: at most a head, or a delimiter's length, is held back.
        assert!(parser.held() <= MAX_HEAD + 4, "{}", parser.held());
    }
    parser.finish()?;
    Ok(events)
}

fn parse(body: &[u8]) -> Result<Vec<Owned>, MultipartError> {
    parse_in(CT, body, body.len())
}

fn part(name: &str, file: Option<&str>) -> Owned {
    Owned::Part(Some(name.to_owned()), file.map(str::to_owned))
}

fn data(bytes: &[u8]) -> Owned {
    Owned::Data(bytes.to_vec())
}

const TWO_PARTS: &[u8] = b"preamble to skip\r\n--XyZ\r\n\
Content-Disposition: form-data; name=\"field\"\r\n\r\n\
value\r\n--XyZ  \r\n\
content-disposition: form-data; name=\"file\"; filename=\"a b.txt\"\r\n\
Content-Type: text/plain\r\n\r\n\
line one\r\n-XyZ\r\n-\r\n--XyZ--\r\nepilogue --XyZ junk";

#[test]
fn parts_in_any_chunking() {
    let want = vec![
        part("field", None),
        data(b"value"),
        Owned::End,
        part("file", Some("a b.txt")),
        data(b"line one\r\n-XyZ\r\n-"),
        Owned::End,
    ];
    for chunk in 1..=TWO_PARTS.len() {
        assert_eq!(
            parse_in(CT, TWO_PARTS, chunk),
            Ok(want.clone()),
            "chunks of {chunk}"
        );
    }
}

#[test]
fn the_boundary_inside_a_part_is_malformed() {
    // RFC 2046 lets a sender rely on the boundary never occurring in content, so CRLF and
    // the delimiter followed by anything but padding, CRLF or `--` cannot be a part's data.
    let body = b"--XyZ\r\n\r\nbefore\r\n--XyZ is not here\r\n--XyZ--";
    assert_eq!(parse(body), Err(MultipartError::Malformed));
}

#[test]
fn a_delimiter_may_open_the_body_and_parts_may_be_empty() {
    let body = b"--XyZ\r\n\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=f; filename=\"\"\r\n\r\n\r\n--XyZ--";
    assert_eq!(
        parse(body),
        Ok(vec![
            Owned::Part(None, None),
            Owned::End,
            part("f", Some("")),
            Owned::End,
        ])
    );
    assert_eq!(parse(b"--XyZ--"), Ok(vec![]));
}

#[test]
fn delimiter_lookalikes_stay_in_the_data() {
    let content = b"\r\n--XyY\r\n--Xy\r\r\n-\n--XyZZ".to_vec();
    let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n".to_vec();
    body.extend_from_slice(&content[..content.len() - 6]);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    for chunk in 1..body.len() {
        assert_eq!(
            parse_in(CT, &body, chunk),
            Ok(vec![
                part("f", None),
                data(&content[..content.len() - 6]),
                Owned::End
            ]),
            "chunks of {chunk}"
        );
    }
}

#[test]
fn boundaries_from_content_type() {
    let ok = [
        ("multipart/form-data; boundary=abc", "abc"),
        ("Multipart/Form-Data;BOUNDARY=\"a b:c\"", "a b:c"),
        (
            "multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundaryX1",
            "----WebKitFormBoundaryX1",
        ),
    ];
    for (content_type, want) in ok {
        assert_eq!(
            boundary(content_type).as_deref(),
            Ok(want),
            "{content_type}"
        );
    }
    let long = format!("multipart/form-data; boundary={}", "b".repeat(71));
    let seventy = format!("multipart/form-data; boundary={}", "b".repeat(70));
    assert!(boundary(&seventy).is_ok());
    let bad = [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-data; boundary=\"ends in space \"",
        "multipart/form-data; boundary=semi;colon",
        "multipart/form-data; boundary=\"unterminated",
        "multipart/form-data; boundary=a<b",
        "multipart/form-data; boundary=\"q\\\"\"",
        long.as_str(),
    ];
    for content_type in bad {
        assert_eq!(
            boundary(content_type),
            Err(MultipartError::Boundary),
            "{content_type}"
        );
    }
    for content_type in [
        "text/plain",
        "multipart/mixed; boundary=x",
        "",
        "application/x-www-form-urlencoded",
    ] {
        assert_eq!(
            boundary(content_type),
            Err(MultipartError::NotMultipart),
            "{content_type}"
        );
    }
}

#[test]
fn heads_name_the_field_and_file() {
    let cases: &[(&[u8], Result<PartHead, MultipartError>)] = &[
        (
            b"Content-Disposition: form-data; name=\"f\"; filename=\"x.txt\"",
            Ok(PartHead {
                name: Some("f".into()),
                filename: Some("x.txt".into()),
            }),
        ),
        (
            b"Content-Disposition: form-data; filename=\"a\\\\b \\\"q\\\".txt\"; name=f",
            Ok(PartHead {
                name: Some("f".into()),
                filename: Some("a\\b \"q\".txt".into()),
            }),
        ),
        (
            "Content-Disposition: form-data; name=\"f\"; filename=\"日本.txt\"".as_bytes(),
            Ok(PartHead {
                name: Some("f".into()),
                filename: Some("日本.txt".into()),
            }),
        ),
        (
            b"Content-Disposition: form-data; name=f; filename*=UTF-8''evil%2F",
            Ok(PartHead {
                name: Some("f".into()),
                filename: None,
            }),
        ),
        (
            b"Content-Disposition: attachment; filename=\"x\"",
            Ok(PartHead::default()),
        ),
        (b"Content-Type: text/plain", Ok(PartHead::default())),
        (b"no colon here", Err(MultipartError::Malformed)),
        (
            b"Content-Disposition: form-data; name=\"open",
            Err(MultipartError::Malformed),
        ),
        (
            b"Content-Disposition: form-data; name",
            Err(MultipartError::Malformed),
        ),
        (
            b"Content-Disposition: form-data; name=\"\xff\"",
            Err(MultipartError::Malformed),
        ),
    ];
    for (head, want) in cases {
        assert_eq!(&parse_head(head), want, "{}", String::from_utf8_lossy(head));
    }
}

#[test]
fn broken_bodies_are_errors() {
    let head = b"--XyZ\r\nContent-Disposition: form-data; name=f\r\n\r\ndata";
    assert_eq!(parse(head), Err(MultipartError::Truncated));
    assert_eq!(parse(b""), Err(MultipartError::Truncated));
    assert_eq!(
        parse(b"no delimiter at all"),
        Err(MultipartError::Truncated)
    );
    assert_eq!(parse(b"--XyZ junk\r\n"), Err(MultipartError::Malformed));
    let padded = format!("--XyZ{}\r\n\r\n--XyZ--", " ".repeat(MAX_PADDING + 1));
    assert_eq!(parse(padded.as_bytes()), Err(MultipartError::Malformed));
    let mut huge = b"--XyZ\r\nX-Long: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', MAX_HEAD + 10));
    assert_eq!(parse_in(CT, &huge, 1000), Err(MultipartError::HeadTooLarge));
    huge.extend_from_slice(b"\r\n\r\n--XyZ--");
    assert_eq!(parse(&huge), Err(MultipartError::HeadTooLarge));
}

#[test]
fn parts_are_counted() {
    let mut body = Vec::new();
    for _ in 0..MAX_PARTS {
        body.extend_from_slice(b"--XyZ\r\n\r\n\r\n");
    }
    let mut closed = body.clone();
    closed.extend_from_slice(b"--XyZ--");
    assert_eq!(parse(&closed).map(|e| e.len()), Ok(2 * MAX_PARTS));
    body.extend_from_slice(b"--XyZ\r\n\r\n\r\n--XyZ--");
    assert_eq!(parse(&body), Err(MultipartError::TooManyParts));
}

#[test]
fn a_large_part_streams_through_bounded_memory() {
    let mut body =
        b"--XyZ\r\nContent-Disposition: form-data; name=f; filename=big\r\n\r\n".to_vec();
    let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    body.extend_from_slice(&content);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    let events = parse_in(CT, &body, 65536).unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[1], Owned::Data(content));
}

#[test]
fn errors_become_statuses() {
    use http::StatusCode;
    assert_eq!(
        StatusCode::from(MultipartError::NotMultipart),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        StatusCode::from(MultipartError::TooManyParts),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        StatusCode::from(MultipartError::Truncated),
        StatusCode::BAD_REQUEST
    );
}
