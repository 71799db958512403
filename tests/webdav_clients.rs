//! WebDAV read, and with `--modify` written, by a real client, rclone's webdav backend.
//!
//! Read-only (`--webdav`): `rclone copy`
//! brings the share down byte for byte and `rclone check --download` agrees with the tree on
//! disk; a directory named without its trailing slash lists; `rclone cat --offset` gets a
//! byte range; `rclone mount` (FUSE) walks the same tree, where a seek in a large file becomes
//! a Range request. Dot-files never reach the client (unless `--hidden`), a missing or hidden
//! name is "directory not found", nothing under the fixture changes, and without the flag
//! rclone finds no WebDAV at all (PROPFIND is 405). Every rclone run has a deadline and is
//! killed past it, and a mount is undone even when an assertion fails.
//!
//! Read-write (`--webdav --modify`): `rclone sync` up makes the served tree the local one
//! exactly (new, replaced and deleted files and directories) while the dot-files it cannot
//! see stay as they were, `rclone sync` down and `rclone check --download` agree; through a
//! read-write `rclone mount` a file copied in, a new directory, renames and deletions reach
//! the disk once the mount is cleanly undone.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sandserve_testkit::{noise, sha256_hex, skip_unless, tree_contents as tree, Fixture, Server};

/// The large file's size: over a megabyte, so reads are ranged and streamed.
const BIG: usize = 3 << 20;
/// The large file's bytes are `noise(BIG, BIG_SEED)`.
const BIG_SEED: u64 = 11;
/// How long one rclone command may run (the slower hosts included) before it is killed.
const COMMAND_LIMIT: Duration = Duration::from_secs(120);
/// How long `rclone mount` may take to show the mount.
const MOUNT_WAIT: Duration = Duration::from_secs(20);
/// How long a mount may stay up before a watchdog undoes it, so that a read blocked in FUSE
/// fails instead of hanging the test.
const MOUNT_LIMIT: Duration = Duration::from_secs(180);
/// How long an unmount may take, the uploads of the writes rclone still holds included.
const UNMOUNT_WAIT: Duration = Duration::from_secs(60);
/// rclone's exit code for "directory not found".
const DIR_NOT_FOUND: i32 = 3;

/// Nested directories, an empty one, a large file, names that need percent-encoding, and
/// dot-files at the top, below it, and as a directory.
fn fixture() -> Fixture {
    let fx = Fixture::new();
    fx.write("big.bin", noise(BIG, BIG_SEED));
    fx.write("café menu.txt", "soupe du jour\n");
    fx.write("a+b 50% #1?.txt", "reserved characters in a name\n");
    fx.write("docs/readme.md", "# docs\n");
    fx.write("docs/empty.txt", "");
    fx.write("docs/deep/er/leaf.txt", "leaf");
    fx.write("sub/x.txt", "x\n");
    fx.write("sub/deeper/y.txt", "y\n");
    fx.mkdir("hollow");
    fx.write(".secret", "DOT-SECRET-1");
    fx.write("sub/.env", "DOT-SECRET-2");
    fx.write(".git/config", "DOT-SECRET-3");
    fx
}

/// What a client may see of the fixture: its tree without any name that starts with a dot.
fn visible(fx: &Fixture) -> BTreeMap<String, String> {
    let mut all = tree(&fx.root());
    all.retain(|rel, _| !rel.split('/').any(|name| name.starts_with('.')));
    assert!(all.contains_key("big.bin") && all.contains_key("sub/deeper/y.txt"));
    all
}

/// The dot-files of the fixture, which must not reach a client without `--hidden`.
const DOT_NAMES: [&str; 4] = [".secret", "sub/.env", ".git", ".git/config"];

