use std::cell::Cell;

use proptest::prelude::*;

use super::*;
use crate::fs::testing::entry;
use crate::memfs::MemFs;
use crate::order::sort_entries;

/// Every page of `entries` in turn, as a client following `next` would see them.
fn walk_pages(entries: &[DirEntry], sort: SortKey, order: Order, limit: usize) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let mut selection = Selection::new(order, after.take(), limit);
        for e in entries {
            let primary = sort.primary(e.meta.size, e.meta.modified);
            selection.offer(e.meta.kind != Kind::Dir, primary, e.name.clone(), ());
        }
        let chosen = selection.finish();
        assert_eq!(chosen.total, entries.len());
        let shown_before: usize = pages.iter().map(Vec::len).sum();
        assert_eq!(
            chosen.before, shown_before,
            "the page starts where the last ended"
        );
        pages.push(chosen.items.iter().map(|(k, _)| k.name.clone()).collect());
        match chosen.next {
            Some(next) => {
                // The cursor goes through its text form, as it does through a URL.
                after = Some(Cursor::parse(&next.text(), sort).unwrap());
            }
            None => return pages,
        }
    }
}

fn sorted_names(entries: &[DirEntry], sort: SortKey, order: Order) -> Vec<String> {
    let mut all = entries.to_vec();
    sort_entries(&mut all, sort, order);
    all.into_iter().map(|e| e.name).collect()
}

const SORTS: [SortKey; 3] = [SortKey::Name, SortKey::Size, SortKey::Time];
const ORDERS: [Order; 2] = [Order::Asc, Order::Desc];

#[test]
fn pages_concatenate_to_the_full_sort() {
    let mut entries = Vec::new();
    for i in 0..53 {
        let kind = if i % 7 == 0 { Kind::Dir } else { Kind::File };
        // Few distinct sizes and times: most comparisons are decided by the name.
        entries.push(entry(&format!("n{:02}", (i * 37) % 53), kind, i % 3, i % 4));
    }
    entries.push(entry("N01", Kind::File, 1, 1));
    for sort in SORTS {
        for order in ORDERS {
            for limit in [1, 2, 5, 10, 53, 54, 100] {
                let pages = walk_pages(&entries, sort, order, limit);
                assert!(pages.iter().all(|p| p.len() <= limit));
                assert!(pages.iter().all(|p| !p.is_empty()));
                let flat: Vec<String> = pages.concat();
                assert_eq!(
                    flat,
                    sorted_names(&entries, sort, order),
                    "{sort:?} {order:?} {limit}"
                );
            }
        }
    }
}

#[test]
fn an_empty_directory_is_one_empty_page() {
    let chosen = Selection::<()>::new(Order::Asc, None, 10).finish();
    assert!(chosen.items.is_empty());
    assert_eq!((chosen.total, chosen.before, chosen.next), (0, 0, None));
}

#[test]
fn a_cursor_survives_entries_coming_and_going() {
    let names = |range: std::ops::Range<u32>| -> Vec<DirEntry> {
        range
            .map(|i| entry(&format!("f{i:03}"), Kind::File, 0, 0))
            .collect()
    };
    let first = {
        let mut s = Selection::new(Order::Asc, None, 10);
        for e in names(0..100) {
            s.offer(true, Primary::None, e.name, ());
        }
        s.finish()
    };
    let next = first.next.unwrap();
    assert_eq!(next.0.name, "f009");
    // f005 and f010 are deleted, f0095 is created before the next request.
    let mut changed = names(0..100);
    changed.retain(|e| e.name != "f005" && e.name != "f010");
    changed.push(entry("f0095", Kind::File, 0, 0));
    let mut s = Selection::new(Order::Asc, Some(next), 10);
    for e in changed {
        s.offer(true, Primary::None, e.name, ());
    }
    let second = s.finish();
    let shown: Vec<&str> = second.items.iter().map(|(k, _)| k.name.as_str()).collect();
    assert_eq!(shown[..3], ["f0095", "f011", "f012"]);
    assert_eq!(second.before, 9);
    assert_eq!(second.total, 99);
}

