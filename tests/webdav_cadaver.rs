//! cadaver, the command-line WebDAV client, driven by a script on its standard input against
//! `--webdav --modify`: it lists, downloads, uploads (new and over an existing file), makes,
//! copies, moves and deletes files and collections, and the tree on disk shows each step;
//! dot-names stay out of reach (403) and out of listings; PROPPATCH (`propset`) is refused
//! property by property (403: no dead properties) and LOCK (`lock`) with 405, as on any
//! class 1 server. With `--upload` alone, cadaver
//! can only add: an overwrite is 409 and DELETE, MOVE and COPY are 405. Each run has a
//! deadline and HOME is an empty directory (no `~/.cadaverrc`, no `~/.netrc`).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sandserve_testkit::{sha256_hex, skip_unless, tree_contents as tree, Fixture, Server};

/// How long one cadaver script may run before it is killed.
const LIMIT: Duration = Duration::from_secs(60);

/// Files and collections to act on, a name that needs percent-encoding, and dot-files at the
/// top and in a collection.
fn fixture() -> Fixture {
    let fx = Fixture::new();
    fx.write("hello.txt", "hello\n");
    fx.write("keep.txt", "keep me\n");
    fx.write("gone.txt", "delete me\n");
    fx.write("two words.txt", "two words\n");
    fx.write("sub/x.txt", "x\n");
    fx.write("sub/.env", "DOT-SECRET-2");
    fx.write("old/a.txt", "a\n");
    fx.write("old/b/c.txt", "c\n");
    fx.write(".secret", "DOT-SECRET-1");
    fx
}

/// The tree `tree_contents` would read, from names and (for files) their text.
fn want(entries: &[(&str, Option<&str>)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(rel, contents)| {
            let shown = contents.map_or("dir".to_owned(), |text| {
                format!("file {} {}", text.len(), sha256_hex(text.as_bytes()))
            });
            (rel.to_string(), shown)
        })
        .collect()
}

