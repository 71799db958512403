//! `COPY` and `MOVE` (RFC 4918 §9.8, §9.9), with `--webdav --modify`.
//!
//! Rules:
//! - `Destination` (§10.3) is an absolute path or a URL of this server (its authority must
//!   be the request's `Host`, or a proxy's `X-Forwarded-Host`), below the base path.
//!   Another server is `403`, not the `502` RFC 4918 §9.8.5 allows: a balancer reads a `502`
//!   as a broken upstream (the lattice's nginx marked both nodes down after two), and the
//!   refusal is this server's, not a gateway's. It becomes a
//!   `SafePath` like any target: one that climbs out of the root, or names a dot-file
//!   without `--hidden`, is `403`, and so is the source itself or a place inside it.
//! - `Overwrite: F` on an existing destination is `412`; `T` (the default) removes it first.
//!   A missing parent collection is `409`. Success is `201`, or `204` when something was
//!   overwritten.
//! - `MOVE` is one rename inside the root (`Depth: infinity` only). `COPY` takes `Depth: 0`
//!   (a collection without its members) or `infinity`; a file's bytes are copied in bounded
//!   chunks through the upload's all-or-nothing store, and a collection's members with the
//!   tree walk's rules (dot-files only with `--hidden`, links to directories not followed).
//! - `If-Match` and `If-None-Match` are checked against the source.

use http::header::HOST;
use http::StatusCode;

use crate::config::Config;
use crate::fs::{Fs, FsError, Kind, Metadata, Store, WriteError};
use crate::header::HeaderValue;
use crate::path::SafePath;
use crate::reply::Reply;
use crate::request::Request;
use crate::tree::{self, Member, Plan};
use crate::upload::{self, store::Batch, CHUNK};

/// Answers a COPY (`copy`) or a MOVE.
pub(crate) fn handle(request: &Request, fs: &dyn Fs, config: &Config, copy: bool) -> Reply {
    match run(request, fs, config, copy) {
        Ok(status) => Reply::new(status),
        Err(status) => Reply::error(status),
    }
}

fn run(
    request: &Request,
    fs: &dyn Fs,
    config: &Config,
    copy: bool,
) -> Result<StatusCode, StatusCode> {
    let source = upload::writable_path(request, config)?;
    if source.is_root() {
        return Err(StatusCode::FORBIDDEN);
    }
    let meta = fs.stat(&source).map_err(FsError::status)?;
    if meta.kind == Kind::Other {
        return Err(StatusCode::NOT_FOUND);
    }
    upload::validators_hold(request, meta)?;
    let deep = depth(request, copy)?;
    let dest = destination(request, config)?;
    let inside = dest.segments().starts_with(source.segments());
    if dest.is_root() || inside {
        return Err(StatusCode::FORBIDDEN);
    }
    let overwrite = match request.headers.get("overwrite").map(HeaderValue::as_bytes) {
        None | Some(b"T" | b"t") => true,
        Some(b"F" | b"f") => false,
        Some(_) => return Err(StatusCode::BAD_REQUEST),
    };
    let existing = fs.stat(&dest).ok();
    if existing.is_some() && !overwrite {
        return Err(StatusCode::PRECONDITION_FAILED);
    }
    upload::parent_exists(fs, &dest)?;
    let store = upload::store_of(fs)?;
    if let Some(old) = existing {
        remove(fs, store, &dest, old, config)?;
    }
    match (copy, meta.kind) {
        (false, _) => store.rename(&source, &dest).map_err(WriteError::status)?,
        (true, Kind::Dir) => copy_dir(fs, store, &source, &dest, deep, config)?,
        (true, _) => copy_file(fs, store, &source, &dest)?,
    }
    Ok(if existing.is_some() {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::CREATED
    })
}

/// `Depth`: MOVE takes only infinity (§9.9.2); COPY 0 or infinity (§9.8.3). True for
/// infinity, the default.
fn depth(request: &Request, copy: bool) -> Result<bool, StatusCode> {
    match request.headers.get("depth").map(HeaderValue::as_bytes) {
        None | Some(b"infinity" | b"Infinity") => Ok(true),
        Some(b"0") if copy => Ok(false),
        Some(_) => Err(StatusCode::BAD_REQUEST),
    }
}

