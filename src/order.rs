//! The one order a listing's entries come in, and the cursor that says where a page of it
//! ends.
//!
//! Directories come first in either direction; then the requested key (`?sort=name|size|time`,
//! `&order=asc|desc`); ties go to the case-folded name, then to the exact bytes of the name.
//! Names are unique inside one directory, so the order is total: every entry has one place,
//! on every request, which is what lets a page end at a key rather than at an index.
//!
//! A [`Cursor`] is the key of the last entry a page showed, written into the next page's
//! query (`?after=`). It names a position, not an entry: if entries come and go between two
//! pages, the next page still starts right after that key, so an unchanged entry is never
//! skipped or shown twice. Its text form is `d/NAME` or `f/NAME` (directory or not) for a name
//! sort, with the size or the time between them for the other sorts (`f/1024/NAME`,
//! `f/1733000000.5/NAME`, `f/-/NAME` for an unknown time); a name holds no `/`, so the last
//! part is the name whatever it contains.

use std::cmp::Ordering;

use crate::fs::{DirEntry, Kind, Timestamp};

/// What a listing is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum SortKey {
    #[default]
    Name,
    Size,
    Time,
}

/// Which way a listing is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Order {
    #[default]
    Asc,
    Desc,
}

impl SortKey {
    /// The value of `?sort=` that asks for this key.
    pub(crate) fn token(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Size => "size",
            SortKey::Time => "time",
        }
    }

    /// The part of an entry's key this sort compares before the name.
    pub(crate) fn primary(self, size: u64, modified: Option<Timestamp>) -> Primary {
        match self {
            SortKey::Name => Primary::None,
            SortKey::Size => Primary::Size(size),
            SortKey::Time => Primary::Time(modified),
        }
    }
}

impl Order {
    /// The value of `?order=` that asks for this order.
    pub(crate) fn token(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }

    pub(crate) fn flipped(self) -> Order {
        match self {
            Order::Asc => Order::Desc,
            Order::Desc => Order::Asc,
        }
    }
}

/// The part of the key between the directories-first rule and the name. One listing's keys
/// all hold the same variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Primary {
    None,
    Size(u64),
    /// An unknown time sorts before every known one.
    Time(Option<Timestamp>),
}

/// Where an entry falls in a listing: with its name folded once, because folding is most of
/// a comparison's cost (a third of a 1000-entry listing's time when done in each of the
/// n log n comparisons).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    /// Not a directory (after following a link): sorts after every directory.
    pub(crate) file: bool,
    pub(crate) primary: Primary,
    pub(crate) name: String,
    /// The folded name, where it differs from the name: most names have no upper case, and
    /// a copy of each was one of the two allocations an entry cost the guest.
    folded: Option<Box<str>>,
    /// The folded name's first 16 bytes, big-endian, zero-padded: ordered as the names are,
    /// so most comparisons in a sort end at one integer compare instead of a `memcmp` (names
    /// such as `file-1000.txt` differ only past their eighth byte).
    prefix: u128,
}

impl Key {
    pub(crate) fn new(file: bool, primary: Primary, name: String) -> Key {
        let folded = fold(&name);
        let mut head = [0; 16];
        let bytes = folded.as_deref().unwrap_or(&name).as_bytes();
        let len = bytes.len().min(16);
        head[..len].copy_from_slice(&bytes[..len]);
        Key {
            file,
            primary,
            name,
            prefix: u128::from_be_bytes(head),
            folded,
        }
    }

    /// The name in lower case.
    fn folded(&self) -> &str {
        self.folded.as_deref().unwrap_or(&self.name)
    }

    /// The key of `entry` under `sort`.
    pub(crate) fn of(entry: &DirEntry, sort: SortKey) -> Key {
        let primary = sort.primary(entry.meta.size, entry.meta.modified);
        Key::new(entry.meta.kind != Kind::Dir, primary, entry.name.clone())
    }

    /// This key's place relative to an entry not yet keyed, without folding its name into a
    /// new string: how a page rejects the entries beyond it at no allocation.
    pub(crate) fn cmp_unkeyed(
        &self,
        order: Order,
        file: bool,
        primary: Primary,
        name: &str,
    ) -> Ordering {
        let rest = self
            .primary
            .cmp(&primary)
            .then_with(|| {
                if name.is_ascii() {
                    let lower = name.bytes().map(|b| b.to_ascii_lowercase());
                    self.folded().bytes().cmp(lower)
                } else {
                    let lower = name.chars().flat_map(char::to_lowercase);
                    self.folded().chars().cmp(lower)
                }
            })
            .then_with(|| self.name.as_str().cmp(name));
        self.file.cmp(&file).then(directed(rest, order))
    }
}

