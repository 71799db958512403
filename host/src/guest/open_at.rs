//! `wasi:filesystem/types` `[method]descriptor.open-at`, without asking the kernel again
//! what a file is when the guest has just asked.
//!
//! The component stats a file by name (`stat-at`, not following links) before it opens it,
//! so that it never opens what it must not (a FIFO would block the open; a directory is
//! listed, not read). wasmtime-wasi 48 then opens the name (`openat2` beneath the
//! directory) and `fstat`s what it opened, to tell a directory from a file: on a 1 KiB GET
//! that second look is one of five filesystem syscalls, plus an async host-function wrapper.
//! When the `stat-at` just before was [`stat_at`](super::stat_at)'s fast path on the same
//! one name in the same directory and found a regular file, this opens that name read-only
//! with a single `openat` that does not follow a link, and hands the guest the file
//! descriptor wasmtime-wasi would have made (same permissions, read mode). Anything else,
//! and any failure of that `openat`, is wasmtime-wasi's own `open-at`, unchanged.
//!
//! The sandbox is unchanged: the fast path opens one plain name (no `/`, not `.` or `..`)
//! inside the directory the descriptor names, with `O_NOFOLLOW`, so it cannot leave that
//! directory. The one difference from wasmtime-wasi is a race: a name that turns from a
//! file into a directory between the guest's stat and its open is opened as a file here,
//! and the guest's read of it fails (`EISDIR`), where wasmtime-wasi would have opened it as
//! a directory and refused the read; either way that request fails.

