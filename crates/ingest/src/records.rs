//! The streaming record iterator that every format returns.

use std::path::Path;

use crate::detect::Format;
use crate::error::IngestError;
use crate::format::{Item, abs, atom, hf, kaggle, oai};
use crate::input::{Progress, file_size};

/// The records of one input, read lazily. Memory stays constant whatever the input's
/// size (HF responses, which are small by nature, are the exception: they are one JSON
/// document and are read whole).
pub struct Records {
    inner: Box<dyn Iterator<Item = Item> + Send>,
    progress: Progress,
    format: Format,
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records")
            .field("format", &self.format)
            .field("bytes_read", &self.progress.bytes_read())
            .field("total_bytes", &self.progress.total_bytes())
            .finish()
    }
}

impl Records {
    pub fn format(&self) -> Format {
        self.format
    }

    /// Bytes of the input consumed so far, counted on disk (compressed for gzip).
    pub fn bytes_read(&self) -> u64 {
        self.progress.bytes_read()
    }

    /// The input's size on disk; with [`Records::bytes_read`] this drives a progress bar.
    pub fn total_bytes(&self) -> u64 {
        self.progress.total_bytes()
    }

    /// A handle that reports progress from another thread while this one iterates.
    pub fn progress(&self) -> Progress {
        self.progress.clone()
    }
}

impl Iterator for Records {
    type Item = Item;
    fn next(&mut self) -> Option<Item> {
        self.inner.next()
    }
}

/// Opens `path` as `format` (see [`crate::detect_format`]). Errors here are those that
/// stop the input before any record (missing or empty file); later ones come out of
/// the iterator.
pub fn open(path: &Path, format: Format) -> Result<Records, IngestError> {
    if format == Format::Abs && path.is_dir() {
        let files = abs::files_in(path)?;
        let progress = Progress::new(files.iter().map(|f| file_size(f)).sum());
        let inner = Box::new(abs::AbsFiles::new(files, progress.clone()));
        return Ok(Records {
            inner,
            progress,
            format,
        });
    }
    let progress = Progress::new(file_size(path));
    let inner: Box<dyn Iterator<Item = Item> + Send> = match format {
        Format::KaggleJsonl => Box::new(kaggle::KaggleRecords::open(path, &progress)?),
        Format::OaiPmh => Box::new(oai::OaiRecords::open(path, &progress)?),
        Format::ArxivAtom => Box::new(atom::AtomRecords::open(path, &progress)?),
        Format::Abs => Box::new(abs::AbsFiles::new(vec![path.to_owned()], progress.clone())),
        Format::HfDailyPapers => Box::new(hf::read_daily_papers(path, &progress)?.into_iter()),
        Format::HfPaper => Box::new(hf::read_paper(path, &progress)?.into_iter()),
    };
    Ok(Records {
        inner,
        progress,
        format,
    })
}
