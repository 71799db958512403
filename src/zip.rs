//! A directory subtree (walked by `tree.rs`, with the listing rules) as a streamed zip
//! (PKWARE APPNOTE 6.3.10), readable by Windows Explorer, Python's `zipfile`, `unzip` and
//! `bsdtar`, in memory that does not hold the central directory: a few bytes per member.
//!
//! Rules, including the ones chosen where the format leaves room:
//! - Entries are stored (method 0): the files people share are mostly compressed already,
//!   and storing keeps the guest's CPU per byte to a CRC.
//! - A file's bytes stream through the guest once, so their CRC-32 is computed on the way
//!   (`crc32fast`); it follows the data in a data descriptor (general purpose bit 3), since
//!   the local header goes out before the data. Sizes come from the walk's `stat`; a file
//!   that shrank meanwhile ends the archive broken (the body is left unfinished) rather than
//!   lie, one that grew is cut to its size, as in the tar.
//! - Names are `/`-separated and relative to the archived directory; directories end with
//!   `/` and carry no data. A name that is not ASCII sets bit 11 (UTF-8).
//! - Zip64 (§4.5) where the classic fields cannot hold a value: an entry of 4 GiB or more
//!   gets the Zip64 extra field in its local and central headers and 8-byte sizes in its
//!   data descriptor; an offset of 4 GiB or more goes to the central header's Zip64 field;
//!   past 65,535 entries or a central directory beyond 4 GiB, the archive ends with the
//!   Zip64 end records before the classic one, whose fields then say `0xFFFF...`.
//! - Times are the modification time in UTC as MS-DOS date and time (2-second steps,
//!   1980-2107, clamped).
//! - Three walks of the tree, so memory does not grow with the names: [`check`] counts the
//!   members before the first byte and refuses a zip whose records would pass
//!   [`MAX_RECORDS`] (the router answers 507); the first pass of [`stream`] writes the
//!   members and keeps, per member, its size (a varint) and CRC (none when empty), 1 to 14
//!   bytes; the second walks the tree again for the names and writes the central directory
//!   from those records. Both passes digest the names they meet; if the tree changed
//!   between them, the archive is left unfinished rather than have a central directory that
//!   disagrees with its members.

use std::hash::{DefaultHasher, Hasher};
use std::ops::ControlFlow;

use crate::fs::{Fs, FsError, Kind, Timestamp};
use crate::sink::Sink;
use crate::tree::{self, Detail, Member, Plan};

/// The most members one zip holds. Each keeps a record of 5 to 18 bytes between the passes
/// (9 for an empty file, 10 to 12 for one under 2 MiB), so 2,000,000 members fit in 24 MB
/// of guest memory, and a million small files in 12 MB.
pub(crate) const MAX_MEMBERS: u64 = 2_000_000;

/// Central headers gathered before each write to the sink.
const CENTRAL_CHUNK: usize = 64 << 10;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const ZIP64_END: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const END: u32 = 0x0605_4b50;
const ZIP64_EXTRA: u16 = 0x0001;

/// Bit 3: sizes and CRC follow the data. Bit 11: the name is UTF-8.
const FLAG_DESCRIPTOR: u16 = 1 << 3;
const FLAG_UTF8: u16 = 1 << 11;

/// "Made by" Unix (3), spec 6.3; "needed" 2.0, or 4.5 for Zip64.
const MADE_BY: u16 = (3 << 8) | 63;
const NEEDS: u16 = 20;
const NEEDS_ZIP64: u16 = 45;

const U32_MAX: u64 = 0xFFFF_FFFF;
const U16_MAX: u64 = 0xFFFF;

/// Why a zip is refused before its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// It would hold more than [`MAX_MEMBERS`]: this many were counted.
    TooManyMembers(u64),
    /// The directory itself cannot be read.
    Unreadable(FsError),
}

/// Counts the members of `plan` (names only, no `stat`), so a zip that could not be
/// finished is refused before anything is sent.
pub(crate) fn check(fs: &dyn Fs, plan: &Plan) -> Result<(), Refusal> {
    check_within(fs, plan, MAX_MEMBERS)
}

fn check_within(fs: &dyn Fs, plan: &Plan, cap: u64) -> Result<(), Refusal> {
    let mut members = 0u64;
    tree::walk(fs, plan, &mut |member: &Member<Kind>| {
        members += u64::from(archived(member));
        ControlFlow::Continue(())
    })
    .map_err(Refusal::Unreadable)?;
    if members > cap {
        return Err(Refusal::TooManyMembers(members));
    }
    Ok(())
}

