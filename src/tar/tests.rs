use std::io::Read;

use super::*;
use crate::fs::Metadata;
use crate::fs::Timestamp;
use crate::memfs::MemFs;
use crate::path::SafePath;
use crate::sink::testing::VecSink;
use crate::visibility::Visibility;

fn file(name: &str, size: u64) -> Member {
    Member {
        path: SafePath::root(),
        name: name.to_owned(),
        meta: Metadata {
            kind: Kind::File,
            size,
            modified: Some(Timestamp {
                seconds: 1_700_000_000,
                nanoseconds: 0,
            }),
        },
        symlink: false,
    }
}

/// Builds an archive the way the glue does, with `fill` standing in for file bytes.
fn archive(members: &[Member], fill: impl Fn(&Member) -> Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    for m in members {
        out.extend(header(m));
        if m.meta.kind == Kind::File {
            let body = fill(m);
            assert_eq!(body.len() as u64, m.meta.size);
            out.extend(&body);
            out.resize(out.len() + padding(m.meta.size), 0);
        }
    }
    out.extend(end_of_archive());
    out
}

#[test]
fn reads_back_with_the_tar_crate() {
    let long_dir = "d".repeat(120);
    let members = vec![
        Member {
            meta: Metadata {
                kind: Kind::Dir,
                size: 4096,
                modified: None,
            },
            ..file("sub/", 0)
        },
        file("sub/a.txt", 5),
        file("empty", 0),
        file(&format!("{long_dir}/{}", "n".repeat(90)), 700),
        file(&"x".repeat(300), 3),
        file("日本語/naïve.txt", 9),
        file("exactly-512", 512),
    ];
    let content =
        |m: &Member| -> Vec<u8> { m.name.bytes().cycle().take(m.meta.size as usize).collect() };
    let bytes = archive(&members, content);
    assert_eq!(bytes.len() % BLOCK, 0);
    let mut reader = ::tar::Archive::new(bytes.as_slice());
    let mut seen = Vec::new();
    for entry in reader.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        assert_eq!(
            entry.header().mtime().unwrap(),
            if entry.header().entry_type().is_dir() {
                0
            } else {
                1_700_000_000
            }
        );
        seen.push((name, data));
    }
    assert_eq!(seen.len(), members.len());
    for ((name, data), member) in seen.iter().zip(&members) {
        assert_eq!(
            name.trim_end_matches('/'),
            member.name.trim_end_matches('/')
        );
        if member.meta.kind == Kind::File {
            assert_eq!(data, &content(member), "{name}");
        }
    }
}

#[test]
fn pax_records_count_their_own_length() {
    for value in ["a", &"b".repeat(5), &"c".repeat(94), &"d".repeat(995)] {
        let mut out = String::new();
        pax_record(&mut out, "path", value);
        let (len, _) = out.split_once(' ').unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), out.len(), "{out:?}");
    }
}

#[test]
fn padding_to_blocks() {
    assert_eq!(padding(0), 0);
    assert_eq!(padding(1), 511);
    assert_eq!(padding(512), 0);
    assert_eq!(padding(513), 511);
}

#[test]
fn streams_the_tree_byte_exact() {
    let fs = MemFs::new()
        .file("b.txt", 1000)
        .file("a/z.txt", 2)
        .file("a/.secret", 3)
        .special("a/fifo")
        .dir("empty");
    let plan = Plan {
        dir: SafePath::root(),
        visibility: Visibility::default(),
    };
    let mut sink = VecSink::new(&fs);
    assert!(stream(&fs, &plan, &mut sink));
    let mut reader = ::tar::Archive::new(sink.bytes.as_slice());
    let mut seen = Vec::new();
    for entry in reader.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut body = Vec::new();
        entry.read_to_end(&mut body).unwrap();
        if let Some(path) = SafePath::from_config(&name) {
            if !name.ends_with('/') {
                let want = fs.read(&path, 0, u64::MAX).unwrap();
                assert_eq!(body, want, "{name}");
            }
        }
        seen.push(name);
    }
    assert_eq!(seen, ["a/", "a/z.txt", "b.txt", "empty/"]);
}
