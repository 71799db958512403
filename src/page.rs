//! Which entries one page of a listing shows, chosen in one pass over the directory with
//! memory for the page alone, so a directory of any size lists in bounded memory.
//!
//! A [`Selection`] is offered every entry once, in whatever order the directory gives them.
//! It keeps the best candidates after the cursor in a buffer of twice the page size; when the
//! buffer fills, a linear-time selection (`select_nth_unstable_by`) keeps the page's worth of
//! best ones, and the worst of those becomes a bound that later entries must beat before they
//! cost an allocation. That is O(N) comparisons amortised, O(K log K) for the final sort and
//! O(K) memory for a page of K entries, whatever N is.
//!
//! A name sort needs only each entry's name and kind, which the directory itself reports, so
//! [`read`] stats just the entries that end up on the page; a size or time sort stats every
//! entry as it passes.

use std::ops::ControlFlow;

use crate::fs::{DirEntry, Fs, FsError, Kind, Metadata, Name};
use crate::order::{compare, Cursor, Key, Order, Primary, SortKey};
use crate::path::SafePath;
use crate::visibility::Visibility;

/// Entries on one page, and the size up to which a directory is one page as it always was.
/// Measured (`bench/big_dirs.py`): a 10,000-entry page is 1.9 MB of HTML, which a browser
/// still scrolls, answered in 57 ms with 8.5 MiB of guest memory at its peak; 1,000 entries
/// take 1.9 MiB. Pages of 100,000 would need about ten times that, past a 16 MiB guest.
pub(crate) const PAGE_SIZE: usize = 10_000;

/// A page being chosen. `T` is what is kept of an entry beside its key.
pub(crate) struct Selection<T> {
    order: Order,
    after: Option<Key>,
    limit: usize,
    kept: Vec<(Key, T)>,
    /// The worst key kept after the last trim: anything after it cannot be on the page.
    bound: Option<Key>,
    total: usize,
    dirs: usize,
    before: usize,
}

/// What a pass chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selected<T> {
    /// The page, in order.
    pub(crate) items: Vec<(Key, T)>,
    /// Entries offered in all, and how many of them were directories.
    pub(crate) total: usize,
    pub(crate) dirs: usize,
    /// Entries at or before the cursor: the page starts at entry `before + 1`.
    pub(crate) before: usize,
    /// Where the next page starts, if there are entries after this page.
    pub(crate) next: Option<Cursor>,
}

impl<T> Selection<T> {
    /// A page of up to `limit` entries (at least one) after `after`, in `order`.
    pub(crate) fn new(order: Order, after: Option<Cursor>, limit: usize) -> Selection<T> {
        Selection {
            order,
            after: after.map(|cursor| cursor.0),
            limit: limit.max(1),
            kept: Vec::new(),
            bound: None,
            total: 0,
            dirs: 0,
            before: 0,
        }
    }

    /// Considers one entry; `rest` is kept with it if it may be on the page.
    pub(crate) fn offer(&mut self, file: bool, primary: Primary, name: String, rest: T) {
        self.total += 1;
        self.dirs += usize::from(!file);
        // `cmp_unkeyed` compares the stored key with the offered entry: `Less` means the
        // stored key comes first.
        let outside = |key: &Key, order| key.cmp_unkeyed(order, file, primary, &name);
        if self
            .after
            .as_ref()
            .is_some_and(|after| outside(after, self.order) != std::cmp::Ordering::Less)
        {
            self.before += 1;
            return;
        }
        if self
            .bound
            .as_ref()
            .is_some_and(|bound| outside(bound, self.order) == std::cmp::Ordering::Less)
        {
            return;
        }
        self.kept.push((Key::new(file, primary, name), rest));
        if self.kept.len() >= 2 * self.limit {
            self.trim();
        }
    }

    /// Keeps the best `limit` candidates, and remembers the worst of them as the bound.
    fn trim(&mut self) {
        let order = self.order;
        let nth = self.limit - 1;
        self.kept
            .select_nth_unstable_by(nth, |(a, _), (b, _)| compare(a, b, order));
        self.kept.truncate(self.limit);
        self.bound = Some(self.kept[nth].0.clone());
    }