/// `rclone` talking to `server` as the remote `:webdav:`, with no user configuration (no
/// config file, no `RCLONE_*` variable), its cache in `work`, and one try per request.
fn rclone_command(rclone: &Path, server: &Server, work: &Path) -> Command {
    let mut command = Command::new(rclone);
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(|n| n.starts_with("RCLONE_")) {
            command.env_remove(name);
        }
    }
    command
        .args(["--config", "/dev/null", "--cache-dir"])
        .arg(work.join("rclone-cache"))
        .args([
            "--low-level-retries",
            "1",
            "--retries",
            "1",
            "--contimeout",
            "10s",
            "--timeout",
            "30s",
            "--webdav-vendor",
            "other",
            "--webdav-url",
        ])
        .arg(server.url("/"));
    command
}

/// How an rclone command ended.
struct Ran {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
}

impl Ran {
    fn stdout_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = String::from_utf8(self.stdout.clone())
            .expect("UTF-8 output")
            .lines()
            .map(str::to_owned)
            .collect();
        lines.sort();
        lines
    }
}

/// Reads all of `from` on a thread, so a chatty child never blocks on a full pipe.
fn drain(mut from: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = from.read_to_end(&mut bytes);
        bytes
    })
}

/// Runs `command` to its end, killing it and failing the test past `COMMAND_LIMIT`.
fn run(mut command: Command) -> Ran {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {command:?}: {error}"));
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let deadline = Instant::now() + COMMAND_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let said = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
            panic!("{command:?} still ran after {COMMAND_LIMIT:?}, killed; stderr: {said}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ran {
        status,
        stdout: stdout.join().unwrap(),
        stderr: String::from_utf8_lossy(&stderr.join().unwrap()).into_owned(),
    }
}

/// Runs an rclone subcommand against `server` and fails the test unless it succeeds.
fn rclone_ok(rclone: &Path, server: &Server, work: &Path, args: &[&str]) -> Ran {
    let mut command = rclone_command(rclone, server, work);
    command.args(args);
    let ran = run(command);
    assert!(
        ran.status.success(),
        "rclone {args:?}: {}; stderr: {}",
        ran.status,
        ran.stderr
    );
    ran
}

#[test]
fn rclone_copy_and_check_read_the_share() {
    let rclone = skip_unless!(rclone);
    let fx = fixture();
    let before = fx.tree_hash();
    let want = visible(&fx);
    let server = fx.serve(&["-q", "--webdav"]);
    let work = tempfile::tempdir().unwrap();
    let copied = work.path().join("copied");
    let copied_arg = copied.to_str().unwrap();

    rclone_ok(
        &rclone,
        &server,
        work.path(),
        &["copy", "--create-empty-src-dirs", ":webdav:", copied_arg],
    );
    assert_eq!(tree(&copied), want, "the copy is the share minus dot-files");
    for dot in DOT_NAMES {
        assert!(!copied.join(dot).exists(), "{dot} reached the client");
    }

    // Every file downloaded again and compared with the disk, both ways: nothing missing,
    // nothing extra, no byte different. The dot-files are left out on the local side only
    // by the filter (the remote side has none to leave out).
    let root = fx.root();
    rclone_ok(
        &rclone,
        &server,
        work.path(),
        &[
            "check",
            "--download",
            "--exclude",
            ".*",
            "--exclude",
            ".*/**",
            root.to_str().unwrap(),
            ":webdav:",
        ],
    );

    // A directory named without its trailing slash: rclone first asks for it as a file
    // (PROPFIND /sub), must be told it is a collection, then lists /sub/.
    let listed = rclone_ok(&rclone, &server, work.path(), &["lsf", "-R", ":webdav:sub"]);
    assert_eq!(listed.stdout_lines(), ["deeper/", "deeper/y.txt", "x.txt"]);

    // A byte range out of the middle of the large file (GET with Range, answered 206).
    let big = noise(BIG, BIG_SEED);
    let (offset, count) = (1_234_567, 100_000);
    let cat = rclone_ok(
        &rclone,
        &server,
        work.path(),
        &[
            "cat",
            "--offset",
            &offset.to_string(),
            "--count",
            &count.to_string(),
            ":webdav:big.bin",
        ],
    );
    assert!(
        cat.stdout == big[offset..offset + count],
        "rclone cat --offset {offset} --count {count} read {} wrong bytes",
        cat.stdout.len()
    );

    // A missing name and the dot-files, asked for directly, do not exist.
    for name in ["missing", "missing.txt", ".git", ".secret", "sub/.env"] {
        let mut command = rclone_command(&rclone, &server, work.path());
        command.args(["lsf", "-R", &format!(":webdav:{name}")]);
        let ran = run(command);
        assert_eq!(
            ran.status.code(),
            Some(DIR_NOT_FOUND),
            "{name}: {}",
            ran.stderr
        );
        assert!(ran.stdout.is_empty(), "{name}");
    }

    drop(server);
    assert_eq!(fx.tree_hash(), before, "reading the share changed it");
}

