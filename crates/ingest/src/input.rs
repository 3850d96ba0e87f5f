//! Opening an input file: transparent gunzip, and a byte counter for progress bars.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

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
        Input::open_with(path, progress, true)
    }

    /// `background`: gunzip on a separate thread (worth it for whole files, not for
    /// sniffing the first kilobyte).
    fn open_with(path: &Path, progress: &Progress, background: bool) -> Result<Input, IngestError> {
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
        let reader: Box<dyn BufRead + Send> = if gzip && background {
            Box::new(BackgroundReader::spawn(MultiGzDecoder::new(raw)))
        } else if gzip {
            Box::new(BufReader::new(MultiGzDecoder::new(raw)))
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
        let input = Input::open_with(path, &Progress::new(0), false)?;
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

/// Decompressed bytes per hand-over between the gunzip thread and the parser.
const CHUNK_SIZE: usize = 1024 * 1024;

/// Runs a reader (the gzip decoder) on its own thread, handing chunks over a bounded
/// channel. Gunzip is a third of the cost of reading a snapshot; overlapping it with
/// parsing keeps a core busy with each. Memory stays bounded by the channel's depth.
/// Dropping the reader ends the thread at its next send.
struct BackgroundReader {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    position: usize,
    finished: bool,
}

impl BackgroundReader {
    fn spawn<R: Read + Send + 'static>(mut source: R) -> Self {
        let (sender, chunks) = mpsc::sync_channel(4);
        std::thread::spawn(move || {
            loop {
                let mut chunk = vec![0; CHUNK_SIZE];
                let mut filled = 0;
                // Fill whole chunks: the decoder returns small reads.
                let result = loop {
                    match source.read(&mut chunk[filled..]) {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            filled += n;
                            if filled == chunk.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                chunk.truncate(filled);
                let last = filled == 0 || result.is_err();
                if filled > 0 && sender.send(Ok(chunk)).is_err() {
                    return;
                }
                if let Err(error) = result {
                    let _ = sender.send(Err(error));
                }
                if last {
                    return;
                }
            }
        });
        BackgroundReader {
            chunks,
            current: Vec::new(),
            position: 0,
            finished: false,
        }
    }
}

impl Read for BackgroundReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for BackgroundReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.position >= self.current.len() && !self.finished {
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.position = 0;
                }
                Ok(Err(error)) => {
                    self.finished = true;
                    return Err(error);
                }
                // The thread is done: the stream ended cleanly.
                Err(mpsc::RecvError) => self.finished = true,
            }
        }
        Ok(&self.current[self.position.min(self.current.len())..])
    }

    fn consume(&mut self, amount: usize) {
        self.position += amount;
    }
}

/// The size on disk of a file, 0 when it cannot be read (the open that follows reports
/// the real error).
pub(crate) fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}
