use super::*;
use crate::fs::testing::entry;
use crate::fs::DirEntry;
use crate::order::Key;
use crate::order::Primary;
use crate::query::Start;

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
            &Page::whole(vec![entry(name, Kind::File, 3, 1)]),
            &ListingQuery::default(),
            "",
            false,
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
        &Page::whole(vec![
            entry("sub", Kind::Dir, 4096, 1),
            entry("f.bin", Kind::File, 2048, 1_700_000_000),
            link,
        ]),
        &ListingQuery::default(),
        "",
        false,
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
    assert!(html.contains("<td title=\"2023-11-14T22:13:20Z\">2023-11-14 22:13</td></tr>"));
    assert!(html.contains("title=\"symbolic link\""));
    assert!(html.contains("1 directory, 2 files"));
    assert!(html.contains("href=\"?download=tar\""));
    assert!(html.contains("<th scope=\"col\" aria-sort=\"ascending\"><a href=\"?sort=name&amp;order=desc\">Name</a></th>"));
    assert!(html.contains("<th scope=\"col\"><a href=\"?sort=size&amp;order=asc\">Size</a></th>"));
    assert!(!html.contains("<script"));
    assert!(
        !html.contains("enctype=\"multipart/form-data\""),
        "no upload form without --upload"
    );
    assert!(html.contains("<form role=\"search\""), "but a search box");
    let root = render_html(
        &SafePath::root(),
        &Page::whole(vec![]),
        &ListingQuery::default(),
        "",
        false,
    );
    assert!(!root.contains("href=\"../\""));
    let mounted = render_html(
        &dir,
        &Page::whole(vec![]),
        &ListingQuery::default(),
        "/files",
        false,
    );
    assert!(mounted.contains("<a href=\"/files/\">home</a> / <a href=\"/files/docs/\">docs</a>"));
}

#[test]
fn upload_form_after_the_table_before_the_footer() {
    let html = render_html(
        &SafePath::parse("/docs/").unwrap(),
        &Page::whole(vec![entry("a.txt", Kind::File, 1, 1)]),
        &ListingQuery::default(),
        "",
        true,
    );
    let form = html
        .find("<form method=\"post\" action=\"./\" enctype=\"multipart/form-data\"")
        .expect("a multipart form posting to the directory");
    assert!(html[form..].contains("<input type=\"file\" name=\"file\" multiple"));
    assert!(html.find("</table>").unwrap() < form);
    assert!(form < html.find("<footer>").unwrap());
    assert!(!html.contains("<script"), "the form needs no JavaScript");
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
    let empty = render_html(
        &dir,
        &Page::whole(vec![]),
        &ListingQuery::default(),
        "",
        false,
    )
    .len();
    let full = render_html(
        &dir,
        &Page::whole(entries.clone()),
        &ListingQuery::default(),
        "",
        false,
    )
    .len();
    let per_entry = (full - empty) / entries.len();
    assert!(per_entry < 200, "{per_entry} bytes per entry");
}

#[test]
fn json_shape_and_escaping() {
    let mut link = entry("ln", Kind::File, 7, 1);
    link.symlink = true;
    let json = render_json(
        &SafePath::parse("/d%22ir/").unwrap(),
        &Page::whole(vec![
            entry("quote\"back\\slash\nnl\u{1}", Kind::File, 12, 1_700_000_000),
            entry("sub", Kind::Dir, 0, 1),
            link,
        ]),
        &ListingQuery::default(),
        "",
    );
    assert_eq!(
        json,
        "{\"path\": \"/d\\\"ir/\", \"entries\": [\
         {\"name\": \"quote\\\"back\\\\slash\\nnl\\u0001\", \"type\": \"file\", \"size\": 12, \"modified\": \"2023-11-14T22:13:20Z\"}, \
         {\"name\": \"sub\", \"type\": \"dir\", \"size\": 0, \"modified\": \"1970-01-01T00:00:01Z\"}, \
         {\"name\": \"ln\", \"type\": \"symlink\", \"size\": 7, \"modified\": \"1970-01-01T00:00:01Z\"}], \"total\": 3, \"next\": null}\n"
    );
}

/// The second page of four entries by size, descending, two to a page.
fn middle_page() -> (Page, ListingQuery) {
    let query = ListingQuery {
        sort: SortKey::Size,
        order: Order::Desc,
        start: Start::After(Cursor(Key::new(true, Primary::Size(30), "c".into()))),
        ..ListingQuery::default()
    };
    let page = Page {
        entries: vec![
            entry("b b", Kind::File, 20, 1),
            entry("a&", Kind::File, 10, 1),
        ],
        total: 12_345,
        dirs: 1,
        before: 1,
        next: Some(Cursor(Key::new(true, Primary::Size(10), "a&".into()))),
    };
    (page, query)
}

#[test]
fn a_paged_listing_links_its_neighbours_and_counts_the_directory() {
    let (page, query) = middle_page();
    let html = render_html(&SafePath::parse("/d/").unwrap(), &page, &query, "", false);
    assert!(
        html.contains(
            "<nav aria-label=\"pages\">Entries 2&ndash;3 of 12,345 &middot; \
             <a href=\"?sort=size&amp;order=desc\">first page</a> &middot; \
             <a href=\"?sort=size&amp;order=desc&amp;after=f%2F10%2Fa%26\" rel=\"next\">next page</a></nav>"
        ),
        "{html}"
    );
    assert!(html.contains("1 directory, 12344 files"), "{html}");
    // The last page links back to the first only.
    let last = Page {
        next: None,
        ..page.clone()
    };
    let html = render_html(&SafePath::parse("/d/").unwrap(), &last, &query, "", false);
    assert!(html.contains(">first page</a></nav>"));
    assert!(!html.contains("next page"));
    // A directory that fits one page shows no page links.
    let whole = render_html(
        &SafePath::root(),
        &Page::whole(page.entries),
        &query,
        "",
        false,
    );
    assert!(!whole.contains("aria-label=\"pages\""));

    let json = render_json(
        &SafePath::parse("/d/").unwrap(),
        &middle_page().0,
        &query,
        "/m",
    );
    assert!(
        json.ends_with(
            "], \"total\": 12345, \"next\": \"/m/d/?format=json&sort=size&order=desc&after=f%2F10%2Fa%26\"}\n"
        ),
        "{json}"
    );
}

#[test]
fn thousands() {
    for (n, want) in [
        (0, "0"),
        (999, "999"),
        (1000, "1,000"),
        (1_234_567, "1,234,567"),
    ] {
        assert_eq!(Thousands(n).to_string(), want);
    }
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
