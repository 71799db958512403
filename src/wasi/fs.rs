//! [`Fs`] over `wasi:filesystem`, relative to the preopen mounted at `/`.
//!
//! Paths below the root are resolved against the preopen directly. The root itself is
//! stat'ed and listed through an `open-at(".")` handle, opened only when needed, because
//! some hosts (jco's Node shim) refuse `stat` and `read-directory` on a preopen descriptor.

use wasi::filesystem::preopens::get_directories;
use wasi::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorStat, DescriptorType, ErrorCode, OpenFlags, PathFlags,
};

use crate::fs::Store;
use std::ops::ControlFlow;

use crate::fs::{DirEntry, Fs, FsError, Kind, Metadata, Name, Timestamp};
use crate::path::SafePath;

/// Unreadable entries skipped in one listing before the listing itself fails.
const MAX_ENTRY_FAILURES: u32 = 100_000;

pub(crate) struct WasiFs {
    pub(super) preopen: Descriptor,
    root: std::cell::OnceCell<Result<Descriptor, FsError>>,
}

impl WasiFs {
    /// Opens the root: the preopen mounted at `/`, or the only one there is.
    pub(crate) fn open() -> Result<WasiFs, FsError> {
        let mut dirs = get_directories();
        let index = dirs.iter().position(|(_, path)| path == "/").unwrap_or(0);
        if dirs.is_empty() {
            return Err(FsError::Io);
        }
        let (preopen, _) = dirs.swap_remove(index);
        Ok(WasiFs {
            preopen,
            root: std::cell::OnceCell::new(),
        })
    }

    /// The root as a directory handle of its own (see the module note).
    fn root(&self) -> Result<&Descriptor, FsError> {
        self.root
            .get_or_init(|| {
                self.preopen
                    .open_at(
                        PathFlags::empty(),
                        ".",
                        OpenFlags::DIRECTORY,
                        DescriptorFlags::READ,
                    )
                    .map_err(error)
            })
            .as_ref()
            .map_err(|e| *e)
    }

    /// Opens a file for reading. Only called on a path that stat says is a regular file, so
    /// a FIFO is never opened (opening one blocks).
    pub(crate) fn open_file(&self, path: &SafePath) -> Result<Descriptor, FsError> {
        self.preopen
            .open_at(
                PathFlags::SYMLINK_FOLLOW,
                &path.relative(),
                OpenFlags::empty(),
                DescriptorFlags::READ,
            )
            .map_err(error)
    }
}

impl Fs for WasiFs {
    /// The preopen's write side (`wasi/upload.rs`); the host decides whether it is writable.
    fn store(&self) -> Option<&dyn Store> {
        Some(self)
    }

    fn read(&self, path: &SafePath, offset: u64, len: u64) -> Result<Vec<u8>, FsError> {
        let file = self.open_file(path)?;
        let stream = file.read_via_stream(offset).map_err(error)?;
        let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0).min(1 << 20));
        while (out.len() as u64) < len {
            let want = (len - out.len() as u64).min(1 << 20);
            match stream.blocking_read(want) {
                Ok(chunk) => out.extend_from_slice(&chunk),
                Err(_) => break, // end of file: a short read, as asked past the end
            }
        }
        Ok(out)
    }

    fn stat(&self, path: &SafePath) -> Result<Metadata, FsError> {
        if path.is_root() {
            return self.root()?.stat().map(metadata).map_err(error);
        }
        // Not following first: most paths name no link, and a host without a shortcut
        // (wasmtime-wasi) follows by opening the path, `fstat` and `close`, where one that
        // does not follow makes a single `statx`. Only a link costs the second call.
        let relative = path.relative();
        let stat = match self.preopen.stat_at(PathFlags::empty(), &relative) {
            Ok(stat) if stat.type_ == DescriptorType::SymbolicLink => {
                self.preopen.stat_at(PathFlags::SYMLINK_FOLLOW, &relative)
            }
            other => other,
        };
        stat.map(metadata).map_err(error)
    }

    fn read_dir(
        &self,
        path: &SafePath,
        each: &mut dyn FnMut(DirEntry) -> ControlFlow<()>,
    ) -> Result<(), FsError> {
        self.entries(path, true, &mut |name, symlink, looked| {
            // Every entry was stat'ed, as asked; a kind alone cannot happen here.
            let Some(stat) = looked.stat() else {
                return ControlFlow::Continue(());
            };
            each(DirEntry {
                name,
                meta: metadata(stat),
                symlink,
            })
        })
    }

    fn read_names(
        &self,
        path: &SafePath,
        each: &mut dyn FnMut(Name) -> ControlFlow<()>,
    ) -> Result<(), FsError> {
        self.entries(path, false, &mut |name, symlink, stat| {
            let kind = match stat {
                Looked::Stat(stat) => metadata(stat).kind,
                Looked::Kind(kind) => kind,
            };
            each(Name {
                name,
                kind,
                symlink,
            })
        })
    }

    fn stat_names(
        &self,
        path: &SafePath,
        names: Vec<Name>,
        each: &mut dyn FnMut(DirEntry),
    ) -> Result<(), FsError> {
        let mut opened = None;
        let dir = self.dir(path, &mut opened)?;
        for name in names {
            let follow = if name.symlink {
                PathFlags::SYMLINK_FOLLOW
            } else {
                PathFlags::empty()
            };
            if let Ok(stat) = dir.stat_at(follow, &name.name) {
                each(DirEntry {
                    name: name.name,
                    meta: metadata(stat),
                    symlink: name.symlink,
                });
            }
        }
        Ok(())
    }
}