#[test]
fn hidden_shows_dot_files_to_rclone() {
    let rclone = skip_unless!(rclone);
    let fx = fixture();
    let server = fx.serve(&["-q", "--webdav", "--hidden"]);
    let work = tempfile::tempdir().unwrap();
    let listed = rclone_ok(&rclone, &server, work.path(), &["lsf", "-R", ":webdav:"]);
    let lines = listed.stdout_lines();
    for name in [".secret", "sub/.env", ".git/", ".git/config", "big.bin"] {
        assert!(lines.iter().any(|l| l == name), "{name} not in {lines:?}");
    }
    let cat = rclone_ok(&rclone, &server, work.path(), &["cat", ":webdav:sub/.env"]);
    assert_eq!(cat.stdout, b"DOT-SECRET-2");
}

#[test]
fn without_webdav_rclone_sees_nothing() {
    let rclone = skip_unless!(rclone);
    let fx = fixture();
    let before = fx.tree_hash();
    let server = fx.serve(&["-q"]);
    let work = tempfile::tempdir().unwrap();

    // PROPFIND is 405 without the flag: rclone's listing fails (exit 1), printing nothing.
    let mut command = rclone_command(&rclone, &server, work.path());
    command.args(["lsf", "-R", ":webdav:"]);
    let listed = run(command);
    assert!(
        !listed.status.success(),
        "rclone lsf listed a share without --webdav"
    );
    assert!(listed.stdout.is_empty(), "{:?}", listed.stdout_lines());
    assert!(listed.stderr.contains("405"), "{}", listed.stderr);

    let copied = work.path().join("copied");
    let mut command = rclone_command(&rclone, &server, work.path());
    command.args(["copy", ":webdav:"]).arg(&copied);
    let copy = run(command);
    assert!(
        !copy.status.success(),
        "rclone copy worked without --webdav"
    );
    assert!(
        !copied.exists() || tree(&copied).is_empty(),
        "copied without --webdav: {:?}",
        tree(&copied)
    );

    drop(server);
    assert_eq!(fx.tree_hash(), before);
}

