//! RFC 9110 over real HTTP: validators, preconditions, ranges, multipart, content codings.

use std::io::Read;

use sandserve_testkit::{noise, sha256_hex, Fixture};

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

#[test]
fn etag_304_and_412() {
    let fx = Fixture::new();
    fx.write("f.bin", noise(4096, 1));
    let server = fx.serve(&["-q"]);
    let r = server.get("/f.bin");
    let etag = r.header("etag").expect("ETag").to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong: {etag}"
    );
    let lm = r.header("last-modified").unwrap().to_owned();
    assert_eq!(r.header("cache-control"), Some("no-cache"));

    let r = server.request("GET", "/f.bin", &[("If-None-Match", &etag)]);
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert_eq!(r.header("last-modified"), Some(lm.as_str()));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    let weak = format!("W/{etag}");
    assert_eq!(
        server
            .request("GET", "/f.bin", &[("If-None-Match", &weak)])
            .status,
        304
    );
    assert_eq!(
        server
            .request("HEAD", "/f.bin", &[("If-None-Match", "*")])
            .status,
        304
    );
    // If-Modified-Since is ignored when If-None-Match is present.
    let r = server.request(
        "GET",
        "/f.bin",
        &[("If-None-Match", "\"x\""), ("If-Modified-Since", &lm)],
    );
    assert_eq!(r.status, 200);

    let r = server.request("GET", "/f.bin", &[("If-Match", "\"nope\"")]);
    assert_eq!(r.status, 412);
    assert!(r.body.is_empty());
    assert_eq!(
        server
            .request("GET", "/f.bin", &[("If-Match", &etag)])
            .status,
        200
    );
    assert_eq!(
        server.request("GET", "/f.bin", &[("If-Match", "*")]).status,
        200
    );
    let old = "Mon, 01 Jan 1990 00:00:00 GMT";
    assert_eq!(
        server
            .request("GET", "/f.bin", &[("If-Unmodified-Since", old)])
            .status,
        412
    );
    assert_eq!(
        server
            .request("GET", "/f.bin", &[("If-Unmodified-Since", &lm)])
            .status,
        200
    );
}

#[test]
fn single_ranges_and_416() {
    let fx = Fixture::new();
    let data = noise(10_000, 2);
    fx.write("f.bin", &data);
    let server = fx.serve(&["-q"]);
    assert_eq!(server.get("/f.bin").header("accept-ranges"), Some("bytes"));
    let cases: &[(&str, usize, usize)] = &[
        ("bytes=0-499", 0, 499),
        ("bytes=500-999", 500, 999),
        ("bytes=-500", 9500, 9999),
        ("bytes=9500-", 9500, 9999),
        ("bytes=9999-20000", 9999, 9999),
    ];
    for (range, start, end) in cases {
        let r = server.request("GET", "/f.bin", &[("Range", range)]);
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {start}-{end}/10000").as_str())
        );
        assert_eq!(r.body, &data[*start..=*end], "{range}");
    }
    let r = server.request("GET", "/f.bin", &[("Range", "bytes=10000-")]);
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */10000"));
    let r = server.request("GET", "/f.bin", &[("Range", "furlongs=1-2")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 10_000);
}

#[test]
fn if_range_with_etag_and_date() {
    let fx = Fixture::new();
    let data = noise(2000, 3);
    // An hour old: a Last-Modified is a strong validator only once the file has been still
    // for a second (RFC 9110 §8.8.2.2), and If-Range needs a strong one.
    let path = fx.write("f.bin", &data);
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
    // A file stamped in the future (clock skew, or written this very second) is never a
    // strong validator: not a second has passed since it last changed.
    let fresh = fx.write("fresh.bin", &data);
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&fresh)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let server = fx.serve(&["-q"]);
    let r = server.get("/f.bin");
    let etag = r.header("etag").unwrap().to_owned();
    let lm = r.header("last-modified").unwrap().to_owned();
    // Its date is weak, so the Range is ignored.
    let fresh_lm = server
        .get("/fresh.bin")
        .header("last-modified")
        .unwrap()
        .to_owned();
    let r = server.request(
        "GET",
        "/fresh.bin",
        &[("Range", "bytes=0-9"), ("If-Range", &fresh_lm)],
    );
    assert_eq!((r.status, r.body.len()), (200, 2000));
    let r = server.request(
        "GET",
        "/f.bin",
        &[("Range", "bytes=0-9"), ("If-Range", &etag)],
    );
    assert_eq!((r.status, r.body.len()), (206, 10));
    let r = server.request(
        "GET",
        "/f.bin",
        &[("Range", "bytes=0-9"), ("If-Range", "\"stale\"")],
    );
    assert_eq!((r.status, r.body.len()), (200, 2000));
    let r = server.request(
        "GET",
        "/f.bin",
        &[("Range", "bytes=0-9"), ("If-Range", &lm)],
    );
    assert_eq!(r.status, 206);
    let old = "Mon, 01 Jan 1990 00:00:00 GMT";
    let r = server.request(
        "GET",
        "/f.bin",
        &[("Range", "bytes=0-9"), ("If-Range", old)],
    );
    assert_eq!(r.status, 200);
}

