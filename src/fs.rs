//! What the router needs from a read-only filesystem, as plain types, so request handling
//! runs over WASI in the component and over an in-memory tree in native tests; how a
//! filesystem failure becomes an HTTP status; and the write side an upload stores through
//! ([`Store`]), with its failures.
//!
//! A directory is read as a stream through a callback, never as a list, so a caller holds
//! only what it keeps. [`Fs::read_names`] gives each entry's kind without a `stat` where the
//! directory itself says it (a listing sorted by name needs no more), and
//! [`Fs::stat_names`] looks up the few entries a page shows.

use std::ops::ControlFlow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::StatusCode;

use crate::path::SafePath;

/// The kinds of node a response can be built from; everything else is `Other` and never opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Dir,
    /// FIFO, socket, device, or anything a host cannot name: never read (it may block).
    Other,
}

/// Metadata after following symlinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Metadata {
    pub(crate) kind: Kind,
    pub(crate) size: u64,
    /// Modification time, when the host reports one.
    pub(crate) modified: Option<Timestamp>,
}

impl Metadata {
    /// The entry's type as listings and the XML-RPC API name it: a symlink is `symlink`
    /// whatever it points to, so a client can tell a link from what it reaches.
    pub(crate) fn type_name(&self, symlink: bool) -> &'static str {
        match (symlink, self.kind) {
            (true, _) => "symlink",
            (false, Kind::Dir) => "dir",
            (false, _) => "file",
        }
    }
}

/// A modification time as WASI gives it: seconds and nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Timestamp {
    pub(crate) seconds: u64,
    pub(crate) nanoseconds: u32,
}

impl Timestamp {
    pub(crate) fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::new(self.seconds, self.nanoseconds)
    }
}

/// One directory entry, with the metadata of what it points to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DirEntry {
    pub(crate) name: String,
    pub(crate) meta: Metadata,
    /// The entry itself is a symlink (that stays inside the root, or it would not be listed).
    pub(crate) symlink: bool,
}

/// One entry as a directory lists it, before any `stat` of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    pub(crate) name: String,
    /// What it is, after following a symlink.
    pub(crate) kind: Kind,
    pub(crate) symlink: bool,
}

impl Name {
    pub(crate) fn of(entry: DirEntry) -> Name {
        Name {
            name: entry.name,
            kind: entry.meta.kind,
            symlink: entry.symlink,
        }
    }
}

/// Filesystem failures the router distinguishes; each maps to one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FsError {
    /// Missing, refused by the sandbox (a symlink out of the root), a loop, or a bad name.
    NotFound,
    /// The host's permissions refuse it.
    Forbidden,
    /// Anything else: a real fault.
    Io,
}

impl FsError {
    /// The status for a request that failed this way: a name that cannot be served is 404
    /// whatever the reason, so a client never learns whether a refused name exists.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            FsError::NotFound => StatusCode::NOT_FOUND,
            FsError::Forbidden => StatusCode::FORBIDDEN,
            FsError::Io => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A read-only view of the served root.
pub(crate) trait Fs {
    /// Metadata of `path`, following symlinks (which the sandbox keeps inside the root).
    fn stat(&self, path: &SafePath) -> Result<Metadata, FsError>;

    /// Calls `each` for every entry of the directory at `path`, in no particular order, until
    /// it breaks. Entries that vanish or cannot be followed are skipped, never fatal for the
    /// listing.
    fn read_dir(
        &self,
        path: &SafePath,
        each: &mut dyn FnMut(DirEntry) -> ControlFlow<()>,
    ) -> Result<(), FsError>;

    /// As [`Fs::read_dir`], with each entry's name and kind only: a filesystem that learns
    /// kinds from the directory itself stats nothing but symlinks (to follow them).
    fn read_names(
        &self,
        path: &SafePath,
        each: &mut dyn FnMut(Name) -> ControlFlow<()>,
    ) -> Result<(), FsError> {
        self.read_dir(path, &mut |entry| each(Name::of(entry)))
    }