/// The `Destination` header as a path inside the root.
fn destination(request: &Request, config: &Config) -> Result<SafePath, StatusCode> {
    let value = request
        .headers
        .get("destination")
        .and_then(|v| v.to_str().ok())
        .ok_or(StatusCode::BAD_REQUEST)?;
    let path = match value.split_once("://") {
        Some((scheme, rest)) => {
            if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
                return Err(StatusCode::FORBIDDEN);
            }
            let (authority, path) = rest.find('/').map_or((rest, "/"), |at| rest.split_at(at));
            // This server is the `Host` it was asked as, or the host a proxy in front of it
            // was asked as (`X-Forwarded-Host`). Trusting the latter only widens which URLs
            // count as this server's; the path is still held inside the root.
            let ours = [HOST.as_str(), "x-forwarded-host"].iter().any(|name| {
                request
                    .headers
                    .get(*name)
                    .and_then(|h| h.to_str().ok())
                    .is_some_and(|host| host.eq_ignore_ascii_case(authority))
            });
            if !ours {
                return Err(StatusCode::FORBIDDEN);
            }
            path
        }
        None if value.starts_with('/') => value,
        None => return Err(StatusCode::BAD_REQUEST),
    };
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let path = match config.base_path.as_str() {
        "" => path,
        base => path
            .strip_prefix(base)
            .filter(|rest| rest.starts_with('/'))
            .ok_or(StatusCode::FORBIDDEN)?,
    };
    let dest = SafePath::parse(path).map_err(|_| StatusCode::FORBIDDEN)?;
    if !config.visibility.shows_path(&dest) {
        return Err(StatusCode::FORBIDDEN);
    }
    Ok(dest)
}

/// Removes what an overwrite replaces.
fn remove(
    fs: &dyn Fs,
    store: &dyn Store,
    path: &SafePath,
    meta: Metadata,
    config: &Config,
) -> Result<(), StatusCode> {
    if meta.kind != Kind::Dir {
        return store.remove_file(path).map_err(WriteError::status);
    }
    let mut failed = Vec::new();
    if upload::remove_tree(fs, store, path, config, &mut failed) {
        Ok(())
    } else {
        // Part of it could not go (a dot-file the client cannot see): not overwritten.
        Err(StatusCode::PRECONDITION_FAILED)
    }
}

/// Copies the file `source` to the new name `dest`, a chunk at a time.
fn copy_file(
    fs: &dyn Fs,
    store: &dyn Store,
    source: &SafePath,
    dest: &SafePath,
) -> Result<(), StatusCode> {
    Batch::run(store, |batch| {
        batch.begin(dest)?;
        let mut offset = 0u64;
        loop {
            let chunk = fs
                .read(source, offset, CHUNK as u64)
                .map_err(FsError::status)?;
            batch.write(&chunk)?;
            offset += chunk.len() as u64;
            if chunk.len() < CHUNK {
                return Ok(());
            }
        }
    })
    .map(|_| ())
}

/// Copies the collection `source` to `dest`: itself, and with `deep` what it holds.
fn copy_dir(
    fs: &dyn Fs,
    store: &dyn Store,
    source: &SafePath,
    dest: &SafePath,
    deep: bool,
    config: &Config,
) -> Result<(), StatusCode> {
    store.create_dir(dest).map_err(WriteError::status)?;
    if !deep {
        return Ok(());
    }
    let plan = Plan {
        dir: source.clone(),
        visibility: config.visibility,
    };
    let mut failure = Ok(());
    let walked = tree::walk(fs, &plan, &mut |member: &Member| {
        failure = copy_member(fs, store, dest, member);
        tree::keep_going(failure.is_ok())
    });
    walked.map_err(FsError::status)?;
    failure
}

