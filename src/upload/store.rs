//! Storing uploaded files without ever replacing one, over two small traits the WASI glue
//! implements: [`Store`] (the served directory's write side, defined with the filesystem)
//! and [`Source`](crate::request::Source) (the request body as it arrives, defined with the
//! request).
//!
//! The procedure for each file, all of it in [`Batch`]:
//! 1. make the missing directories above the target;
//! 2. create a dot-named temporary file beside it, exclusively (never an existing file, never
//!    through a link), and stream the body into it;
//! 3. once every file of the request is written, hard-link each temporary file to its name,
//!    which fails if the name exists (WASI `link-at`), so nothing is ever replaced, and
//!    unlink the temporary name.
//!
//! Any failure (a taken name, a full disk, a body that breaks off) undoes the whole request:
//! names already linked, temporary files and the directories it made are removed, so a
//! request either stores everything it sent or leaves the tree as it was.

use http::StatusCode;

use crate::fs::{Store, WriteError, Writer};
use crate::path::SafePath;

/// A file this request stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    pub(crate) path: SafePath,
    pub(crate) size: u64,
}

/// A file written under its temporary name, waiting to get its own.
struct Staged {
    temp: SafePath,
    stored: Stored,
}

/// Temporary names tried in one directory before giving up (each taken one means another
/// upload is writing there, or a crashed one left its file).
const TEMP_ATTEMPTS: u32 = 1000;

/// The files of one request, stored all together or not at all (see the module note).
pub(crate) struct Batch<'a> {
    store: &'a dyn Store,
    /// Directories this request made, outermost first.
    made_dirs: Vec<SafePath>,
    staged: Vec<Staged>,
    /// The file being written now: the last of `staged`.
    current: Option<Box<dyn Writer + 'a>>,
    /// Staged files replace what has their name (`--modify`), rather than fail on it.
    replace: bool,
}

impl<'a> Batch<'a> {
    /// Runs `fill`, which stages files with [`Batch::begin`] and [`Batch::write`], then gives
    /// every staged file its name. On any failure, the tree is left as it was.
    pub(crate) fn run<T>(
        store: &'a dyn Store,
        fill: impl FnOnce(&mut Batch<'a>) -> Result<T, StatusCode>,
    ) -> Result<(T, Vec<Stored>), StatusCode> {
        let mut batch = Batch {
            store,
            made_dirs: Vec::new(),
            staged: Vec::new(),
            current: None,
            replace: false,
        };
        let filled = fill(&mut batch).and_then(|value| {
            batch.end()?;
            Ok(value)
        });
        let result = filled.and_then(|value| Ok((value, batch.commit()?)));
        if result.is_err() {
            batch.abort();
        }
        result
    }

    /// Starts the file `target`: makes its missing parent directories and a new temporary
    /// file beside it, which the following [`Batch::write`]s fill.
    pub(crate) fn begin(&mut self, target: &SafePath) -> Result<(), StatusCode> {
        self.end()?;
        self.make_parents(target)?;
        let (temp, writer) = self.create_temp(target)?;
        self.current = Some(writer);
        self.staged.push(Staged {
            temp,
            stored: Stored {
                path: target.clone(),
                size: 0,
            },
        });
        Ok(())
    }

    /// Appends to the current file; bytes outside any file (form fields) are dropped.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<(), StatusCode> {
        let (Some(writer), Some(staged)) = (self.current.as_mut(), self.staged.last_mut()) else {
            return Ok(());
        };
        writer.write(bytes).map_err(WriteError::status)?;
        staged.stored.size += bytes.len() as u64;
        Ok(())
    }

    /// Makes the staged files replace files of their names when committed: each is renamed
    /// over the old one in one step, so a reader sees the old bytes or the new.
    pub(crate) fn replacing(&mut self) {
        self.replace = true;
    }

    /// Completes the current file, if one is open.
    pub(crate) fn end(&mut self) -> Result<(), StatusCode> {
        match self.current.take() {
            Some(writer) => writer.finish().map_err(WriteError::status),
            None => Ok(()),
        }
    }

    /// Creates each missing directory above `target`, remembering the ones it made.
    fn make_parents(&mut self, target: &SafePath) -> Result<(), StatusCode> {
        let segments = target.segments();
        let mut dir = SafePath::root();
        for segment in &segments[..segments.len().saturating_sub(1)] {
            dir = dir.join(segment).ok_or(StatusCode::BAD_REQUEST)?;
            match self.store.create_dir(&dir) {
                Ok(()) => self.made_dirs.push(dir.clone()),
                // A directory already, or a file that the next step will find in the way.
                Err(WriteError::Exists) => {}
                Err(error) => return Err(error.status()),
            }
        }
        Ok(())
    }

    /// A new, exclusively created temporary file beside `target`.
    fn create_temp(
        &self,
        target: &SafePath,
    ) -> Result<(SafePath, Box<dyn Writer + 'a>), StatusCode> {
        for attempt in 0..TEMP_ATTEMPTS {
            let temp = sibling(target, &temp_name(attempt)).ok_or(StatusCode::BAD_REQUEST)?;
            match self.store.create_new(&temp) {
                Ok(writer) => return Ok((temp, writer)),
                Err(WriteError::Exists) => continue,
                Err(error) => return Err(error.status()),
            }
        }
        Err(StatusCode::SERVICE_UNAVAILABLE)
    }

    /// Links every staged file to its name, then drops the temporary names.
    fn commit(&mut self) -> Result<Vec<Stored>, StatusCode> {
        let mut stored: Vec<Stored> = Vec::with_capacity(self.staged.len());
        if self.replace {
            for staged in self.staged.drain(..) {
                self.store
                    .rename(&staged.temp, &staged.stored.path)
                    .map_err(WriteError::status)?;
                stored.push(staged.stored);
            }
            return Ok(stored);
        }
        for staged in &self.staged {
            if let Err(error) = self.store.link(&staged.temp, &staged.stored.path) {
                // Undo the names given so far; `abort` removes the rest.
                for done in &stored {
                    let _ = self.store.remove_file(&done.path);
                }
                return Err(error.status());
            }
            stored.push(staged.stored.clone());
        }
        for staged in self.staged.drain(..) {
            // The file has its name: a temporary name that cannot be removed is left over,
            // hidden, but the upload itself succeeded.
            let _ = self.store.remove_file(&staged.temp);
        }
        Ok(stored)
    }

    /// Removes every temporary file, then the directories this request made.
    fn abort(&mut self) {
        self.current = None;
        for staged in self.staged.drain(..) {
            let _ = self.store.remove_file(&staged.temp);
        }
        // Innermost first; one that is no longer empty (another upload wrote there) stays.
        for dir in self.made_dirs.drain(..).rev() {
            let _ = self.store.remove_dir(&dir);
        }
    }
}

/// The temporary name of the `attempt`th try: a dot-file, so listings, archives and search
/// never show it (unless `--hidden`).
fn temp_name(attempt: u32) -> String {
    format!(".sandserve-upload-{attempt}")
}

/// The path named `name` in the same directory as `path`.
pub(crate) fn sibling(path: &SafePath, name: &str) -> Option<SafePath> {
    let segments = path.segments();
    let mut out = SafePath::root();
    for segment in &segments[..segments.len().saturating_sub(1)] {
        out = out.join(segment)?;
    }
    out.join(name)
}
