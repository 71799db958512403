//! `wasi:filesystem/types` `read-directory`, streamed, with at most one stat per entry.
//!
//! wasmtime-wasi 48 stats every entry to learn its type, and reads the whole directory before
//! yielding the first entry. This takes the type from `getdents64`'s `d_type` (a stat, not
//! following links, only where the filesystem reports `DT_UNKNOWN`), and reads entries as
//! the guest asks for them, a kernel buffer at a time. It shadows just `read-directory`,
//! `read-directory-entry` and the `directory-entry-stream` resource in the linker; every
//! other filesystem function stays wasmtime-wasi's, and the component does not change, so
//! other hosts are unaffected.
//!
//! The sandbox is unchanged: the stream reads the very directory the guest's descriptor
//! names (opened again as `.` relative to it, never by path), which must be a directory
//! opened for reading; names that are not UTF-8 are `illegal-byte-sequence` for that entry,
//! as in wasmtime-wasi, and I/O errors map to the same error codes.

use std::ffi::CStr;
use std::sync::Arc;

use rustix::fs::{AtFlags, Dir, FileType};
use wasmtime::component::{Linker, Resource, ResourceType};
use wasmtime::StoreContextMut;
use wasmtime_wasi::filesystem::Descriptor;
use wasmtime_wasi::p2::bindings::filesystem::types::{DescriptorType, DirectoryEntry, ErrorCode};
use wasmtime_wasi::OpenMode;

use crate::guest::state::State;

/// The instance wasmtime-wasi defines these functions in (the component's older minor
/// version resolves to it).
pub(super) const INSTANCE: &str = "wasi:filesystem/types@0.2.12";

/// A directory being listed: the kernel's stream of its entries, and the directory itself
/// for the rare entry whose type must be looked up.
pub(crate) struct EntryStream {
    entries: Dir,
    dir: Arc<std::fs::File>,
}

/// Replaces wasmtime-wasi's listing functions in `linker`, which must already hold them.
pub(crate) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut types = linker.instance(INSTANCE)?;
    types.resource(
        "directory-entry-stream",
        ResourceType::host::<EntryStream>(),
        |mut store, rep| {
            store
                .data_mut()
                .table
                .delete(Resource::<EntryStream>::new_own(rep))?;
            Ok(())
        },
    )?;
    types.func_wrap(
        "[method]descriptor.read-directory",
        |mut store: StoreContextMut<'_, State>, (fd,): (Resource<Descriptor>,)| {
            let table = &mut store.data_mut().table;
            let stream = match open(table.get(&fd)?) {
                Ok(stream) => Ok(table.push(stream)?),
                Err(code) => Err(code),
            };
            Ok((stream,))
        },
    )?;
    types.func_wrap(
        "[method]directory-entry-stream.read-directory-entry",
        |mut store: StoreContextMut<'_, State>, (stream,): (Resource<EntryStream>,)| {
            let stream = store.data_mut().table.get_mut(&stream)?;
            Ok((next(stream),))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// A fresh stream over the directory `descriptor` names, starting at its first entry.
fn open(descriptor: &Descriptor) -> Result<EntryStream, ErrorCode> {
    let Descriptor::Dir(dir) = descriptor else {
        return Err(ErrorCode::NotDirectory);
    };
    if !dir.open_mode.contains(OpenMode::READ) {
        return Err(ErrorCode::BadDescriptor);
    }
    // Opens `.` relative to the descriptor: an independent position, the same directory.
    let entries = Dir::read_from(&*dir.dir).map_err(io_error)?;
    Ok(EntryStream {
        entries,
        dir: dir.dir.clone(),
    })
}

/// The next entry other than `.` and `..`, or `None` at the end.
fn next(stream: &mut EntryStream) -> Result<Option<DirectoryEntry>, ErrorCode> {
    loop {
        let entry = match stream.entries.read() {
            None => return Ok(None),
            Some(entry) => entry.map_err(io_error)?,
        };
        let name = entry.file_name();
        if matches!(name.to_bytes(), b"." | b"..") {
            continue;
        }
        let type_ = match entry.file_type() {
            FileType::Unknown => type_of(&stream.dir, name)?,
            known => descriptor_type(known),
        };
        let name = name
            .to_str()
            .map_err(|_| ErrorCode::IllegalByteSequence)?
            .to_owned();
        return Ok(Some(DirectoryEntry { type_, name }));
    }
}

/// For filesystems that do not fill in `d_type`: the entry's own type, links not followed.
fn type_of(dir: &std::fs::File, name: &CStr) -> Result<DescriptorType, ErrorCode> {
    let stat = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).map_err(io_error)?;
    Ok(descriptor_type(FileType::from_raw_mode(stat.st_mode)))
}