/// Runs `fusermount3` (else `fusermount`) with `flags` on `point`; whether it succeeded.
fn fusermount(flags: &str, point: &Path) -> bool {
    ["fusermount3", "fusermount"].into_iter().any(|program| {
        Command::new(program)
            .arg(flags)
            .arg(point)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

/// A running `rclone mount`, unmounted and stopped on drop (so a failed assertion still
/// unmounts), and by a watchdog after `MOUNT_LIMIT` (so a read stuck in FUSE fails).
struct Mount {
    child: Arc<Mutex<Child>>,
    point: PathBuf,
    log: PathBuf,
    /// Dropped to call the watchdog off.
    cancel: Option<mpsc::Sender<()>>,
    watchdog: Option<JoinHandle<()>>,
}

impl Mount {
    /// Mounts `server` at `point` with `options` (the VFS cache mode, read-only or not) and
    /// short directory and attribute caches, and waits until the kernel lists the mount.
    fn start(rclone: &Path, server: &Server, work: &Path, point: &Path, options: &[&str]) -> Mount {
        let log = work.join("rclone-mount.log");
        let mut command = rclone_command(rclone, server, work);
        command
            .args(["mount", ":webdav:"])
            .arg(point)
            .args(options)
            .args(["--dir-cache-time", "1s", "--attr-timeout", "1s"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap());
        let child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {command:?}: {error}"));
        let child = Arc::new(Mutex::new(child));
        let (cancel, called_off) = mpsc::channel::<()>();
        let watchdog = {
            let child = Arc::clone(&child);
            let point = point.to_path_buf();
            std::thread::spawn(move || {
                if let Err(mpsc::RecvTimeoutError::Timeout) = called_off.recv_timeout(MOUNT_LIMIT) {
                    let _ = std::io::Write::write_all(
                        &mut std::io::stderr(),
                        format!("rclone mount still up after {MOUNT_LIMIT:?}: undone\n").as_bytes(),
                    );
                    fusermount("-uz", &point);
                    if let Ok(mut child) = child.lock() {
                        let _ = child.kill();
                    }
                }
            })
        };
        let mount = Mount {
            child,
            point: point.to_path_buf(),
            log,
            cancel: Some(cancel),
            watchdog: Some(watchdog),
        };
        mount.wait_until_mounted();
        mount
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether `/proc/self/mountinfo` lists a FUSE mount at the mount point.
    fn mounted(&self) -> bool {
        let point = self.point.to_str().expect("a UTF-8 mount point");
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .any(|line| {
                let fields: Vec<&str> = line.split(' ').collect();
                let fuse = line
                    .split(" - ")
                    .nth(1)
                    .is_some_and(|rest| rest.starts_with("fuse"));
                fields.get(4) == Some(&point) && fuse
            })
    }

    /// Unmounts cleanly (`fusermount -u`, retried while the mount is busy) and waits for
    /// rclone to exit, which it does once every write held in its VFS cache is uploaded.
    /// Fails the test if either does not happen in time or rclone exits with an error.
    fn unmount(self) {
        let deadline = Instant::now() + UNMOUNT_WAIT;
        while self.mounted() && !fusermount("-u", &self.point) {
            assert!(
                Instant::now() < deadline,
                "fusermount -u {} still failing after {UNMOUNT_WAIT:?}: {}",
                self.point.display(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let status = loop {
            if let Some(status) = self.child.lock().unwrap().try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "rclone mount still running {UNMOUNT_WAIT:?} after the unmount: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "rclone mount: {status}: {}", self.log());
        // Drop finds the mount gone and the process reaped, and calls the watchdog off.
    }

    fn wait_until_mounted(&self) {
        let deadline = Instant::now() + MOUNT_WAIT;
        while !self.mounted() {
            if let Some(status) = self.child.lock().unwrap().try_wait().unwrap() {
                panic!("rclone mount exited ({status}): {}", self.log());
            }
            if Instant::now() >= deadline {
                panic!("rclone mount not up after {MOUNT_WAIT:?}: {}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        drop(self.cancel.take());
        if let Some(watchdog) = self.watchdog.take() {
            let _ = watchdog.join();
        }
        // A plain unmount first; a lazy one if something still holds the mount busy.
        if self.mounted() && !fusermount("-u", &self.point) {
            fusermount("-uz", &self.point);
        }
        let Ok(mut child) = self.child.lock() else {
            return;
        };
        // rclone exits by itself once unmounted; give it a moment, then make sure.
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[test]
fn rclone_mount_read_only_reads_the_tree() {
    let rclone = skip_unless!(rclone);
    skip_unless!(fuse);
    let fx = fixture();
    let before = fx.tree_hash();
    let want = visible(&fx);
    let server = fx.serve(&["-q", "--webdav"]);
    let work = tempfile::tempdir().unwrap();
    let point = work.path().join("mnt");
    std::fs::create_dir(&point).unwrap();
    // No VFS cache, so every read reaches the server.
    let mount = Mount::start(
        &rclone,
        &server,
        work.path(),
        &point,
        &["--read-only", "--vfs-cache-mode", "off"],
    );

    // Seeks on one open handle, forwards and back, before anything else read the file:
    // without a VFS cache each one is a GET with a Range from the offset, so a server that
    // ignored Range (200 with the whole file) would hand back the first bytes instead.
    let big = noise(BIG, BIG_SEED);
    let mut file = File::open(point.join("big.bin")).unwrap();
    for offset in [1_234_567, 17, BIG - 1000, 2_000_000, 0] {
        let len = (64 << 10).min(BIG - offset);
        let mut got = vec![0; len];
        file.seek(SeekFrom::Start(offset as u64)).unwrap();
        file.read_exact(&mut got)
            .unwrap_or_else(|error| panic!("read at {offset}: {error}; {}", mount.log()));
        assert!(got == big[offset..offset + len], "wrong bytes at {offset}");
    }
    let mut rest = Vec::new();
    file.read_to_end(&mut rest).unwrap();
    assert!(rest == big[64 << 10..], "wrong bytes reading on to the end");
    drop(file);

    // The whole tree, like `find` and `cat`: every name, kind, length and byte.
    assert_eq!(tree(&point), want, "the mount is the share minus dot-files");
    for dot in DOT_NAMES {
        assert!(
            std::fs::symlink_metadata(point.join(dot)).is_err(),
            "{dot} is visible in the mount"
        );
    }
    // The mount is read-only, and the share behind it too.
    assert!(std::fs::write(point.join("new.txt"), "x").is_err());
    assert!(std::fs::create_dir(point.join("newdir")).is_err());

    drop(mount);
    drop(server);
    assert_eq!(
        fx.tree_hash(),
        before,
        "reading through the mount changed the share"
    );
}

/// The entries of `tree(fx.root())` under a dot-name: what a client cannot see, which a
/// write through the share must leave as it was.
fn dot_entries(fx: &Fixture) -> BTreeMap<String, String> {
    let mut all = tree(&fx.root());
    all.retain(|rel, _| rel.split('/').any(|name| name.starts_with('.')));
    assert_eq!(all.len(), DOT_NAMES.len(), "{all:?}");
    all
}

/// Copies the tree under `from` to `to` (created), leaving out dot-names.
fn copy_visible(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_visible(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn rclone_sync_both_ways() {
    let rclone = skip_unless!(rclone);
    let fx = fixture();
    let dots = dot_entries(&fx);
    let server = fx.serve(&["-q", "--webdav", "--modify"]);
    let work = tempfile::tempdir().unwrap();

    // The local side: the share, then new, changed and missing files and directories.
    // rclone's webdav backend cannot set a modification time on a plain WebDAV server, so
    // it tells a changed file by its size: every change here changes the size.
    let local = work.path().join("local");
    copy_visible(&fx.root(), &local);
    let write = |rel: &str, bytes: &[u8]| {
        let path = local.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    write("big.bin", &noise(BIG + 4321, 29)); // replaced (PUT over it: 204)
    write("café menu.txt", b"potage aux legumes, pain\n"); // changed
    write("sub/x.txt", b"x, longer now\n"); // changed, beside the server's sub/.env
    write("fresh.bin", &noise(700_000, 31)); // new
    write("new/nested/deeper/leaf.txt", b"new leaf\n"); // new, three directories deep
    write("docs/extra.txt", b"added to an existing directory\n");
    std::fs::create_dir_all(local.join("new/void")).unwrap(); // new and empty
    std::fs::remove_file(local.join("a+b 50% #1?.txt")).unwrap(); // gone
    std::fs::remove_dir_all(local.join("docs/deep")).unwrap(); // a gone subtree
    std::fs::remove_dir(local.join("hollow")).unwrap(); // a gone empty directory
    let local_arg = local.to_str().unwrap();

    rclone_ok(
        &rclone,
        &server,
        work.path(),
        &["sync", "--create-empty-src-dirs", local_arg, ":webdav:"],
    );
    let mut want = tree(&local);
    want.extend(dots.clone());
    assert_eq!(
        tree(&fx.root()),
        want,
        "after the upload the served tree is the local one, dot-files kept"
    );

    // And down again, into a directory with a stale file and a stale directory to delete.
    let other = work.path().join("other");
    std::fs::create_dir_all(other.join("stale/dir")).unwrap();
    std::fs::write(other.join("stale/dir/old.txt"), "old").unwrap();
    std::fs::write(other.join("big.bin"), "not the big file").unwrap();
    let other_arg = other.to_str().unwrap();
    rclone_ok(
        &rclone,
        &server,
        work.path(),
        &["sync", "--create-empty-src-dirs", ":webdav:", other_arg],
    );
    assert_eq!(
        tree(&other),
        visible(&fx),
        "the download is the share minus dot-files"
    );
    assert_eq!(tree(&other), tree(&local));

    // Every byte compared again by rclone itself, each way round.
    for (from, to) in [(local_arg, ":webdav:"), (":webdav:", other_arg)] {
        rclone_ok(
            &rclone,
            &server,
            work.path(),
            &["check", "--download", from, to],
        );
    }
    drop(server);
    let mut after = tree(&fx.root());
    after.retain(|rel, _| dots.contains_key(rel));
    assert_eq!(after, dots, "a dot-file changed");
}

#[test]
fn rclone_mount_read_write_copy_in_rename_delete() {
    let rclone = skip_unless!(rclone);
    skip_unless!(fuse);
    let fx = fixture();
    let mut want = tree(&fx.root());
    let server = fx.serve(&["-q", "--webdav", "--modify"]);
    let work = tempfile::tempdir().unwrap();
    let point = work.path().join("mnt");
    std::fs::create_dir(&point).unwrap();
    let incoming = work.path().join("incoming.bin");
    let noise_bytes = noise(2 << 20, 37);
    std::fs::write(&incoming, &noise_bytes).unwrap();

    // Plain WebDAV cannot write into the middle of a file: rclone writes to its VFS cache
    // and uploads the whole file on close (at once: no write-back delay).
    let mount = Mount::start(
        &rclone,
        &server,
        work.path(),
        &point,
        &["--vfs-cache-mode", "writes", "--vfs-write-back", "0s"],
    );
    let step = |what: &str, result: std::io::Result<()>| {
        if let Err(error) = result {
            panic!("{what}: {error}; {}", mount.log());
        }
    };
    step("mkdir made", std::fs::create_dir(point.join("made")));
    step(
        "copy the noise in",
        std::fs::copy(&incoming, point.join("made/noise.bin")).map(drop),
    );
    step(
        "rename across directories",
        std::fs::rename(
            point.join("café menu.txt"),
            point.join("sub/menu renamed.txt"),
        ),
    );
    step(
        "rename in place",
        std::fs::rename(point.join("sub/x.txt"), point.join("sub/x2.txt")),
    );
    step(
        "delete a file",
        std::fs::remove_file(point.join("a+b 50% #1?.txt")),
    );
    step(
        "delete a directory tree",
        std::fs::remove_dir_all(point.join("docs")),
    );
    step(
        "delete an empty directory",
        std::fs::remove_dir(point.join("hollow")),
    );
    // The mount already shows what was done.
    assert!(std::fs::read(point.join("made/noise.bin")).unwrap() == noise_bytes);
    assert!(!point.join("docs").exists() && !point.join("café menu.txt").exists());

    mount.unmount();
    drop(server);

    want.insert("made".to_owned(), "dir".to_owned());
    want.insert(
        "made/noise.bin".to_owned(),
        format!("file {} {}", noise_bytes.len(), sha256_hex(&noise_bytes)),
    );
    let menu = want.remove("café menu.txt").unwrap();
    want.insert("sub/menu renamed.txt".to_owned(), menu);
    let x = want.remove("sub/x.txt").unwrap();
    want.insert("sub/x2.txt".to_owned(), x);
    want.remove("a+b 50% #1?.txt").unwrap();
    want.retain(|rel, _| rel != "docs" && !rel.starts_with("docs/"));
    want.remove("hollow").unwrap();
    assert_eq!(
        tree(&fx.root()),
        want,
        "the served tree after the writes through the mount (dot-files untouched)"
    );
}
