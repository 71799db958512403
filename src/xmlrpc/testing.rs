//! Test doubles: a filesystem with the oddities MemFs cannot express (symlinks, I/O errors,
//! any mtime) and a [`FileReader`] over a map of contents.

use std::collections::BTreeMap;

use super::FileReader;
use crate::fs::{DirEntry, Fs, FsError, Metadata, Timestamp};
use crate::memfs::MemFs;
use crate::path::SafePath;

/// What a file holds: literal bytes, or `len` bytes of a pattern (byte `i` is `i % 251`, so a
/// read at any offset is recognisable) for files too large to keep.
#[derive(Debug, Clone)]
pub(crate) enum Contents {
    Bytes(Vec<u8>),
    Pattern(u64),
}

impl Contents {
    fn len(&self) -> u64 {
        match self {
            Contents::Bytes(bytes) => bytes.len() as u64,
            Contents::Pattern(len) => *len,
        }
    }
}

/// The pattern's bytes from `offset`, as a test expects them back.
pub(crate) fn pattern(offset: u64, len: u64) -> Vec<u8> {
    (offset..offset + len).map(|i| (i % 251) as u8).collect()
}

/// Contents by relative path (`docs/a.txt`). A path it does not know is an I/O error: the
/// filesystem said a file was there, so failing to read it is the host's fault.
#[derive(Debug, Clone, Default)]
pub(crate) struct MapReader(pub BTreeMap<String, Contents>);

impl FileReader for MapReader {
    fn read(&self, path: &SafePath, offset: u64, len: u64) -> Result<Vec<u8>, FsError> {
        let contents = self.0.get(&path.relative()).ok_or(FsError::Io)?;
        let start = offset.min(contents.len());
        let end = start.saturating_add(len).min(contents.len());
        Ok(match contents {
            Contents::Bytes(bytes) => bytes[start as usize..end as usize].to_vec(),
            Contents::Pattern(_) => pattern(start, end - start),
        })
    }
}

/// MemFs plus symlink flags on listed entries, paths whose `stat` is an I/O error, and an
/// mtime for every node.
#[derive(Debug, Clone)]
pub(crate) struct TestFs {
    pub(crate) mem: MemFs,
    /// Relative paths that `read_dir` reports as symlinks.
    pub(crate) symlinks: Vec<&'static str>,
    /// Relative paths whose `stat` fails with `Io`.
    pub(crate) broken: Vec<&'static str>,
    /// Replaces MemFs's fixed mtime when set.
    pub(crate) mtime: Option<Option<Timestamp>>,
}

impl TestFs {
    fn adjust(&self, mut meta: Metadata) -> Metadata {
        if let Some(mtime) = self.mtime {
            meta.modified = mtime;
        }
        meta
    }
}

impl Fs for TestFs {
    fn stat(&self, path: &SafePath) -> Result<Metadata, FsError> {
        if self.broken.contains(&path.relative().as_str()) {
            return Err(FsError::Io);
        }
        self.mem.stat(path).map(|m| self.adjust(m))
    }

    fn read_dir(&self, path: &SafePath, each: &mut dyn FnMut(DirEntry)) -> Result<(), FsError> {
        self.mem.read_dir(path, &mut |mut entry| {
            let rel = path
                .join(&entry.name)
                .map(|p| p.relative())
                .unwrap_or_default();
            entry.symlink = self.symlinks.contains(&rel.as_str());
            entry.meta = self.adjust(entry.meta);
            each(entry)
        })
    }

    fn read(&self, path: &SafePath, offset: u64, len: u64) -> Result<Vec<u8>, FsError> {
        self.mem.read(path, offset, len)
    }
}

/// Names that are awkward in URLs, XML or both; each file holds its own name.
pub(crate) const ODD_NAMES: [&str; 6] = [
    "100%",
    "a#b?c",
    "sp ace",
    "naïve 日本",
    "<tag>&.txt",
    "%2e%2e",
];

/// The tree most tests use:
///
/// ```text
/// docs/a.txt        "hello <&> world\n"
/// docs/.secret      "s3cret"
/// docs/sub/b.txt    "b"
/// docs/link.txt     "linked" (listed as a symlink)
/// .env              "SECRET=1"
/// empty.txt         ""
/// big.bin           40 MiB pattern
/// huge.bin          5 GiB pattern (sizes and offsets past 32 bits)
/// fifo              a special file
/// locked/           refused by the host's permissions
/// unreadable.txt    3 bytes the reader cannot read
/// broken            stat fails with an I/O error
/// ODD_NAMES...      each holding its own name
/// ```
pub(crate) fn fixture() -> (TestFs, MapReader) {
    let mut files: Vec<(&str, Contents)> = vec![
        ("docs/a.txt", Contents::Bytes(b"hello <&> world\n".to_vec())),
        ("docs/.secret", Contents::Bytes(b"s3cret".to_vec())),
        ("docs/sub/b.txt", Contents::Bytes(b"b".to_vec())),
        ("docs/link.txt", Contents::Bytes(b"linked".to_vec())),
        (".env", Contents::Bytes(b"SECRET=1".to_vec())),
        ("empty.txt", Contents::Bytes(Vec::new())),
        ("big.bin", Contents::Pattern(40 << 20)),
        ("huge.bin", Contents::Pattern(5 << 30)),
    ];
    for name in ODD_NAMES {
        files.push((name, Contents::Bytes(name.as_bytes().to_vec())));
    }
    let mut mem = MemFs::new()
        .special("fifo")
        .dir("locked")
        .deny("locked")
        .file("unreadable.txt", 3)
        .file("broken", 3);
    let mut reader = MapReader::default();
    for (path, contents) in files {
        mem = mem.file(path, contents.len());
        reader.0.insert(path.to_owned(), contents);
    }
    let fs = TestFs {
        mem,
        symlinks: vec!["docs/link.txt"],
        broken: vec!["broken"],
        mtime: None,
    };
    (fs, reader)
}
