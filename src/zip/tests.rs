use std::io::Read;

use super::*;
use crate::memfs::MemFs;
use crate::path::SafePath;
use crate::sink::testing::VecSink;
use crate::visibility::Visibility;

fn zip_of(fs: &MemFs, dir: &str, hidden: bool) -> Vec<u8> {
    let plan = Plan {
        dir: SafePath::parse(dir).unwrap(),
        visibility: Visibility::new(hidden),
    };
    let mut sink = VecSink::new(fs);
    assert!(stream(fs, &plan, &mut sink));
    sink.bytes
}

/// Every member's name and bytes, read back by the `zip` crate, with CRCs checked.
fn members(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = ::zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut body = Vec::new();
            file.read_to_end(&mut body).unwrap();
            (file.name().unwrap().into_owned(), body)
        })
        .collect()
}

#[test]
fn reads_back_byte_exact_with_the_listing_rules() {
    let fs = MemFs::new()
        .bytes("b.txt", b"bee".to_vec())
        .file("a/big.bin", 70_000)
        .bytes("a/.secret", b"s".to_vec())
        .bytes("日本/naïve.txt", "naïve".as_bytes().to_vec())
        .special("a/fifo")
        .dir("empty");
    let got = members(&zip_of(&fs, "/", false));
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "a/",
            "a/big.bin",
            "b.txt",
            "empty/",
            "日本/",
            "日本/naïve.txt"
        ]
    );
    for (name, body) in &got {
        if !name.ends_with('/') {
            let path = SafePath::from_config(name).unwrap();
            assert_eq!(*body, fs.read(&path, 0, u64::MAX).unwrap(), "{name}");
        }
    }
    let hidden = members(&zip_of(&fs, "/a/", true));
    let names: Vec<&str> = hidden.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, [".secret", "big.bin"]);
}

#[test]
fn headers_say_utf8_and_directories_carry_no_data() {
    let fs = MemFs::new().bytes("é.txt", b"x".to_vec()).dir("d");
    let mut archive =
        ::zip::ZipArchive::new(std::io::Cursor::new(zip_of(&fs, "/", false))).unwrap();
    let dir = archive.by_name("d/").unwrap();
    assert!(dir.is_dir());
    assert_eq!(dir.size(), 0);
    drop(dir);
    let file = archive.by_index(1).unwrap();
    assert_eq!(file.name().unwrap(), "é.txt");
    assert_eq!(file.compression(), ::zip::CompressionMethod::Stored);
    assert_eq!(file.crc32(), crc32fast::hash(b"x"));
}

#[test]
fn big_entries_and_offsets_use_zip64_fields() {
    let entry = Entry {
        name: "huge.bin".into(),
        dir: false,
        size: 5 << 30,
        crc: 7,
        offset: 6 << 30,
        time: 0,
        date: 0,
    };
    let local = entry.local();
    assert_eq!(&local[18..26], &[0xff; 8], "sizes point to the Zip64 field");
    assert_eq!(&local[30 + 8..30 + 10], &ZIP64_EXTRA.to_le_bytes());
    let descriptor = entry.descriptor();
    assert_eq!(descriptor.len(), 24, "8-byte sizes");
    assert_eq!(&descriptor[8..16], &(5u64 << 30).to_le_bytes());
    let central = entry.central();
    assert_eq!(&central[6..8], &NEEDS_ZIP64.to_le_bytes());
    assert_eq!(&central[20..28], &[0xff; 8]);
    assert_eq!(&central[42..46], &[0xff; 4], "offset too");
    // Extra: tag, length 24, then size, size, offset.
    let extra = &central[46 + 8..];
    assert_eq!(&extra[..4], &[1, 0, 24, 0]);
    assert_eq!(&extra[4..12], &(5u64 << 30).to_le_bytes());
    assert_eq!(&extra[20..28], &(6u64 << 30).to_le_bytes());
    let small = Entry {
        size: 10,
        offset: 100,
        ..entry.clone()
    };
    assert_eq!(small.descriptor().len(), 16);
    assert!(small.central_extra().is_empty());
    // The second pass computes offsets from these lengths.
    let dir = Entry {
        name: "d/".into(),
        dir: true,
        size: 0,
        ..small.clone()
    };
    for e in [&entry, &small] {
        assert_eq!(e.local_len(), e.local().len() as u64);
        assert_eq!(e.descriptor_len(), e.descriptor().len() as u64);
    }
    assert_eq!(dir.local_len(), dir.local().len() as u64);
    assert_eq!(dir.descriptor_len(), 0);
}