    /// The page, sorted, and where the next one starts.
    pub(crate) fn finish(mut self) -> Selected<T> {
        let order = self.order;
        let after_cursor = self.total - self.before;
        self.kept
            .sort_unstable_by(|(a, _), (b, _)| compare(a, b, order));
        self.kept.truncate(self.limit);
        let next = (after_cursor > self.kept.len())
            .then(|| self.kept.last().map(|(key, _)| Cursor(key.clone())))
            .flatten();
        Selected {
            items: self.kept,
            total: self.total,
            dirs: self.dirs,
            before: self.before,
            next,
        }
    }
}

/// One page of a directory's listing, with its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page {
    pub(crate) entries: Vec<DirEntry>,
    /// Entries the directory shows in all, and how many are directories.
    pub(crate) total: usize,
    pub(crate) dirs: usize,
    /// Entries before this page.
    pub(crate) before: usize,
    pub(crate) next: Option<Cursor>,
}

/// What a listing asks for: the order, and the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) sort: SortKey,
    pub(crate) order: Order,
    pub(crate) after: Option<Cursor>,
    pub(crate) limit: usize,
}

/// Reads the page of the directory `dir` that `request` asks for, showing what `visibility`
/// lets through.
pub(crate) fn read(
    fs: &dyn Fs,
    dir: &SafePath,
    visibility: Visibility,
    request: &Request,
) -> Result<Page, FsError> {
    if request.sort == SortKey::Name {
        let mut selection = Selection::new(request.order, request.after.clone(), request.limit);
        fs.read_names(dir, &mut |name| {
            if visibility.shows_entry(&name.name, name.kind) {
                let file = name.kind != Kind::Dir;
                selection.offer(file, Primary::None, name.name, (name.kind, name.symlink));
            }
            ControlFlow::Continue(())
        })?;
        let (items, chosen) = selection.finish().split();
        let mut entries = Vec::with_capacity(items.len());
        let names = items
            .into_iter()
            .map(|(key, (kind, symlink))| Name {
                name: key.name,
                kind,
                symlink,
            })
            .collect();
        // An entry that turned into something else since it was listed is left out.
        fs.stat_names(dir, names, &mut |entry| {
            if visibility.shows_entry(&entry.name, entry.meta.kind) {
                entries.push(entry);
            }
        })?;
        return Ok(chosen.with(entries));
    }
    let mut selection: Selection<(Metadata, bool)> =
        Selection::new(request.order, request.after.clone(), request.limit);
    fs.read_dir(dir, &mut |entry| {
        if visibility.shows_entry(&entry.name, entry.meta.kind) {
            let primary = request.sort.primary(entry.meta.size, entry.meta.modified);
            let file = entry.meta.kind != Kind::Dir;
            selection.offer(file, primary, entry.name, (entry.meta, entry.symlink));
        }
        ControlFlow::Continue(())
    })?;
    let (items, chosen) = selection.finish().split();
    let entries = items
        .into_iter()
        .map(|(key, (meta, symlink))| DirEntry {
            name: key.name,
            meta,
            symlink,
        })
        .collect();
    Ok(chosen.with(entries))
}

impl<T> Selected<T> {
    /// The chosen items, and a page waiting for their entries.
    fn split(self) -> (Vec<(Key, T)>, Page) {
        let page = Page {
            entries: Vec::new(),
            total: self.total,
            dirs: self.dirs,
            before: self.before,
            next: self.next,
        };
        (self.items, page)
    }
}

impl Page {
    fn with(self, entries: Vec<DirEntry>) -> Page {
        Page { entries, ..self }
    }

    /// A directory shown whole on one page.
    #[cfg(test)]
    pub(crate) fn whole(entries: Vec<DirEntry>) -> Page {
        let dirs = entries.iter().filter(|e| e.meta.kind == Kind::Dir).count();
        Page {
            total: entries.len(),
            dirs,
            before: 0,
            next: None,
            entries,
        }
    }
}

#[cfg(test)]
mod tests;
