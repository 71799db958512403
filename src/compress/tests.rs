use super::*;
use flate2::read::GzDecoder;

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

/// Text that compresses, with enough variety that a broken encoder would show.
fn sample(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| b"the quick brown fox jumps over the lazy dog\n"[i % 44] ^ (i / 4096) as u8)
        .collect()
}

#[test]
fn round_trips_at_many_sizes() {
    for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 7, 200_000] {
        let input = sample(len);
        let mut c = Compressor::new(Coding::Gzip, Vec::new()).unwrap();
        c.write_chunks(&input).unwrap();
        let out = c.finish().unwrap();
        assert_eq!(&out[..2], [0x1f, 0x8b], "gzip magic");
        assert_eq!(gunzip(&out), input, "{len} bytes");
        if len >= 4096 {
            assert!(
                out.len() < len / 4,
                "{len} -> {}: not compressed",
                out.len()
            );
        }
    }
}

#[test]
fn chunked_feeding_equals_one_shot() {
    let input = sample(100_000);
    let mut one = Compressor::new(Coding::Gzip, Vec::new()).unwrap();
    one.write_chunks(&input).unwrap();
    let one = one.finish().unwrap();
    for piece in [1, 7, 1000, 4096, CHUNK, 3 * CHUNK] {
        let mut c = Compressor::new(Coding::Gzip, Vec::new()).unwrap();
        for chunk in input.chunks(piece) {
            c.write_chunks(chunk).unwrap();
        }
        let out = c.finish().unwrap();
        assert_eq!(gunzip(&out), gunzip(&one), "pieces of {piece}");
    }
}

/// A reader that hands out at most `most` bytes per read and is sometimes interrupted.
struct Trickle<'a> {
    data: &'a [u8],
    most: usize,
    calls: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls.is_multiple_of(3) {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = buf.len().min(self.most).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn copy_from_reads_exactly_len() {
    let input = sample(70_000);
    let mut c = Compressor::new(Coding::Gzip, Vec::new()).unwrap();
    let trickle = Trickle {
        data: &input,
        most: 999,
        calls: 0,
    };
    c.copy_from(trickle, 50_000).unwrap();
    assert_eq!(gunzip(&c.finish().unwrap()), input[..50_000]);
    // A file that shrank: the body must not be finished as if it were whole.
    let mut c = Compressor::new(Coding::Gzip, Vec::new()).unwrap();
    let err = c.copy_from(&input[..10], 11).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
}

/// A sink that records the largest single write it is given.
struct Recorder {
    bytes: Vec<u8>,
    largest: usize,
    writes: usize,
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.largest = self.largest.max(buf.len());
        self.writes += 1;
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn output_streams_while_input_flows() {
    // Incompressible input: output must reach the sink before the input ends, in
    // writes no larger than the encoder's buffer, or the whole body sits in memory.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..1_000_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let sink = Recorder {
        bytes: Vec::new(),
        largest: 0,
        writes: 0,
    };
    let mut c = Compressor::new(Coding::Gzip, sink).unwrap();
    c.copy_from(&noise[..], noise.len() as u64).unwrap();
    let sink = c.finish().unwrap();
    assert!(sink.writes > 10, "{} writes", sink.writes);
    assert!(sink.largest <= 64 * 1024, "largest write {}", sink.largest);
    assert_eq!(gunzip(&sink.bytes), noise);
}

#[test]
fn only_gzip_is_made_here() {
    assert!(Compressor::new(Coding::Br, Vec::new()).is_none());
    assert!(Compressor::new(Coding::Zstd, Vec::new()).is_none());
    for coding in ON_THE_FLY {
        assert!(Compressor::new(coding, Vec::new()).is_some(), "{coding:?}");
    }
}

#[test]
fn what_is_worth_compressing() {
    let cases: &[(&str, u64, bool)] = &[
        ("text/html", 10_000, true),
        ("text/css", MIN_SIZE, true),
        ("text/plain", MAX_SIZE, true),
        ("text/javascript", 5000, true),
        ("application/javascript", 5000, true),
        ("application/json", 5000, true),
        ("application/manifest+json", 5000, true),
        ("application/xml", 5000, true),
        ("application/atom+xml", 5000, true),
        ("image/svg+xml", 5000, true),
        ("application/wasm", 5000, true),
        ("TEXT/HTML", 5000, true),
        (" text/html ", 5000, true),
        ("text/html", MIN_SIZE - 1, false),
        ("text/html", MAX_SIZE + 1, false),
        ("text/html", 0, false),
        ("image/png", 5000, false),
        ("image/jpeg", 5000, false),
        ("video/mp4", 5000, false),
        ("application/gzip", 5000, false),
        ("application/zip", 5000, false),
        ("application/octet-stream", 5000, false),
        ("font/woff2", 5000, false),
        ("", 5000, false),
    ];
    for (essence, size, want) in cases {
        assert_eq!(compressible(essence, *size), *want, "{essence:?} {size}");
    }
}
