//! `?q=TERM` on a directory: the names in its subtree that contain TERM, found with the same
//! walk as the archives (`tree.rs`), so the same dot-file, special-file and sandbox rules
//! decide what can be found.
//!
//! Matching is by Unicode lower case (`str::to_lowercase`), so `café` finds `CAFÉ.txt`; the
//! whole name is matched, not the path. The walk is bounded: it stops after [`MAX_RESULTS`]
//! matches, [`MAX_VISITED`] entries, or [`MAX_TIME`], and then says the answer is
//! truncated. Results are sorted by path.

use std::time::{Duration, Instant};

use crate::fs::{Fs, FsError, Kind, Metadata};
use crate::tree::{self, Member, Plan};

/// The most results one search returns.
pub(crate) const MAX_RESULTS: usize = 1000;
/// The most entries one search looks at: a directory of a million is searched whole (in
/// about 1.5 s of guest time, names only).
pub(crate) const MAX_VISITED: usize = 2_000_000;
/// The longest one search walks, in wall time, so inside the host's default CPU limit (10 s)
/// whatever the load: a 300,000-entry directory takes 1.2 s under `wasmtime serve` on an
/// idle machine and passed 3 s on a busy one.
pub(crate) const MAX_TIME: Duration = Duration::from_secs(8);

/// One name that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    /// The entry's own name.
    pub(crate) name: String,
    /// Its path from the served root, decoded, `/`-separated; a directory's ends with `/`.
    pub(crate) path: String,
    pub(crate) meta: Metadata,
    pub(crate) symlink: bool,
}

/// What a search found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Found {
    pub(crate) hits: Vec<Hit>,
    /// A bound stopped the walk before it saw the whole subtree.
    pub(crate) truncated: bool,
}

/// Searches the subtree `plan` names for `term`.
pub(crate) fn search(fs: &dyn Fs, plan: &Plan, term: &str) -> Result<Found, FsError> {
    search_within(fs, plan, term, Instant::now() + MAX_TIME)
}

fn search_within(
    fs: &dyn Fs,
    plan: &Plan,
    term: &str,
    deadline: Instant,
) -> Result<Found, FsError> {
    let term = term.to_lowercase();
    let mut found = Found::default();
    let mut visited = 0;
    tree::walk(fs, plan, &mut |member: &Member<Kind>| {
        visited += 1;
        let name = member.path.file_name().unwrap_or_default();
        // Only a match is stat'ed: the walk itself reads names and kinds.
        let meta = name
            .to_lowercase()
            .contains(&term)
            .then(|| fs.stat(&member.path).ok())
            .flatten();
        if let Some(meta) = meta {
            let slash = if meta.kind == Kind::Dir { "/" } else { "" };
            found.hits.push(Hit {
                name: name.to_owned(),
                path: format!("{}{slash}", member.path),
                meta,
                symlink: member.symlink,
            });
        }
        let more = found.hits.len() < MAX_RESULTS
            && visited < MAX_VISITED
            && (visited % 64 != 0 || Instant::now() < deadline);
        found.truncated = !more;
        tree::keep_going(more)
    })?;
    found.hits.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memfs::MemFs;
    use crate::path::SafePath;
    use crate::visibility::Visibility;

    fn plan(dir: &str, hidden: bool) -> Plan {
        Plan {
            dir: SafePath::parse(dir).unwrap(),
            visibility: Visibility::new(hidden),
        }
    }

    fn paths(found: &Found) -> Vec<&str> {
        found.hits.iter().map(|h| h.path.as_str()).collect()
    }

    fn tree() -> MemFs {
        MemFs::new()
            .file("notes.txt", 1)
            .file("sub/Inner-NOTES.md", 2)
            .file("sub/deeper/café.txt", 3)
            .file("sub/.notes-secret", 4)
            .dir("sub/notes")
            .file("other/x.txt", 5)
            .special("sub/notes-fifo")
    }

    #[test]
    fn names_match_case_insensitively_with_the_listing_rules() {
        let fs = tree();
        let found = search(&fs, &plan("/", false), "NOTES").unwrap();
        assert_eq!(
            paths(&found),
            ["/notes.txt", "/sub/Inner-NOTES.md", "/sub/notes/"]
        );
        assert!(!found.truncated);
        let hidden = search(&fs, &plan("/", true), "notes").unwrap();
        assert!(paths(&hidden).contains(&"/sub/.notes-secret"));
        let below = search(&fs, &plan("/sub/", false), "CAFÉ").unwrap();
        assert_eq!(paths(&below), ["/sub/deeper/café.txt"]);
        assert_eq!(below.hits[0].name, "café.txt");
        assert_eq!(below.hits[0].meta.size, 3);
        let nothing = search(&fs, &plan("/", false), "zzz").unwrap();
        assert_eq!(nothing, Found::default());
    }

    #[test]
    fn bounds_truncate() {
        let mut fs = MemFs::new();
        for i in 0..(MAX_RESULTS + 5) {
            fs = fs.file(&format!("d/match-{i:05}"), 1);
        }
        let found = search(&fs, &plan("/", false), "match").unwrap();
        assert_eq!(found.hits.len(), MAX_RESULTS);
        assert!(found.truncated);
        let late = search_within(&fs, &plan("/", false), "match", Instant::now()).unwrap();
        assert!(
            late.truncated && late.hits.len() < MAX_RESULTS,
            "{}",
            late.hits.len()
        );
    }
}
