//! Directory entries (or search results) -> an HTML page or a JSON document, each in one
//! pass into one preallocated buffer.
//!
//! Names are untrusted bytes from the disk: in HTML the text is escaped and the link target
//! percent-encoded per segment (RFC 3986 `pchar`), so a name with `#`, `?`, `%`, `"` or `<`
//! links to itself and to nothing else; in JSON every string is escaped per RFC 8259 §7.
//! The page needs no JavaScript and no external assets, and stays under 200 bytes of markup
//! per entry.
//!
//! A listing's validator ([`etag`]) is a digest of everything the page shows, computed from
//! the entries before the page is rendered, so a revalidation that matches skips rendering.

use std::borrow::Cow;
use std::fmt::Write;

use percent_encoding::utf8_percent_encode;
use std::hash::{DefaultHasher, Hasher};

use crate::fs::{Kind, Metadata};
use crate::html::push_escaped;
use crate::order::{Cursor, Order, SortKey};
use crate::page::Page;
use crate::path::{SafePath, SEGMENT};
use crate::query::ListingQuery;
use crate::search::Found;
use crate::validators::{self, ETag};

const STYLE: &str = "<style>:root{color-scheme:light dark}\
body{font:15px/1.5 system-ui,sans-serif;margin:1rem auto;max-width:60rem;padding:0 1rem}\
table{border-collapse:collapse;width:100%}th,td{padding:.2rem .6rem;text-align:left}\
td+td,th+th{text-align:right;white-space:nowrap}tr:nth-child(even){background:#8881}\
a{color:#0645ad}nav,footer,form{margin:.5rem 0}nav,footer{color:#777}\
th[aria-sort=ascending] a:after{content:' \\2191'}th[aria-sort=descending] a:after{content:' \\2193'}\
@media(prefers-color-scheme:dark){body{background:#15171a;color:#ddd}a{color:#8ab4f8}}\
</style>\n";

/// The weak ETag of the listing of `dir` showing `page` (sorted as `query` says, in its
/// format): a digest of each entry's name, type, size and modification time, the sort, the
/// format, where the page starts and ends in the directory and its totals, and what else the
/// page holds (the base path its links start with, the upload form), with this release's
/// version for the page's own markup. Any change to what the page
/// shows changes the tag; nothing else does.
pub(crate) fn etag(
    dir: &SafePath,
    page: &Page,
    query: &ListingQuery,
    base: &str,
    upload_form: bool,
) -> ETag {
    let mut digest = DefaultHasher::new();
    let next = page.next.as_ref().map(Cursor::text);
    let head = format!(
        "sandserve {} listing {:?} {:?} {:?} upload={upload_form} {:?} of {} ({} dirs) from {} to {next:?}\n",
        env!("CARGO_PKG_VERSION"),
        query.format,
        query.sort,
        query.order,
        query.start,
        page.total,
        page.dirs,
        page.before,
    );
    digest.write(head.as_bytes());
    digest.write(format!("{base}\n{}\n", dir.to_url(true)).as_bytes());
    // Each entry goes in as one write: a hasher's cost is mostly per write, not per byte.
    let mut fields = Vec::with_capacity(64);
    for entry in &page.entries {
        let (seconds, nanoseconds) = entry
            .meta
            .modified
            .map_or((0, 0), |t| (t.seconds, t.nanoseconds));
        fields.clear();
        // The name's length first, so no two lists of names hash alike by running together.
        fields.extend_from_slice(&(entry.name.len() as u64).to_le_bytes());
        fields.extend_from_slice(entry.name.as_bytes());
        fields.extend_from_slice(entry.meta.type_name(entry.symlink).as_bytes());
        fields.extend_from_slice(&entry.meta.size.to_le_bytes());
        fields.extend_from_slice(&seconds.to_le_bytes());
        fields.extend_from_slice(&nanoseconds.to_le_bytes());
        digest.write(&fields);
    }
    // std's SipHash: a tenth of SHA-256's cost per byte, which matters at a thousand entries
    // per listing, and 64 bits are plenty to tell two versions of one page apart. Its
    // algorithm may change between Rust releases; then tags change once, and every node of a
    // deployment runs the same build.
    validators::weak_etag(&digest.finish().to_le_bytes())
}