/// What one entry's pass looked up: its stat, or only its kind, which the directory told.
enum Looked {
    Stat(DescriptorStat),
    Kind(Kind),
}

impl Looked {
    /// The stat, for a caller that asked for every entry's.
    fn stat(self) -> Option<DescriptorStat> {
        match self {
            Looked::Stat(stat) => Some(stat),
            Looked::Kind(_) => None,
        }
    }
}

impl WasiFs {
    /// The directory at `path` as a handle: the root's own, or one opened into `slot`.
    fn dir<'a>(
        &'a self,
        path: &SafePath,
        slot: &'a mut Option<Descriptor>,
    ) -> Result<&'a Descriptor, FsError> {
        if path.is_root() {
            return self.root();
        }
        let opened = self
            .preopen
            .open_at(
                PathFlags::SYMLINK_FOLLOW,
                &path.relative(),
                OpenFlags::DIRECTORY,
                DescriptorFlags::READ,
            )
            .map_err(error)?;
        Ok(slot.insert(opened))
    }

    /// Streams the entries of the directory at `path` to `each`, with the stat of every one
    /// when `stat_all`, else of symlinks and unknown kinds only (which must be followed).
    fn entries(
        &self,
        path: &SafePath,
        stat_all: bool,
        each: &mut dyn FnMut(String, bool, Looked) -> ControlFlow<()>,
    ) -> Result<(), FsError> {
        let mut opened = None;
        let dir = self.dir(path, &mut opened)?;
        let entries = dir.read_directory().map_err(error)?;
        let mut failures = 0;
        loop {
            let entry = match entries.read_directory_entry() {
                Ok(Some(entry)) => entry,
                Ok(None) => return Ok(()),
                // One unreadable entry (a name that is not UTF-8, one that vanished) is
                // skipped; the listing of the rest goes on. A host that fails forever stops.
                Err(_) if failures < MAX_ENTRY_FAILURES => {
                    failures += 1;
                    continue;
                }
                Err(code) => return Err(error(code)),
            };
            let symlink = entry.type_ == DescriptorType::SymbolicLink;
            // Only links need following (and the sandbox's slower, checked resolution); a
            // link that leaves the root fails there, and the entry is skipped.
            let (follow, known) = match entry.type_ {
                DescriptorType::RegularFile => (PathFlags::empty(), Some(Kind::File)),
                DescriptorType::Directory => (PathFlags::empty(), Some(Kind::Dir)),
                DescriptorType::SymbolicLink | DescriptorType::Unknown => {
                    (PathFlags::SYMLINK_FOLLOW, None)
                }
                // FIFOs, sockets, devices: never shown, never stat'ed.
                _ => (PathFlags::empty(), Some(Kind::Other)),
            };
            let looked = match known {
                Some(kind) if !stat_all => Looked::Kind(kind),
                _ => match dir.stat_at(follow, &entry.name) {
                    Ok(stat) => Looked::Stat(stat),
                    Err(_) => continue,
                },
            };
            if each(entry.name, symlink, looked).is_break() {
                return Ok(());
            }
        }
    }
}

fn metadata(stat: DescriptorStat) -> Metadata {
    Metadata {
        kind: match stat.type_ {
            DescriptorType::RegularFile => Kind::File,
            DescriptorType::Directory => Kind::Dir,
            _ => Kind::Other,
        },
        size: stat.size,
        modified: stat.data_modification_timestamp.map(|t| Timestamp {
            seconds: t.seconds,
            nanoseconds: t.nanoseconds,
        }),
    }
}

fn error(code: ErrorCode) -> FsError {
    match code {
        ErrorCode::Access => FsError::Forbidden,
        ErrorCode::NoEntry
        | ErrorCode::NotPermitted
        | ErrorCode::Loop
        | ErrorCode::NotDirectory
        | ErrorCode::IsDirectory
        | ErrorCode::NameTooLong
        | ErrorCode::IllegalByteSequence
        | ErrorCode::Invalid => FsError::NotFound,
        _ => FsError::Io,
    }
}
