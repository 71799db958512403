//! The tree a test serves: `root/` in a temporary directory, with `canary.txt` beside it
//! (outside the served root) so a leak is a string match. `tree_hash` digests everything
//! under the temporary directory, to prove a run changed nothing.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::hosts::Host;
use crate::server::Server;

/// The canary's contents: no response may ever contain them.
pub const CANARY: &str = "CANARY-7f3a9c-outside-the-root";

/// A temporary directory holding `root/` (served) and `canary.txt` (beside it, not served).
pub struct Fixture {
    dir: tempfile::TempDir,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::Builder::new()
            .prefix("sandserve-test")
            .tempdir()
            .unwrap();
        std::fs::create_dir(dir.path().join("root")).unwrap();
        std::fs::write(dir.path().join("canary.txt"), CANARY).unwrap();
        Fixture { dir }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn outside(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Writes `root/rel` (creating parents) and returns its path.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let path = self.root().join(rel);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    pub fn symlink(&self, target: impl AsRef<Path>, rel: &str) {
        std::os::unix::fs::symlink(target, self.root().join(rel)).unwrap();
    }

    pub fn fifo(&self, rel: &str) {
        let status = Command::new("mkfifo")
            .arg(self.root().join(rel))
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// A digest of every name, kind, mode, symlink target and file byte under the fixture
    /// (canary included), to prove a run changed nothing.
    pub fn tree_hash(&self) -> BTreeMap<PathBuf, String> {
        let mut out = BTreeMap::new();
        hash_tree(self.dir.path(), self.dir.path(), &mut out);
        out
    }

    /// Serves `root/` on the host `SANDSERVE_TEST_HOST` names (see `Host::from_env`).
    pub fn serve(&self, flags: &[&str]) -> Server {
        self.serve_on(&Host::from_env(), flags)
    }

    /// Serves `root/` on the given host.
    pub fn serve_on(&self, host: &Host, flags: &[&str]) -> Server {
        host.start(&self.root(), flags)
    }

    /// Serves `root/` quietly on the native `host` with the test guest that misbehaves on
    /// request (`tests/guests/faulty`) instead of the real component.
    pub fn serve_faulty(&self, host: &Host, flags: &[&str]) -> Server {
        let wasm = crate::faulty_wasm();
        let mut all = vec!["-q", "--component", wasm.to_str().expect("a UTF-8 path")];
        all.extend_from_slice(flags);
        host.start(&self.root(), &all)
    }

    /// Serves on the native `host` as an unprivileged user, so file permissions bind the
    /// server as they would bind a real user (root reads everything). Guard the test with
    /// `skip_unless!(privilege_drop)`.
    pub fn serve_unprivileged(&self, host: &Host, flags: &[&str]) -> Server {
        let wrapper = crate::skip::privilege_drop()
            .unwrap_or_else(|reason| panic!("guard with skip_unless!(privilege_drop): {reason}"));
        if wrapper.is_empty() {
            return self.serve_on(host, flags);
        }
        // nobody must be able to walk into the fixture.
        std::fs::set_permissions(self.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        self.serve_on(&host.clone().wrapped(&wrapper), flags)
    }
}

fn hash_tree(base: &Path, path: &Path, out: &mut BTreeMap<PathBuf, String>) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    let rel = path.strip_prefix(base).unwrap().to_path_buf();
    let mode = meta.permissions().mode();
    let entry = if meta.file_type().is_symlink() {
        format!("link {:?}", std::fs::read_link(path).unwrap())
    } else if meta.is_dir() {
        let mut names: Vec<_> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for child in names {
            hash_tree(base, &child, out);
        }
        format!("dir {mode:o}")
    } else if meta.is_file() {
        format!(
            "file {mode:o} {} {}",
            meta.mtime_nsec(),
            sha256_hex(&std::fs::read(path).unwrap())
        )
    } else {
        format!("special {mode:o}")
    };
    out.insert(rel, entry);
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Deterministic pseudo-random bytes (xorshift), so large files are not compressible runs.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Every entry under `dir`, by relative path with `/` separators (what a client should
/// have made of a tree, without the modes and times `Fixture::tree_hash` compares): `dir`, or
/// `file <length> <sha256>` (a digest, so a failed comparison prints a page, not megabytes).
pub fn tree_contents(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        let entries = std::fs::read_dir(&at)
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", at.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_str()
                .expect("a UTF-8 name")
                .to_owned();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                out.insert(rel, "dir".to_owned());
                stack.push(path);
            } else if meta.is_file() {
                let bytes = std::fs::read(&path)
                    .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
                out.insert(rel, format!("file {} {}", bytes.len(), sha256_hex(&bytes)));
            } else {
                panic!("{} is neither a file nor a directory", path.display());
            }
        }
    }
    out
}