pub(super) fn descriptor_type(file_type: FileType) -> DescriptorType {
    match file_type {
        FileType::RegularFile => DescriptorType::RegularFile,
        FileType::Directory => DescriptorType::Directory,
        FileType::Symlink => DescriptorType::SymbolicLink,
        FileType::Fifo => DescriptorType::Fifo,
        FileType::Socket => DescriptorType::Socket,
        FileType::CharacterDevice => DescriptorType::CharacterDevice,
        FileType::BlockDevice => DescriptorType::BlockDevice,
        FileType::Unknown => DescriptorType::Unknown,
    }
}

/// wasmtime-wasi's own mapping from OS errors to error codes.
pub(super) fn io_error(errno: rustix::io::Errno) -> ErrorCode {
    ErrorCode::from(std::io::Error::from(errno))
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::BTreeMap;
    use std::os::unix::ffi::OsStrExt;

    use super::*;

    /// A FIFO at `path`, as `mkfifo` makes one.
    pub(in crate::guest) fn make_fifo(path: &std::path::Path) {
        let mode = rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR;
        rustix::fs::mknodat(rustix::fs::CWD, path, FileType::Fifo, mode, 0).unwrap();
    }

    fn list(path: &std::path::Path) -> BTreeMap<Vec<u8>, Result<DescriptorType, ErrorCode>> {
        let dir = Arc::new(std::fs::File::open(path).unwrap());
        let mut stream = EntryStream {
            entries: Dir::read_from(&*dir).unwrap(),
            dir,
        };
        let mut seen = BTreeMap::new();
        let mut bad = 0;
        loop {
            match next(&mut stream) {
                Ok(None) => return seen,
                Ok(Some(entry)) => {
                    seen.insert(entry.name.into_bytes(), Ok(entry.type_));
                }
                Err(code) => {
                    bad += 1;
                    seen.insert(format!("<error {bad}>").into_bytes(), Err(code));
                }
            }
        }
    }

    #[test]
    fn every_type_and_a_bad_name_without_losing_the_rest() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(root.join("file.txt"), "x").unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::os::unix::fs::symlink("file.txt", root.join("link")).unwrap();
        std::os::unix::fs::symlink("missing", root.join("dangling")).unwrap();
        make_fifo(&root.join("fifo"));
        let bad = std::ffi::OsStr::from_bytes(b"bad-\xff");
        std::fs::write(root.join(bad), "x").unwrap();

        let seen = list(root);
        let want = [
            ("file.txt", DescriptorType::RegularFile),
            ("sub", DescriptorType::Directory),
            ("link", DescriptorType::SymbolicLink),
            ("dangling", DescriptorType::SymbolicLink),
            ("fifo", DescriptorType::Fifo),
        ];
        for (name, type_) in want {
            assert_eq!(seen.get(name.as_bytes()), Some(&Ok(type_)), "{name}");
        }
        assert_eq!(
            seen.get(&b"<error 1>"[..]),
            Some(&Err(ErrorCode::IllegalByteSequence))
        );
        assert_eq!(seen.len(), want.len() + 1, "{seen:?}");
    }

    #[test]
    fn an_unknown_type_is_looked_up_without_following_links() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("sub", tmp.path().join("link")).unwrap();
        let dir = std::fs::File::open(tmp.path()).unwrap();
        assert_eq!(type_of(&dir, c"sub"), Ok(DescriptorType::Directory));
        assert_eq!(type_of(&dir, c"link"), Ok(DescriptorType::SymbolicLink));
        assert_eq!(type_of(&dir, c"gone"), Err(ErrorCode::NoEntry));
    }

    #[test]
    fn many_entries_stream_in_full() {
        let tmp = tempfile::tempdir().unwrap();
        for i in 0..3000 {
            std::fs::write(tmp.path().join(format!("f{i:04}")), "").unwrap();
        }
        let seen = list(tmp.path());
        assert_eq!(seen.len(), 3000);
        assert!(seen.values().all(|t| *t == Ok(DescriptorType::RegularFile)));
    }
}