use rustix::fs::{Mode, OFlags};
use wasmtime::component::{Linker, Resource, WasmStr};
use wasmtime::StoreContextMut;
use wasmtime_wasi::filesystem::{Descriptor, File, WasiFilesystemCtxView, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::filesystem::types::{
    self, DescriptorFlags, ErrorCode, HostDescriptor, OpenFlags, PathFlags,
};
use wasmtime_wasi::OpenMode;

use crate::guest::readdir::INSTANCE;
use crate::guest::stat_at::{at_once, PathText};
use crate::guest::state::State;

/// The answer to one call: the new descriptor, or the error code the guest sees.
type Answer = Result<Resource<Descriptor>, ErrorCode>;

/// Replaces wasmtime-wasi's `open-at` in `linker`, which must already hold it.
pub(crate) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker
        .instance(INSTANCE)?
        .func_wrap("[method]descriptor.open-at", open_at::<WasmStr>)?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The host function: the fast answer, or wasmtime-wasi's.
///
/// Sync, like `stat_at`'s: the fallback polls wasmtime-wasi's future once, which finishes at
/// once because every preopen may block its thread (`runtime::open_root`); were it pending,
/// the call traps rather than block the worker.
fn open_at<P: PathText>(
    mut store: StoreContextMut<'_, State>,
    (fd, path_flags, path, oflags, flags): (
        Resource<Descriptor>,
        PathFlags,
        P,
        OpenFlags,
        DescriptorFlags,
    ),
) -> wasmtime::Result<(Answer,)> {
    let name = path.text(&store)?;
    let opened = fast(store.data(), &fd, &name, oflags, flags);
    let path = match opened {
        Some(_) => {
            drop(name);
            String::new()
        }
        None => name.into_owned(),
    };
    let state = store.data_mut();
    state.stated.forget();
    if let Some(descriptor) = opened {
        return Ok((Ok(state.table.push(descriptor)?),));
    }
    let future = wasmtime_wasi_open_at(state.filesystem(), fd, path_flags, path, oflags, flags);
    Ok((at_once(future, "open-at")?,))
}

/// wasmtime-wasi's own `open-at`, as its bindings call it.
async fn wasmtime_wasi_open_at(
    mut view: WasiFilesystemCtxView<'_>,
    fd: Resource<Descriptor>,
    path_flags: PathFlags,
    path: String,
    oflags: OpenFlags,
    flags: DescriptorFlags,
) -> wasmtime::Result<Answer> {
    match HostDescriptor::open_at(&mut view, fd, path_flags, path, oflags, flags).await {
        Ok(fd) => Ok(Ok(fd)),
        Err(error) => Ok(Err(types::Host::convert_error_code(&mut view, error)?)),
    }
}

/// The file descriptor for `name` opened read-only in the directory `fd` names, where the
/// last `stat-at` found it a regular file; `None` leaves the call to wasmtime-wasi.
fn fast(
    state: &State,
    fd: &Resource<Descriptor>,
    name: &str,
    oflags: OpenFlags,
    flags: DescriptorFlags,
) -> Option<Descriptor> {
    if oflags != OpenFlags::empty()
        || flags != DescriptorFlags::READ
        || !state.stated.is(fd.rep(), name)
    {
        return None;
    }
    let Ok(Descriptor::Dir(dir)) = state.table.get(fd) else {
        return None;
    };
    // cap-std's flags for a read-only open, less the resolution it needs for longer paths.
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let file = rustix::fs::openat(&*dir.dir, name, flags, Mode::empty()).ok()?;
    // As wasmtime-wasi makes it: the directory's permissions, opened to read, and allowed
    // to block its thread like every preopen here.
    let file = File::new(file.into(), dir.perms, OpenMode::READ, true);
    Some(Descriptor::File(file))
}

#[cfg(test)]
mod tests {
    use wasmtime::AsContextMut;
    use wasmtime_wasi::p2::bindings::filesystem::types::DescriptorType;

    use super::*;
    use crate::guest::stat_at::tests::{tree, Guest};

    const READ: DescriptorFlags = DescriptorFlags::READ;

    /// What the guest can tell of an opened descriptor: its type, and up to 64 bytes read
    /// from its start (or the error that read met).
    type Seen = Result<(DescriptorType, Result<Vec<u8>, ErrorCode>), ErrorCode>;

    impl Guest {
        /// The `stat-at` the host links (which records a regular file it finds).
        async fn stat(&mut self, flags: PathFlags, name: &str) {
            let _ = self.shadow(&self.root_borrow(), flags, name).await;
        }

        fn root_borrow(&self) -> Resource<Descriptor> {
            Guest::borrow(&self.root)
        }

        /// The `open-at` the host links; whether its fast path answered; what it opened.
        async fn open(
            &mut self,
            path_flags: PathFlags,
            name: &str,
            oflags: OpenFlags,
            flags: DescriptorFlags,
        ) -> (Seen, bool) {
            let root = self.root_borrow();
            let was_fast = fast(self.store.data(), &root, name, oflags, flags).is_some();
            let params = (root, path_flags, name.to_string(), oflags, flags);
            let (answer,) = open_at(self.store.as_context_mut(), params).unwrap();
            (self.seen(answer).await, was_fast)
        }

        /// wasmtime-wasi's own `open-at`, seen the same way.
        async fn wasi_open(
            &mut self,
            path_flags: PathFlags,
            name: &str,
            oflags: OpenFlags,
            flags: DescriptorFlags,
        ) -> Seen {
            let root = self.root_borrow();
            let view = self.view();
            let answer = wasmtime_wasi_open_at(view, root, path_flags, name.into(), oflags, flags);
            let answer = answer.await.unwrap();
            self.seen(answer).await
        }

        async fn seen(&mut self, answer: Answer) -> Seen {
            let fd = answer?;
            let mut view = self.view();
            let kind = HostDescriptor::get_type(&mut view, Guest::borrow(&fd)).await;
            let read = HostDescriptor::read(&mut view, Guest::borrow(&fd), 64, 0).await;
            HostDescriptor::drop(&mut view, fd).unwrap();
            let read = read.map(|(bytes, _)| bytes);
            let read = read.map_err(|e| types::Host::convert_error_code(&mut view, e).unwrap());
            let kind = kind.map_err(|e| types::Host::convert_error_code(&mut view, e).unwrap());
            Ok((kind?, read))
        }
    }

    #[tokio::test]
    async fn a_file_just_stated_opens_fast_and_the_same_as_wasmtime_wasi() {
        let tmp = tree();
        let mut guest = Guest::new(&tmp.path().join("served"));
        for path_flags in [PathFlags::empty(), PathFlags::SYMLINK_FOLLOW] {
            for stat_flags in [PathFlags::empty(), PathFlags::SYMLINK_FOLLOW] {
                let want = guest
                    .wasi_open(path_flags, "file", OpenFlags::empty(), READ)
                    .await;
                guest.stat(stat_flags, "file").await;
                let got = guest
                    .open(path_flags, "file", OpenFlags::empty(), READ)
                    .await;
                assert_eq!(format!("{got:?}"), format!("{:?}", (&want, true)));
                assert_eq!(
                    want,
                    Ok((DescriptorType::RegularFile, Ok(b"12345".to_vec())))
                );
            }
        }
    }

    #[tokio::test]
    async fn anything_else_is_wasmtime_wasi_s_open() {
        use OpenFlags as O;
        let tmp = tree();
        let mut guest = Guest::new(&tmp.path().join("served"));
        let follow = PathFlags::SYMLINK_FOLLOW;
        // What was stat'ed just before (if anything), then the open: none takes the fast
        // path, and each answers as wasmtime-wasi does.
        let cases: &[(Option<&str>, &str, O, DescriptorFlags)] = &[
            (None, "file", O::empty(), READ),
            (Some("dir"), "file", O::empty(), READ),
            (Some("file"), "link", O::empty(), READ),
            (Some("dir"), "dir", O::empty(), READ),
            (Some("dir"), "dir", O::DIRECTORY, READ),
            (Some("link"), "link", O::empty(), READ),
            (Some("out-abs"), "out-abs", O::empty(), READ),
            (Some("out-rel"), "out-rel", O::empty(), READ),
            (Some("missing"), "missing", O::empty(), READ),
            (Some("dir/inner"), "dir/inner", O::empty(), READ),
            (Some("../secret"), "../secret", O::empty(), READ),
            // Asked for more than reading: refused by the read-only preopen, as before.
            (
                Some("file"),
                "file",
                O::empty(),
                READ | DescriptorFlags::WRITE,
            ),
            (Some("file"), "file", O::TRUNCATE, READ),
            (Some("file"), "file", O::CREATE, READ),
            (Some("file"), "file", O::DIRECTORY, READ),
        ];
        for &(stated, name, oflags, flags) in cases {
            let want = guest.wasi_open(follow, name, oflags, flags).await;
            if let Some(stated) = stated {
                guest.stat(PathFlags::empty(), stated).await;
            }
            let got = guest.open(follow, name, oflags, flags).await;
            assert_eq!(
                format!("{got:?}"),
                format!("{:?}", (&want, false)),
                "{stated:?} {name:?}"
            );
        }
        // A stat is used once: the second open of the same file asks again.
        guest.stat(PathFlags::empty(), "file").await;
        assert!(guest.open(follow, "file", O::empty(), READ).await.1);
        assert!(!guest.open(follow, "file", O::empty(), READ).await.1);
    }

    #[tokio::test]
    async fn a_file_swapped_after_its_stat_is_opened_inside_the_root_or_not_at_all() {
        let tmp = tree();
        let root = tmp.path().join("served");
        let mut guest = Guest::new(&root);
        let follow = PathFlags::SYMLINK_FOLLOW;
        // Now a link out of the root: `O_NOFOLLOW` refuses it, and wasmtime-wasi's open
        // refuses the escape.
        guest.stat(PathFlags::empty(), "file").await;
        std::fs::remove_file(root.join("file")).unwrap();
        std::os::unix::fs::symlink("../secret", root.join("file")).unwrap();
        let (seen, was_fast) = guest.open(follow, "file", OpenFlags::empty(), READ).await;
        assert_eq!((seen, was_fast), (Err(ErrorCode::NotPermitted), false));
        // Now a directory: opened as a file, whose read fails; nothing is read.
        std::fs::remove_file(root.join("file")).unwrap();
        std::fs::create_dir(root.join("file")).unwrap();
        guest.stat(PathFlags::empty(), "dir/inner").await;
        guest
            .store
            .data_mut()
            .stated
            .record(guest.root.rep(), "file");
        let (seen, was_fast) = guest.open(follow, "file", OpenFlags::empty(), READ).await;
        assert!(was_fast);
        let (kind, read) = seen.unwrap();
        assert_eq!(kind, DescriptorType::Directory);
        assert_eq!(read, Err(ErrorCode::IsDirectory));
    }
}
