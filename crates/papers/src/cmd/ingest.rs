//! `papers ingest PATH...`: parse files and merge their records into the store, one
//! transaction per file so a bad file leaves nothing behind.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use papers_ingest::Format;
use papers_store::{Store, UpsertOutcome};
use serde::Serialize;

use crate::cli::{Cli, IngestArgs};
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

pub fn run(cli: &Cli, args: &IngestArgs) -> anyhow::Result<ExitCode> {
    let forced: Option<Format> = args
        .format
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--format: {e}"))?;
    let files = papers_ingest::input_files(&args.paths)?;
    let mut store = Store::open(&cli.data_dir)
        .with_context(|| format!("opening store in {}", cli.data_dir.display()))?;
    let mut summaries = Vec::new();
    for file in &files {
        let summary = ingest_file(&mut store, file, forced, args.skip_invalid)?;
        if !args.json {
            println!(
                "{}: {} records ({}): {} new, {} updated, {} unchanged, {} skipped in {:.2}s ({:.0} records/s)",
                summary.path,
                summary.records,
                summary.format,
                summary.inserted,
                summary.updated,
                summary.unchanged,
                summary.skipped,
                summary.seconds,
                summary.records as f64 / summary.seconds.max(1e-9),
            );
        }
        summaries.push(summary);
    }
    store.checkpoint()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summaries)?);
    }
    Ok(ExitCode::SUCCESS)
}

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
    let mut records = papers_ingest::open(path, format)?;
    let mut summary = FileSummary {
        path: path.display().to_string(),
        format: format.to_string(),
        ..FileSummary::default()
    };
    let mut progress = Progress::new(&summary.path, records.total_bytes(), "records");
    let mut batch = store.begin_ingest(chrono::Utc::now())?;
    while let Some(item) = records.next() {
        match item {
            Ok(positioned) => {
                summary.records += 1;
                match batch.upsert(positioned.record)? {
                    UpsertOutcome::Inserted => summary.inserted += 1,
                    UpsertOutcome::Updated => summary.updated += 1,
                    UpsertOutcome::Unchanged => summary.unchanged += 1,
                }
            }
            Err(error) if skip_invalid => {
                summary.skipped += 1;
                eprintln!("skipped: {error}");
            }
            Err(error) => {
                progress.finish();
                return Err(anyhow::Error::new(error).context(format!(
                    "nothing from {} was stored (use --skip-invalid to store its valid records)",
                    path.display()
                )));
            }
        }
        if summary.records % 4096 == 0 {
            progress.set(records.bytes_read(), summary.records);
        }
    }
    batch.commit()?;
    progress.finish();
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}
