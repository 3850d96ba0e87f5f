//! `papers ingest PATH...`: parse files and merge their records into the store, one
//! transaction per file so a bad file leaves nothing behind.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use papers_ingest::{Format, IngestError};
use papers_store::{Store, UpsertOutcome};
use serde::Serialize;

use crate::cli::IngestArgs;
use crate::config::Config;
use crate::output::outln;
use crate::progress::Progress;

/// What ingesting one file did.
#[derive(Debug, Default, Serialize)]
pub struct FileSummary {
    pub path: String,
    pub format: String,
    pub records: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub skipped: u64,
    pub seconds: f64,
}

pub fn run(config: &Config, args: &IngestArgs) -> anyhow::Result<ExitCode> {
    let forced: Option<Format> = args
        .format
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--format: {e}"))?;
    let mut store = config.store.open()?;
    let mut summaries = Vec::new();
    // One summary per argument: a directory of a thousand .abs files is one line.
    for argument in &args.paths {
        let mut total = FileSummary {
            path: argument.display().to_string(),
            ..FileSummary::default()
        };
        for file in papers_ingest::input_files(std::slice::from_ref(argument))? {
            match ingest_file(&mut store, &file, forced, args.skip_invalid) {
                Ok(summary) => total.add(&summary),
                // A file that cannot be read at all (empty, unknown format) is one more
                // skipped input when the caller asked to go on.
                Err(error)
                    if args.skip_invalid && error.downcast_ref::<IngestError>().is_some() =>
                {
                    eprintln!("skipped: {error:#}");
                    total.skipped += 1;
                }
                Err(error) => return Err(error),
            }
        }
        if !args.json {
            outln!("{total}")?;
        }
        summaries.push(total);
    }
    store.checkpoint()?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&summaries)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

impl FileSummary {
    fn add(&mut self, other: &FileSummary) {
        if self.format.is_empty() {
            self.format = other.format.clone();
        } else if self.format != other.format {
            self.format = "mixed".to_owned();
        }
        self.records += other.records;
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.skipped += other.skipped;
        self.seconds += other.seconds;
    }
}

impl std::fmt::Display for FileSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} records ({}): {} new, {} updated, {} unchanged, {} skipped in {:.2}s ({:.0} records/s)",
            self.path,
            self.records,
            self.format,
            self.inserted,
            self.updated,
            self.unchanged,
            self.skipped,
            self.seconds,
            self.records as f64 / self.seconds.max(1e-9),
        )
    }
}

/// Records handed from the parsing thread to the writer, and merged into the store, at
/// a time.
const PARSE_CHUNK: usize = 1024;

/// Ingests one file in one transaction. On a bad record, without `skip_invalid`, the
/// transaction is dropped, so the store is exactly as before this file.
pub fn ingest_file(
    store: &mut Store,
    path: &Path,
    forced: Option<Format>,
    skip_invalid: bool,
) -> anyhow::Result<FileSummary> {
    let started = Instant::now();
    let format = match forced {
        Some(format) => format,
        None => papers_ingest::detect_format(path)?,
    };
    let records = papers_ingest::open(path, format)?;
    let reader_progress = records.progress();
    let mut summary = FileSummary {
        path: path.display().to_string(),
        format: format.to_string(),
        ..FileSummary::default()
    };
    let mut progress = Progress::new(
        &summary.path,
        Some(reader_progress.total_bytes()),
        "records",
    );
    let mut batch = store.begin_ingest(chrono::Utc::now())?;
    // Parsing runs on its own thread, a few chunks ahead of the writer, so decoding and
    // SQLite work overlap on two cores. The bounded channel keeps memory flat.
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<_>>(4);
        scope.spawn(move || {
            let mut records = records;
            loop {
                let chunk: Vec<_> = records.by_ref().take(PARSE_CHUNK).collect();
                let done = chunk.len() < PARSE_CHUNK;
                // A closed channel means the writer stopped on an error; stop reading.
                if sender.send(chunk).is_err() || done {
                    break;
                }
            }
        });
        // Each chunk's valid records are merged in one call, so the store reads and
        // writes them with a few multi-row statements (see `IngestBatch::upsert_all`).
        for chunk in receiver {
            let mut records = Vec::with_capacity(chunk.len());
            for item in chunk {
                match item {
                    Ok(positioned) => records.push(positioned.record),
                    Err(error) if skip_invalid => {
                        summary.skipped += 1;
                        eprintln!("skipped: {error}");
                    }
                    Err(error) => {
                        return Err(anyhow::Error::new(error).context(format!(
                            "nothing from {} was stored (use --skip-invalid to store its valid records)",
                            path.display()
                        )));
                    }
                }
            }
            summary.records += records.len() as u64;
            for outcome in batch.upsert_all(records)? {
                match outcome {
                    UpsertOutcome::Inserted => summary.inserted += 1,
                    UpsertOutcome::Updated => summary.updated += 1,
                    UpsertOutcome::Unchanged => summary.unchanged += 1,
                }
            }
            progress.set(reader_progress.bytes_read(), summary.records);
        }
        Ok(())
    })?;
    batch.commit()?;
    progress.finish();
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}