/// Parses a multipart/byteranges body into (Content-Range, bytes) parts.
fn parse_multipart(body: &[u8], boundary: &str) -> Vec<(String, Vec<u8>)> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest = body;
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    rest = &rest[find(rest, delimiter.as_bytes()).expect("first delimiter")..];
    loop {
        rest = &rest[delimiter.len()..];
        if rest.starts_with(b"--") {
            assert_eq!(&rest[2..], b"\r\n", "close delimiter ends the body");
            break;
        }
        let head_end = find(rest, b"\r\n\r\n").unwrap();
        let head = String::from_utf8(rest[..head_end].to_vec()).unwrap();
        let content_range = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Range: "))
            .unwrap()
            .to_owned();
        let (_, span) = content_range.split_once(' ').unwrap();
        let (span, _) = span.split_once('/').unwrap();
        let (a, b) = span.split_once('-').unwrap();
        let len = b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1;
        let data_start = head_end + 4;
        parts.push((content_range, rest[data_start..data_start + len].to_vec()));
        rest = &rest[data_start + len..];
        assert!(rest.starts_with(b"\r\n"));
        rest = &rest[2..];
    }
    parts
}

#[test]
fn multipart_byteranges_byte_exact() {
    let fx = Fixture::new();
    let data = noise(10_000, 4);
    fx.write("f.bin", &data);
    let server = fx.serve(&["-q"]);
    let r = server.request(
        "GET",
        "/f.bin",
        &[("Range", "bytes=0-0,-1,500-600,9000-9100")],
    );
    assert_eq!(r.status, 206);
    let content_type = r.header("content-type").unwrap();
    let boundary = content_type
        .strip_prefix("multipart/byteranges; boundary=")
        .expect(content_type);
    assert_eq!(
        r.header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        r.body.len()
    );
    let parts = parse_multipart(&r.body, boundary);
    let want = [(0, 0), (9999, 9999), (500, 600), (9000, 9100)];
    assert_eq!(parts.len(), want.len());
    for ((content_range, bytes), (a, b)) in parts.iter().zip(want) {
        assert_eq!(content_range, &format!("bytes {a}-{b}/10000"));
        assert_eq!(bytes, &data[a..=b]);
    }
    // Overlapping ranges are refused as a whole: 200 with the full body.
    let r = server.request("GET", "/f.bin", &[("Range", "bytes=0-100,50-150")]);
    assert_eq!((r.status, r.body.len()), (200, 10_000));
}

#[test]
fn five_mib_in_seven_random_ranges() {
    let fx = Fixture::new();
    let size = 5 * 1024 * 1024;
    let data = noise(size, 5);
    fx.write("big.bin", &data);
    let server = fx.serve(&["-q"]);
    // Seven cut points from a fixed xorshift sequence, so failures reproduce.
    let mut cuts: Vec<usize> = noise(6 * 8, 99)
        .chunks(8)
        .map(|c| (u64::from_le_bytes(c.try_into().unwrap()) % size as u64) as usize)
        .collect();
    cuts.push(0);
    cuts.push(size);
    cuts.sort_unstable();
    cuts.dedup();
    let mut whole = Vec::with_capacity(size);
    for w in cuts.windows(2) {
        let range = format!("bytes={}-{}", w[0], w[1] - 1);
        let r = server.request("GET", "/big.bin", &[("Range", &range)]);
        assert_eq!(r.status, 206, "{range}");
        whole.extend_from_slice(&r.body);
    }
    assert_eq!(whole.len(), size);
    assert_eq!(sha256_hex(&whole), sha256_hex(&data));
}

