//! A directory's subtree, walked with the listing rules, for everything that looks deeper
//! than one directory: tar and zip archives, and search.
//!
//! Rules: dot-files only with `--hidden`, no special files, nothing the sandbox refuses (a
//! link out of the root cannot be stat'ed, so it is never seen), and a symlinked directory
//! is reported but not descended into, so a link loop cannot make a walk endless. Entries of
//! each directory come in byte order of their names, a directory before its contents; the
//! walk stops at [`MAX_DEPTH`] levels rather than exhaust the guest. A subdirectory that
//! cannot be read is left out, not fatal to the walk.

use std::ops::ControlFlow;

use crate::fs::{Fs, FsError, Kind, Metadata};
use crate::path::SafePath;
use crate::visibility::Visibility;

/// How deep a walk goes; deeper trees are cut there.
pub(crate) const MAX_DEPTH: usize = 64;

/// Entries of one directory held and sorted together: at most `MAX_DEPTH` runs are held at
/// once, a few MB at worst.
pub(crate) const RUN: usize = 256;

/// `Continue` while `ok`: how a writer that reports success as a bool steers the walk.
pub(crate) fn keep_going(ok: bool) -> ControlFlow<()> {
    if ok {
        ControlFlow::Continue(())
    } else {
        ControlFlow::Break(())
    }
}

/// A subtree to walk: the directory, and what of it may be seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) dir: SafePath,
    pub(crate) visibility: Visibility,
}

/// What a walk learns of each entry: its [`Metadata`] (a `stat` each), or its [`Kind`]
/// alone (what the directory itself says; a `stat` for symlinks only), for walks that need
/// names and not sizes.
pub(crate) trait Detail: Sized {
    /// What the entry is, after following a symlink.
    fn kind(&self) -> Kind;

    /// Streams the entries of `dir` with this detail.
    fn read(
        fs: &dyn Fs,
        dir: &SafePath,
        each: &mut dyn FnMut(String, Self, bool) -> ControlFlow<()>,
    ) -> Result<(), FsError>;
}

impl Detail for Metadata {
    fn kind(&self) -> Kind {
        self.kind
    }

    fn read(
        fs: &dyn Fs,
        dir: &SafePath,
        each: &mut dyn FnMut(String, Self, bool) -> ControlFlow<()>,
    ) -> Result<(), FsError> {
        fs.read_dir(dir, &mut |e| each(e.name, e.meta, e.symlink))
    }
}

impl Detail for Kind {
    fn kind(&self) -> Kind {
        *self
    }

    fn read(
        fs: &dyn Fs,
        dir: &SafePath,
        each: &mut dyn FnMut(String, Self, bool) -> ControlFlow<()>,
    ) -> Result<(), FsError> {
        fs.read_names(dir, &mut |n| each(n.name, n.kind, n.symlink))
    }
}

/// One entry met on the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member<D = Metadata> {
    /// Where it is, from the served root.
    pub(crate) path: SafePath,
    /// Its name relative to the walked directory, `/`-separated; directories end with `/`.
    pub(crate) name: String,
    /// What the walk learnt of it, after following a symlink.
    pub(crate) meta: D,
    /// The entry itself is a symlink (inside the root).
    pub(crate) symlink: bool,
}

impl<D: Detail> Member<D> {
    /// A real directory (not a link to one), whose contents the walk visits next.
    pub(crate) fn is_dir(&self) -> bool {
        self.meta.kind() == Kind::Dir && !self.symlink
    }
}

/// Calls `each` for every member under `plan.dir`; `each` breaking stops the walk.
pub(crate) fn walk<D: Detail>(
    fs: &dyn Fs,
    plan: &Plan,
    each: &mut dyn FnMut(&Member<D>) -> ControlFlow<()>,
) -> Result<(), FsError> {
    walk_dir(fs, &plan.dir, "", plan.visibility, 0, each).map(|_| ())
}

