//! Directory entries -> an HTML index page, in one pass into one preallocated buffer.
//!
//! Names are untrusted bytes from the disk: the text is HTML-escaped and the link target is
//! percent-encoded per segment (RFC 3986 `pchar`), so a name with `#`, `?`, `%`, `"` or `<`
//! links to itself and to nothing else.

use std::cmp::Ordering;
use std::fmt::Write;

use percent_encoding::utf8_percent_encode;

use crate::fs::{DirEntry, Kind};
use crate::path::{SafePath, SEGMENT};

/// Directories first, then names compared case-insensitively (ties broken by exact bytes so
/// the order is total and stable across requests).
pub fn sort_entries(entries: &mut [DirEntry]) {
    entries.sort_unstable_by(|a, b| {
        let dir = |e: &DirEntry| e.meta.kind != Kind::Dir;
        dir(a)
            .cmp(&dir(b))
            .then_with(|| cmp_caseless(&a.name, &b.name))
            .then_with(|| a.name.cmp(&b.name))
    });
}

fn cmp_caseless(a: &str, b: &str) -> Ordering {
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

/// Renders the index page of `dir` for already sorted `entries`.
pub fn render_html(dir: &SafePath, entries: &[DirEntry]) -> String {
    let title = escape(&dir.to_string());
    let mut html = String::with_capacity(600 + title.len() * 2 + entries.len() * 160);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = write!(html, "<title>Index of {title}</title>\n");
    html.push_str(STYLE);
    let _ = write!(html, "</head>\n<body>\n<h1>Index of {title}</h1>\n");
    html.push_str("<table>\n<thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Size</th><th scope=\"col\">Modified</th></tr></thead>\n<tbody>\n");
    if !dir.is_root() {
        html.push_str("<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
    }
    for entry in entries {
        let is_dir = entry.meta.kind == Kind::Dir;
        let slash = if is_dir { "/" } else { "" };
        html.push_str("<tr><td><a href=\"");
        html.extend(utf8_percent_encode(&entry.name, SEGMENT));
        html.push_str(slash);
        html.push_str("\">");
        push_escaped(&mut html, &entry.name);
        html.push_str(slash);
        html.push_str("</a>");
        if entry.symlink {
            html.push_str(" <small>(link)</small>");
        }
        html.push_str("</td><td>");
        if !is_dir {
            html.push_str(&human_size(entry.meta.size));
        }
        html.push_str("</td><td>");
        if let Some(t) = entry.meta.modified {
            html.push_str(&humantime::format_rfc3339_seconds(t.to_system_time()).to_string());
        }
        html.push_str("</td></tr>\n");
    }
    html.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    html
}

const STYLE: &str = "<style>body{font-family:system-ui,sans-serif;margin:1rem 2rem}\
table{border-collapse:collapse}td,th{padding:.15rem 1rem .15rem 0;text-align:left}\
td+td{white-space:nowrap}</style>\n";

/// `1536` -> `1.5 KiB`: binary units, one decimal, bytes below 1 KiB.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::{Metadata, Timestamp};

    fn entry(name: &str, kind: Kind, size: u64) -> DirEntry {
        DirEntry {
            name: name.to_owned(),
            meta: Metadata {
                kind,
                size,
                modified: Some(Timestamp {
                    seconds: 1_700_000_000,
                    nanoseconds: 5,
                }),
            },
            symlink: false,
        }
    }

    #[test]
    fn sorts_dirs_first_then_caseless_names() {
        let mut entries = vec![
            entry("b.txt", Kind::File, 1),
            entry("Zeta", Kind::Dir, 0),
            entry("A.txt", Kind::File, 1),
            entry("alpha", Kind::Dir, 0),
            entry("a.txt", Kind::File, 1),
        ];
        sort_entries(&mut entries);
        let names: Vec<_> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["alpha", "Zeta", "A.txt", "a.txt", "b.txt"]);
    }

    #[test]
    fn escapes_text_and_encodes_links() {
        let cases: &[(&str, &str, &str)] = &[
            ("a b.txt", "a%20b.txt", "a b.txt"),
            ("100%.txt", "100%25.txt", "100%.txt"),
            ("a#b", "a%23b", "a#b"),
            ("q?.txt", "q%3F.txt", "q?.txt"),
            ("say \"hi\"", "say%20%22hi%22", "say &quot;hi&quot;"),
            ("<script>", "%3Cscript%3E", "&lt;script&gt;"),
            ("a&b", "a%26b", "a&amp;b"),
            ("it's", "it%27s", "it&#39;s"),
            ("naïve", "na%C3%AFve", "naïve"),
            ("日本.txt", "%E6%97%A5%E6%9C%AC.txt", "日本.txt"),
        ];
        for (name, href, text) in cases {
            let html = render_html(&SafePath::root(), &[entry(name, Kind::File, 3)]);
            let row = format!("<a href=\"{href}\">{text}</a>");
            assert!(html.contains(&row), "{name}: want {row} in\n{html}");
        }
    }

    #[test]
    fn page_shape() {
        let dir = SafePath::parse("/docs/a%26b/").unwrap();
        let html = render_html(
            &dir,
            &[
                entry("sub", Kind::Dir, 4096),
                entry("f.bin", Kind::File, 2048),
            ],
        );
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(html.contains("<title>Index of /docs/a&amp;b/</title>"));
        assert!(html.contains("<h1>Index of /docs/a&amp;b/</h1>"));
        assert!(html.contains("<a href=\"../\">../</a>"));
        assert!(html.contains("<a href=\"sub/\">sub/</a>"));
        assert!(html.contains("<td>2.0 KiB</td>"));
        assert!(html.contains("2023-11-14T22:13:20Z"));
        let root = render_html(&SafePath::root(), &[]);
        assert!(!root.contains("href=\"../\""));
    }

    #[test]
    fn human_sizes() {
        let cases = [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (1536, "1.5 KiB"),
            (5 * 1024 * 1024, "5.0 MiB"),
            (u64::MAX, "16.0 EiB"),
        ];
        for (bytes, want) in cases {
            assert_eq!(human_size(bytes), want);
        }
    }
}