/// A tree whose directory reports kinds by itself, counting the stats it is asked for.
struct Counting {
    inner: MemFs,
    stats: Cell<usize>,
    full_entries: Cell<usize>,
}

impl Fs for Counting {
    fn stat(&self, path: &SafePath) -> Result<Metadata, FsError> {
        self.stats.set(self.stats.get() + 1);
        self.inner.stat(path)
    }
    fn read_dir(
        &self,
        path: &SafePath,
        each: &mut dyn FnMut(DirEntry) -> ControlFlow<()>,
    ) -> Result<(), FsError> {
        self.inner.read_dir(path, &mut |e| {
            self.full_entries.set(self.full_entries.get() + 1);
            each(e)
        })
    }
    fn read_names(
        &self,
        path: &SafePath,
        each: &mut dyn FnMut(Name) -> ControlFlow<()>,
    ) -> Result<(), FsError> {
        self.inner.read_names(path, each)
    }
    fn read(&self, path: &SafePath, offset: u64, len: u64) -> Result<Vec<u8>, FsError> {
        self.inner.read(path, offset, len)
    }
}

fn counting(fs: MemFs) -> Counting {
    Counting {
        inner: fs,
        stats: Cell::new(0),
        full_entries: Cell::new(0),
    }
}

#[test]
fn a_name_sort_stats_only_the_page() {
    let mut tree = MemFs::new()
        .dir("d/sub")
        .file("d/.hidden", 1)
        .special("d/fifo");
    for i in 0..50 {
        tree = tree.file(&format!("d/f{i:02}"), i);
    }
    let fs = counting(tree);
    let dir = SafePath::parse("/d/").unwrap();
    let request = Request {
        sort: SortKey::Name,
        order: Order::Asc,
        after: None,
        limit: 10,
    };
    let page = read(&fs, &dir, Visibility::default(), &request).unwrap();
    assert_eq!(fs.stats.get(), 10);
    assert_eq!(fs.full_entries.get(), 0);
    let shown: Vec<&str> = page.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        shown,
        ["sub", "f00", "f01", "f02", "f03", "f04", "f05", "f06", "f07", "f08"]
    );
    assert_eq!(page.entries[3].meta.size, 2);
    // The dot-file and the FIFO are not counted: totals show what may be seen.
    assert_eq!((page.total, page.dirs, page.before), (51, 1, 0));
    assert_eq!(
        page.next.as_ref().map(|c| c.text()),
        Some("f/f08".to_owned())
    );

    let fs = counting(fs.inner);
    let by_size = Request {
        sort: SortKey::Size,
        order: Order::Desc,
        ..request
    };
    let page = read(&fs, &dir, Visibility::new(true), &by_size).unwrap();
    assert_eq!(fs.full_entries.get(), 53);
    let shown: Vec<&str> = page.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(shown[..3], ["sub", "f49", "f48"]);
    assert_eq!(page.total, 52);
}

fn arb_entries() -> impl Strategy<Value = Vec<DirEntry>> {
    // Names from a small alphabet, with case, so folded ties and exact-byte ties both occur;
    // sizes and times from tiny ranges, so equal keys are the rule.
    let one = ("[aAbBé_]{1,4}", any::<bool>(), 0u64..3, 0u64..3);
    prop::collection::vec(one, 0..80).prop_map(|raw| {
        let mut seen = std::collections::HashSet::new();
        raw.into_iter()
            .filter(|(name, ..)| seen.insert(name.clone()))
            .map(|(name, dir, size, time)| {
                let kind = if dir { Kind::Dir } else { Kind::File };
                entry(&name, kind, size, time)
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn any_directory_pages_to_its_full_sort(
        entries in arb_entries(),
        limit in 1usize..12,
        sort in prop::sample::select(SORTS.to_vec()),
        order in prop::sample::select(ORDERS.to_vec()),
    ) {
        let pages = walk_pages(&entries, sort, order, limit);
        prop_assert_eq!(pages.concat(), sorted_names(&entries, sort, order));
        let full = pages.iter().filter(|p| p.len() == limit).count();
        prop_assert!(full >= pages.len() - 1, "only the last page may be short");
    }
}
