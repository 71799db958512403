//! Test doubles for uploads: [`MemStore`], an in-memory tree that can be read ([`Fs`]) and
//! written ([`Store`]), with failures on demand (a full disk, a read-only mount, a name
//! taken by another writer at the last moment); and [`Chunks`], a request body that arrives
//! in given chunks and then ends, breaks off or stalls.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use crate::fs::{DirEntry, Fs, FsError, Kind, Metadata};
use crate::fs::{Store, WriteError, Writer};
use crate::memfs::MTIME;
use crate::path::SafePath;
use crate::request::{BodyError, Source};

#[derive(Debug, Clone)]
enum Node {
    Dir,
    /// Shared, so a hard link is the same file under two names.
    File(Rc<RefCell<Vec<u8>>>),
}

/// An in-memory tree; paths are relative (`a/b.txt`), the root is implied.
#[derive(Debug, Default)]
pub(crate) struct MemStore {
    nodes: RefCell<BTreeMap<String, Node>>,
    /// Bytes that may still be written before the disk is full; `None` is unlimited.
    space: Cell<Option<u64>>,
    read_only: Cell<bool>,
    /// A name and contents another writer stores just before the next link to that name.
    sneak: RefCell<Option<(String, Vec<u8>)>>,
}

impl MemStore {
    pub(crate) fn new() -> MemStore {
        MemStore::default()
    }

    /// Adds a file (and its parent directories).
    pub(crate) fn file(self, path: &str, contents: &[u8]) -> MemStore {
        self.parents(path);
        self.nodes.borrow_mut().insert(
            path.to_owned(),
            Node::File(Rc::new(RefCell::new(contents.to_vec()))),
        );
        self
    }

    pub(crate) fn dir(self, path: &str) -> MemStore {
        self.parents(path);
        self.nodes.borrow_mut().insert(path.to_owned(), Node::Dir);
        self
    }

    /// The disk fills up after `bytes` more bytes.
    pub(crate) fn space(self, bytes: u64) -> MemStore {
        self.space.set(Some(bytes));
        self
    }

    /// Every write is refused, as on a read-only mount.
    pub(crate) fn read_only(self) -> MemStore {
        self.read_only.set(true);
        self
    }

    /// Another writer stores `contents` at `path` just before this one links there.
    pub(crate) fn sneak_in(self, path: &str, contents: &[u8]) -> MemStore {
        *self.sneak.borrow_mut() = Some((path.to_owned(), contents.to_vec()));
        self
    }

    fn parents(&self, path: &str) {
        let mut at = String::new();
        for part in path.split('/').collect::<Vec<_>>().split_last().unwrap().1 {
            if !at.is_empty() {
                at.push('/');
            }
            at.push_str(part);
            self.nodes.borrow_mut().insert(at.clone(), Node::Dir);
        }
    }

    /// Every path in the tree, sorted; directories end in `/`.
    pub(crate) fn paths(&self) -> Vec<String> {
        self.nodes
            .borrow()
            .iter()
            .map(|(path, node)| match node {
                Node::Dir => format!("{path}/"),
                Node::File(_) => path.clone(),
            })
            .collect()
    }

    /// The contents of the file at `path`.
    pub(crate) fn contents(&self, path: &str) -> Option<Vec<u8>> {
        match self.nodes.borrow().get(path)? {
            Node::File(data) => Some(data.borrow().clone()),
            Node::Dir => None,
        }
    }

    /// Checks that `path` may be created: writable, its parent a directory, its name free.
    fn creatable(&self, path: &SafePath) -> Result<String, WriteError> {
        if self.read_only.get() {
            return Err(WriteError::Forbidden);
        }
        let rel = path.relative();
        let nodes = self.nodes.borrow();
        if let Some((parent, _)) = rel.rsplit_once('/') {
            match nodes.get(parent) {
                Some(Node::Dir) => {}
                Some(Node::File(_)) => return Err(WriteError::NotDirectory),
                None => return Err(WriteError::NotFound),
            }
        }
        if nodes.contains_key(&rel) {
            return Err(WriteError::Exists);
        }
        Ok(rel)
    }
}

impl Fs for MemStore {
    fn stat(&self, path: &SafePath) -> Result<Metadata, FsError> {
        let rel = path.relative();
        let (kind, size) = match self.nodes.borrow().get(&rel) {
            _ if rel == "." => (Kind::Dir, 0),
            Some(Node::Dir) => (Kind::Dir, 0),
            Some(Node::File(data)) => (Kind::File, data.borrow().len() as u64),
            None => return Err(FsError::NotFound),
        };
        Ok(Metadata {
            kind,
            size,
            modified: Some(MTIME),
        })
    }

