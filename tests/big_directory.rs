//! A directory of 300,000 entries over real HTTP: every page of the listing in order, each
//! entry once, the total on every page; tar, zip and search of the whole of it. On the
//! native host all of it runs with `--max-memory 16M`, so an answer at all is the proof that
//! the guest stayed within 16 MiB.
//!
//! The tree is made once, into the target directory's scratch space (`CARGO_TARGET_TMPDIR`),
//! and kept there for later runs: it is never changed, and a temporary directory held in a
//! `static` is never dropped, so each run used to leave 300,000 files behind in `/tmp`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sandserve_testkit::{Host, Server};

/// Files in the big directory, besides one subdirectory and one dot-file.
const FILES: usize = 300_000;

/// The served root, holding `big/` with `FILES` empty files named like a dataset's
/// (`00000042-` and 31 more characters, 40 in all), `big/a-subdir/inner.txt`, and
/// `big/.secret`. Made under another name and renamed into place when complete, so a run
/// cut short leaves no half tree for the next one to serve.
fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"));
        // Named for what it holds, so a run after a change to the tree makes a new one
        // rather than serving the old: change the layout below, change the name.
        let kept = scratch.join(format!("big-directory-{FILES}-v1"));
        if kept.is_dir() {
            return kept;
        }
        let partial = kept.with_extension(format!("partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&partial);
        let dir = partial.join("big");
        std::fs::create_dir_all(dir.join("a-subdir")).unwrap();
        std::fs::write(dir.join("a-subdir/inner.txt"), "inner").unwrap();
        std::fs::write(dir.join(".secret"), "hidden").unwrap();
        for i in 0..FILES {
            std::fs::File::create(dir.join(file_name(i))).unwrap();
        }
        // Another run may have finished first: then its tree is the same, and ours goes.
        if std::fs::rename(&partial, &kept).is_err() {
            std::fs::remove_dir_all(&partial).unwrap();
        }
        kept
    })
}

fn file_name(i: usize) -> String {
    format!("{i:08}-{}", "x".repeat(31))
}

/// Serves the tree; on the native host, with 16 MiB of guest memory.
fn serve(flags: &[&str]) -> Server {
    let mut all = flags.to_vec();
    if matches!(Host::from_env(), Host::Native { .. }) {
        all.extend(["--max-memory", "16M"]);
    }
    Host::from_env().start(root(), &all)
}

fn json(server: &Server, path: &str) -> serde_json::Value {
    let response = server.get(path);
    assert_eq!(response.status, 200, "{path}: {}", response.text());
    serde_json::from_slice(&response.body).unwrap()
}

#[test]
fn every_json_page_in_order_each_entry_once() {
    let server = serve(&[]);
    let mut names = Vec::new();
    let mut next = Some("/big/?format=json".to_owned());
    let mut pages = 0;
    while let Some(path) = next {
        let page = json(&server, &path);
        assert_eq!(page["total"], FILES + 1, "{path}");
        assert_eq!(page["path"], "/big/");
        let entries = page["entries"].as_array().unwrap();
        assert!(entries.len() <= 10_000, "{path}: {}", entries.len());
        names.extend(
            entries
                .iter()
                .map(|e| e["name"].as_str().unwrap().to_owned()),
        );
        next = page["next"].as_str().map(str::to_owned);
        pages += 1;
    }
    assert_eq!(pages, 31);
    let mut want = vec!["a-subdir".to_owned()];
    want.extend((0..FILES).map(file_name));
    // Compared by count and by position, so a failure names the first difference, not a
    // 12 MB diff.
    assert_eq!(names.len(), want.len());
    if let Some(i) = (0..want.len()).find(|&i| names[i] != want[i]) {
        panic!("entry {i}: {} where {} belongs", names[i], want[i]);
    }
}

