//! One incremental harvest of one arXiv OAI set: from where the last one ended, page by
//! page, each page stored with the harvest's new position in one transaction.

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use papers_ingest::harvest::Client;
use papers_ingest::harvest::oai::OaiHarvester;
use papers_store::{PageOutcome, Store, UpsertOutcome};

use super::spec::ArxivSet;

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
    let state = store.harvest_state(&name)?;
    let list = state.as_ref().and_then(|state| state.list.clone());
    let (pages, from, mut started) = match list {
        Some(list) => {
            tracing::info!(set = %set.set, from = %list.from, "continuing an interrupted OAI-PMH list");
            let pages = OaiHarvester::resume(base_url, &list.resumption_token, client);
            (pages, list.from, Some(list.started))
        }
        None => {
            let from = state.and_then(|state| state.next_from).unwrap_or(since);
            tracing::info!(set = %set.set, %from, "harvesting arXiv");
            let harvester = OaiHarvester {
                base_url: base_url.to_owned(),
                metadata_prefix: "arXiv".to_owned(),
                set: Some(set.set.clone()),
                from,
                until: None,
            };
            (harvester.pages(client), from, None)
        }
    };
    for (page, number) in pages.zip(1..) {
        let page = match page {
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
        let mut batch = store.begin_ingest(Utc::now())?;
        let mut kept = 0;
        for record in page.records {
            if !set.keeps(&record.metadata.categories) {
                continue;
            }
            kept += 1;
            match batch.upsert(record)? {
                UpsertOutcome::Inserted | UpsertOutcome::Updated => *written += 1,
                UpsertOutcome::Unchanged => {}
            }
        }
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
        batch.record_harvest_page(&name, &outcome)?;
        batch.commit()?;
        tracing::info!(set = %set.set, page = number, kept, written = *written, "stored OAI-PMH page");
    }
    Ok(())
}