/// Whether a member goes in the archive: all but a symlinked directory (the archive holds
/// what is under the directory, once, as the tar does).
fn archived<D: Detail>(member: &Member<D>) -> bool {
    !(member.meta.kind() == Kind::Dir && member.symlink)
}

/// Writes the zip of the subtree `plan` names to `sink`; false if it could not be written
/// whole (the client went away, a file shrank, the tree changed between the passes, or the
/// directory could not be read).
pub(crate) fn stream<S: Sink>(fs: &dyn Fs, plan: &Plan, sink: &mut S) -> bool {
    let mut archive = Archive::default();
    let mut ok = true;
    let walked = tree::walk(fs, plan, &mut |member| {
        ok = archive.add(sink, member);
        tree::keep_going(ok)
    });
    ok && walked.is_ok() && archive.finish(fs, plan, sink)
}

/// What has been written so far: its length, and what the central directory will need of
/// each member that a second walk cannot tell.
#[derive(Default)]
struct Archive {
    offset: u64,
    entries: u64,
    /// Per member: its MS-DOS time and date, its size as a LEB128 varint, then its CRC-32
    /// unless it is empty.
    records: Vec<u8>,
    /// The names written, in order, so the second walk can prove it met the same ones.
    names: DefaultHasher,
}

impl Archive {
    /// Writes one member.
    fn add<S: Sink>(&mut self, sink: &mut S, member: &Member) -> bool {
        if !archived(member) {
            return true;
        }
        if self.entries >= MAX_MEMBERS {
            // The tree grew since `check` counted it.
            return false;
        }
        let dir = member.meta.kind == Kind::Dir;
        let size = if dir { 0 } else { member.meta.size };
        let (time, date) = dos_time(member.meta.modified);
        let entry = Entry::new(member.name.clone(), dir, size, self.offset, (time, date));
        let crc = if dir {
            self.emit(sink, &entry.local()).map(|()| 0)
        } else if size == 0 {
            // Nothing to open for an empty file, and the CRC of nothing is 0.
            self.emit(sink, &entry.local())
                .and_then(|()| self.emit(sink, &entry.descriptor()))
                .map(|()| 0)
        } else {
            match sink.open(&member.path) {
                // Gone since the walk saw it: left out, as in the tar.
                None => return true,
                Some(file) => self.write_file(sink, entry, &file),
            }
        };
        let Some(crc) = crc else {
            return false;
        };
        self.records.extend_from_slice(&time.to_le_bytes());
        self.records.extend_from_slice(&date.to_le_bytes());
        push_varint(&mut self.records, size);
        if size > 0 {
            self.records.extend_from_slice(&crc.to_le_bytes());
        }
        name_digest(&mut self.names, &member.name);
        self.entries += 1;
        true
    }

    /// The local header, the data and the data descriptor; the data's CRC.
    fn write_file<S: Sink>(
        &mut self,
        sink: &mut S,
        mut entry: Entry,
        file: &S::File,
    ) -> Option<u32> {
        self.emit(sink, &entry.local())?;
        let mut crc = crc32fast::Hasher::new();
        if !sink.send_through(file, 0, entry.size, &mut |chunk| crc.update(chunk)) {
            return None;
        }
        self.offset += entry.size;
        entry.crc = crc.finalize();
        self.emit(sink, &entry.descriptor())?;
        Some(entry.crc)
    }

    /// Writes bytes and counts them.
    fn emit<S: Sink>(&mut self, sink: &mut S, bytes: &[u8]) -> Option<()> {
        self.offset += bytes.len() as u64;
        sink.write(bytes).then_some(())
    }

    /// The central directory, from a second walk of the same tree and the records of the
    /// first, and the end records. A second walk that meets other members than the first
    /// (the tree changed meanwhile) leaves the archive unfinished rather than let it lie.
    fn finish<S: Sink>(mut self, fs: &dyn Fs, plan: &Plan, sink: &mut S) -> bool {
        let start = self.offset;
        let mut central = Central {
            records: &self.records,
            at: 0,
            offset: 0,
            entries: 0,
            names: DefaultHasher::new(),
            chunk: Vec::with_capacity(CENTRAL_CHUNK + 1024),
            written: 0,
        };
        let mut ok = true;
        let walked = tree::walk(fs, plan, &mut |member: &Member<Kind>| {
            ok = central.add(sink, member);
            tree::keep_going(ok)
        });
        let same = ok
            && walked.is_ok()
            && central.entries == self.entries
            && central.at == self.records.len()
            && central.names.finish() == self.names.finish()
            && central.offset == start;
        if !same || !central.flush(sink) {
            return false;
        }
        let size = central.written;
        self.offset += size;
        sink.write(&self.end(start, size))
    }

