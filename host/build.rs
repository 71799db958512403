//! Embeds the sandserve component in the host binary.
//!
//! `make build` compiles the component first and points `SANDSERVE_COMPONENT` at it, so no
//! cargo runs inside cargo. Without it (`cargo install --path host`), this script builds the
//! component itself, into a target directory of its own so it never waits on the outer
//! build's lock.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SANDSERVE_COMPONENT");
    let wasm = match env::var_os("SANDSERVE_COMPONENT") {
        Some(path) => PathBuf::from(path),
        None => build_component(),
    };
    if !wasm.is_file() {
        panic!("sandserve component not found at {}", wasm.display());
    }
    println!("cargo:rerun-if-changed={}", wasm.display());
    println!(
        "cargo:rustc-env=SANDSERVE_COMPONENT_WASM={}",
        wasm.display()
    );
}

fn build_component() -> PathBuf {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest.parent().expect("host/ sits in the workspace");
    for watched in ["src", "wit", "Cargo.toml", "Cargo.lock"] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    let target_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo")).join("component");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "-p",
            "sandserve",
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_STRIP", "true")
        // The outer build's flags and wrappers (clippy, coverage) are for the host target.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .status()
        .expect("running cargo to build the component");
    if !status.success() {
        panic!(
            "building the sandserve component failed; is the target installed? \
             run `rustup target add wasm32-wasip2`"
        );
    }
    release_wasm(&target_dir)
}

fn release_wasm(target_dir: &Path) -> PathBuf {
    target_dir.join("wasm32-wasip2/release/sandserve.wasm")
}
