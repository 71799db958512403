//! File name -> `Content-Type`, from `mime_guess`, with the corrections browsers rely on.
//!
//! RFC 9239 makes `text/javascript` the one JavaScript type; `.wasm` must be `application/wasm`
//! for `WebAssembly.instantiateStreaming`; textual types carry `charset=utf-8` so a browser
//! does not guess; anything unknown is `application/octet-stream` (RFC 9110 §8.3).

use std::borrow::Cow;

const OCTET_STREAM: &str = "application/octet-stream";

/// The `Content-Type` header value for a file called `name`.
pub(crate) fn content_type(name: &str) -> Cow<'static, str> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    let essence: Cow<'static, str> = match ext.as_str() {
        "js" | "mjs" | "cjs" => "text/javascript".into(),
        "wasm" => "application/wasm".into(),
        "" => OCTET_STREAM.into(),
        _ => match mime_guess::from_ext(&ext).first_raw() {
            Some(raw) => raw.into(),
            None => OCTET_STREAM.into(),
        },
    };
    if is_textual(&essence) {
        // Joined, not `format!`: formatting calls through a vtable, and the first indirect
        // call of a fresh instance costs it a fault (see `header/value.rs`).
        [&*essence, "; charset=utf-8"].concat().into()
    } else {
        essence
    }
}

/// Types worth compressing on the fly: text, and WebAssembly (which shrinks by half or more).
pub(crate) fn is_compressible(essence: &str) -> bool {
    is_textual(essence) || essence == "application/wasm"
}

/// Types whose bytes are text, so a charset applies.
pub(crate) fn is_textual(essence: &str) -> bool {
    essence.starts_with("text/")
        || matches!(
            essence,
            "application/javascript"
                | "application/json"
                | "application/xml"
                | "image/svg+xml"
                | "application/xhtml+xml"
                | "application/manifest+json"
                | "application/ld+json"
                | "application/rss+xml"
                | "application/atom+xml"
        )
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
}

#[cfg(test)]
mod tests {
    use super::content_type;

    #[test]
    fn table() {
        let cases: &[(&str, &str)] = &[
            ("index.html", "text/html; charset=utf-8"),
            ("INDEX.HTM", "text/html; charset=utf-8"),
            ("a.txt", "text/plain; charset=utf-8"),
            ("style.css", "text/css; charset=utf-8"),
            ("app.js", "text/javascript; charset=utf-8"),
            ("mod.mjs", "text/javascript; charset=utf-8"),
            ("data.json", "application/json; charset=utf-8"),
            ("feed.xml", "text/xml; charset=utf-8"),
            ("logo.svg", "image/svg+xml; charset=utf-8"),
            ("app.wasm", "application/wasm"),
            ("photo.png", "image/png"),
            ("photo.JPG", "image/jpeg"),
            ("clip.mp4", "video/mp4"),
            ("doc.pdf", "application/pdf"),
            ("archive.tar.gz", "application/gzip"),
            ("README", "application/octet-stream"),
            ("weird.zzzunknown", "application/octet-stream"),
            (".hidden", "application/octet-stream"),
            ("trailing.", "application/octet-stream"),
            ("notes.md", "text/markdown; charset=utf-8"),
        ];
        for (name, want) in cases {
            assert_eq!(content_type(name), *want, "{name}");
        }
    }
}
