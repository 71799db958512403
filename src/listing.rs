//! Directory entries -> an HTML index page or a JSON document, each in one pass into one
//! preallocated buffer.
//!
//! Names are untrusted bytes from the disk: in HTML the text is escaped and the link target
//! percent-encoded per segment (RFC 3986 `pchar`), so a name with `#`, `?`, `%`, `"` or `<`
//! links to itself and to nothing else; in JSON every string is escaped per RFC 8259 §7.
//! The page needs no JavaScript and no external assets, and stays under 200 bytes of markup
//! per entry.

use std::fmt::Write;

use percent_encoding::utf8_percent_encode;

use crate::fs::{DirEntry, Kind, Timestamp};
use crate::fs::{Order, SortKey};
use crate::html::{escape, push_escaped};
use crate::path::{SafePath, SEGMENT};
use crate::query::ListingQuery;

const STYLE: &str = "<style>:root{color-scheme:light dark}\
body{font:15px/1.5 system-ui,sans-serif;margin:1rem auto;max-width:60rem;padding:0 1rem}\
table{border-collapse:collapse;width:100%}th,td{padding:.2rem .6rem;text-align:left}\
td+td,th+th{text-align:right;white-space:nowrap}tr:nth-child(even){background:#8881}\
a{color:#0645ad}nav,footer{margin:.5rem 0;color:#777}\
th[aria-sort=ascending] a:after{content:' \\2191'}th[aria-sort=descending] a:after{content:' \\2193'}\
@media(prefers-color-scheme:dark){body{background:#15171a;color:#ddd}a{color:#8ab4f8}}\
</style>\n";

