//! The WASI side of uploads, moving bytes and deciding nothing: the request body as a
//! [`Source`] (read as it arrives, given up after `upload::IDLE_TIMEOUT` of silence), and the
//! preopen's write side as a [`Store`] (`create-directory-at`, `open-at` with
//! `create | exclusive`, `write-via-stream`, `link-at`, `unlink-file-at`,
//! `remove-directory-at`). What is written where, and what a failure means, is decided in
//! `upload/`.

use wasi::clocks::monotonic_clock;
use wasi::filesystem::types::{
    filesystem_error_code, Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags,
};
use wasi::http::types::{IncomingBody, IncomingRequest};
use wasi::io::poll;
use wasi::io::streams::{InputStream, OutputStream, StreamError};

use super::fs::WasiFs;
use crate::fs::{Store, WriteError, Writer};
use crate::path::SafePath;
use crate::request::{BodyError, Source};
use crate::request::{BodyStream, RequestBody};
use crate::upload::{CHUNK, IDLE_TIMEOUT};

/// The request body, left for the route to stream.
pub(super) fn body(request: IncomingRequest) -> RequestBody {
    let source = match request.consume() {
        Ok(body) => match body.stream() {
            // The stream is a child of the body: it is declared first, so dropped first.
            Ok(stream) => BodySource::Open {
                stream,
                _body: body,
            },
            Err(()) => BodySource::Unavailable,
        },
        Err(()) => BodySource::Unavailable,
    };
    RequestBody::Stream(BodyStream::new(source))
}

enum BodySource {
    Open {
        stream: InputStream,
        _body: IncomingBody,
    },
    /// The host would not hand the body over.
    Unavailable,
}

impl Source for BodySource {
    fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, BodyError> {
        let BodySource::Open { stream, .. } = self else {
            return Err(BodyError::Broken);
        };
        loop {
            match stream.read(CHUNK as u64) {
                Ok(chunk) if !chunk.is_empty() => return Ok(Some(chunk)),
                Ok(_) => wait(stream)?,
                Err(StreamError::Closed) => return Ok(None),
                Err(StreamError::LastOperationFailed(_)) => return Err(BodyError::Broken),
            }
        }
    }
}

/// Waits until `stream` has something (bytes, its end, or an error) or the idle timeout.
fn wait(stream: &InputStream) -> Result<(), BodyError> {
    let ready = stream.subscribe();
    let timeout = monotonic_clock::subscribe_duration(
        u64::try_from(IDLE_TIMEOUT.as_nanos()).unwrap_or(u64::MAX),
    );
    if poll::poll(&[&ready, &timeout]).contains(&0) {
        Ok(())
    } else {
        Err(BodyError::Stalled)
    }
}

impl Store for WasiFs {
    fn create_dir(&self, path: &SafePath) -> Result<(), WriteError> {
        self.preopen
            .create_directory_at(&path.relative())
            .map_err(write_error)
    }

    fn create_new(&self, path: &SafePath) -> Result<Box<dyn Writer + '_>, WriteError> {
        // No SYMLINK_FOLLOW, and exclusive: a link or file already there is never opened.
        let file = self
            .preopen
            .open_at(
                PathFlags::empty(),
                &path.relative(),
                OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
                DescriptorFlags::WRITE,
            )
            .map_err(write_error)?;
        let stream = file.write_via_stream(0).map_err(write_error)?;
        Ok(Box::new(FileWriter {
            stream,
            _file: file,
        }))
    }

    fn link(&self, from: &SafePath, to: &SafePath) -> Result<(), WriteError> {
        self.preopen
            .link_at(
                PathFlags::empty(),
                &from.relative(),
                &self.preopen,
                &to.relative(),
            )
            .map_err(write_error)
    }

    fn remove_file(&self, path: &SafePath) -> Result<(), WriteError> {
        self.preopen
            .unlink_file_at(&path.relative())
            .map_err(write_error)
    }

    fn rename(&self, from: &SafePath, to: &SafePath) -> Result<(), WriteError> {
        self.preopen
            .rename_at(&from.relative(), &self.preopen, &to.relative())
            .map_err(write_error)
    }

    fn remove_dir(&self, path: &SafePath) -> Result<(), WriteError> {
        self.preopen
            .remove_directory_at(&path.relative())
            .map_err(write_error)
    }
}

/// A new file being written through its output stream (a child of the descriptor, so
/// declared first and dropped first).
struct FileWriter {
    stream: OutputStream,
    _file: Descriptor,
}

impl Writer for FileWriter {
    fn write(&mut self, mut bytes: &[u8]) -> Result<(), WriteError> {
        while !bytes.is_empty() {
            let ready = self.stream.check_write().map_err(stream_error)?;
            if ready == 0 {
                self.stream.subscribe().block();
                continue;
            }
            let n = usize::try_from(ready)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            self.stream.write(&bytes[..n]).map_err(stream_error)?;
            bytes = &bytes[n..];
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), WriteError> {
        // Waits for the last write, and reports its failure (a full disk shows here).
        self.stream.blocking_flush().map_err(stream_error)
    }
}

fn stream_error(error: StreamError) -> WriteError {
    match error {
        StreamError::LastOperationFailed(error) => {
            filesystem_error_code(&error).map_or(WriteError::Io, write_error)
        }
        StreamError::Closed => WriteError::Io,
    }
}

fn write_error(code: ErrorCode) -> WriteError {
    match code {
        // Linking onto a directory's name fails as taken on some systems, as a directory on
        // others: either way the name is not free.
        ErrorCode::Exist | ErrorCode::IsDirectory => WriteError::Exists,
        ErrorCode::NotDirectory => WriteError::NotDirectory,
        ErrorCode::NoEntry | ErrorCode::Loop => WriteError::NotFound,
        // The sandbox refusing a path out of the root, and a read-only mount, both land here.
        ErrorCode::Access | ErrorCode::NotPermitted | ErrorCode::ReadOnly => WriteError::Forbidden,
        ErrorCode::NameTooLong | ErrorCode::IllegalByteSequence | ErrorCode::Invalid => {
            WriteError::BadName
        }
        ErrorCode::InsufficientSpace | ErrorCode::Quota => WriteError::NoSpace,
        _ => WriteError::Io,
    }
}