/// One member of a collection being copied, to its place under `dest`.
fn copy_member(
    fs: &dyn Fs,
    store: &dyn Store,
    dest: &SafePath,
    member: &Member,
) -> Result<(), StatusCode> {
    let mut target = dest.clone();
    for segment in member.name.split('/').filter(|s| !s.is_empty()) {
        target = target.join(segment).ok_or(StatusCode::BAD_REQUEST)?;
    }
    match member.meta.kind {
        // A link to a directory is not followed, as in the archives.
        Kind::Dir if member.symlink => Ok(()),
        Kind::Dir => store.create_dir(&target).map_err(WriteError::status),
        _ => copy_file(fs, store, &member.path, &target),
    }
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;
    use crate::header::HeaderMap;
    use crate::router::route;
    use crate::upload::testing::MemStore;

    fn tree() -> MemStore {
        MemStore::new()
            .file("a.txt", b"alpha")
            .file("d/x.txt", b"ex")
            .file("d/.hid", b"h")
            .file("d/e/y.txt", b"why")
            .file("other.txt", b"other")
    }

    fn config() -> Config {
        Config::from_vars([
            ("SANDSERVE_WEBDAV".to_owned(), "1".to_owned()),
            ("SANDSERVE_MODIFY".to_owned(), "1".to_owned()),
        ])
        .unwrap()
    }

    fn send(
        fs: &MemStore,
        method: &str,
        target: &str,
        headers: &[(&'static str, &str)],
    ) -> StatusCode {
        let mut map = HeaderMap::default();
        map.insert("host", HeaderValue::from_static("example.test:8000"));
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        route(&Request::new(method, target, map), fs, &config()).status
    }

    #[test]
    fn copy_and_move_files() {
        let fs = tree();
        let to = |d: &'static str| [("destination", d)];
        assert_eq!(
            send(&fs, "COPY", "/a.txt", &to("/b.txt")),
            StatusCode::CREATED
        );
        assert_eq!(fs.contents("b.txt").as_deref(), Some(&b"alpha"[..]));
        assert_eq!(fs.contents("a.txt").as_deref(), Some(&b"alpha"[..]));
        let full = [("destination", "http://example.test:8000/c.txt")];
        assert_eq!(send(&fs, "MOVE", "/b.txt", &full), StatusCode::CREATED);
        assert_eq!(fs.contents("b.txt"), None);
        assert_eq!(fs.contents("c.txt").as_deref(), Some(&b"alpha"[..]));
        // Overwrite: F refuses, T (the default) replaces with 204.
        let keep = [("destination", "/other.txt"), ("overwrite", "F")];
        assert_eq!(
            send(&fs, "COPY", "/c.txt", &keep),
            StatusCode::PRECONDITION_FAILED
        );
        assert_eq!(
            send(&fs, "COPY", "/c.txt", &to("/other.txt")),
            StatusCode::NO_CONTENT
        );
        assert_eq!(fs.contents("other.txt").as_deref(), Some(&b"alpha"[..]));
        // Behind a proxy, the host the client asked is this server too.
        let proxied = [
            ("destination", "http://public.test/p.txt"),
            ("x-forwarded-host", "public.test"),
        ];
        assert_eq!(send(&fs, "COPY", "/a.txt", &proxied), StatusCode::CREATED);
        let elsewhere = [("destination", "http://public.test/q.txt")];
        assert_eq!(
            send(&fs, "COPY", "/a.txt", &elsewhere),
            StatusCode::FORBIDDEN
        );
    }

    #[test]
    fn collections_copy_what_may_be_seen_and_move_whole() {
        let fs = tree();
        let to = |d: &'static str| [("destination", d)];
        assert_eq!(send(&fs, "COPY", "/d/", &to("/d2/")), StatusCode::CREATED);
        let copied: Vec<String> = fs
            .paths()
            .into_iter()
            .filter(|p| p.starts_with("d2"))
            .collect();
        assert_eq!(copied, ["d2/", "d2/e/", "d2/e/y.txt", "d2/x.txt"]);
        let shallow = [("destination", "/d3/"), ("depth", "0")];
        assert_eq!(send(&fs, "COPY", "/d/", &shallow), StatusCode::CREATED);
        assert!(fs
            .paths()
            .iter()
            .all(|p| !p.starts_with("d3/") || p == "d3/"));
        assert_eq!(send(&fs, "MOVE", "/d/", &to("/m/")), StatusCode::CREATED);
        assert!(
            fs.paths().contains(&"m/.hid".to_owned()),
            "a move takes the directory whole"
        );
        assert!(!fs.paths().iter().any(|p| p.starts_with("d/")));
        let depth0 = [("destination", "/n/"), ("depth", "0")];
        assert_eq!(send(&fs, "MOVE", "/m/", &depth0), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn destinations_stay_inside_the_root() {
        let fs = tree();
        let before = fs.paths();
        let cases: &[(&str, StatusCode)] = &[
            ("/../outside.txt", StatusCode::FORBIDDEN),
            ("/%2e%2e/outside.txt", StatusCode::FORBIDDEN),
            ("http://elsewhere.test/x.txt", StatusCode::FORBIDDEN),
            ("ftp://example.test:8000/x.txt", StatusCode::FORBIDDEN),
            ("relative.txt", StatusCode::BAD_REQUEST),
            ("/.hidden.txt", StatusCode::FORBIDDEN),
            ("/a.txt", StatusCode::FORBIDDEN),
            ("/", StatusCode::FORBIDDEN),
            ("/nope/x.txt", StatusCode::CONFLICT),
        ];
        for (dest, want) in cases {
            assert_eq!(
                send(&fs, "COPY", "/a.txt", &[("destination", dest)]),
                *want,
                "{dest}"
            );
            assert_eq!(
                send(&fs, "MOVE", "/a.txt", &[("destination", dest)]),
                *want,
                "{dest}"
            );
        }
        assert_eq!(
            send(&fs, "COPY", "/d/", &[("destination", "/d/e/inner/")]),
            StatusCode::FORBIDDEN,
            "not into itself"
        );
        assert_eq!(send(&fs, "COPY", "/a.txt", &[]), StatusCode::BAD_REQUEST);
        assert_eq!(
            send(&fs, "MOVE", "/missing", &[("destination", "/x")]),
            StatusCode::NOT_FOUND
        );
        assert_eq!(fs.paths(), before);
    }
}