/// Renders the index page of `dir` for entries already sorted as `query` says.
/// `base` prefixes the absolute links (breadcrumbs) when an embedder mounts the server below
/// its own root.
pub(crate) fn render_html(
    dir: &SafePath,
    entries: &[DirEntry],
    query: &ListingQuery,
    base: &str,
) -> String {
    let title = escape(&dir.to_string());
    let mut html = String::with_capacity(1600 + title.len() * 4 + entries.len() * 150);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(html, "<title>Index of {title}</title>");
    html.push_str(STYLE);
    let _ = writeln!(html, "</head>\n<body>\n<h1>Index of {title}</h1>");
    breadcrumbs(&mut html, dir, base);
    html.push_str("<table>\n<thead><tr>");
    for (key, label) in [
        (SortKey::Name, "Name"),
        (SortKey::Size, "Size"),
        (SortKey::Time, "Modified"),
    ] {
        // The active column flips its order; the others start ascending.
        let (order, aria) = if key == query.sort {
            let aria = match query.order {
                Order::Asc => " aria-sort=\"ascending\"",
                Order::Desc => " aria-sort=\"descending\"",
            };
            (query.order.flipped(), aria)
        } else {
            (Order::Asc, "")
        };
        let _ = write!(
            html,
            "<th scope=\"col\"{aria}><a href=\"?sort={}&amp;order={}\">{label}</a></th>",
            key.token(),
            order.token()
        );
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    if !dir.is_root() {
        html.push_str("<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
    }
    let mut dirs = 0;
    for entry in entries {
        let is_dir = entry.meta.kind == Kind::Dir;
        dirs += usize::from(is_dir);
        let slash = if is_dir { "/" } else { "" };
        html.push_str("<tr><td><a href=\"");
        html.extend(utf8_percent_encode(&entry.name, SEGMENT));
        html.push_str(slash);
        html.push_str("\">");
        push_escaped(&mut html, &entry.name);
        html.push_str(slash);
        html.push_str("</a>");
        if entry.symlink {
            html.push_str(" <span title=\"symbolic link\">&#8618;</span>");
        }
        if is_dir {
            html.push_str("</td><td>");
        } else {
            let _ = write!(html, "</td><td title=\"{}\">", entry.meta.size);
            push_human_size(&mut html, entry.meta.size);
        }
        html.push_str("</td><td>");
        if let Some(t) = entry.meta.modified {
            push_rfc3339(&mut html, t);
        }
        html.push_str("</td></tr>\n");
    }
    let files = entries.len() - dirs;
    let _ = write!(
        html,
        "</tbody>\n</table>\n<footer>{dirs} {}, {files} {} &middot; <a href=\"?download=tar\" download>Download .tar</a></footer>\n</body>\n</html>\n",
        if dirs == 1 { "directory" } else { "directories" },
        if files == 1 { "file" } else { "files" },
    );
    html
}

/// `home / docs / sub`: each ancestor a link.
fn breadcrumbs(html: &mut String, dir: &SafePath, base: &str) {
    let mut href = format!("{base}/");
    let _ = write!(
        html,
        "<nav aria-label=\"breadcrumbs\"><a href=\"{href}\">home</a>"
    );
    for segment in dir.segments() {
        href.extend(utf8_percent_encode(segment, SEGMENT));
        href.push('/');
        html.push_str(" / <a href=\"");
        html.push_str(&href);
        html.push_str("\">");
        push_escaped(html, segment);
        html.push_str("</a>");
    }
    html.push_str("</nav>\n");
}

/// `{"path": "/dir/", "entries": [{"name", "type", "size", "modified"}]}` (README schema).
pub(crate) fn render_json(dir: &SafePath, entries: &[DirEntry]) -> String {
    let mut json = String::with_capacity(64 + entries.len() * 110);
    json.push_str("{\"path\": ");
    push_json_string(&mut json, &dir.to_string());
    json.push_str(", \"entries\": [");
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            json.push_str(", ");
        }
        json.push_str("{\"name\": ");
        push_json_string(&mut json, &entry.name);
        let kind = match (entry.symlink, entry.meta.kind) {
            (true, _) => "symlink",
            (false, Kind::Dir) => "dir",
            (false, _) => "file",
        };
        let _ = write!(
            json,
            ", \"type\": \"{kind}\", \"size\": {}, \"modified\": ",
            entry.meta.size
        );
        match entry.meta.modified {
            Some(t) => {
                json.push('"');
                push_rfc3339(&mut json, t);
                json.push('"');
            }
            None => json.push_str("null"),
        }
        json.push('}');
    }
    json.push_str("]}\n");
    json
}

fn push_rfc3339(out: &mut String, t: Timestamp) {
    let _ = write!(
        out,
        "{}",
        humantime::format_rfc3339_seconds(t.to_system_time())
    );
}

fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `1536` -> `1.5 KiB`: binary units, one decimal, bytes below 1 KiB.
fn push_human_size(out: &mut String, bytes: u64) {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        let _ = write!(out, "{bytes} B");
        return;
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let _ = write!(out, "{value:.1} {}", UNITS[unit]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::Metadata;

    fn entry(name: &str, kind: Kind, size: u64, seconds: u64) -> DirEntry {
        DirEntry {
            name: name.to_owned(),
            meta: Metadata {
                kind,
                size,
                modified: Some(Timestamp {
                    seconds,
                    nanoseconds: 5,
                }),
            },
            symlink: false,
        }
    }

    fn names(entries: &[DirEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.name.as_str()).collect()
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
            let html = render_html(
                &SafePath::root(),
                &[entry(name, Kind::File, 3, 1)],
                &ListingQuery::default(),
                "",
            );
            let row = format!("<a href=\"{href}\">{text}</a>");
            assert!(html.contains(&row), "{name}: want {row} in\n{html}");
        }
    }

    #[test]
    fn page_shape() {
        let dir = SafePath::parse("/docs/a%26b/").unwrap();
        let mut link = entry("link.txt", Kind::File, 5, 1);
        link.symlink = true;
        let html = render_html(
            &dir,
            &[
                entry("sub", Kind::Dir, 4096, 1),
                entry("f.bin", Kind::File, 2048, 1_700_000_000),
                link,
            ],
            &ListingQuery::default(),
            "",
        );
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(html.contains("name=\"viewport\""));
        assert!(html.contains("prefers-color-scheme:dark"));
        assert!(html.contains("<title>Index of /docs/a&amp;b/</title>"));
        assert!(html.contains("<h1>Index of /docs/a&amp;b/</h1>"));
        assert!(html.contains("<a href=\"/\">home</a> / <a href=\"/docs/\">docs</a> / <a href=\"/docs/a%26b/\">a&amp;b</a>"));
        assert!(html.contains("<a href=\"../\">../</a>"));
        assert!(html.contains("<a href=\"sub/\">sub/</a>"));
        assert!(html.contains("<td title=\"2048\">2.0 KiB</td>"));
        assert!(html.contains("2023-11-14T22:13:20Z"));
        assert!(html.contains("title=\"symbolic link\""));
        assert!(html.contains("1 directory, 2 files"));
        assert!(html.contains("href=\"?download=tar\""));
        assert!(html.contains("<th scope=\"col\" aria-sort=\"ascending\"><a href=\"?sort=name&amp;order=desc\">Name</a></th>"));
        assert!(
            html.contains("<th scope=\"col\"><a href=\"?sort=size&amp;order=asc\">Size</a></th>")
        );
        assert!(!html.contains("<script"));
        let root = render_html(&SafePath::root(), &[], &ListingQuery::default(), "");
        assert!(!root.contains("href=\"../\""));
        let mounted = render_html(&dir, &[], &ListingQuery::default(), "/files");
        assert!(
            mounted.contains("<a href=\"/files/\">home</a> / <a href=\"/files/docs/\">docs</a>")
        );
    }

    #[test]
    fn markup_per_entry_stays_under_200_bytes() {
        let dir = SafePath::parse("/many/").unwrap();
        let entries: Vec<DirEntry> = (0..1000)
            .map(|i| {
                entry(
                    &format!("file-{i:04}.txt"),
                    Kind::File,
                    123_456,
                    1_700_000_000,
                )
            })
            .collect();
        let empty = render_html(&dir, &[], &ListingQuery::default(), "").len();
        let full = render_html(&dir, &entries, &ListingQuery::default(), "").len();
        let per_entry = (full - empty) / entries.len();
        assert!(per_entry < 200, "{per_entry} bytes per entry");
    }

    #[test]
    fn json_shape_and_escaping() {
        let mut link = entry("ln", Kind::File, 7, 1);
        link.symlink = true;
        let json = render_json(
            &SafePath::parse("/d%22ir/").unwrap(),
            &[
                entry("quote\"back\\slash\nnl\u{1}", Kind::File, 12, 1_700_000_000),
                entry("sub", Kind::Dir, 0, 1),
                link,
            ],
        );
        assert_eq!(
            json,
            "{\"path\": \"/d\\\"ir/\", \"entries\": [\
             {\"name\": \"quote\\\"back\\\\slash\\nnl\\u0001\", \"type\": \"file\", \"size\": 12, \"modified\": \"2023-11-14T22:13:20Z\"}, \
             {\"name\": \"sub\", \"type\": \"dir\", \"size\": 0, \"modified\": \"1970-01-01T00:00:01Z\"}, \
             {\"name\": \"ln\", \"type\": \"symlink\", \"size\": 7, \"modified\": \"1970-01-01T00:00:01Z\"}]}\n"
        );
    }

    #[test]
    fn human_sizes() {
        let cases = [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (1536, "1.5 KiB"),
            (5 << 20, "5.0 MiB"),
            (u64::MAX, "16.0 EiB"),
        ];
        for (bytes, want) in cases {
            let mut out = String::new();
            push_human_size(&mut out, bytes);
            assert_eq!(out, want);
        }
    }
}
