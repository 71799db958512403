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
/// its own root; `upload` adds the upload form.
pub(crate) fn render_html(
    dir: &SafePath,
    entries: &[DirEntry],
    query: &ListingQuery,
    base: &str,
    upload: bool,
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
    html.push_str("</tbody>\n</table>\n");
    if upload {
        crate::upload::push_form(&mut html);
    }
    let files = entries.len() - dirs;
    let _ = write!(
        html,
        "<footer>{dirs} {}, {files} {} &middot; <a href=\"?download=tar\" download>Download .tar</a></footer>\n</body>\n</html>\n",
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

pub(crate) fn push_json_string(out: &mut String, text: &str) {
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
mod tests;
