//! What the router needs from a read-only filesystem, as plain types, so request handling
//! runs over WASI in the component and over an in-memory tree in native tests.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::path::SafePath;

/// The kinds of node a response can be built from; everything else is `Other` and never opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    /// FIFO, socket, device, or anything a host cannot name: never read (it may block).
    Other,
}

/// Metadata after following symlinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metadata {
    pub kind: Kind,
    pub size: u64,
    /// Modification time, when the host reports one.
    pub modified: Option<Timestamp>,
}

/// A modification time as WASI gives it: seconds and nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    pub seconds: u64,
    pub nanoseconds: u32,
}

impl Timestamp {
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::new(self.seconds, self.nanoseconds)
    }
}

/// One directory entry, with the metadata of what it points to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub meta: Metadata,
    /// The entry itself is a symlink (that stays inside the root, or it would not be listed).
    pub symlink: bool,
}

/// Filesystem failures the router distinguishes; each maps to one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsError {
    /// Missing, refused by the sandbox (a symlink out of the root), a loop, or a bad name.
    NotFound,
    /// The host's permissions refuse it.
    Forbidden,
    /// Anything else: a real fault.
    Io,
}

/// A read-only view of the served root.
pub trait Fs {
    /// Metadata of `path`, following symlinks (which the sandbox keeps inside the root).
    fn stat(&self, path: &SafePath) -> Result<Metadata, FsError>;

    /// Calls `each` for every entry of the directory at `path`, in no particular order.
    /// Entries that vanish or cannot be followed are skipped, never fatal for the listing.
    fn read_dir(&self, path: &SafePath, each: &mut dyn FnMut(DirEntry)) -> Result<(), FsError>;

    /// Up to `len` bytes of the file at `path` from `offset`, into memory. Only the XML-RPC
    /// API uses it (its answers carry file bytes); HTTP bodies are spliced instead.
    fn read(&self, path: &SafePath, offset: u64, len: u64) -> Result<Vec<u8>, FsError>;
}
