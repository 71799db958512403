//! On-the-fly compression for the guest (RFC 9110 §8.4.1: the codings of `Content-Encoding`),
//! over any `std::io::Write` sink, fed in bounded chunks so memory stays flat however large
//! the file: the encoder holds its window and one output buffer, never the input.
//!
//! Only gzip is made here (`flate2` over the pure-Rust miniz_oxide backend, which builds for
//! `wasm32-wasip2` without C). Brotli and zstd are served only from precompressed sidecars:
//! their encoders would multiply the component's size for a modest gain over gzip on the fly.
//!
//! What is worth compressing: textual types and WebAssembly ([`crate::mime::is_compressible`]),
//! between [`MIN_SIZE`] and [`MAX_SIZE`] bytes. A body under one Ethernet MTU (1500 bytes)
//! goes out in one packet either way, so gzip would save no round trip and only cost CPU and
//! the `Content-Length`; above 32 MiB one response would hold a guest busy for seconds of CPU,
//! and such files ought to be precompressed.

use std::io::{self, Read, Write};

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::config::Config;
use crate::encoding::{AcceptEncoding, Coding};

/// The smallest body compressed on the fly.
pub(crate) const MIN_SIZE: u64 = 1500;
/// The largest body compressed on the fly.
pub(crate) const MAX_SIZE: u64 = 32 << 20;
/// Bytes handed to the encoder at a time, and the size of the one read buffer.
pub(crate) const CHUNK: usize = 16 * 1024;
/// The codings this module can make, in the server's order of preference.
pub(crate) const ON_THE_FLY: [Coding; 1] = [Coding::Gzip];

/// zlib level 5: most of level 9's ratio on text at a fraction of its CPU.
const GZIP_LEVEL: u32 = 5;

/// Whether a body of this type (`text/css`, without parameters) and size is worth compressing.
pub(crate) fn compressible(content_type_essence: &str, size: u64) -> bool {
    let essence = content_type_essence.trim().to_ascii_lowercase();
    crate::mime::is_compressible(&essence) && size_pays(size)
}

/// Whether a body of `size` bytes is worth compressing on the fly, whatever its type.
pub(crate) fn size_pays(size: u64) -> bool {
    (MIN_SIZE..=MAX_SIZE).contains(&size)
}

/// The coding to compress a generated body of `size` bytes with, if compression is on, it
/// pays, and the client takes a coding this module makes.
pub(crate) fn on_the_fly(accept: &AcceptEncoding, config: &Config, size: u64) -> Option<Coding> {
    if !config.compress || !size_pays(size) {
        return None;
    }
    accept.choose(&ON_THE_FLY)
}

/// A streaming encoder writing compressed bytes to `W` as they are produced.
pub(crate) struct Compressor<W: Write> {
    gzip: GzEncoder<W>,
}

impl<W: Write> Compressor<W> {
    /// An encoder for `coding` over `sink`, or `None` if this module cannot make `coding`.
    pub(crate) fn new(coding: Coding, sink: W) -> Option<Compressor<W>> {
        match coding {
            Coding::Gzip => Some(Compressor {
                gzip: GzEncoder::new(sink, Compression::new(GZIP_LEVEL)),
            }),
            Coding::Br | Coding::Zstd => None,
        }
    }

    /// Compresses `bytes`, handing them to the encoder at most [`CHUNK`] at a time so the
    /// sink sees output as it is made.
    pub(crate) fn write_chunks(&mut self, bytes: &[u8]) -> io::Result<()> {
        for chunk in bytes.chunks(CHUNK) {
            self.gzip.write_all(chunk)?;
        }
        Ok(())
    }

    /// Compresses exactly `len` bytes read from `input`, one [`CHUNK`] at a time. Fails with
    /// `UnexpectedEof` if `input` ends early (the file shrank while being sent).
    pub(crate) fn copy_from(&mut self, mut input: impl Read, len: u64) -> io::Result<()> {
        let mut buf = vec![0; CHUNK];
        let mut left = len;
        while left > 0 {
            let want = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
            let n = match input.read(&mut buf[..want]) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.gzip.write_all(&buf[..n])?;
            left -= n as u64;
        }
        Ok(())
    }

    /// Writes the trailer and returns the sink. Without it the body is truncated.
    pub(crate) fn finish(self) -> io::Result<W> {
        self.gzip.finish()
    }
}

#[cfg(test)]
mod tests;