#[test]
fn sizes_are_varints() {
    for (value, len) in [
        (0, 1),
        (1, 1),
        (127, 1),
        (128, 2),
        (300, 2),
        (1 << 35, 6),
        (u64::MAX, 10),
    ] {
        let mut out = Vec::new();
        push_varint(&mut out, value);
        assert_eq!(out.len(), len, "{value}");
        let mut at = 0;
        assert_eq!(read_varint(&out, &mut at), Some(value));
        assert_eq!(at, out.len());
    }
    assert_eq!(read_varint(&[0x80], &mut 0), None, "cut short");
}

#[test]
fn offsets_past_4_gib_come_out_of_the_second_pass() {
    // Five 1 GiB files: the last starts past 4 GiB, so its central header needs the Zip64
    // offset that the second walk computes from the first pass's records.
    let mut fs = MemFs::new();
    for i in 0..5 {
        fs = fs.file(&format!("g{i}"), 1 << 30);
    }
    let plan = Plan {
        dir: SafePath::root(),
        visibility: Visibility::default(),
    };
    /// Counts the body instead of keeping it; file bytes are skipped, not read.
    struct Counting {
        written: u64,
        tail: Vec<u8>,
    }
    impl Sink for Counting {
        type File = ();
        fn open(&mut self, _: &SafePath) -> Option<()> {
            Some(())
        }
        fn write(&mut self, bytes: &[u8]) -> bool {
            self.written += bytes.len() as u64;
            self.tail.extend_from_slice(bytes);
            true
        }
        fn send(&mut self, _: &(), _: u64, len: u64, _: u64) -> bool {
            self.written += len;
            true
        }
        fn send_through(&mut self, _: &(), _: u64, len: u64, _: &mut dyn FnMut(&[u8])) -> bool {
            self.written += len;
            true
        }
    }
    let mut sink = Counting {
        written: 0,
        tail: Vec::new(),
    };
    assert!(stream(&fs, &plan, &mut sink));
    // Each member: 30 + 2 name bytes, 1 GiB, a 16-byte descriptor.
    let member = 32 + (1u64 << 30) + 16;
    let central_at = sink.tail.len() - (5 * (46 + 2) + 12) - 56 - 20 - 22;
    let central = &sink.tail[central_at..];
    // The fifth central header carries a Zip64 extra with the real offset.
    let fifth = &central[4 * (46 + 2)..];
    assert_eq!(&fifth[..4], &CENTRAL_HEADER.to_le_bytes());
    assert_eq!(&fifth[42..46], &[0xff; 4]);
    assert_eq!(&fifth[46 + 2 + 4..46 + 2 + 12], &(4 * member).to_le_bytes());
    assert_eq!(sink.written, 5 * member + 5 * 48 + 12 + 56 + 20 + 22);
}

#[test]
fn a_zip_past_its_member_cap_is_refused_before_any_byte() {
    let mut fs = MemFs::new();
    for i in 0..10 {
        fs = fs.file(&format!("f{i}"), 0).file(&format!("d/g{i}"), 5);
    }
    let plan = Plan {
        dir: SafePath::root(),
        visibility: Visibility::default(),
    };
    // 10 empty files, a directory, 10 files in it.
    assert_eq!(check_within(&fs, &plan, 21), Ok(()));
    assert_eq!(
        check_within(&fs, &plan, 20),
        Err(Refusal::TooManyMembers(21))
    );
    assert_eq!(check(&fs, &plan), Ok(()));
    let gone = Plan {
        dir: SafePath::parse("/nope/").unwrap(),
        ..plan
    };
    assert_eq!(
        check(&fs, &gone),
        Err(Refusal::Unreadable(FsError::NotFound))
    );
}

