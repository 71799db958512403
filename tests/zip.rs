//! `?download=zip` over real HTTP, read back by the tools people use: Python's `zipfile`
//! (exact member bytes and CRCs), `unzip -t` and `bsdtar`; the same member rules as the tar;
//! and a tree whose zip passes 4 GiB (sparse files, so the disk stays small), streamed with
//! the server's memory flat.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use sandserve_testkit::{noise, skip_unless, Fixture, CANARY};

fn fixture() -> Fixture {
    let fx = Fixture::new();
    fx.write("adir/blob.bin", noise(3 << 20, 7));
    fx.write("adir/deep/leaf.txt", "leaf");
    fx.write("adir/naïve café.txt", "unicode name");
    fx.write("adir/empty.txt", "");
    fx.write("adir/.env", "SECRET");
    fx.mkdir("adir/hollow");
    fx.symlink(fx.outside().join("canary.txt"), "adir/escape.txt");
    fx.symlink("deep", "adir/deep-link");
    fx
}

/// Lists a zip with Python's `zipfile`, testing every CRC: `name size sha256` per member.
fn python_listing(python: &Path, zip: &Path) -> Vec<String> {
    let script = "import hashlib, sys, zipfile\n\
                  z = zipfile.ZipFile(sys.argv[1])\n\
                  assert z.testzip() is None\n\
                  for i in z.infolist():\n\
                  \x20   h = hashlib.sha256()\n\
                  \x20   with z.open(i) as f:\n\
                  \x20       for chunk in iter(lambda: f.read(1 << 20), b''):\n\
                  \x20           h.update(chunk)\n\
                  \x20   print(i.filename, i.file_size, h.hexdigest())\n";
    let out = Command::new(python)
        .args(["-c", script])
        .arg(zip)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn zip_download_reads_back_byte_exact_with_the_tar_rules() {
    let python = skip_unless!(python3);
    let fx = fixture();
    let before = fx.tree_hash();
    let server = fx.serve(&["-q"]);
    let downloads = tempfile::tempdir().unwrap();
    let zip = downloads.path().join("adir.zip");
    let (status, headers) =
        server.download("/adir/?download=zip", &mut File::create(&zip).unwrap());
    assert_eq!(status, 200);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("content-type"), Some("application/zip"));
    assert!(
        header("content-disposition")
            .unwrap()
            .starts_with("attachment; filename=\"adir.zip\""),
        "{headers:?}"
    );
    let sha =
        |rel: &str| sandserve_testkit::sha256_hex(&std::fs::read(fx.root().join(rel)).unwrap());
    let empty = sandserve_testkit::sha256_hex(b"");
    assert_eq!(
        python_listing(&python, &zip),
        [
            format!("blob.bin {} {}", 3 << 20, sha("adir/blob.bin")),
            format!("deep/ 0 {empty}"),
            format!("deep/leaf.txt 4 {}", sha("adir/deep/leaf.txt")),
            format!("empty.txt 0 {empty}"),
            format!("hollow/ 0 {empty}"),
            format!("naïve café.txt 12 {}", sha("adir/naïve café.txt")),
        ],
        "no dot-files, no link out of the root, a linked directory not descended"
    );
    let bytes = std::fs::read(&zip).unwrap();
    assert!(!bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()));
    let hidden = fx.serve(&["-q", "--hidden"]);
    let with_dots = downloads.path().join("hidden.zip");
    hidden.download(
        "/adir/?download=zip",
        &mut File::create(&with_dots).unwrap(),
    );
    let names = python_listing(&python, &with_dots);
    assert!(names.iter().any(|l| l.starts_with(".env 6 ")), "{names:?}");
    assert_eq!(fx.tree_hash(), before);
}

#[test]
fn unzip_and_bsdtar_read_it() {
    let unzip = skip_unless!(unzip);
    let bsdtar = skip_unless!(bsdtar);
    let fx = fixture();
    let server = fx.serve(&["-q"]);
    let zip = fx.outside().join("adir.zip");
    server.download("/adir/?download=zip", &mut File::create(&zip).unwrap());
    let tested = Command::new(unzip).arg("-t").arg(&zip).output().unwrap();
    let said = String::from_utf8_lossy(&tested.stdout);
    assert!(tested.status.success(), "{said}");
    assert!(said.contains("No errors detected"), "{said}");
    let listed = Command::new(bsdtar).arg("-tf").arg(&zip).output().unwrap();
    assert!(listed.status.success());
    let names = String::from_utf8(listed.stdout).unwrap();
    assert_eq!(
        names.lines().collect::<Vec<_>>(),
        [
            "blob.bin",
            "deep/",
            "deep/leaf.txt",
            "empty.txt",
            "hollow/",
            "naïve café.txt"
        ]
    );
}

#[test]
fn no_listing_means_no_zip() {
    let fx = fixture();
    let server = fx.serve(&["-q", "--no-listing"]);
    assert_eq!(server.get("/adir/?download=zip").status, 404);
}

/// Writes what it is given, seeking over all-zero chunks so that a download of mostly
/// zeros stays as sparse on disk as the files it came from.
struct Sparse {
    file: File,
    len: u64,
}

impl Write for Sparse {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.iter().all(|&b| b == 0) {
            self.file.seek(SeekFrom::Current(buf.len() as i64))?;
        } else {
            self.file.write_all(buf)?;
        }
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.set_len(self.len)?;
        self.file.flush()
    }
}

/// The resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0)
}

/// Past 4 GiB, so the entry, its offset-after and the archive need Zip64.
const HUGE: u64 = (4 << 30) + 12345;

#[test]
fn a_zip_past_4_gib_reads_back_and_memory_stays_flat() {
    let python = skip_unless!(python3);
    skip_unless!(native_process);
    let fx = Fixture::new();
    fx.write("big/after.txt", "after the big one");
    let huge = File::create(fx.root().join("big/huge.bin")).unwrap();
    huge.set_len(HUGE).unwrap();
    let server = fx.serve(&["-q"]);
    let pid = server.pid();
    let baseline = rss_kib(pid);
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(baseline));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let zip = fx.outside().join("big.zip");
    let mut out = Sparse {
        file: File::create(&zip).unwrap(),
        len: 0,
    };
    let (status, _) = server.download("/big/?download=zip", &mut out);
    out.flush().unwrap();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    sampler.join().unwrap();
    assert_eq!(status, 200);
    assert!(out.len > 4 << 30, "{} bytes", out.len);
    let zeros = {
        use sha2::Digest as _;
        let mut hasher = sha2::Sha256::new();
        let chunk = vec![0u8; 1 << 20];
        let mut left = HUGE;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            hasher.update(&chunk[..n]);
            left -= n as u64;
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(
        python_listing(&python, &zip),
        [
            format!(
                "after.txt 17 {}",
                sandserve_testkit::sha256_hex(b"after the big one")
            ),
            format!("huge.bin {HUGE} {zeros}"),
        ]
    );
    let grown = peak
        .load(std::sync::atomic::Ordering::Relaxed)
        .saturating_sub(baseline);
    assert!(
        grown < 48 << 10,
        "the server grew by {grown} KiB while streaming a 4 GiB zip"
    );
}
