//! `?q=TERM` on a directory over real HTTP: HTML and JSON results with the listing's
//! visibility rules, truncation past the bounds, `--no-listing`, and the search box and the
//! archive links on the listing page.

use sandserve_testkit::Fixture;

fn fixture() -> Fixture {
    let fx = Fixture::new();
    fx.write("notes.txt", "top");
    fx.write("sub/Inner-NOTES.md", "inner");
    fx.write("sub/deeper/café notes.txt", "deep");
    fx.write("sub/.notes-secret", "secret");
    fx.write(".notes/hidden.txt", "hidden dir");
    fx.mkdir("sub/notes");
    fx.write("other/x.txt", "x");
    fx.symlink(fx.outside().join("canary.txt"), "sub/notes-escape.txt");
    fx.symlink("sub", "notes-link");
    fx
}

fn json(server: &sandserve_testkit::Server, path: &str) -> serde_json::Value {
    let r = server.request("GET", path, &[("Accept", "application/json")]);
    assert_eq!(r.status, 200, "{path}");
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    serde_json::from_slice(&r.body).unwrap()
}

fn paths(result: &serde_json::Value) -> Vec<&str> {
    result["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect()
}

#[test]
fn json_results_follow_the_listing_rules() {
    let fx = fixture();
    let before = fx.tree_hash();
    let server = fx.serve(&["-q"]);
    let found = json(&server, "/?q=NOTES");
    assert_eq!(found["path"], "/");
    assert_eq!(found["query"], "NOTES");
    assert_eq!(found["truncated"], false);
    assert_eq!(
        paths(&found),
        [
            "/notes-link/",
            "/notes.txt",
            "/sub/Inner-NOTES.md",
            "/sub/deeper/café notes.txt",
            "/sub/notes/",
        ],
        "no dot-files, no link out of the root, a linked directory listed but not descended"
    );
    let first = &found["entries"][1];
    assert_eq!(first["name"], "notes.txt");
    assert_eq!(first["type"], "file");
    assert_eq!(first["size"], 3);
    assert!(first["modified"].as_str().unwrap().ends_with('Z'));
    assert_eq!(found["entries"][0]["type"], "symlink");
    assert_eq!(found["entries"][4]["type"], "dir");
    // Below a directory, with `format=json`, and Unicode lower case.
    let below = server.get("/sub/?q=CAF%C3%89&format=json");
    let below: serde_json::Value = serde_json::from_slice(&below.body).unwrap();
    assert_eq!(paths(&below), ["/sub/deeper/café notes.txt"]);
    // With --hidden, dot-files are found too.
    let hidden = fx.serve(&["-q", "--hidden"]);
    let all = json(&hidden, "/?q=notes");
    assert!(paths(&all).contains(&"/sub/.notes-secret"), "{all}");
    assert!(paths(&all).contains(&"/.notes/"), "{all}");
    assert_eq!(fx.tree_hash(), before);
}

#[test]
fn html_results_link_to_each_path() {
    let fx = fixture();
    let server = fx.serve(&["-q"]);
    let page = server.get("/?q=notes").text();
    assert!(
        page.contains("<title>Search for \u{201c}notes\u{201d} in /</title>"),
        "{page}"
    );
    assert!(
        page.contains(
            "<a href=\"/sub/deeper/caf%C3%A9%20notes.txt\">sub/deeper/café notes.txt</a>"
        ),
        "{page}"
    );
    assert!(
        page.contains("<a href=\"/sub/notes/\">sub/notes/</a>"),
        "{page}"
    );
    assert!(page.contains("value=\"notes\""), "the box keeps the term");
    assert!(page.contains("5 matches"), "{page}");
    assert!(
        !page.contains("secret") && !page.contains("escape"),
        "{page}"
    );
    // Each result is the file it names.
    assert_eq!(
        server.get("/sub/deeper/caf%C3%A9%20notes.txt").text(),
        "deep"
    );
    // Markup in the term is text.
    let hostile = server.get("/?q=%3Cscript%3E").text();
    assert!(hostile.contains("&lt;script&gt;") && !hostile.contains("<script>"));
}

#[test]
fn an_empty_term_is_the_listing_and_no_listing_is_no_search() {
    let fx = fixture();
    let server = fx.serve(&["-q"]);
    let plain = server.get("/sub/");
    assert_eq!(server.get("/sub/?q=").text(), plain.text());
    assert_eq!(server.get("/sub/?q=+").text(), plain.text());
    let off = fx.serve(&["-q", "--no-listing"]);
    assert_eq!(off.get("/?q=notes").status, 404);
}

#[test]
fn past_a_thousand_matches_it_says_truncated() {
    let fx = Fixture::new();
    let dir = fx.mkdir("many");
    for i in 0..1100 {
        std::fs::File::create(dir.join(format!("match-{i:04}.txt"))).unwrap();
    }
    let server = fx.serve(&["-q"]);
    let found = json(&server, "/?q=match");
    assert_eq!(found["truncated"], true);
    assert_eq!(found["entries"].as_array().unwrap().len(), 1000);
    let page = server.get("/?q=match").text();
    assert!(
        page.contains("1000 matches (the search stopped early"),
        "{}",
        &page[page.len() - 300..]
    );
}

#[test]
fn the_listing_offers_search_and_both_archives() {
    let fx = fixture();
    let modified =
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_764_500_220);
    std::fs::File::options()
        .write(true)
        .open(fx.root().join("notes.txt"))
        .unwrap()
        .set_modified(modified)
        .unwrap();
    let server = fx.serve(&["-q"]);
    let page = server.get("/").text();
    let form = page
        .find("<form role=\"search\" method=\"get\"")
        .expect("a search form");
    assert!(
        form < page.find("<table>").unwrap(),
        "the search box sits above the table"
    );
    assert!(page.contains("<input type=\"search\" name=\"q\""));
    assert!(page.contains("<a href=\"?download=tar\" download>.tar</a>"));
    assert!(page.contains("<a href=\"?download=zip\" download>.zip</a>"));
    // Modified as people read it, in UTC, with the exact value in a title.
    assert!(
        page.contains("<td title=\"2025-11-30T10:57:00Z\">2025-11-30 10:57</td>"),
        "{page}"
    );
    assert!(!page.contains("<script"), "no JavaScript");
}