#[test]
fn a_tree_that_changes_between_the_passes_is_left_unfinished() {
    /// The root gains a file after it has been listed once.
    struct Growing(MemFs, std::cell::Cell<u32>);
    impl Fs for Growing {
        fn stat(&self, path: &SafePath) -> Result<crate::fs::Metadata, FsError> {
            self.0.stat(path)
        }
        fn read_dir(
            &self,
            path: &SafePath,
            each: &mut dyn FnMut(crate::fs::DirEntry) -> ControlFlow<()>,
        ) -> Result<(), FsError> {
            let walks = self.1.get();
            self.1.set(walks + 1);
            if walks == 0 {
                return self.0.read_dir(path, each);
            }
            let grown = MemFs::new().file("a.txt", 3).file("b.txt", 0);
            grown.read_dir(path, each)
        }
        fn read(&self, path: &SafePath, offset: u64, len: u64) -> Result<Vec<u8>, FsError> {
            self.0.read(path, offset, len)
        }
    }
    let fs = Growing(MemFs::new().file("a.txt", 3), std::cell::Cell::new(0));
    let plan = Plan {
        dir: SafePath::root(),
        visibility: Visibility::default(),
    };
    let mut sink = VecSink::new(&fs);
    assert!(!stream(&fs, &plan, &mut sink));
    assert!(
        !sink.bytes.windows(4).any(|w| w == END.to_le_bytes()),
        "no end record: no reader takes it for whole"
    );
}

#[test]
fn many_entries_end_with_zip64_records() {
    let mut fs = MemFs::new();
    for i in 0..70_000 {
        fs = fs.file(&format!("f{i:05}"), 0);
    }
    let bytes = zip_of(&fs, "/", false);
    let archive = ::zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
    assert_eq!(archive.len(), 70_000);
    let tail = &bytes[bytes.len() - 22 - 20 - 56..];
    assert_eq!(&tail[..4], &ZIP64_END.to_le_bytes());
    assert_eq!(&tail[56..60], &ZIP64_LOCATOR.to_le_bytes());
    assert_eq!(&tail[76..80], &END.to_le_bytes());
    assert_eq!(
        &tail[76 + 8..76 + 10],
        &[0xff, 0xff],
        "the classic count saturates"
    );
}

#[test]
fn dos_times() {
    let at = |seconds| {
        dos_time(Some(Timestamp {
            seconds,
            nanoseconds: 0,
        }))
    };
    // 2023-11-14 22:13:20 UTC.
    let (time, date) = at(1_700_000_000);
    assert_eq!(
        (time >> 11, (time >> 5) & 63, (time & 31) * 2),
        (22, 13, 20)
    );
    assert_eq!((date >> 9) + 1980, 2023);
    assert_eq!(((date >> 5) & 15, date & 31), (11, 14));
    // Before 1980 and unknown clamp to the format's first day.
    assert_eq!(at(0), dos_time(None));
    assert_eq!(dos_time(None), (0, (1 << 5) | 1));
}

#[test]
fn a_file_that_shrank_abandons_the_archive() {
    /// Reads of `b.txt` come back short, as if it shrank after the walk saw it.
    struct Shrinking(MemFs);
    impl Fs for Shrinking {
        fn stat(&self, path: &SafePath) -> Result<crate::fs::Metadata, crate::fs::FsError> {
            self.0.stat(path)
        }
        fn read_dir(
            &self,
            path: &SafePath,
            each: &mut dyn FnMut(crate::fs::DirEntry) -> std::ops::ControlFlow<()>,
        ) -> Result<(), crate::fs::FsError> {
            self.0.read_dir(path, each)
        }
        fn read(
            &self,
            path: &SafePath,
            offset: u64,
            len: u64,
        ) -> Result<Vec<u8>, crate::fs::FsError> {
            self.0.read(path, offset, len.saturating_sub(1))
        }
    }
    let fs = Shrinking(MemFs::new().bytes("b.txt", b"bee".to_vec()));
    let plan = Plan {
        dir: SafePath::root(),
        visibility: Visibility::default(),
    };
    let mut sink = VecSink::new(&fs);
    assert!(!stream(&fs, &plan, &mut sink));
}
