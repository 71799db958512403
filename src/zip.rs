//! A directory subtree (walked by `tree.rs`, with the listing rules) as a streamed zip
//! (PKWARE APPNOTE 6.3.10), readable by Windows Explorer, Python's `zipfile`, `unzip` and
//! `bsdtar`, with nothing held in memory but the central directory.
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
//! - The central directory is kept in memory as the bytes it will be written as, about
//!   50 bytes plus the name per entry (5 MB for 100,000 entries). Past [`MAX_DIRECTORY`]
//!   the archive is abandoned (left unfinished) rather than exhaust the guest.

use crate::fs::{Fs, Kind, Timestamp};
use crate::sink::Sink;
use crate::tree::{self, Member, Plan};

/// The most central-directory bytes kept while streaming.
pub(crate) const MAX_DIRECTORY: usize = 32 << 20;

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

/// Writes the zip of the subtree `plan` names to `sink`; false if it could not be written
/// whole (the client went away, a file shrank, or the directory could not be read).
pub(crate) fn stream<S: Sink>(fs: &dyn Fs, plan: &Plan, sink: &mut S) -> bool {
    let mut archive = Archive::default();
    let mut ok = true;
    let walked = tree::walk(fs, plan, &mut |member| {
        ok = archive.add(sink, member);
        ok
    });
    ok && walked.is_ok() && archive.finish(sink)
}

/// What has been written so far: its length, and the central directory to write last.
#[derive(Default)]
struct Archive {
    offset: u64,
    entries: u64,
    directory: Vec<u8>,
}

impl Archive {
    /// Writes one member (a symlinked directory is left out, as in the tar).
    fn add<S: Sink>(&mut self, sink: &mut S, member: &Member) -> bool {
        let entry = match member.meta.kind {
            Kind::Dir if member.symlink => return true,
            Kind::Dir => Entry::new(member, 0),
            Kind::File | Kind::Other => Entry::new(member, member.meta.size),
        };
        if self.directory.len() + entry.central_len() > MAX_DIRECTORY {
            return false;
        }
        let written = if member.meta.kind == Kind::Dir {
            self.write_dir(sink, &entry)
        } else {
            match sink.open(&member.path) {
                // Gone since the walk saw it: left out, as in the tar.
                None => return true,
                Some(file) => self.write_file(sink, &entry, &file),
            }
        };
        written.is_some_and(|entry| {
            self.directory.extend_from_slice(&entry.central());
            self.entries += 1;
            true
        })
    }

    fn write_dir<S: Sink>(&mut self, sink: &mut S, entry: &Entry) -> Option<Entry> {
        let entry = Entry {
            offset: self.offset,
            ..entry.clone()
        };
        let header = entry.local();
        self.emit(sink, &header)?;
        Some(entry)
    }

    fn write_file<S: Sink>(
        &mut self,
        sink: &mut S,
        entry: &Entry,
        file: &S::File,
    ) -> Option<Entry> {
        let mut entry = Entry {
            offset: self.offset,
            ..entry.clone()
        };
        self.emit(sink, &entry.local())?;
        let mut crc = crc32fast::Hasher::new();
        let size = entry.size;
        if !sink.send_through(file, 0, size, &mut |chunk| crc.update(chunk)) {
            return None;
        }
        self.offset += size;
        entry.crc = crc.finalize();
        self.emit(sink, &entry.descriptor())?;
        Some(entry)
    }

    /// Writes bytes and counts them.
    fn emit<S: Sink>(&mut self, sink: &mut S, bytes: &[u8]) -> Option<()> {
        self.offset += bytes.len() as u64;
        sink.write(bytes).then_some(())
    }

    /// The central directory and the end records.
    fn finish<S: Sink>(mut self, sink: &mut S) -> bool {
        let start = self.offset;
        let size = self.directory.len() as u64;
        let directory = std::mem::take(&mut self.directory);
        if self.emit(sink, &directory).is_none() {
            return false;
        }
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
        sink.write(&end)
    }
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
    fn new(member: &Member, size: u64) -> Entry {
        let (time, date) = dos_time(member.meta.modified);
        Entry {
            name: member.name.clone(),
            dir: member.meta.kind == Kind::Dir,
            size,
            crc: 0,
            offset: 0,
            time,
            date,
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

    fn central_len(&self) -> usize {
        46 + self.name.len() + 28
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
    const DAY: u64 = 86_400;
    let seconds = modified.map_or(0, |t| t.seconds);
    // 1980-01-01 to 2107-12-31, the format's range.
    let seconds = seconds.clamp(315_532_800, 4_354_819_199);
    let (year, month, day) = crate::civil::date_from_unix_days(seconds / DAY);
    let of_day = seconds % DAY;
    let time = ((of_day / 3600) << 11) | ((of_day / 60 % 60) << 5) | (of_day % 60 / 2);
    let date = ((year - 1980) << 9) | (u64::from(month) << 5) | u64::from(day);
    (time as u16, date as u16)
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