    fn read_dir(
        &self,
        path: &SafePath,
        each: &mut dyn FnMut(DirEntry) -> std::ops::ControlFlow<()>,
    ) -> Result<(), FsError> {
        let rel = path.relative();
        let prefix = if rel == "." {
            String::new()
        } else {
            format!("{rel}/")
        };
        let names: Vec<String> = self
            .nodes
            .borrow()
            .keys()
            .filter_map(|p| p.strip_prefix(&prefix))
            .filter(|rest| !rest.is_empty() && !rest.contains('/'))
            .map(str::to_owned)
            .collect();
        for name in names {
            let child = SafePath::from_config(&format!("{prefix}{name}")).unwrap();
            let entry = DirEntry {
                name,
                meta: self.stat(&child)?,
                symlink: false,
            };
            if each(entry).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn read(&self, path: &SafePath, offset: u64, len: u64) -> Result<Vec<u8>, FsError> {
        let data = self.contents(&path.relative()).ok_or(FsError::NotFound)?;
        let start = (offset as usize).min(data.len());
        let end = start.saturating_add(len as usize).min(data.len());
        Ok(data[start..end].to_vec())
    }

    fn store(&self) -> Option<&dyn Store> {
        Some(self)
    }
}

impl Store for MemStore {
    fn create_dir(&self, path: &SafePath) -> Result<(), WriteError> {
        let rel = self.creatable(path)?;
        self.nodes.borrow_mut().insert(rel, Node::Dir);
        Ok(())
    }

    fn create_new(&self, path: &SafePath) -> Result<Box<dyn Writer + '_>, WriteError> {
        let rel = self.creatable(path)?;
        let data = Rc::new(RefCell::new(Vec::new()));
        self.nodes
            .borrow_mut()
            .insert(rel, Node::File(Rc::clone(&data)));
        Ok(Box::new(MemWriter { store: self, data }))
    }

    fn link(&self, from: &SafePath, to: &SafePath) -> Result<(), WriteError> {
        if let Some((path, contents)) = self.sneak.borrow_mut().take() {
            self.nodes
                .borrow_mut()
                .insert(path, Node::File(Rc::new(RefCell::new(contents))));
        }
        let rel = self.creatable(to)?;
        let node = self
            .nodes
            .borrow()
            .get(&from.relative())
            .cloned()
            .ok_or(WriteError::NotFound)?;
        self.nodes.borrow_mut().insert(rel, node);
        Ok(())
    }

    fn remove_file(&self, path: &SafePath) -> Result<(), WriteError> {
        let mut nodes = self.nodes.borrow_mut();
        match nodes.get(&path.relative()) {
            Some(Node::File(_)) => {
                nodes.remove(&path.relative());
                Ok(())
            }
            _ => Err(WriteError::NotFound),
        }
    }

    fn rename(&self, from: &SafePath, to: &SafePath) -> Result<(), WriteError> {
        if self.read_only.get() {
            return Err(WriteError::Forbidden);
        }
        let mut nodes = self.nodes.borrow_mut();
        if matches!(nodes.get(&to.relative()), Some(Node::Dir)) {
            return Err(WriteError::Exists);
        }
        let (from, to) = (from.relative(), to.relative());
        let node = nodes.remove(&from).ok_or(WriteError::NotFound)?;
        nodes.insert(to.clone(), node);
        // A directory takes what it holds along, as rename(2) does.
        let inside: Vec<String> = nodes
            .keys()
            .filter(|p| p.starts_with(&format!("{from}/")))
            .cloned()
            .collect();
        for path in inside {
            let node = nodes.remove(&path).expect("listed");
            nodes.insert(format!("{to}{}", &path[from.len()..]), node);
        }
        Ok(())
    }

    fn remove_dir(&self, path: &SafePath) -> Result<(), WriteError> {
        let rel = path.relative();
        let prefix = format!("{rel}/");
        let mut nodes = self.nodes.borrow_mut();
        if nodes.keys().any(|p| p.starts_with(&prefix)) {
            return Err(WriteError::Io);
        }
        match nodes.remove(&rel) {
            Some(Node::Dir) => Ok(()),
            _ => Err(WriteError::NotFound),
        }
    }
}

struct MemWriter<'a> {
    store: &'a MemStore,
    data: Rc<RefCell<Vec<u8>>>,
}

impl Writer for MemWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        if let Some(left) = self.store.space.get() {
            let n = bytes.len() as u64;
            if n > left {
                return Err(WriteError::NoSpace);
            }
            self.store.space.set(Some(left - n));
        }
        self.data.borrow_mut().extend_from_slice(bytes);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), WriteError> {
        Ok(())
    }
}

/// A request body that arrives as the given chunks, then ends as `end` says.
pub(crate) struct Chunks {
    chunks: VecDeque<Vec<u8>>,
    end: Option<BodyError>,
    /// The largest chunk handed out, to check that reads stay bounded.
    pub(crate) largest: Rc<Cell<usize>>,
}

impl Chunks {
    /// A body of `bytes` in chunks of `size`, ending cleanly.
    pub(crate) fn of(bytes: &[u8], size: usize) -> Chunks {
        Chunks {
            chunks: bytes.chunks(size.max(1)).map(<[u8]>::to_vec).collect(),
            end: None,
            largest: Rc::default(),
        }
    }

    /// The same body, ending with `error` instead of cleanly.
    pub(crate) fn then(mut self, error: BodyError) -> Chunks {
        self.end = Some(error);
        self
    }
}

impl Source for Chunks {
    fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, BodyError> {
        match self.chunks.pop_front() {
            Some(chunk) => {
                self.largest.set(self.largest.get().max(chunk.len()));
                Ok(Some(chunk))
            }
            None => self.end.map_or(Ok(None), Err),
        }
    }
}
