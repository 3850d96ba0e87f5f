//! Opening an input file: transparent gunzip, and a byte counter for progress bars.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::bufread::MultiGzDecoder;

use crate::error::{ErrorKind, IngestError, Position};

/// Large enough that a multi-GB snapshot is read in few system calls.
const BUFFER_SIZE: usize = 256 * 1024;

/// How far through its inputs a [`crate::Records`] is, in bytes of the files on disk
/// (compressed bytes for `.gz`), so a progress bar's ETA is honest for gzip input.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    read: Arc<AtomicU64>,
    total: u64,
}

impl Progress {
    pub(crate) fn new(total: u64) -> Self {
        Progress {
            read: Arc::new(AtomicU64::new(0)),
            total,
        }
    }

    pub fn bytes_read(&self) -> u64 {
        self.read.load(Ordering::Relaxed).min(self.total)
    }

    pub fn total_bytes(&self) -> u64 {
        self.total
    }

    pub(crate) fn add(&self, bytes: u64) {
        self.read.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// Counts the bytes that pass through, before any decompression.
struct Counting<R> {
    inner: R,
    progress: Progress,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.add(n as u64);
        Ok(n)
    }
}

/// A decoded byte stream over one file.
pub(crate) struct Input {
    pub path: PathBuf,
    pub reader: Box<dyn BufRead + Send>,
    gzip: bool,
}

impl Input {
    /// Opens `path`, gunzipping when the content starts with the gzip magic (whatever the
    /// file is called), and counting the raw bytes read into `progress`.
    pub fn open(path: &Path, progress: &Progress) -> Result<Input, IngestError> {
        let file = File::open(path).map_err(|e| IngestError::new(path, None, e))?;
        let mut raw = BufReader::with_capacity(
            BUFFER_SIZE,
            Counting {
                inner: file,
                progress: progress.clone(),
            },
        );
        let head = raw
            .fill_buf()
            .map_err(|e| IngestError::new(path, None, e))?;
        if head.is_empty() {
            return Err(IngestError::new(path, None, ErrorKind::Empty));
        }
        let gzip = head.starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn BufRead + Send> = if gzip {
            Box::new(BufReader::with_capacity(
                BUFFER_SIZE,
                MultiGzDecoder::new(raw),
            ))
        } else {
            Box::new(raw)
        };
        Ok(Input {
            path: path.to_owned(),
            reader,
            gzip,
        })
    }

    /// Turns a read failure into an error for this file. Inside a gzip stream an
    /// unexpected end means the file was cut short (an interrupted download), which
    /// deserves its own message rather than a generic I/O error.
    pub fn read_error(&self, error: io::Error, position: Option<Position>) -> IngestError {
        let kind = if self.gzip
            && matches!(
                error.kind(),
                io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput
            ) {
            ErrorKind::TruncatedGzip
        } else {
            ErrorKind::Io(error)
        };
        IngestError::new(&self.path, position, kind)
    }

    /// The first `limit` decoded bytes, for format detection.
    pub fn sniff(path: &Path, limit: u64) -> Result<Vec<u8>, IngestError> {
        let input = Input::open(path, &Progress::new(0))?;
        let mut head = Vec::new();
        let mut reader = input.reader.take(limit);
        match reader.read_to_end(&mut head) {
            Ok(_) => Ok(head),
            // A short gzip file can still be sniffed from what was decoded.
            Err(_) if !head.is_empty() => Ok(head),
            Err(error) => Err(input_error(path, error)),
        }
    }
}

fn input_error(path: &Path, error: io::Error) -> IngestError {
    IngestError::new(path, None, error)
}

/// The size on disk of a file, 0 when it cannot be read (the open that follows reports
/// the real error).
pub(crate) fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}
