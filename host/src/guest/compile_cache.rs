//! Compiled components cached on disk, so start-up skips Cranelift after the first run.
//!
//! The key is the sha256 of the component bytes plus the engine's compatibility hash
//! (wasmtime version, target, and every setting that changes machine code), so a cached
//! artifact is only ever loaded by an engine that would have produced it. Files are written
//! to a temporary name and renamed into place, so a reader never sees half an artifact.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

/// The default cache directory: `$XDG_CACHE_HOME/sandserve` or `~/.cache/sandserve`.
pub(crate) fn default_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .map(|base| base.join("sandserve"))
}

/// Loads the compiled form of `bytes` from `dir`, or compiles it and stores it there.
/// Any cache failure falls back to compiling: the cache only ever saves time.
pub(crate) fn load(
    engine: &Engine,
    bytes: &[u8],
    dir: Option<&Path>,
) -> wasmtime::Result<Component> {
    let Some(dir) = dir else {
        return Component::new(engine, bytes);
    };
    let path = dir.join(format!("{}.cwasm", key(engine, bytes)));
    if path.is_file() {
        // SAFETY: the file is one this function wrote for this exact engine configuration
        // (the key covers the component and the engine's compatibility hash), into the
        // user's own cache directory, and wasmtime still checks its header and version.
        // The one unsafe call in the host: deserializing skips compilation, which is the
        // whole point of the cache.
        #[allow(unsafe_code)]
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
            return Ok(component);
        }
    }
    let component = Component::new(engine, bytes)?;
    if let Ok(serialized) = component.serialize() {
        let _ = store(&path, &serialized);
    }
    Ok(component)
}

fn key(engine: &Engine, bytes: &[u8]) -> String {
    let mut engine_hash = std::collections::hash_map::DefaultHasher::new();
    engine
        .precompile_compatibility_hash()
        .hash(&mut engine_hash);
    let mut sha = Sha256::new();
    sha.update(bytes);
    sha.update(engine_hash.finish().to_le_bytes());
    sha.finalize()
        .iter()
        .take(20)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("cache files live in a directory");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), rand_suffix()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