fn drain(mut from: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = from.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Runs `script` through cadaver against `server`'s root, in `local` (where `get` and `put`
/// find their files), with HOME an empty directory; its standard output. Fails the test
/// if cadaver runs past `LIMIT` (killed) or exits with an error.
fn cadaver(program: &Path, server: &Server, local: &Path, script: &str) -> String {
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(program)
        .arg(server.url("/"))
        .current_dir(local)
        .env("HOME", home.path())
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start cadaver: {error}"));
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    // Not a terminal: cadaver reads its commands from the pipe, up to `quit` or its end.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(script.as_bytes()).unwrap();
    drop(stdin);
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "cadaver still ran after {LIMIT:?}, killed; stdout: {}",
                stdout.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(
        status.success(),
        "cadaver: {status}; stdout: {stdout}; stderr: {stderr}"
    );
    stdout
}

/// How cadaver reported the step whose message starts with `what` (e.g. "Deleting `a':"):
/// `Ok` for `succeeded.`, `Err(the next line)` for `failed:`.
fn outcome(output: &str, what: &str) -> Result<(), String> {
    let at = output
        .find(what)
        .unwrap_or_else(|| panic!("no {what:?} in cadaver's output: {output}"));
    let mut lines = output[at..].lines();
    let first = lines.next().unwrap();
    if first.ends_with("succeeded.") {
        Ok(())
    } else if first.ends_with("failed:") {
        Err(lines.next().unwrap_or_default().trim().to_owned())
    } else {
        panic!("{what:?}: neither succeeded nor failed: {first:?}; output: {output}")
    }
}

#[test]
fn cadaver_script_modifies_the_share() {
    let program = skip_unless!(cadaver);
    let fx = fixture();
    let server = fx.serve(&["-q", "--webdav", "--modify"]);
    let local = tempfile::tempdir().unwrap();
    std::fs::write(local.path().join("up.txt"), "uploaded\n").unwrap();
    std::fs::write(local.path().join("replace.txt"), "replaced, longer\n").unwrap();

    let output = cadaver(
        &program,
        &server,
        local.path(),
        "ls\n\
         get hello.txt got.txt\n\
         get \"two words.txt\" two.txt\n\
         put up.txt\n\
         put replace.txt keep.txt\n\
         mkcol made\n\
         mkcol made\n\
         copy hello.txt made/hello-copy.txt\n\
         copy sub made/subcopy\n\
         move up.txt made/up.txt\n\
         move \"two words.txt\" \"made/two words.txt\"\n\
         delete gone.txt\n\
         rmcol old\n\
         propset hello.txt color blue\n\
         lock hello.txt\n\
         put up.txt .sneaky\n\
         delete .secret\n\
         ls made\n\
         cat made/hello-copy.txt\n\
         quit\n",
    );
    let step = |what: &str| outcome(&output, what);

    // The listing shows the files and collections, no dot-file.
    assert_eq!(step("Listing collection `/':"), Ok(()));
    let top = output
        .split("Listing collection `/':")
        .nth(1)
        .unwrap()
        .split("dav:")
        .next()
        .unwrap();
    for name in ["hello.txt", "keep.txt", "gone.txt", "two words.txt"] {
        assert!(top.contains(&format!("  {name} ")), "{name} not in {top}");
    }
    assert!(
        top.contains("Coll:   sub ") && top.contains("Coll:   old "),
        "{top}"
    );
    assert!(!top.contains(".secret") && !top.contains(".env"), "{top}");

    assert_eq!(step("Downloading `/hello.txt' to got.txt:"), Ok(()));
    assert_eq!(step("Downloading `/two words.txt' to two.txt:"), Ok(()));
    assert_eq!(step("Uploading up.txt to `/up.txt':"), Ok(()));
    assert_eq!(step("Uploading replace.txt to `/keep.txt':"), Ok(()));
    assert_eq!(step("Creating `made': succeeded."), Ok(()));
    // The second MKCOL of the same name: 405.
    let again = output.rfind("Creating `made':").unwrap();
    assert_eq!(
        outcome(&output[again..], "Creating `made':"),
        Err("405 Method Not Allowed".to_owned())
    );
    assert_eq!(
        step("Copying `/hello.txt' to `/made/hello-copy.txt':"),
        Ok(())
    );
    assert_eq!(step("Copying `/sub' to `/made/subcopy':"), Ok(()));
    assert_eq!(step("Moving `/up.txt' to `/made/up.txt':"), Ok(()));
    assert_eq!(
        step("Moving `/two words.txt' to `/made/two words.txt':"),
        Ok(())
    );
    assert_eq!(step("Deleting `gone.txt':"), Ok(()));
    assert_eq!(step("Deleting collection `old':"), Ok(()));
    // Class 1: no dead properties (each is refused in a 403 propstat), no locks (405);
    // cadaver reports each and goes on.
    let propset = step("Setting property on `hello.txt':").unwrap_err();
    assert!(propset.ends_with("/hello.txt: 403 Forbidden"), "{propset}");
    assert_eq!(
        step("Locking `hello.txt':"),
        Err("405 Method Not Allowed".to_owned())
    );
    // Dot-names are out of reach without --hidden.
    assert_eq!(
        step("Uploading up.txt to `/.sneaky':"),
        Err("403 Forbidden".to_owned())
    );
    assert_eq!(step("Deleting `.secret':"), Err("403 Forbidden".to_owned()));
    assert_eq!(step("Listing collection `/made/':"), Ok(()));
    let made = output.split("Listing collection `/made/':").nth(1).unwrap();
    let made = made.split("dav:").next().unwrap();
    for name in ["hello-copy.txt", "up.txt", "two words.txt"] {
        assert!(made.contains(&format!("  {name} ")), "{name} not in {made}");
    }
    assert!(made.contains("Coll:   subcopy "), "{made}");
    // `cat` prints the copy's bytes, which are the original's.
    let cat = output.split("cat made/hello-copy.txt").nth(1).unwrap_or("");
    assert!(cat.contains("hello\n"), "{output}");

    drop(server);
    assert_eq!(
        tree(local.path()),
        want(&[
            ("got.txt", Some("hello\n")),
            ("two.txt", Some("two words\n")),
            ("replace.txt", Some("replaced, longer\n")),
            ("up.txt", Some("uploaded\n")),
        ]),
        "the downloads"
    );
    assert_eq!(
        tree(&fx.root()),
        want(&[
            (".secret", Some("DOT-SECRET-1")),
            ("hello.txt", Some("hello\n")),
            ("keep.txt", Some("replaced, longer\n")),
            ("made", None),
            ("made/hello-copy.txt", Some("hello\n")),
            ("made/subcopy", None),
            ("made/subcopy/x.txt", Some("x\n")),
            ("made/two words.txt", Some("two words\n")),
            ("made/up.txt", Some("uploaded\n")),
            ("sub", None),
            ("sub/.env", Some("DOT-SECRET-2")),
            ("sub/x.txt", Some("x\n")),
        ]),
        "the served tree after the script (the copy of sub/ leaves its dot-file behind)"
    );
}

#[test]
fn cadaver_with_upload_only_adds() {
    let program = skip_unless!(cadaver);
    let fx = fixture();
    let mut expected = tree(&fx.root());
    let server = fx.serve(&["-q", "--webdav", "--upload"]);
    let local = tempfile::tempdir().unwrap();
    std::fs::write(local.path().join("up.txt"), "uploaded\n").unwrap();

    let output = cadaver(
        &program,
        &server,
        local.path(),
        "put up.txt\n\
         put up.txt keep.txt\n\
         mkcol made\n\
         delete gone.txt\n\
         rmcol old\n\
         copy hello.txt made/copy.txt\n\
         move keep.txt made/keep.txt\n\
         quit\n",
    );
    let step = |what: &str| outcome(&output, what);
    assert_eq!(step("Uploading up.txt to `/up.txt':"), Ok(()));
    assert_eq!(
        step("Uploading up.txt to `/keep.txt':"),
        Err("409 Conflict".to_owned())
    );
    assert_eq!(step("Creating `made':"), Ok(()));
    let refused = Err("405 Method Not Allowed".to_owned());
    assert_eq!(step("Deleting `gone.txt':"), refused);
    assert!(
        step("Deleting collection `old':")
            .is_err_and(|said| said.contains("405 Method Not Allowed")),
        "{output}"
    );
    assert_eq!(step("Copying `/hello.txt' to `/made/copy.txt':"), refused);
    assert_eq!(step("Moving `/keep.txt' to `/made/keep.txt':"), refused);

    drop(server);
    expected.extend(want(&[("up.txt", Some("uploaded\n")), ("made", None)]));
    assert_eq!(
        tree(&fx.root()),
        expected,
        "only the new file and collection"
    );
}
