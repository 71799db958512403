//! A directory subtree (walked by `tree.rs`, with the listing rules) as a streamed POSIX tar
//! (pax interchange format, POSIX.1-2001): the header blocks are made here; file bodies go to
//! the [`Sink`], which the glue implements by splicing, one file at a time, so memory stays
//! flat for any tree.
//!
//! Each member gets a ustar header; a name that does not fit ustar's 100+155 byte fields, is
//! not ASCII, or a size of 8 GiB or more is carried in a preceding pax `x` header, whose
//! records (`"%d path=%s\n"`) override the ustar fields.

use std::fmt::Write as _;

use crate::fs::{Fs, Kind};
use crate::sink::Sink;
use crate::tree::{self, Member, Plan};

const BLOCK: usize = 512;

/// Writes the tar of the subtree `plan` names to `sink`; false if it could not be written
/// whole (the client went away, or the directory itself could not be read).
pub(crate) fn stream<S: Sink>(fs: &dyn Fs, plan: &Plan, sink: &mut S) -> bool {
    let mut ok = true;
    let walked = tree::walk(fs, plan, &mut |member| {
        ok = write_member(sink, member);
        tree::keep_going(ok)
    });
    ok && walked.is_ok() && sink.write(&end_of_archive())
}

/// One member's header and, for a file, its body and padding. A symlinked directory is left
/// out: the archive holds what is under the directory, once.
fn write_member<S: Sink>(sink: &mut S, member: &Member) -> bool {
    match member.meta.kind {
        Kind::Dir if member.symlink => return true,
        Kind::Dir => return sink.write(&header(member)),
        // Nothing to open for an empty file: a million of them cost no opens.
        Kind::File | Kind::Other if member.meta.size == 0 => return sink.write(&header(member)),
        Kind::File | Kind::Other => {}
    }
    // Open before the header: a file that vanished since the walk saw it is left out,
    // rather than leaving a header without its body.
    let Some(file) = sink.open(&member.path) else {
        return true;
    };
    let size = member.meta.size;
    sink.write(&header(member))
        && sink.send(&file, 0, size, size)
        && sink.write(&[0; BLOCK][..padding(size)])
}

/// The header block(s) for a member: a pax header when ustar cannot hold the name or size.
fn header(member: &Member) -> Vec<u8> {
    let is_dir = member.meta.kind == Kind::Dir;
    let size = if is_dir { 0 } else { member.meta.size };
    let mtime = member.meta.modified.map_or(0, |t| t.seconds);
    let mut out = Vec::with_capacity(BLOCK * 3);
    let split = ustar_name(&member.name);
    let big = size >= 0o77777777777;
    if split.is_none() || big {
        let mut records = String::new();
        pax_record(&mut records, "path", &member.name);
        if big {
            pax_record(&mut records, "size", &size.to_string());
        }
        let mut pax = block();
        fill_header(
            &mut pax,
            "",
            &pax_name(&member.name),
            records.len() as u64,
            mtime,
            0o644,
            b'x',
        );
        out.extend_from_slice(&pax);
        out.extend_from_slice(records.as_bytes());
        out.resize(out.len() + padding(records.len() as u64), 0);
    }
    let (prefix, name) = split.unwrap_or_else(|| ("", fallback_name(&member.name)));
    let mut ustar = block();
    let (mode, kind) = if is_dir { (0o755, b'5') } else { (0o644, b'0') };
    fill_header(
        &mut ustar,
        prefix,
        name,
        if big { 0 } else { size },
        mtime,
        mode,
        kind,
    );
    out.extend_from_slice(&ustar);
    out
}

/// Zero bytes after a body of `size` to reach the next block.
fn padding(size: u64) -> usize {
    ((BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64) as usize
}

/// Two zero blocks end the archive.
fn end_of_archive() -> [u8; 2 * BLOCK] {
    [0; 2 * BLOCK]
}

fn block() -> [u8; BLOCK] {
    [0; BLOCK]
}

/// Splits an ASCII name into ustar's prefix (155) and name (100) fields, at a `/`.
fn ustar_name(name: &str) -> Option<(&str, &str)> {
    if !name.is_ascii() {
        return None;
    }
    if name.len() <= 100 {
        return Some(("", name));
    }
    let trimmed = name.trim_end_matches('/');
    let cut = name.len().saturating_sub(101);
    name[..trimmed.len()]
        .char_indices()
        .filter(|&(i, c)| c == '/' && i >= cut && i <= 155)
        .map(|(i, _)| (&name[..i], &name[i + 1..]))
        .find(|(prefix, rest)| prefix.len() <= 155 && rest.len() <= 100 && !rest.is_empty())
}

/// The ustar name field under a pax header: readers use the pax path, but old ones show
/// this, so keep the ASCII tail of the name.
fn fallback_name(name: &str) -> &str {
    let mut start = name.len().saturating_sub(100);
    while !name.is_char_boundary(start) {
        start += 1;
    }
    &name[start..]
}

fn pax_name(name: &str) -> String {
    let base: String = fallback_name(name)
        .chars()
        .map(|c| if c.is_ascii() && c != '/' { c } else { '_' })
        .collect();
    let mut out = String::from("PaxHeaders/");
    out.push_str(&base[base.len().saturating_sub(88)..]);
    out
}

/// `"%d %s=%s\n"`, where the length counts itself.
fn pax_record(out: &mut String, key: &str, value: &str) {
    let body = key.len() + value.len() + 3; // space, '=', newline
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let _ = writeln!(out, "{len} {key}={value}");
}

fn fill_header(
    block: &mut [u8; BLOCK],
    prefix: &str,
    name: &str,
    size: u64,
    mtime: u64,
    mode: u32,
    kind: u8,
) {
    put(&mut block[0..100], name.as_bytes());
    octal(&mut block[100..108], u64::from(mode));
    octal(&mut block[108..116], 0); // uid
    octal(&mut block[116..124], 0); // gid
    octal(&mut block[124..136], size);
    octal(&mut block[136..148], mtime.min(0o77777777777));
    block[148..156].fill(b' ');
    block[156] = kind;
    put(&mut block[257..263], b"ustar\0");
    put(&mut block[263..265], b"00");
    put(&mut block[345..500], prefix.as_bytes());
    let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
    put(&mut block[148..156], format!("{sum:06o}\0 ").as_bytes());
}

fn put(field: &mut [u8], bytes: &[u8]) {
    let n = bytes.len().min(field.len());
    field[..n].copy_from_slice(&bytes[..n]);
}

/// Zero-padded octal, NUL-terminated, filling the field.
fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let text = format!("{value:0width$o}");
    put(field, &text.as_bytes()[text.len().saturating_sub(width)..]);
    field[width] = 0;
}

#[cfg(test)]
mod tests;
