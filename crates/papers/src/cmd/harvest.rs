//! `papers harvest`: fetch from arXiv OAI-PMH or the Hugging Face API into the store.
//!
//! Each OAI page is stored in its own transaction before the next is requested, so an
//! interrupted harvest keeps what it fetched and a re-run (OAI `from` dates overlap
//! safely, since merging is idempotent) completes it.

use std::process::ExitCode;

use anyhow::Context;
use papers_core::PaperRecord;
use papers_ingest::harvest::{Client, hf, oai::OaiHarvester};
use papers_store::{Store, UpsertOutcome};

use crate::cli::{HarvestArgs, HarvestSource};
use crate::config::Config;
use crate::output::outln;

#[derive(Debug, Default)]
struct Tally {
    records: u64,
    inserted: u64,
    updated: u64,
    skipped: u64,
}

pub fn run(config: &Config, args: &HarvestArgs) -> anyhow::Result<ExitCode> {
    let mut store = config.store.open()?;
    // Nodes that all run the same cron entry harvest once: the others see the claim
    // held and leave. (Two harvests would be correct, merging is idempotent, but would
    // fetch everything twice and count against the sources' rate limits.)
    let job = match &args.source {
        HarvestSource::Arxiv { .. } => "harvest-arxiv",
        HarvestSource::Hf { .. } => "harvest-hf",
    };
    let Some(_claim) = store.try_claim_job(job)? else {
        eprintln!(
            "papers: another harvest ({job}) is running against {}; leaving it to finish",
            config.store.database().describe()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let mut tally = Tally::default();
    match &args.source {
        HarvestSource::Arxiv {
            from,
            until,
            set,
            metadata_prefix,
            base_url,
        } => {
            let harvester = OaiHarvester {
                base_url: base_url.clone(),
                metadata_prefix: metadata_prefix.clone(),
                set: set.clone(),
                from: *from,
                until: *until,
            };
            for (page, number) in harvester.pages(Client::default()).zip(1..) {
                let page =
                    page.with_context(|| format!("harvesting {base_url} (page {number})"))?;
                report_skipped(&page.skipped, &mut tally);
                store_records(&mut store, page.records, &mut tally)?;
                tracing::info!(page = number, records = tally.records, total = ?page.complete_list_size, "stored page");
            }
        }
        HarvestSource::Hf { date, base_url } => {
            let mut client = Client::default();
            let day = hf::fetch_daily_papers(&mut client, base_url, *date)
                .with_context(|| format!("fetching {base_url} daily papers for {date}"))?;
            report_skipped(&day.skipped, &mut tally);
            store_records(&mut store, day.records, &mut tally)?;
        }
    }
    store.checkpoint()?;
    outln!(
        "harvested {} records: {} new, {} updated, {} skipped",
        tally.records,
        tally.inserted,
        tally.updated,
        tally.skipped
    )?;
    Ok(ExitCode::SUCCESS)
}

fn report_skipped(skipped: &[papers_ingest::IngestError], tally: &mut Tally) {
    for error in skipped {
        eprintln!("skipped: {error}");
        tally.skipped += 1;
    }
}

fn store_records(
    store: &mut Store,
    records: Vec<PaperRecord>,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let mut batch = store.begin_ingest(chrono::Utc::now())?;
    tally.records += records.len() as u64;
    // One call for the page (a thousand records at most, what `upsert_all` expects):
    // the store merges them with a few multi-row statements.
    for outcome in batch.upsert_all(records)? {
        match outcome {
            UpsertOutcome::Inserted => tally.inserted += 1,
            UpsertOutcome::Updated => tally.updated += 1,
            UpsertOutcome::Unchanged => {}
        }
    }
    batch.commit()?;
    Ok(())
}
