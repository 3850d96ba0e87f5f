//! One incremental harvest of one arXiv OAI set: from where the last one ended, page by
//! page, each page stored with the harvest's new position in one transaction.
//!
//! The next page is fetched and parsed on another thread while the current one is
//! stored ([`Prefetch`]): the two take about as long, so a harvest goes at about the
//! pace of the slower instead of their sum. The position still moves only with the
//! page it belongs to, in that page's transaction, and an error fetching the page
//! ahead reaches this loop only after every page before it is committed: a harvest
//! that fails or is killed keeps exactly the pages before the failure and continues
//! from the first page it did not store.

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use papers_ingest::PaperRecord;
use papers_ingest::harvest::oai::{OaiHarvester, OaiPages};
use papers_ingest::harvest::{Client, Prefetch};
use papers_store::{PageOutcome, Store, UpsertOutcome};

use super::spec::ArxivSet;

/// Records merged into the store at a time, as `papers ingest` does: the store reads
/// and writes a chunk with a few multi-row statements.
const MERGE_CHUNK: usize = 1024;

/// Where a run starts: the pages to fetch, the list's `from` day and, when it continues
/// a list, the server's day when that list began.
struct Start {
    pages: OaiPages,
    from: NaiveDate,
    started: Option<NaiveDate>,
}

/// Harvests `set` into the store: continues a list a previous run left unfinished (on
/// this node or another), else starts one at the stored `next_from` (a fresh store at
/// `since`). `written` counts the papers inserted or changed, also when the harvest
/// fails midway (what was stored stays stored).
pub fn harvest_set(
    store: &mut Store,
    client: Client,
    base_url: &str,
    set: &ArxivSet,
    since: NaiveDate,
    written: &mut u64,
) -> anyhow::Result<()> {
    let name = set.state_name();
    let Start {
        pages,
        from,
        mut started,
    } = start(store, client, base_url, set, since)?;
    let pages = Prefetch::start("oai-prefetch", pages)
        .context("starting the thread that fetches OAI-PMH pages")?;
    for (page, number) in pages.zip(1..) {
        let mut page = match page {
            Ok(page) => page,
            Err(error) if error.oai_code() == Some("badResumptionToken") => {
                // The token expired or the server forgot it: the rest of the list is
                // asked for again from the list's start on the next run.
                store.abandon_harvest_list(&name, Utc::now())?;
                return Err(error).with_context(|| {
                    format!(
                        "arXiv refused the resumption token of set {} (page {number}); \
                         the next run lists again from {from}",
                        set.set
                    )
                });
            }
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("harvesting arXiv set {} (page {number})", set.set));
            }
        };
        for skipped in &page.skipped {
            tracing::warn!(%skipped, "skipped a harvested record");
        }
        // The next harvest starts at the server's day when this list began, so records
        // changed while it was paged are listed again rather than missed.
        let list_started = *started.get_or_insert_with(|| {
            page.response_date
                .unwrap_or_else(|| Utc::now().date_naive())
        });
        let outcome = match &page.resumption_token {
            Some(token) => PageOutcome::More {
                from,
                started: list_started,
                resumption_token: token,
            },
            None => PageOutcome::Complete {
                started: list_started,
            },
        };
        let records = std::mem::take(&mut page.records);
        let kept = store_page(store, set, &name, records, &outcome, written)?;
        tracing::info!(set = %set.set, page = number, kept, written = *written, "stored OAI-PMH page");
    }
    Ok(())
}

/// Continues the list the stored position names, else starts one.
fn start(
    store: &Store,
    client: Client,
    base_url: &str,
    set: &ArxivSet,
    since: NaiveDate,
) -> anyhow::Result<Start> {
    let state = store.harvest_state(&set.state_name())?;
    if let Some(list) = state.as_ref().and_then(|state| state.list.clone()) {
        tracing::info!(set = %set.set, from = %list.from, "continuing an interrupted OAI-PMH list");
        return Ok(Start {
            pages: OaiHarvester::resume(base_url, &list.resumption_token, client),
            from: list.from,
            started: Some(list.started),
        });
    }
    let from = state.and_then(|state| state.next_from).unwrap_or(since);
    tracing::info!(set = %set.set, %from, "harvesting arXiv");
    let harvester = OaiHarvester {
        base_url: base_url.to_owned(),
        metadata_prefix: "arXiv".to_owned(),
        set: Some(set.set.clone()),
        from,
        until: None,
    };
    Ok(Start {
        pages: harvester.pages(client),
        from,
        started: None,
    })
}

/// Stores a page's `records` that the set keeps and the position after the page
/// (`outcome`) in one transaction; returns how many records were kept.
fn store_page(
    store: &mut Store,
    set: &ArxivSet,
    name: &str,
    records: Vec<PaperRecord>,
    outcome: &PageOutcome<'_>,
    written: &mut u64,
) -> anyhow::Result<usize> {
    let mut kept = records
        .into_iter()
        .filter(|record| set.keeps(&record.metadata.categories))
        .peekable();
    let mut batch = store.begin_ingest(Utc::now())?;
    let mut count = 0;
    while kept.peek().is_some() {
        let chunk: Vec<PaperRecord> = kept.by_ref().take(MERGE_CHUNK).collect();
        count += chunk.len();
        let outcomes = batch.upsert_all(chunk)?;
        *written += outcomes
            .iter()
            .filter(|outcome| **outcome != UpsertOutcome::Unchanged)
            .count() as u64;
    }
    batch.record_harvest_page(name, outcome)?;
    batch.commit()?;
    Ok(count)
}
