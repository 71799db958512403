//! An in-memory [`Fs`] for native tests and for fuzzing the request-to-response function.
//!
//! It holds what a real tree can: files with contents (literal bytes, or a cheap pattern for
//! sizes no test could keep in memory), directories, special files, symlinks, and an mtime per
//! node. It also fails on demand where a host would: a path whose `stat` is an error
//! (forbidden, or an I/O error), and a file whose contents cannot be read. So every reader of
//! [`Fs`] is tested through this one double.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use crate::fs::{DirEntry, Fs, FsError, Kind, Metadata, Timestamp};
use crate::path::SafePath;

/// Every node's mtime unless [`MemFs::modified`] says otherwise: 2023-11-14T22:13:20Z.
pub(crate) const MTIME: Timestamp = Timestamp {
    seconds: 1_700_000_000,
    nanoseconds: 0,
};

/// Links followed in a row before a path counts as a loop (Linux gives up after 40 too).
const MAX_LINKS: usize = 40;

/// Byte `offset..offset + len` of a pattern file: byte `i` is `i % 251`, a prime, so a read
/// at any offset is recognisable and not a multiple of any buffer size.
pub(crate) fn pattern(offset: u64, len: u64) -> Vec<u8> {
    (offset..offset + len).map(|i| (i % 251) as u8).collect()
}

#[derive(Debug, Clone)]
enum Node {
    /// Literal contents.
    Bytes(Vec<u8>),
    /// [`pattern`] contents of this many bytes, held as a number.
    Pattern(u64),
    Dir,
    /// A FIFO, socket or device.
    Special,
    /// A symlink to another path of the tree (relative to the root, as the sandbox resolves
    /// every link inside it).
    Link(String),
}

#[derive(Debug, Clone)]
struct Entry {
    node: Node,
    modified: Option<Timestamp>,
}

/// A tree of relative paths (`a/b.txt`; the root is `.`) to nodes. Parent directories are
/// created as paths are added.
#[derive(Debug, Clone)]
pub(crate) struct MemFs {
    nodes: BTreeMap<String, Entry>,
    /// Paths whose `stat` (and so every use) fails this way.
    failing: BTreeMap<String, FsError>,
    /// Files whose contents cannot be read: an I/O error after a good `stat`.
    unreadable: Vec<String>,
}

impl Default for MemFs {
    fn default() -> MemFs {
        MemFs::new()
    }
}

impl MemFs {
    pub(crate) fn new() -> MemFs {
        let mut fs = MemFs {
            nodes: BTreeMap::new(),
            failing: BTreeMap::new(),
            unreadable: Vec::new(),
        };
        fs.add(".", Node::Dir);
        fs
    }

    /// A file of `size` bytes of [`pattern`] (any size: nothing is allocated).
    pub(crate) fn file(mut self, path: &str, size: u64) -> MemFs {
        self.add(path, Node::Pattern(size));
        self
    }

    /// A file holding exactly `contents`.
    pub(crate) fn bytes(mut self, path: &str, contents: impl Into<Vec<u8>>) -> MemFs {
        self.add(path, Node::Bytes(contents.into()));
        self
    }

    pub(crate) fn dir(mut self, path: &str) -> MemFs {
        self.add(path, Node::Dir);
        self
    }

    /// A FIFO, socket or device.
    pub(crate) fn special(mut self, path: &str) -> MemFs {
        self.add(path, Node::Special);
        self
    }

    /// A symlink at `path` to `target`, a path from the root; a missing target, or a chain
    /// of links that never ends, is "not found", as the sandbox answers.
    pub(crate) fn symlink(mut self, path: &str, target: &str) -> MemFs {
        self.add(path, Node::Link(target.to_owned()));
        self
    }

    /// The host's permissions refuse `path`.
    pub(crate) fn deny(self, path: &str) -> MemFs {
        self.fail(path, FsError::Forbidden)
    }

    /// `path` (which may or may not exist) fails with `error` whenever it is used.
    pub(crate) fn fail(mut self, path: &str, error: FsError) -> MemFs {
        self.failing.insert(path.to_owned(), error);
        self
    }

    /// The file at `path` stats fine, but reading it is an I/O error.
    pub(crate) fn unreadable(mut self, path: &str) -> MemFs {
        self.unreadable.push(path.to_owned());
        self
    }

    /// Sets the mtime of the node at `path` (`None`: the host does not know it).
    pub(crate) fn modified(mut self, path: &str, mtime: Option<Timestamp>) -> MemFs {
        if let Some(entry) = self.nodes.get_mut(path) {
            entry.modified = mtime;
        }
        self
    }

    fn add(&mut self, path: &str, node: Node) {
        let mut parent = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            if !parent.is_empty() {
                parent.push('/');
            }
            parent.push_str(part);
            self.nodes.entry(parent.clone()).or_insert(Entry {
                node: Node::Dir,
                modified: Some(MTIME),
            });
        }
        let entry = Entry {
            node,
            modified: Some(MTIME),
        };
        self.nodes.insert(path.to_owned(), entry);
    }

    /// The node `path` names, after following links, and the path it was found at.
    fn resolve(&self, path: &str) -> Result<(&Entry, String), FsError> {
        let mut path = path.to_owned();
        for _ in 0..=MAX_LINKS {
            if let Some(error) = self.failing.get(&path) {
                return Err(*error);
            }
            let entry = self.nodes.get(&path).ok_or(FsError::NotFound)?;
            match &entry.node {
                Node::Link(target) => path.clone_from(target),
                _ => return Ok((entry, path)),
            }
        }
        Err(FsError::NotFound)
    }
}

