//! The Hugging Face refresh: the daily papers of the last few days, again, so new
//! papers arrive and the upvotes and comment counts of stored ones move.

use anyhow::Context;
use chrono::{Days, NaiveDate, Utc};
use papers_ingest::harvest::{Client, hf};
use papers_store::{Store, UpsertOutcome};

/// Fetches the daily papers of `days` days up to `today` into the store, one
/// transaction per day. `written` counts papers inserted or changed.
pub fn refresh(
    store: &mut Store,
    client: &mut Client,
    base_url: &str,
    today: NaiveDate,
    days: usize,
    written: &mut u64,
) -> anyhow::Result<()> {
    for back in 0..days.max(1) {
        let Some(date) = today.checked_sub_days(Days::new(back as u64)) else {
            break;
        };
        let day = hf::fetch_daily_papers(client, base_url, date)
            .with_context(|| format!("fetching Hugging Face daily papers for {date}"))?;
        for skipped in &day.skipped {
            tracing::warn!(%skipped, "skipped a Hugging Face paper");
        }
        let mut batch = store.begin_ingest(Utc::now())?;
        // A day is a few dozen papers: one call merges them all.
        *written += batch
            .upsert_all(day.records)?
            .iter()
            .filter(|outcome| **outcome != UpsertOutcome::Unchanged)
            .count() as u64;
        batch.commit()?;
        tracing::info!(%date, written = *written, "stored Hugging Face daily papers");
    }
    Ok(())
}