    /// The entries `names` of the directory `dir` with their metadata, in the given order;
    /// one gone since it was listed is left out.
    fn stat_names(
        &self,
        dir: &SafePath,
        names: Vec<Name>,
        each: &mut dyn FnMut(DirEntry),
    ) -> Result<(), FsError> {
        for name in names {
            let Some(path) = dir.join(&name.name) else {
                continue;
            };
            if let Ok(meta) = self.stat(&path) {
                each(DirEntry {
                    name: name.name,
                    meta,
                    symlink: name.symlink,
                });
            }
        }
        Ok(())
    }

    /// Up to `len` bytes of the file at `path` from `offset`, into memory. Only the XML-RPC
    /// API uses it (its answers carry file bytes); HTTP bodies are spliced instead.
    fn read(&self, path: &SafePath, offset: u64, len: u64) -> Result<Vec<u8>, FsError>;

    /// The write side, for uploads only; `None` where nothing may be written.
    fn store(&self) -> Option<&dyn Store> {
        None
    }
}

/// Why a write failed, as far as the reply cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteError {
    /// The name is taken.
    Exists,
    /// Something on the way is a file, not a directory.
    NotDirectory,
    /// Missing, or refused by the sandbox (a link out of the root).
    NotFound,
    /// The host's permissions refuse it (a read-only mount).
    Forbidden,
    /// The filesystem refuses the name (too long, bad bytes).
    BadName,
    /// The disk or a quota is full.
    NoSpace,
    /// Anything else.
    Io,
}

impl WriteError {
    pub(crate) fn status(self) -> StatusCode {
        match self {
            WriteError::Exists | WriteError::NotDirectory => StatusCode::CONFLICT,
            WriteError::NotFound => StatusCode::NOT_FOUND,
            WriteError::Forbidden => StatusCode::FORBIDDEN,
            WriteError::BadName => StatusCode::BAD_REQUEST,
            WriteError::NoSpace => StatusCode::INSUFFICIENT_STORAGE,
            WriteError::Io => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The write side of the served directory: exactly the operations an upload needs.
pub(crate) trait Store {
    /// Creates the directory `path`; `Exists` if anything has that name.
    fn create_dir(&self, path: &SafePath) -> Result<(), WriteError>;

    /// Creates the file `path`, which must not exist (not even as a dangling link), and
    /// opens it for writing.
    fn create_new(&self, path: &SafePath) -> Result<Box<dyn Writer + '_>, WriteError>;

    /// Gives the file `from` a second name `to`; `Exists` if `to` is taken.
    fn link(&self, from: &SafePath, to: &SafePath) -> Result<(), WriteError>;

    /// Removes the name `path` of a file.
    fn remove_file(&self, path: &SafePath) -> Result<(), WriteError>;

    /// Removes the directory `path` if it is empty.
    fn remove_dir(&self, path: &SafePath) -> Result<(), WriteError>;

    /// Gives the file `from` the name `to`, replacing a file there in one step, so a reader
    /// sees the old bytes or the new, never a mix (`--modify`).
    fn rename(&self, from: &SafePath, to: &SafePath) -> Result<(), WriteError>;
}

/// A file being written.
pub(crate) trait Writer {
    fn write(&mut self, bytes: &[u8]) -> Result<(), WriteError>;

    /// Waits until every byte is written, reporting a late failure (a full disk).
    fn finish(self: Box<Self>) -> Result<(), WriteError>;
}

/// Entries for the tests of the modules that sort and render them.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A plain (not symlinked) entry modified `seconds` after the epoch.
    pub(crate) fn entry(name: &str, kind: Kind, size: u64, seconds: u64) -> DirEntry {
        DirEntry {
            name: name.to_owned(),
            meta: Metadata {
                kind,
                size,
                modified: Some(Timestamp {
                    seconds,
                    nanoseconds: 5,
                }),
            },
            symlink: false,
        }
    }

    pub(crate) fn names(entries: &[DirEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.name.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_statuses() {
        assert_eq!(FsError::NotFound.status(), StatusCode::NOT_FOUND);
        assert_eq!(FsError::Forbidden.status(), StatusCode::FORBIDDEN);
        assert_eq!(FsError::Io.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