fn metadata(entry: &Entry) -> Metadata {
    let (kind, size) = match &entry.node {
        Node::Bytes(bytes) => (Kind::File, bytes.len() as u64),
        Node::Pattern(size) => (Kind::File, *size),
        Node::Dir => (Kind::Dir, 0),
        // A link is resolved before its metadata is asked for.
        Node::Special | Node::Link(_) => (Kind::Other, 0),
    };
    Metadata {
        kind,
        size,
        modified: entry.modified,
    }
}

impl Fs for MemFs {
    fn stat(&self, path: &SafePath) -> Result<Metadata, FsError> {
        self.resolve(&path.relative())
            .map(|(entry, _)| metadata(entry))
    }

    fn read_dir(
        &self,
        path: &SafePath,
        each: &mut dyn FnMut(DirEntry) -> ControlFlow<()>,
    ) -> Result<(), FsError> {
        let (dir, found) = self.resolve(&path.relative())?;
        if !matches!(dir.node, Node::Dir) {
            return Err(FsError::NotFound);
        }
        let prefix = if found == "." {
            String::new()
        } else {
            format!("{found}/")
        };
        for (name, entry) in &self.nodes {
            let Some(rest) = name.strip_prefix(&prefix) else {
                continue;
            };
            if rest.is_empty() || rest == "." || rest.contains('/') {
                continue;
            }
            // An entry is listed even when using it would fail (as `readdir` lists a locked
            // directory); a link is listed with its target's metadata, or skipped when it
            // leads nowhere.
            let (meta, symlink) = match &entry.node {
                Node::Link(target) => match self.resolve(target) {
                    Ok((target, _)) => (metadata(target), true),
                    Err(_) => continue,
                },
                _ => (metadata(entry), false),
            };
            let entry = DirEntry {
                name: rest.to_owned(),
                meta,
                symlink,
            };
            if each(entry).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn read(&self, path: &SafePath, offset: u64, len: u64) -> Result<Vec<u8>, FsError> {
        let (entry, found) = self.resolve(&path.relative())?;
        if self.unreadable.contains(&found) {
            return Err(FsError::Io);
        }
        let size = metadata(entry).size;
        let start = offset.min(size);
        let end = start.saturating_add(len).min(size);
        match &entry.node {
            Node::Bytes(bytes) => Ok(bytes[start as usize..end as usize].to_vec()),
            Node::Pattern(_) => Ok(pattern(start, end - start)),
            Node::Dir | Node::Special | Node::Link(_) => Err(FsError::NotFound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(path: &str) -> SafePath {
        SafePath::parse(&format!("/{path}")).unwrap()
    }

    fn listing(fs: &MemFs, path: &str) -> Vec<(String, Kind, bool)> {
        let mut out = Vec::new();
        fs.read_dir(&at(path), &mut |e| {
            out.push((e.name, e.meta.kind, e.symlink));
            ControlFlow::Continue(())
        })
        .unwrap();
        out
    }

    #[test]
    fn contents_and_links() {
        let fs = MemFs::new()
            .bytes("d/a.txt", "hello")
            .file("huge", 5 << 30)
            .symlink("d/to-a", "d/a.txt")
            .symlink("d/to-d", "d")
            .symlink("loop", "loop")
            .symlink("dangling", "missing");
        assert_eq!(fs.read(&at("d/a.txt"), 1, 3), Ok(b"ell".to_vec()));
        assert_eq!(fs.read(&at("d/to-a"), 0, 100), Ok(b"hello".to_vec()));
        assert_eq!(fs.read(&at("d/a.txt"), 9, 3), Ok(vec![]));
        assert_eq!(fs.read(&at("huge"), (5 << 30) - 2, 9), Ok(vec![89, 90]));
        assert_eq!(fs.stat(&at("huge")).unwrap().size, 5 << 30);
        assert_eq!(fs.stat(&at("d/to-d")).unwrap().kind, Kind::Dir);
        assert_eq!(fs.stat(&at("loop")), Err(FsError::NotFound));
        assert_eq!(fs.stat(&at("dangling")), Err(FsError::NotFound));
        assert_eq!(fs.read(&at("d"), 0, 1), Err(FsError::NotFound));
        assert_eq!(listing(&fs, "d/to-d").len(), 3);
        assert_eq!(
            listing(&fs, "."),
            [
                ("d".to_owned(), Kind::Dir, false),
                ("huge".to_owned(), Kind::File, false),
            ],
            "links that lead nowhere are skipped"
        );
        assert!(listing(&fs, "d").contains(&("to-a".to_owned(), Kind::File, true)));
    }

    #[test]
    fn injected_failures_and_times() {
        let time = Timestamp {
            seconds: 7,
            nanoseconds: 0,
        };
        let fs = MemFs::new()
            .dir("locked")
            .deny("locked")
            .file("broken", 3)
            .fail("broken", FsError::Io)
            .file("unreadable", 3)
            .unreadable("unreadable")
            .symlink("via", "unreadable")
            .file("old", 1)
            .modified("old", Some(time))
            .file("unknown", 1)
            .modified("unknown", None);
        assert_eq!(fs.stat(&at("locked")), Err(FsError::Forbidden));
        assert_eq!(fs.stat(&at("broken")), Err(FsError::Io));
        assert_eq!(fs.stat(&at("unreadable")).unwrap().size, 3);
        assert_eq!(fs.read(&at("unreadable"), 0, 3), Err(FsError::Io));
        assert_eq!(fs.read(&at("via"), 0, 3), Err(FsError::Io));
        assert_eq!(fs.stat(&at("old")).unwrap().modified, Some(time));
        assert_eq!(fs.stat(&at("unknown")).unwrap().modified, None);
        assert_eq!(fs.stat(&at("broken/x")), Err(FsError::NotFound));
    }
}
