//! The tree the XML-RPC tests share (test-only).

use crate::fs::FsError;
use crate::memfs::MemFs;

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
/// docs/a.txt          "hello <&> world\n"
/// docs/.secret        "s3cret"
/// docs/sub/b.txt      "b"
/// docs/sub/linked.txt "linked"
/// docs/link.txt       a symlink to docs/sub/linked.txt
/// .env                "SECRET=1"
/// empty.txt           ""
/// big.bin             40 MiB pattern
/// huge.bin            5 GiB pattern (sizes and offsets past 32 bits)
/// fifo                a special file
/// locked/             refused by the host's permissions
/// unreadable.txt      3 bytes that cannot be read
/// broken              stat fails with an I/O error
/// ODD_NAMES...        each holding its own name
/// ```
pub(crate) fn fixture() -> MemFs {
    let mut fs = MemFs::new()
        .bytes("docs/a.txt", "hello <&> world\n")
        .bytes("docs/.secret", "s3cret")
        .bytes("docs/sub/b.txt", "b")
        .bytes("docs/sub/linked.txt", "linked")
        .symlink("docs/link.txt", "docs/sub/linked.txt")
        .bytes(".env", "SECRET=1")
        .bytes("empty.txt", "")
        .file("big.bin", 40 << 20)
        .file("huge.bin", 5 << 30)
        .special("fifo")
        .dir("locked")
        .deny("locked")
        .file("unreadable.txt", 3)
        .unreadable("unreadable.txt")
        .file("broken", 3)
        .fail("broken", FsError::Io);
    for name in ODD_NAMES {
        fs = fs.bytes(name, name);
    }
    fs
}
