use super::Coding::*;
use super::*;
use crate::header::HeaderValue;

fn parse_accept_encoding(value: &str) -> AcceptEncoding {
    let mut headers = HeaderMap::default();
    headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
    from_headers(&headers)
}

#[test]
fn negotiation_table() {
    let all = Coding::PREFERENCE;
    let cases: &[(&str, Option<Coding>)] = &[
        ("", None),
        ("identity", None),
        ("gzip", Some(Gzip)),
        ("GZIP", Some(Gzip)),
        ("GZip", Some(Gzip)),
        ("x-gzip", Some(Gzip)),
        ("X-GZIP", Some(Gzip)),
        ("br", Some(Br)),
        ("zstd", Some(Zstd)),
        // What browsers send: server order breaks the tie.
        ("gzip, deflate", Some(Gzip)),
        ("gzip, deflate, br", Some(Br)),
        ("gzip, deflate, br, zstd", Some(Br)),
        ("zstd, gzip", Some(Zstd)),
        // RFC 9110 §12.5.3 examples.
        ("compress, gzip", Some(Gzip)),
        ("*", Some(Br)),
        ("compress;q=0.5, gzip;q=1.0", Some(Gzip)),
        ("gzip;q=1.0, identity; q=0.5, *;q=0", Some(Gzip)),
        // Weights.
        ("br;q=0.5, gzip;q=0.8", Some(Gzip)),
        ("br;q=1.0, gzip;q=1", Some(Br)),
        ("br;q=0.300, gzip;q=0.3", Some(Br)),
        ("br;q=0.299, gzip;q=0.3", Some(Gzip)),
        ("gzip;q=0", None),
        ("gzip;q=0.000", None),
        ("gzip;Q=0", None),
        ("br;q=0, gzip", Some(Gzip)),
        ("*;q=0", None),
        ("*;q=0.1, br;q=0", Some(Zstd)),
        ("*;q=0.5, gzip", Some(Gzip)),
        ("gzip;q=0.001", Some(Gzip)),
        ("gzip;q=0.", None),
        ("gzip;q=1.", Some(Gzip)),
        // Malformed weights drop only their element.
        ("gzip;q=1.5", None),
        ("gzip;q=2", None),
        ("gzip;q=1.001", None),
        ("gzip;q=0.0001", None),
        ("gzip;q=abc, br", Some(Br)),
        ("gzip;q=-1", None),
        ("gzip;q=.5", None),
        ("gzip;q=", None),
        ("gzip;q=0.5;q=0.9", None),
        ("gzip;q= 0.5", None),
        ("gzip;q=0.5e0", None),
        ("gzip;q=NaN", None),
        ("gzip;q=inf", None),
        // Whitespace where the grammar allows it, empty elements, unknown parameters.
        ("gzip ; q=0.5", Some(Gzip)),
        ("\tgzip\t;\tq=0.5\t", Some(Gzip)),
        ("  ,  , gzip", Some(Gzip)),
        ("gzip,,", Some(Gzip)),
        ("gzip;level=9", Some(Gzip)),
        ("deflate, compress", None),
        ("gzip br", None),
        ("\"gzip\"", None),
        ("gz", None),
        ("gzipx", None),
        // A coding named twice keeps its lowest weight.
        ("br;q=0.3, br;q=0.9, gzip;q=0.5", Some(Gzip)),
        ("gzip, gzip;q=0", None),
    ];
    assert!(cases.len() >= 50);
    for (header, want) in cases {
        assert_eq!(
            parse_accept_encoding(header).choose(&all),
            *want,
            "{header:?}"
        );
    }
}

#[test]
fn weights() {
    let cases: &[(&str, Coding, &str)] = &[
        ("gzip", Gzip, "1"),
        ("gzip;q=0.5", Gzip, "0.5"),
        ("gzip;q=0.125", Gzip, "0.125"),
        ("gzip;q=0.001", Gzip, "0.001"),
        ("gzip;q=0", Gzip, "0"),
        ("br", Gzip, "0"),
        ("*;q=0.25", Zstd, "0.25"),
        ("*;q=0.25, zstd;q=0.75", Zstd, "0.75"),
        ("zstd;q=0.75, *;q=0.25", Zstd, "0.75"),
        ("", Br, "0"),
    ];
    for (header, coding, want) in cases {
        assert_eq!(
            parse_accept_encoding(header).weight(*coding),
            QValue::parse(want).unwrap(),
            "{header:?} {coding:?}"
        );
    }
}

#[test]
fn only_what_is_available() {
    let ae = parse_accept_encoding("br, gzip;q=0.9");
    assert_eq!(ae.choose(&[Gzip]), Some(Gzip));
    assert_eq!(ae.choose(&[Zstd]), None);
    assert_eq!(ae.choose(&[]), None);
    assert_eq!(
        ae.choose(&[Gzip, Br]),
        Some(Br),
        "the weight beats the order"
    );
    let tie = parse_accept_encoding("br, gzip");
    assert_eq!(tie.choose(&[Gzip, Br]), Some(Gzip), "the order breaks ties");
    assert_eq!(tie.choose(&[Br, Gzip]), Some(Br));
}

#[test]
fn several_field_lines_join() {
    let mut headers = HeaderMap::default();
    headers.append(ACCEPT_ENCODING, HeaderValue::from_static("gzip;q=0.5"));
    headers.append(ACCEPT_ENCODING, HeaderValue::from_static("br"));
    assert_eq!(from_headers(&headers).choose(&Coding::PREFERENCE), Some(Br));
    // A refusal on one line holds against the other.
    headers.append(ACCEPT_ENCODING, HeaderValue::from_static("br;q=0"));
    assert_eq!(
        from_headers(&headers).choose(&Coding::PREFERENCE),
        Some(Gzip)
    );
    // A line that is not ASCII is skipped, not fatal.
    headers.append(
        ACCEPT_ENCODING,
        HeaderValue::from_bytes(b"zstd\xff").unwrap(),
    );
    assert_eq!(
        from_headers(&headers).choose(&Coding::PREFERENCE),
        Some(Gzip)
    );
    assert_eq!(
        from_headers(&HeaderMap::default()),
        AcceptEncoding::default()
    );
    assert_eq!(
        from_headers(&HeaderMap::default()).choose(&Coding::PREFERENCE),
        None
    );
}

#[test]
fn names_and_suffixes() {
    let cases = [
        (Br, "br", ".br"),
        (Zstd, "zstd", ".zst"),
        (Gzip, "gzip", ".gz"),
    ];
    for (coding, token, extension) in cases {
        assert_eq!(coding.token(), token);
        assert_eq!(coding.extension(), extension);
        // A coding's own name selects it.
        assert_eq!(parse_accept_encoding(token).choose(&[coding]), Some(coding));
    }
}