/// Renders the index page of `dir` for a page of entries sorted as `query` says.
/// `base` prefixes the absolute links (breadcrumbs) when an embedder mounts the server below
/// its own root; `upload` adds the upload form. A directory of more than one page gets a
/// line of page links under the table; the footer counts the whole directory.
pub(crate) fn render_html(
    dir: &SafePath,
    page: &Page,
    query: &ListingQuery,
    base: &str,
    upload: bool,
) -> String {
    let entries = &page.entries;
    let title = format!("Index of {}", dir);
    let mut html = String::with_capacity(2000 + title.len() * 4 + entries.len() * 150);
    page_head(&mut html, &title, dir, base, "");
    column_heads(&mut html, query);
    if !dir.is_root() {
        html.push_str("<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
    }
    for entry in entries {
        // Most names need no encoding: then the link is the name, and so is the text,
        // since `SEGMENT` encodes each character HTML escapes.
        let href = Cow::from(utf8_percent_encode(&entry.name, SEGMENT));
        let text = match href {
            Cow::Borrowed(_) => Text::Plain(&entry.name),
            Cow::Owned(_) => Text::Raw(&entry.name),
        };
        entry_row(&mut html, &href, text, entry.meta, entry.symlink);
    }
    html.push_str("</tbody>\n</table>\n");
    if page.before > 0 || page.next.is_some() {
        page_links(&mut html, page, query);
    }
    if upload {
        crate::html::push_form(&mut html);
    }
    let dirs = page.dirs;
    let files = page.total - dirs;
    let _ = write!(
        html,
        "<footer>{dirs} {}, {files} {} &middot; Download \
         <a href=\"?download=tar\" download>.tar</a> \
         <a href=\"?download=zip\" download>.zip</a></footer>\n</body>\n</html>\n",
        if dirs == 1 {
            "directory"
        } else {
            "directories"
        },
        if files == 1 { "file" } else { "files" },
    );
    html
}

/// `Entries 10,001-20,000 of 300,000 · first page · next page`: where this page sits, and
/// plain links a crawler (`wget -r`) follows to every page.
fn page_links(html: &mut String, page: &Page, query: &ListingQuery) {
    let first = page.before + usize::from(!page.entries.is_empty());
    let last = page.before + page.entries.len();
    let _ = write!(
        html,
        "<nav aria-label=\"pages\">Entries {}&ndash;{} of {}",
        Thousands(first),
        Thousands(last),
        Thousands(page.total)
    );
    let order = format!(
        "?sort={}&amp;order={}",
        query.sort.token(),
        query.order.token()
    );
    if page.before > 0 {
        let _ = write!(html, " &middot; <a href=\"{order}\">first page</a>");
    }
    if let Some(next) = &page.next {
        let _ = write!(
            html,
            " &middot; <a href=\"{order}&amp;after={}\" rel=\"next\">next page</a>",
            encoded(next)
        );
    }
    html.push_str("</nav>\n");
}

/// A cursor as a query value.
fn encoded(cursor: &Cursor) -> String {
    form_urlencoded::byte_serialize(cursor.text().as_bytes()).collect()
}

/// `300000` as `300,000`.
struct Thousands(usize);

impl std::fmt::Display for Thousands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.0.to_string();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                f.write_str(",")?;
            }
            write!(f, "{digit}")?;
        }
        Ok(())
    }
}

/// The page of search results for `term` below `dir`, each linked by its path.
pub(crate) fn render_search_html(dir: &SafePath, term: &str, found: &Found, base: &str) -> String {
    let title = format!("Search for \u{201c}{term}\u{201d} in {dir}");
    let mut html = String::with_capacity(2000 + found.hits.len() * 200);
    page_head(&mut html, &title, dir, base, term);
    html.push_str(
        "<thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Size</th>\
                   <th scope=\"col\">Modified</th></tr></thead>\n<tbody>\n",
    );
    for hit in &found.hits {
        let mut href = base.to_owned();
        for segment in hit.path.trim_end_matches('/').split('/').skip(1) {
            href.push('/');
            href.extend(utf8_percent_encode(segment, SEGMENT));
        }
        let shown = hit.path.strip_prefix('/').unwrap_or(&hit.path);
        entry_row(
            &mut html,
            &href,
            Text::Raw(shown.trim_end_matches('/')),
            hit.meta,
            hit.symlink,
        );
    }
    let count = found.hits.len();
    let _ = write!(
        html,
        "</tbody>\n</table>\n<footer>{count} {}{} &middot; <a href=\"./\">back to the \
         listing</a></footer>\n</body>\n</html>\n",
        if count == 1 { "match" } else { "matches" },
        if found.truncated {
            " (the search stopped early: narrow it down)"
        } else {
            ""
        },
    );
    html
}

/// Everything before the table's head row: the document head, the heading, breadcrumbs, and
/// the search box (a GET form, so it works without JavaScript).
fn page_head(html: &mut String, title: &str, dir: &SafePath, base: &str, term: &str) {
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str("<title>");
    push_escaped(html, title);
    html.push_str("</title>\n");
    html.push_str(STYLE);
    html.push_str("</head>\n<body>\n<h1>");
    push_escaped(html, title);
    html.push_str("</h1>\n");
    breadcrumbs(html, dir, base);
    html.push_str(
        "<form role=\"search\" method=\"get\" action=\"\"><input type=\"search\" name=\"q\" \
         aria-label=\"Search names below this directory\" placeholder=\"Search names\" value=\"",
    );
    push_escaped(html, term);
    html.push_str("\"> <button>Search</button></form>\n<table>\n");
}