/// The members of one directory, a run at a time, each followed by its own contents.
fn walk_dir<D: Detail>(
    fs: &dyn Fs,
    dir: &SafePath,
    prefix: &str,
    visibility: Visibility,
    depth: usize,
    each: &mut dyn FnMut(&Member<D>) -> ControlFlow<()>,
) -> Result<ControlFlow<()>, FsError> {
    let mut run = Vec::new();
    let mut flow = ControlFlow::Continue(());
    let level = Level {
        fs,
        dir,
        prefix,
        visibility,
        depth,
    };
    D::read(fs, dir, &mut |name, detail, symlink| {
        if visibility.shows_entry(&name, detail.kind()) {
            run.push((name, detail, symlink));
        }
        if run.len() == RUN {
            flow = level.emit(&mut run, each);
        }
        flow
    })?;
    if flow.is_continue() {
        flow = level.emit(&mut run, each);
    }
    Ok(flow)
}

/// Where a run of entries goes.
struct Level<'a> {
    fs: &'a dyn Fs,
    dir: &'a SafePath,
    prefix: &'a str,
    visibility: Visibility,
    depth: usize,
}

impl Level<'_> {
    /// Sorts `run` by name and hands each member to `each`, descending into directories;
    /// leaves `run` empty.
    fn emit<D: Detail>(
        &self,
        run: &mut Vec<(String, D, bool)>,
        each: &mut dyn FnMut(&Member<D>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        run.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (name, meta, symlink) in run.drain(..) {
            let Some(path) = self.dir.join(&name) else {
                continue;
            };
            let slash = if meta.kind() == Kind::Dir { "/" } else { "" };
            let member = Member {
                path,
                name: format!("{}{name}{slash}", self.prefix),
                meta,
                symlink,
            };
            each(&member)?;
            if member.is_dir() && self.depth < MAX_DEPTH {
                let inner = walk_dir(
                    self.fs,
                    &member.path,
                    &member.name,
                    self.visibility,
                    self.depth + 1,
                    each,
                );
                // A subdirectory that cannot be read is left out.
                if let Ok(ControlFlow::Break(())) = inner {
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::DirEntry;
    use crate::memfs::MemFs;

    fn names(fs: &MemFs, visibility: Visibility, stop_after: usize) -> Vec<String> {
        let plan = Plan {
            dir: SafePath::root(),
            visibility,
        };
        let mut names = Vec::new();
        walk(fs, &plan, &mut |m: &Member| {
            names.push(m.name.clone());
            if names.len() < stop_after {
                ControlFlow::Continue(())
            } else {
                ControlFlow::Break(())
            }
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

    /// A directory listed in reverse byte order, counting the entries handed out.
    struct Reversed(MemFs, std::cell::Cell<usize>);

    impl Fs for Reversed {
        fn stat(&self, path: &SafePath) -> Result<Metadata, FsError> {
            self.0.stat(path)
        }
        fn read_dir(
            &self,
            path: &SafePath,
            each: &mut dyn FnMut(DirEntry) -> ControlFlow<()>,
        ) -> Result<(), FsError> {
            let mut all = Vec::new();
            self.0.read_dir(path, &mut |e| {
                all.push(e);
                ControlFlow::Continue(())
            })?;
            for entry in all.into_iter().rev() {
                self.1.set(self.1.get() + 1);
                if each(entry).is_break() {
                    break;
                }
            }
            Ok(())
        }
        fn read(&self, path: &SafePath, offset: u64, len: u64) -> Result<Vec<u8>, FsError> {
            self.0.read(path, offset, len)
        }
    }

    #[test]
    fn a_big_directory_streams_in_sorted_runs() {
        let count = 2 * RUN + 10;
        let mut tree = MemFs::new();
        for i in 0..count {
            tree = tree.file(&format!("{i:05}"), 0);
        }
        let fs = Reversed(tree, std::cell::Cell::new(0));
        let plan = Plan {
            dir: SafePath::root(),
            visibility: Visibility::default(),
        };
        let mut seen = Vec::new();
        walk(&fs, &plan, &mut |m: &Member<Kind>| {
            seen.push(m.name.clone());
            ControlFlow::Continue(())
        })
        .unwrap();
        // The first run is the first RUN names listed (the highest), in name order.
        let first: Vec<String> = (count - RUN..count).map(|i| format!("{i:05}")).collect();
        assert_eq!(seen[..RUN], first[..]);
        let mut all = seen.clone();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), count, "every entry once");

        // Stopping early stops reading the directory: one run is read, not the rest.
        fs.1.set(0);
        let mut n = 0;
        walk(&fs, &plan, &mut |_: &Member| {
            n += 1;
            keep_going(n < 3)
        })
        .unwrap();
        assert_eq!(fs.1.get(), RUN);
    }
}
