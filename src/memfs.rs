//! An in-memory [`Fs`] for native tests and fuzzing of the request-to-response function.

use std::collections::BTreeMap;

use crate::fs::{DirEntry, Fs, FsError, Kind, Metadata, Timestamp};
use crate::path::SafePath;

/// A tree of paths (`a/b.txt`) to metadata; directories are implied by their children or
/// added explicitly. Paths listed in `denied` answer `Forbidden`.
#[derive(Debug, Default, Clone)]
pub(crate) struct MemFs {
    nodes: BTreeMap<String, Metadata>,
    denied: Vec<String>,
}

impl MemFs {
    pub(crate) fn new() -> MemFs {
        let mut fs = MemFs::default();
        fs.nodes.insert(".".to_owned(), meta(Kind::Dir, 0));
        fs
    }

    /// Adds a file of `size` bytes, creating its parent directories.
    pub(crate) fn file(mut self, path: &str, size: u64) -> MemFs {
        self.add(path, meta(Kind::File, size));
        self
    }

    pub(crate) fn dir(mut self, path: &str) -> MemFs {
        self.add(path, meta(Kind::Dir, 0));
        self
    }

    /// A FIFO, socket or device.
    pub(crate) fn special(mut self, path: &str) -> MemFs {
        self.add(path, meta(Kind::Other, 0));
        self
    }

    pub(crate) fn deny(mut self, path: &str) -> MemFs {
        self.denied.push(path.to_owned());
        self
    }

    fn add(&mut self, path: &str, m: Metadata) {
        let mut parent = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            if !parent.is_empty() {
                parent.push('/');
            }
            parent.push_str(part);
            self.nodes.insert(parent.clone(), meta(Kind::Dir, 0));
        }
        self.nodes.insert(path.to_owned(), m);
    }
}

/// Every node has the same mtime: 2023-11-14T22:13:20Z.
pub(crate) const MTIME: Timestamp = Timestamp {
    seconds: 1_700_000_000,
    nanoseconds: 0,
};

fn meta(kind: Kind, size: u64) -> Metadata {
    Metadata {
        kind,
        size,
        modified: Some(MTIME),
    }
}

impl Fs for MemFs {
    /// File contents are the name's bytes repeated to the file's size.
    fn read(&self, path: &SafePath, offset: u64, len: u64) -> Result<Vec<u8>, FsError> {
        let meta = self.stat(path)?;
        if meta.kind != Kind::File {
            return Err(FsError::NotFound);
        }
        let name = path.relative();
        let start = offset.min(meta.size);
        let end = start.saturating_add(len).min(meta.size);
        Ok(name
            .bytes()
            .cycle()
            .skip(start as usize)
            .take((end - start) as usize)
            .collect())
    }

    fn stat(&self, path: &SafePath) -> Result<Metadata, FsError> {
        let rel = path.relative();
        if self.denied.contains(&rel) {
            return Err(FsError::Forbidden);
        }
        self.nodes.get(&rel).copied().ok_or(FsError::NotFound)
    }

    fn read_dir(&self, path: &SafePath, each: &mut dyn FnMut(DirEntry)) -> Result<(), FsError> {
        let meta = self.stat(path)?;
        if meta.kind != Kind::Dir {
            return Err(FsError::NotFound);
        }
        let rel = path.relative();
        let prefix = if rel == "." {
            String::new()
        } else {
            format!("{rel}/")
        };
        for (name, meta) in &self.nodes {
            let Some(rest) = name.strip_prefix(&prefix) else {
                continue;
            };
            if rest.is_empty() || rest == "." || rest.contains('/') {
                continue;
            }
            each(DirEntry {
                name: rest.to_owned(),
                meta: *meta,
                symlink: false,
            });
        }
        Ok(())
    }
}