/// The listing's head row: each column sorts; the active one flips its order.
fn column_heads(html: &mut String, query: &ListingQuery) {
    html.push_str("<thead><tr>");
    for (key, label) in [
        (SortKey::Name, "Name"),
        (SortKey::Size, "Size"),
        (SortKey::Time, "Modified"),
    ] {
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
}

/// A name to show as a row's text.
#[derive(Clone, Copy)]
enum Text<'a> {
    /// To be escaped.
    Raw(&'a str),
    /// Holds nothing HTML escapes.
    Plain(&'a str),
}

/// One row: the name linked to `href` (already percent-encoded), the size in human units
/// with the exact bytes in a `title`, and the modification time as people read it
/// (`2026-11-30 10:57`, UTC) with the exact RFC 3339 value in a `title`.
fn entry_row(html: &mut String, href: &str, name: Text<'_>, meta: Metadata, symlink: bool) {
    let slash = if meta.kind == Kind::Dir { "/" } else { "" };
    // Literal pieces are pushed, not formatted: `write!` costs a formatter pass per row.
    html.push_str("<tr><td><a href=\"");
    html.push_str(href);
    html.push_str(slash);
    html.push_str("\">");
    match name {
        Text::Raw(name) => push_escaped(html, name),
        Text::Plain(name) => html.push_str(name),
    }
    html.push_str(slash);
    html.push_str("</a>");
    if symlink {
        html.push_str(" <span title=\"symbolic link\">&#8618;</span>");
    }
    if meta.kind == Kind::Dir {
        html.push_str("</td><td>");
    } else {
        html.push_str("</td><td title=\"");
        html.push_str(itoa::Buffer::new().format(meta.size));
        html.push_str("\">");
        push_human_size(html, meta.size);
    }
    match meta.modified {
        Some(t) => {
            html.push_str("</td><td title=\"");
            let start = html.len();
            crate::civil::push_rfc3339(html, t.seconds);
            // `2026-11-30T10:57:00Z` shows as `2026-11-30 10:57`: the same (ASCII) digits
            // again, copied out of the title just written (which is that form, or empty).
            let written = html.len() > start;
            html.push_str("\">");
            if written {
                html.extend_from_within(start..start + 10);
                html.push(' ');
                html.extend_from_within(start + 11..start + 16);
            }
            html.push_str("</td></tr>\n");
        }
        None => html.push_str("</td><td></td></tr>\n"),
    }
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

/// `{"path": "/dir/", "entries": [{"name", "type", "size", "modified"}], "total": N,
/// "next": URL|null}` (README schema): `total` counts the whole directory, and `next` is the
/// absolute URL of the next page, JSON too, in the same order.
pub(crate) fn render_json(dir: &SafePath, page: &Page, query: &ListingQuery, base: &str) -> String {
    let mut json = String::with_capacity(128 + page.entries.len() * 110);
    json.push_str("{\"path\": ");
    push_json_string(&mut json, &dir.to_string());
    json.push_str(", \"entries\": [");
    for (i, entry) in page.entries.iter().enumerate() {
        if i > 0 {
            json.push_str(", ");
        }
        push_json_entry(&mut json, &entry.name, None, entry.meta, entry.symlink);
    }
    let _ = write!(json, "], \"total\": {}, \"next\": ", page.total);
    match &page.next {
        Some(next) => {
            let url = format!(
                "{base}{}?format=json&sort={}&order={}&after={}",
                dir.to_url(true),
                query.sort.token(),
                query.order.token(),
                encoded(next)
            );
            push_json_string(&mut json, &url);
        }
        None => json.push_str("null"),
    }
    json.push_str("}\n");
    json
}

/// `{"path": "/dir/", "query": "TERM", "entries": [{"name", "path", "type", "size",
/// "modified"}], "truncated": false}`, where each entry's `path` is its decoded path from the
/// served root (README schema).
pub(crate) fn render_search_json(dir: &SafePath, term: &str, found: &Found) -> String {
    let mut json = String::with_capacity(96 + found.hits.len() * 160);
    json.push_str("{\"path\": ");
    push_json_string(&mut json, &dir.to_string());
    json.push_str(", \"query\": ");
    push_json_string(&mut json, term);
    json.push_str(", \"entries\": [");
    for (i, hit) in found.hits.iter().enumerate() {
        if i > 0 {
            json.push_str(", ");
        }
        push_json_entry(&mut json, &hit.name, Some(&hit.path), hit.meta, hit.symlink);
    }
    let _ = writeln!(json, "], \"truncated\": {}}}", found.truncated);
    json
}

/// One entry object; `path` only in search results.
fn push_json_entry(
    json: &mut String,
    name: &str,
    path: Option<&str>,
    meta: Metadata,
    symlink: bool,
) {
    json.push_str("{\"name\": ");
    push_json_string(json, name);
    if let Some(path) = path {
        json.push_str(", \"path\": ");
        push_json_string(json, path);
    }
    let kind = meta.type_name(symlink);
    let _ = write!(
        json,
        ", \"type\": \"{kind}\", \"size\": {}, \"modified\": ",
        meta.size
    );
    match meta.modified {
        Some(t) => {
            json.push('"');
            crate::civil::push_rfc3339(json, t.seconds);
            json.push('"');
        }
        None => json.push_str("null"),
    }
    json.push('}');
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
        out.push_str(itoa::Buffer::new().format(bytes));
        out.push_str(" B");
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
