//! The instance's state (configuration and root, made once per instance), and the order in
//! which a fresh instance first touches its memory.
//!
//! Why the order matters: under a host that makes a fresh instance for every request
//! (`wasmtime serve`, edge platforms) linear memory starts as a copy-on-write map of the
//! component's data image. If the first touch of a page is a read, the page is mapped
//! read-only, and the write that follows must replace a present mapping: a copy plus a TLB
//! shootdown that interrupts the other cores. If the first touch is a write, the page is copied
//! in one fault with nothing to shoot down. The statics a request writes (this cell and the
//! allocator's state) sit together in `.bss`, about 700 bytes in all, so on one page as long
//! as the linker does not happen to start `.bss` in a page's last 700 bytes; [`get`] writes a
//! byte of the cell before anything reads that page. The configuration is read straight from
//! wasi:cli for the same reason (see `start` in `mod.rs`). Measured under `wasmtime serve` in
//! issue 22: about 30 us of CPU per request. To check a build, count the faults of a fresh
//! instance with `perf record -e exceptions:page_fault_user`: none should have
//! `error_code=0x7` (a write to a page mapped read-only).
//!
//! For the same reason the bindings leave out wit-bindgen's run-constructors-once flag, which
//! every export read before any of our code ran. The constructors (the linker's
//! `__wasm_call_ctors`, empty today) still run once per instance, here, before the state is
//! made.

use std::cell::{OnceCell, UnsafeCell};

use super::fs::WasiFs;
use crate::config::Config;

/// What every request of this instance shares, or why it cannot serve.
pub(super) type Instance = Result<(Config, WasiFs), String>;

/// A plain `static`, not a `thread_local!`: `LocalKey::with` reaches its slot through a
/// function pointer, an indirect call, and the first indirect call of a fresh instance costs
/// a fault of its own (see `header/value.rs`).
///
/// The state is boxed so that the empty cell is all zero bytes and lands in `.bss`, beside
/// the allocator's state: unboxed, its niche made it `.data`, a page of its own.
static STATE: State = State {
    cell: OnceCell::new(),
    first_touch: UnsafeCell::new(0),
};

/// Aligned to its size, 8 bytes, so the cell and the byte written first never straddle a page.
#[repr(C, align(8))]
struct State {
    cell: OnceCell<Box<Instance>>,
    first_touch: UnsafeCell<u8>,
}

// SAFETY: a wasm32-wasip2 component has no threads: every export call runs on the one
// thread, one at a time, so nothing can reach the state concurrently.
#[allow(unsafe_code)]
unsafe impl Sync for State {}

#[allow(unsafe_code)]
unsafe extern "C" {
    /// The static constructors, synthesized by the linker.
    fn __wasm_call_ctors();
}

/// The instance's state, made by `start` on the instance's first request.
pub(super) fn get(start: impl FnOnce() -> Instance) -> &'static Instance {
    // SAFETY: the byte is only ever written, by this one thread (see `Sync` above); volatile,
    // so the store is neither dropped nor moved after the cell's read.
    #[allow(unsafe_code)]
    unsafe {
        STATE.first_touch.get().write_volatile(0)
    };
    STATE.cell.get_or_init(|| {
        // SAFETY: called once per instance, before any other code of ours has run, as
        // wit-bindgen's flag would have called it.
        #[allow(unsafe_code)]
        unsafe {
            __wasm_call_ctors()
        };
        Box::new(start())
    })
}