/// Compares two keys in the listing's order.
pub(crate) fn compare(a: &Key, b: &Key, order: Order) -> Ordering {
    a.file.cmp(&b.file).then_with(|| {
        let rest = a
            .primary
            .cmp(&b.primary)
            // Equal prefixes, or a name shorter than 16 bytes against its own extension
            // padded with zeros, fall through to the whole folded names.
            .then_with(|| a.prefix.cmp(&b.prefix))
            .then_with(|| a.folded().cmp(b.folded()))
            .then_with(|| a.name.cmp(&b.name));
        directed(rest, order)
    })
}

/// `name` in lower case, for comparing without regard to case, or `None` if it is already.
/// Most names are ASCII, whose lower case needs no Unicode tables: folding was the listing's
/// largest guest cost.
fn fold(name: &str) -> Option<Box<str>> {
    if name.is_ascii() {
        let has_upper = name.bytes().any(|b| b.is_ascii_uppercase());
        return has_upper.then(|| name.to_ascii_lowercase().into());
    }
    let folded: String = name.chars().flat_map(char::to_lowercase).collect();
    (folded != name).then(|| folded.into())
}

fn directed(ordering: Ordering, order: Order) -> Ordering {
    match order {
        Order::Asc => ordering,
        Order::Desc => ordering.reverse(),
    }
}

/// Sorts a whole list of entries in the listing's order.
pub(crate) fn sort_entries(entries: &mut Vec<DirEntry>, sort: SortKey, order: Order) {
    let mut keyed: Vec<(Key, DirEntry)> = entries
        .drain(..)
        .map(|entry| (Key::of(&entry, sort), entry))
        .collect();
    keyed.sort_unstable_by(|(a, _), (b, _)| compare(a, b, order));
    entries.extend(keyed.into_iter().map(|(_, entry)| entry));
}

/// Where the previous page ended: the key of the last entry it showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor(pub(crate) Key);

/// A cursor that is not one this server wrote for the requested sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadCursor;

impl Cursor {
    /// Reads `?after=` for a listing sorted by `sort`.
    pub(crate) fn parse(text: &str, sort: SortKey) -> Result<Cursor, BadCursor> {
        let (kind, rest) = text.split_once('/').ok_or(BadCursor)?;
        let file = match kind {
            "d" => false,
            "f" => true,
            _ => return Err(BadCursor),
        };
        let (primary, name) = match sort {
            SortKey::Name => (Primary::None, rest),
            SortKey::Size => {
                let (size, name) = rest.split_once('/').ok_or(BadCursor)?;
                (Primary::Size(digits(size)?), name)
            }
            SortKey::Time => {
                let (time, name) = rest.split_once('/').ok_or(BadCursor)?;
                (Primary::Time(timestamp(time)?), name)
            }
        };
        if name.is_empty() || name.contains('/') {
            return Err(BadCursor);
        }
        Ok(Cursor(Key::new(file, primary, name.to_owned())))
    }

    /// The text form [`Cursor::parse`] reads (before percent-encoding into a query).
    pub(crate) fn text(&self) -> String {
        let key = &self.0;
        let kind = if key.file { "f" } else { "d" };
        match key.primary {
            Primary::None => format!("{kind}/{}", key.name),
            Primary::Size(size) => format!("{kind}/{size}/{}", key.name),
            Primary::Time(None) => format!("{kind}/-/{}", key.name),
            Primary::Time(Some(t)) => {
                format!("{kind}/{}.{}/{}", t.seconds, t.nanoseconds, key.name)
            }
        }
    }
}

fn digits<T: std::str::FromStr>(text: &str) -> Result<T, BadCursor> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BadCursor);
    }
    text.parse().map_err(|_| BadCursor)
}

fn timestamp(text: &str) -> Result<Option<Timestamp>, BadCursor> {
    if text == "-" {
        return Ok(None);
    }
    let (seconds, nanoseconds) = text.split_once('.').ok_or(BadCursor)?;
    let nanoseconds: u32 = digits(nanoseconds)?;
    if nanoseconds >= 1_000_000_000 {
        return Err(BadCursor);
    }
    Ok(Some(Timestamp {
        seconds: digits(seconds)?,
        nanoseconds,
    }))
}

#[cfg(test)]
mod tests;
