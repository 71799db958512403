//! Which representation of a file to send (RFC 9110 §3.2, §8.4, §12.5.3): a precompressed
//! sidecar on disk (`NAME.br`, `NAME.zst`, `NAME.gz`) in a coding the client accepts, else
//! gzip made on the fly when the type and size pay for it and no range was asked, else the
//! file as it is. Sidecars are only looked for in codings the client takes, so a request
//! that takes none costs no extra `stat`.

use std::borrow::Cow;

use http::header::RANGE;

use crate::compress;
use crate::config::Config;
use crate::encoding::Coding;
use crate::fs::{Fs, Kind, Metadata};
use crate::mime;
use crate::path::SafePath;
use crate::request::Request;

/// The bytes chosen for a GET of a file, and what the response must say about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Representation {
    /// The file whose bytes are sent: the requested one or its sidecar.
    pub(crate) source: SafePath,
    /// The metadata of `source`.
    pub(crate) meta: Metadata,
    /// The content coding of the bytes sent, if any.
    pub(crate) coding: Option<Coding>,
    /// The coding is made on the fly from `source`, so the length is unknown.
    pub(crate) on_the_fly: bool,
    /// Whether another `Accept-Encoding` could have chosen other bytes (`Vary`).
    pub(crate) varies: bool,
    /// The `Content-Type` of the requested file, whatever the coding.
    pub(crate) content_type: Cow<'static, str>,
}

/// Chooses the representation of the file at `path` (with metadata `meta`) for `request`.
pub(crate) fn choose<F: Fs>(
    request: &Request,
    fs: &F,
    config: &Config,
    path: &SafePath,
    meta: Metadata,
) -> Representation {
    let content_type = mime::content_type(path.file_name().unwrap_or_default());
    let essence = content_type.split(';').next().unwrap_or_default();
    let compressible = config.compress && compress::compressible(essence, meta.size);
    let accept = &request.accept_encoding;
    let sidecars = sidecars(fs, path, |coding| !accept.weight(coding).is_zero());
    let available: Vec<Coding> = sidecars.iter().map(|(c, _, _)| *c).collect();
    let varies = config.compress && mime::is_compressible(essence) || !sidecars.is_empty();
    if let Some(chosen) = accept.choose(&available) {
        let (coding, source, meta) = sidecars
            .into_iter()
            .find(|(c, _, _)| *c == chosen)
            .expect("chosen from these");
        return Representation {
            source,
            meta,
            coding: Some(coding),
            on_the_fly: false,
            varies,
            content_type,
        };
    }
    let ranged = request.headers.contains_key(RANGE);
    let coding = (compressible && !ranged)
        .then(|| accept.choose(&compress::ON_THE_FLY))
        .flatten();
    Representation {
        source: path.clone(),
        meta,
        coding,
        on_the_fly: coding.is_some(),
        varies,
        content_type,
    }
}

/// The sidecars of `path` that exist as regular files, in codings `wanted` says yes to, in
/// the server's order of preference.
fn sidecars<F: Fs>(
    fs: &F,
    path: &SafePath,
    wanted: impl Fn(Coding) -> bool,
) -> Vec<(Coding, SafePath, Metadata)> {
    Coding::PREFERENCE
        .into_iter()
        .filter(|coding| wanted(*coding))
        .filter_map(|coding| {
            let sidecar = path.with_suffix(coding.extension())?;
            let meta = fs.stat(&sidecar).ok().filter(|m| m.kind == Kind::File)?;
            Some((coding, sidecar, meta))
        })
        .collect()
}
