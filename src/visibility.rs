//! The one rule for what a client may see by name: dot-files (any segment starting with `.`,
//! so `.git/config` and `.env`) stay private unless the server runs with `--hidden`, and
//! special files (FIFOs, sockets, devices) are never shown or opened. Listings, archives, the
//! XML-RPC API and plain GETs all ask here, so they cannot disagree.

use crate::fs::Kind;
use crate::path::SafePath;

/// Whether dot-files are shown (`SANDSERVE_HIDDEN=1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Visibility {
    dot_files: bool,
}

impl Visibility {
    pub(crate) fn new(dot_files: bool) -> Visibility {
        Visibility { dot_files }
    }

    /// Whether a single name (one path segment) may be seen.
    pub(crate) fn shows_name(self, name: &str) -> bool {
        self.dot_files || !is_dot_name(name)
    }

    /// Whether every segment of `path` may be seen.
    pub(crate) fn shows_path(self, path: &SafePath) -> bool {
        path.segments().iter().all(|s| self.shows_name(s))
    }

    /// Whether a directory entry, of this name and (followed) kind, belongs in a listing,
    /// an archive or an API answer.
    pub(crate) fn shows_entry(self, name: &str, kind: Kind) -> bool {
        kind != Kind::Other && self.shows_name(name)
    }
}

/// A dot-file name: the Unix convention for "not meant to be shown".
pub(crate) fn is_dot_name(name: &str) -> bool {
    name.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_names_only_with_hidden() {
        let private = Visibility::default();
        let shown = Visibility::new(true);
        for path in ["/.git/config", "/a/.env", "/.well-known/x"] {
            let path = SafePath::parse(path).unwrap();
            assert!(!private.shows_path(&path), "{path}");
            assert!(shown.shows_path(&path), "{path}");
        }
        for path in ["/a/b.env", "/a/./b", "/", "/a..b"] {
            assert!(
                private.shows_path(&SafePath::parse(path).unwrap()),
                "{path}"
            );
        }
        assert!(!private.shows_entry(".env", Kind::File));
        assert!(shown.shows_entry(".env", Kind::File));
        assert!(private.shows_entry("dir", Kind::Dir));
    }

    #[test]
    fn special_files_never() {
        for visibility in [Visibility::default(), Visibility::new(true)] {
            assert!(!visibility.shows_entry("fifo", Kind::Other));
        }
    }
}