    /// The end of central directory record, after the Zip64 ones when a value needs them.
    fn end(&self, start: u64, size: u64) -> Vec<u8> {
        let mut end = Vec::with_capacity(98);
        let zip64 = self.entries >= U16_MAX || start >= U32_MAX || size >= U32_MAX;
        if zip64 {
            let at = self.offset;
            put32(&mut end, ZIP64_END);
            put64(&mut end, 44);
            put16(&mut end, MADE_BY);
            put16(&mut end, NEEDS_ZIP64);
            put32(&mut end, 0);
            put32(&mut end, 0);
            put64(&mut end, self.entries);
            put64(&mut end, self.entries);
            put64(&mut end, size);
            put64(&mut end, start);
            put32(&mut end, ZIP64_LOCATOR);
            put32(&mut end, 0);
            put64(&mut end, at);
            put32(&mut end, 1);
        }
        put32(&mut end, END);
        put32(&mut end, 0);
        put16(&mut end, self.entries.min(U16_MAX) as u16);
        put16(&mut end, self.entries.min(U16_MAX) as u16);
        put32(&mut end, size.min(U32_MAX) as u32);
        put32(&mut end, start.min(U32_MAX) as u32);
        put16(&mut end, 0);
        end
    }
}

/// The central directory being written on the second walk.
struct Central<'a> {
    records: &'a [u8],
    /// How far into `records` the walk has read.
    at: usize,
    /// Where the next member's local header is, computed as the first pass wrote it.
    offset: u64,
    entries: u64,
    names: DefaultHasher,
    chunk: Vec<u8>,
    written: u64,
}

impl Central<'_> {
    /// The central header of one member; false if the records ran out (the tree grew) or
    /// the client went away.
    fn add<S: Sink>(&mut self, sink: &mut S, member: &Member<Kind>) -> bool {
        // Time and size are the ones written, whatever the file's are now; a member that
        // changed kind changed its name (a directory's ends with `/`), which the digest
        // catches.
        if !archived(member) {
            return true;
        }
        let Some(&[t0, t1, d0, d1]) = self.records.get(self.at..self.at + 4) else {
            return false;
        };
        self.at += 4;
        let time = (u16::from_le_bytes([t0, t1]), u16::from_le_bytes([d0, d1]));
        let Some(size) = read_varint(self.records, &mut self.at) else {
            return false;
        };
        let dir = member.meta == Kind::Dir;
        let mut entry = Entry::new(member.name.clone(), dir, size, self.offset, time);
        if size > 0 {
            let Some(crc) = self.records.get(self.at..self.at + 4) else {
                return false;
            };
            entry.crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
            self.at += 4;
        }
        self.offset += entry.local_len() + size + entry.descriptor_len();
        self.entries += 1;
        name_digest(&mut self.names, &member.name);
        self.chunk.extend_from_slice(&entry.central());
        self.chunk.len() < CENTRAL_CHUNK || self.flush(sink)
    }

    fn flush<S: Sink>(&mut self, sink: &mut S) -> bool {
        self.written += self.chunk.len() as u64;
        let ok = sink.write(&self.chunk);
        self.chunk.clear();
        ok
    }
}

/// Appends `value` as an unsigned LEB128 varint.
fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads a varint written by [`push_varint`] at `*at`, moving past it.
fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Adds a member's name to a digest of the names in order; the length first, so no two
/// lists of names digest alike by running together.
fn name_digest(digest: &mut DefaultHasher, name: &str) {
    digest.write_u64(name.len() as u64);
    digest.write(name.as_bytes());
}

/// One entry's header fields.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    dir: bool,
    size: u64,
    crc: u32,
    offset: u64,
    time: u16,
    date: u16,
}

impl Entry {
    /// A member's entry, whose local header is at `offset`.
    fn new(name: String, dir: bool, size: u64, offset: u64, (time, date): (u16, u16)) -> Entry {
        Entry {
            name,
            dir,
            size,
            crc: 0,
            offset,
            time,
            date,
        }
    }

    /// The length of [`Entry::local`].
    fn local_len(&self) -> u64 {
        30 + self.name.len() as u64 + if self.big() { 20 } else { 0 }
    }

    /// The length of [`Entry::descriptor`]: none for a directory.
    fn descriptor_len(&self) -> u64 {
        match (self.dir, self.big()) {
            (true, _) => 0,
            (false, true) => 24,
            (false, false) => 16,
        }
    }