#[test]
fn other_orders_page_too() {
    let server = serve(&[]);
    let first = json(&server, "/big/?format=json&sort=name&order=desc");
    let entries = first["entries"].as_array().unwrap();
    assert_eq!(
        entries[0]["name"], "a-subdir",
        "directories first in either order"
    );
    assert_eq!(entries[1]["name"], file_name(FILES - 1).as_str());
    let second = json(&server, first["next"].as_str().unwrap());
    assert_eq!(
        second["entries"][0]["name"],
        file_name(FILES - 10_000).as_str()
    );
    // By size, every file is 0 bytes: ties go to the name, and pages still join up.
    let by_size = json(&server, "/big/?format=json&sort=size");
    let next = json(&server, by_size["next"].as_str().unwrap());
    assert_eq!(by_size["entries"][9_999]["name"], file_name(9_998).as_str());
    assert_eq!(next["entries"][0]["name"], file_name(9_999).as_str());
}

#[test]
fn html_pages_link_first_and_next_and_hide_dot_files() {
    let server = serve(&[]);
    let mut path = "/big/".to_owned();
    let mut pages = 0;
    loop {
        let response = server.get(&path);
        assert_eq!(response.status, 200, "{path}");
        let html = response.text();
        pages += 1;
        assert!(html.contains(" of 300,001"), "{path}: the total");
        assert!(!html.contains(".secret"), "{path}: a dot-file");
        assert_eq!(html.contains(">first page</a>"), pages > 1, "{path}");
        let Some(at) = html.find("\" rel=\"next\">next page</a>") else {
            break;
        };
        let href = &html[html[..at].rfind("href=\"").unwrap() + 6..at];
        path = format!("/big/{}", href.replace("&amp;", "&"));
    }
    assert_eq!(pages, 31);
}

/// Reads a whole body into a file beside the tree, so a 150 MB archive is not held.
fn download(server: &Server, path: &str) -> std::fs::File {
    let mut file = tempfile::tempfile().unwrap();
    let (status, _) = server.download(path, &mut file);
    assert_eq!(status, 200, "{path}");
    use std::io::Seek;
    file.rewind().unwrap();
    file
}

#[test]
fn tar_and_zip_hold_every_entry() {
    let server = serve(&[]);
    let tar = download(&server, "/big/?download=tar");
    let mut archive = tar::Archive::new(tar);
    let mut members = 0;
    let mut inner = String::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        assert!(!name.contains(".secret"));
        if name == "a-subdir/inner.txt" {
            entry.read_to_string(&mut inner).unwrap();
        }
        members += 1;
    }
    assert_eq!(members, FILES + 2, "the files, a-subdir/ and its file");
    assert_eq!(inner, "inner");

    let zip = download(&server, "/big/?download=zip");
    let mut archive = zip::ZipArchive::new(zip).unwrap();
    assert_eq!(archive.len(), FILES + 2);
    let mut inner = String::new();
    archive
        .by_name("a-subdir/inner.txt")
        .unwrap()
        .read_to_string(&mut inner)
        .unwrap();
    assert_eq!(inner, "inner");
    assert!(archive.by_name(&file_name(FILES - 1)).is_ok());
    assert!(archive.by_name(".secret").is_err());
}

#[test]
fn search_sees_the_whole_directory() {
    let server = serve(&[]);
    // Three matches, from the start, the middle and the end of the directory.
    let found = json(&server, "/big/?q=99999-&format=json");
    assert_eq!(found["truncated"], false);
    let names: Vec<&str> = found["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    let want: Vec<String> = [99_999, 199_999, 299_999].map(file_name).to_vec();
    assert_eq!(names, want);
    let hidden = json(&server, "/big/?q=secret&format=json");
    assert_eq!(hidden["entries"].as_array().unwrap().len(), 0);
}

#[test]
fn a_webdav_depth_1_answer_streams_every_entry() {
    let server = serve(&["--webdav"]);
    let body = br#"<propfind xmlns="DAV:"><prop><getcontentlength/></prop></propfind>"#;
    let r = server.send("PROPFIND", "/big/", &[("Depth", "1")], body);
    assert_eq!(r.status, 207);
    let xml = r.text();
    // The collection itself, its subdirectory, and every file; never the dot-file.
    assert_eq!(xml.matches("<D:response>").count(), FILES + 2);
    assert!(xml.contains(&format!("<D:href>/big/{}</D:href>", file_name(FILES - 1))));
    assert!(!xml.contains(".secret"));
    assert!(xml.ends_with("</D:multistatus>\n"));
}
