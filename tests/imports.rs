//! The component's contract with its hosts: exactly these WASI imports, and one export.
//! Adding an import narrows the hosts the component runs on, so it must be a reviewed
//! change to this list, not a side effect of a dependency.
//!
//! The version is part of the contract: a host satisfies `@0.2.N` only with 0.2.N or newer.
//! 0.2.4 is the oldest minor we can import, since Rust's std brings its own bindings at 0.2.4
//! (see README, "WASI edge platforms").

use std::collections::BTreeSet;

use sandserve_testkit::component_wasm;
use wasmparser::{Parser, Payload};

fn component() -> Vec<u8> {
    let path = component_wasm();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run make build)", path.display()))
}

/// Top-level imports and exports of the component (not of its inner core modules).
fn interface() -> (BTreeSet<String>, BTreeSet<String>) {
    let bytes = component();
    let mut imports = BTreeSet::new();
    let mut exports = BTreeSet::new();
    let mut depth = 0;
    for payload in Parser::new(0).parse_all(&bytes) {
        match payload.expect("a valid component") {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            Payload::ComponentImportSection(section) if depth == 1 => {
                for import in section {
                    imports.insert(import.unwrap().name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(section) if depth == 1 => {
                for export in section {
                    exports.insert(export.unwrap().name.name.to_owned());
                }
            }
            _ => {}
        }
    }
    (imports, exports)
}

#[test]
fn imports_are_exactly_the_reviewed_set() {
    let (imports, _) = interface();
    let want: BTreeSet<String> = [
        "wasi:cli/environment@0.2.4",
        "wasi:cli/exit@0.2.4",
        "wasi:cli/stderr@0.2.4",
        "wasi:cli/stdin@0.2.4",
        "wasi:cli/stdout@0.2.4",
        "wasi:cli/terminal-input@0.2.4",
        "wasi:cli/terminal-output@0.2.4",
        "wasi:cli/terminal-stderr@0.2.4",
        "wasi:cli/terminal-stdin@0.2.4",
        "wasi:cli/terminal-stdout@0.2.4",
        // Part of the proxy world; std's time code pulls it in.
        "wasi:clocks/monotonic-clock@0.2.4",
        "wasi:clocks/wall-clock@0.2.4",
        "wasi:filesystem/preopens@0.2.4",
        "wasi:filesystem/types@0.2.4",
        "wasi:http/types@0.2.4",
        "wasi:io/error@0.2.4",
        "wasi:io/poll@0.2.4",
        "wasi:io/streams@0.2.4",
        "wasi:random/insecure-seed@0.2.4",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(imports, want);
}

#[test]
fn exports_only_the_incoming_handler() {
    let (_, exports) = interface();
    let want: BTreeSet<String> = ["wasi:http/incoming-handler@0.2.4".to_owned()].into();
    assert_eq!(exports, want);
}