#[test]
fn gzip_on_the_fly_decodes_to_the_file() {
    let fx = Fixture::new();
    let text = "All work and no play makes Jack a dull boy.\n".repeat(2000);
    fx.write("doc.txt", &text);
    // 1 KiB fits in one packet: compressing it would cost CPU and save no round trip.
    fx.write("small.txt", "x".repeat(1024));
    fx.write("pic.png", noise(50_000, 6));
    let server = fx.serve(&["-q"]);
    let r = server.request("GET", "/doc.txt", &[("Accept-Encoding", "gzip")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.header("vary"), Some("Accept-Encoding"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert!(
        r.body.len() < text.len() / 10,
        "compressed to {}",
        r.body.len()
    );
    assert_eq!(gunzip(&r.body), text.as_bytes());
    // Not for clients that do not ask, small files, images, or ranges.
    let plain = server.get("/doc.txt");
    assert_eq!(
        (plain.header("content-encoding"), plain.body.len()),
        (None, text.len())
    );
    assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
    let small = server.request("GET", "/small.txt", &[("Accept-Encoding", "gzip")]);
    assert_eq!(
        (small.header("content-encoding"), small.body.len()),
        (None, 1024)
    );
    let png = server.request("GET", "/pic.png", &[("Accept-Encoding", "gzip")]);
    assert_eq!(
        (png.header("content-encoding"), png.header("vary")),
        (None, None)
    );
    let ranged = server.request(
        "GET",
        "/doc.txt",
        &[("Accept-Encoding", "gzip"), ("Range", "bytes=0-9")],
    );
    assert_eq!(
        (ranged.status, ranged.header("content-encoding")),
        (206, None)
    );
    assert_eq!(ranged.body, &text.as_bytes()[..10]);
    // The listing is compressed too.
    let listing = server.request("GET", "/", &[("Accept-Encoding", "gzip")]);
    assert_eq!(listing.header("content-encoding"), Some("gzip"));
    assert!(String::from_utf8(gunzip(&listing.body))
        .unwrap()
        .contains("doc.txt"));
    // --no-compress turns it off.
    let off = fx.serve(&["-q", "--no-compress"]);
    let r = off.request("GET", "/doc.txt", &[("Accept-Encoding", "gzip")]);
    assert_eq!(
        (r.header("content-encoding"), r.body.len()),
        (None, text.len())
    );
}

#[test]
fn precompressed_sidecars_are_chosen_by_accept_encoding() {
    let fx = Fixture::new();
    let js = "console.log('sandserve');\n".repeat(100);
    fx.write("app.js", &js);
    fx.write("app.js.br", b"BROTLI-BYTES");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gz, js.as_bytes()).unwrap();
    fx.write("app.js.gz", gz.finish().unwrap());
    let server = fx.serve(&["-q"]);
    let br = server.request("GET", "/app.js", &[("Accept-Encoding", "gzip, br")]);
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert_eq!(br.body, b"BROTLI-BYTES");
    assert_eq!(
        br.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(br.header("vary"), Some("Accept-Encoding"));
    let gz = server.request("GET", "/app.js", &[("Accept-Encoding", "gzip, br;q=0")]);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&gz.body), js.as_bytes());
    let id = server.request("GET", "/app.js", &[("Accept-Encoding", "identity")]);
    assert_eq!(
        (id.header("content-encoding"), id.body.as_slice()),
        (None, js.as_bytes())
    );
    assert_ne!(br.header("etag"), id.header("etag"));
    assert_ne!(gz.header("etag"), id.header("etag"));
    // Ranges apply to the representation sent: the sidecar's bytes.
    let r = server.request(
        "GET",
        "/app.js",
        &[("Accept-Encoding", "br"), ("Range", "bytes=0-5")],
    );
    assert_eq!((r.status, r.body.as_slice()), (206, b"BROTLI".as_slice()));
    assert_eq!(r.header("content-range"), Some("bytes 0-5/12"));
}