    /// A file of 4 GiB or more needs 8-byte sizes.
    fn big(&self) -> bool {
        self.size >= U32_MAX
    }

    fn flags(&self) -> u16 {
        let utf8 = if self.name.is_ascii() { 0 } else { FLAG_UTF8 };
        let descriptor = if self.dir { 0 } else { FLAG_DESCRIPTOR };
        utf8 | descriptor
    }

    fn needs(&self) -> u16 {
        if self.big() || self.offset >= U32_MAX {
            NEEDS_ZIP64
        } else {
            NEEDS
        }
    }

    /// The local file header: CRC and sizes are zero (they follow the data), except that a
    /// big entry says `0xFFFFFFFF` and carries a Zip64 extra field, so a reader knows its
    /// data descriptor holds 8-byte sizes.
    fn local(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(30 + self.name.len() + 20);
        put32(&mut out, LOCAL_HEADER);
        put16(&mut out, self.needs());
        put16(&mut out, self.flags());
        put16(&mut out, 0);
        put16(&mut out, self.time);
        put16(&mut out, self.date);
        put32(&mut out, 0);
        let sizes = if self.big() { U32_MAX as u32 } else { 0 };
        put32(&mut out, sizes);
        put32(&mut out, sizes);
        put16(&mut out, self.name.len() as u16);
        put16(&mut out, if self.big() { 20 } else { 0 });
        out.extend_from_slice(self.name.as_bytes());
        if self.big() {
            put16(&mut out, ZIP64_EXTRA);
            put16(&mut out, 16);
            put64(&mut out, 0);
            put64(&mut out, 0);
        }
        out
    }

    /// The data descriptor after a file's data (§4.3.9), with its signature.
    fn descriptor(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24);
        put32(&mut out, DATA_DESCRIPTOR);
        put32(&mut out, self.crc);
        if self.big() {
            put64(&mut out, self.size);
            put64(&mut out, self.size);
        } else {
            put32(&mut out, self.size as u32);
            put32(&mut out, self.size as u32);
        }
        out
    }

    /// The Zip64 extra field of the central header: only the values that overflow, in the
    /// order §4.5.3 fixes.
    fn central_extra(&self) -> Vec<u8> {
        let mut values = Vec::new();
        if self.big() {
            values.extend([self.size, self.size]);
        }
        if self.offset >= U32_MAX {
            values.push(self.offset);
        }
        let mut out = Vec::new();
        if !values.is_empty() {
            put16(&mut out, ZIP64_EXTRA);
            put16(&mut out, (values.len() * 8) as u16);
            for value in values {
                put64(&mut out, value);
            }
        }
        out
    }

    /// The central directory header (§4.3.12).
    fn central(&self) -> Vec<u8> {
        let extra = self.central_extra();
        let mut out = Vec::with_capacity(46 + self.name.len() + extra.len());
        put32(&mut out, CENTRAL_HEADER);
        put16(&mut out, MADE_BY);
        put16(&mut out, self.needs());
        put16(&mut out, self.flags());
        put16(&mut out, 0);
        put16(&mut out, self.time);
        put16(&mut out, self.date);
        put32(&mut out, self.crc);
        put32(&mut out, self.size.min(U32_MAX) as u32);
        put32(&mut out, self.size.min(U32_MAX) as u32);
        put16(&mut out, self.name.len() as u16);
        put16(&mut out, extra.len() as u16);
        put16(&mut out, 0);
        put16(&mut out, 0);
        put16(&mut out, 0);
        // Unix mode in the high half; MS-DOS's directory bit in the low one.
        let attributes = if self.dir {
            (0o40755 << 16) | 0x10
        } else {
            0o100644 << 16
        };
        put32(&mut out, attributes);
        put32(&mut out, self.offset.min(U32_MAX) as u32);
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(&extra);
        out
    }
}

/// A modification time as MS-DOS time and date (local time in the format; we write UTC).
fn dos_time(modified: Option<Timestamp>) -> (u16, u16) {
    let seconds = modified.map_or(0, |t| t.seconds);
    // 1980-01-01 to 2107-12-31, the format's range.
    let t = crate::civil::Utc::from_unix(seconds.clamp(315_532_800, 4_354_819_199));
    let time = (u16::from(t.hour) << 11) | (u16::from(t.minute) << 5) | u16::from(t.second / 2);
    let date = ((t.year - 1980) << 9) | (u64::from(t.month) << 5) | u64::from(t.day);
    (time, date as u16)
}

fn put16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests;
