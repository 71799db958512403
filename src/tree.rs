//! A directory's subtree, walked with the listing rules, for everything that looks deeper
//! than one directory: tar and zip archives, and search.
//!
//! Rules: dot-files only with `--hidden`, no special files, nothing the sandbox refuses (a
//! link out of the root cannot be stat'ed, so it is never seen), and a symlinked directory
//! is reported but not descended into, so a link loop cannot make a walk endless. Entries of
//! each directory come in byte order of their names, a directory before its contents; the
//! walk stops at [`MAX_DEPTH`] levels rather than exhaust the guest. A subdirectory that
//! cannot be read is left out, not fatal to the walk.

use crate::fs::{Fs, FsError, Kind, Metadata};
use crate::path::SafePath;
use crate::visibility::Visibility;

/// How deep a walk goes; deeper trees are cut there.
pub(crate) const MAX_DEPTH: usize = 64;

/// A subtree to walk: the directory, and what of it may be seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) dir: SafePath,
    pub(crate) visibility: Visibility,
}

/// One entry met on the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    /// Where it is, from the served root.
    pub(crate) path: SafePath,
    /// Its name relative to the walked directory, `/`-separated; directories end with `/`.
    pub(crate) name: String,
    /// Metadata after following a symlink.
    pub(crate) meta: Metadata,
    /// The entry itself is a symlink (inside the root).
    pub(crate) symlink: bool,
}

impl Member {
    /// A real directory (not a link to one), whose contents the walk visits next.
    pub(crate) fn is_dir(&self) -> bool {
        self.meta.kind == Kind::Dir && !self.symlink
    }
}

/// Calls `each` for every member under `plan.dir`; `each` returning false stops the walk.
pub(crate) fn walk(
    fs: &dyn Fs,
    plan: &Plan,
    each: &mut dyn FnMut(&Member) -> bool,
) -> Result<(), FsError> {
    walk_dir(fs, &plan.dir, "", plan.visibility, 0, each).map(|_| ())
}

fn walk_dir(
    fs: &dyn Fs,
    dir: &SafePath,
    prefix: &str,
    visibility: Visibility,
    depth: usize,
    each: &mut dyn FnMut(&Member) -> bool,
) -> Result<bool, FsError> {
    let mut entries = Vec::new();
    fs.read_dir(dir, &mut |entry| {
        if visibility.shows_entry(&entry) {
            entries.push(entry);
        }
    })?;
    entries.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    for entry in entries {
        let Some(path) = dir.join(&entry.name) else {
            continue;
        };
        let slash = if entry.meta.kind == Kind::Dir {
            "/"
        } else {
            ""
        };
        let member = Member {
            path,
            name: format!("{prefix}{}{slash}", entry.name),
            meta: entry.meta,
            symlink: entry.symlink,
        };
        if !each(&member) {
            return Ok(false);
        }
        if member.is_dir() && depth < MAX_DEPTH {
            let inner = walk_dir(fs, &member.path, &member.name, visibility, depth + 1, each);
            if let Ok(false) = inner {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memfs::MemFs;

    fn names(fs: &MemFs, visibility: Visibility, stop_after: usize) -> Vec<String> {
        let plan = Plan {
            dir: SafePath::root(),
            visibility,
        };
        let mut names = Vec::new();
        walk(fs, &plan, &mut |m| {
            names.push(m.name.clone());
            names.len() < stop_after
        })
        .unwrap();
        names
    }

    #[test]
    fn order_and_rules() {
        let fs = MemFs::new()
            .file("b.txt", 1)
            .file("a/z.txt", 2)
            .file("a/.secret", 3)
            .file(".git/config", 4)
            .special("fifo")
            .dir("empty");
        assert_eq!(
            names(&fs, Visibility::default(), usize::MAX),
            ["a/", "a/z.txt", "b.txt", "empty/"]
        );
        let hidden = names(&fs, Visibility::new(true), usize::MAX);
        assert!(hidden.contains(&".git/config".to_owned()));
        assert!(hidden.contains(&"a/.secret".to_owned()));
        // Stopping early stops the walk.
        assert_eq!(names(&fs, Visibility::default(), 2), ["a/", "a/z.txt"]);
    }
}
