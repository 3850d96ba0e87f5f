//! Fetching Hugging Face daily papers and single papers.

use chrono::NaiveDate;
use papers_core::{ArxivId, PaperRecord};

use crate::error::{IngestError, Position};
use crate::format::hf::{parse_daily_papers, parse_paper};
use crate::harvest::client::{Client, HarvestError, expect_ok};

pub const DEFAULT_BASE: &str = "https://huggingface.co";

/// One day of the feed: its papers, and the entries that could not be read.
#[derive(Debug)]
pub struct DailyPapers {
    pub records: Vec<PaperRecord>,
    pub skipped: Vec<IngestError>,
}

/// `GET {base}/api/daily_papers?date=YYYY-MM-DD`.
pub fn fetch_daily_papers(
    client: &mut Client,
    base: &str,
    date: NaiveDate,
) -> Result<DailyPapers, HarvestError> {
    let url = format!(
        "{}/api/daily_papers?date={}",
        base.trim_end_matches('/'),
        date.format("%Y-%m-%d")
    );
    let response = client.get(&url)?;
    expect_ok(&url, &response)?;
    let entries =
        parse_daily_papers(&response.body).map_err(|kind| parse_error(&url, None, kind))?;
    let mut day = DailyPapers {
        records: Vec::new(),
        skipped: Vec::new(),
    };
    for (result, index) in entries.into_iter().zip(1..) {
        match result {
            Ok(record) => day.records.push(record),
            Err(kind) => day.skipped.push(IngestError::new(
                url.as_ref(),
                Some(Position::Record(index)),
                kind,
            )),
        }
    }
    Ok(day)
}

/// `GET {base}/api/papers/{id}`.
pub fn fetch_paper(
    client: &mut Client,
    base: &str,
    id: &ArxivId,
) -> Result<PaperRecord, HarvestError> {
    let url = format!("{}/api/papers/{}", base.trim_end_matches('/'), id);
    let response = client.get(&url)?;
    expect_ok(&url, &response)?;
    parse_paper(&response.body).map_err(|kind| parse_error(&url, Some(Position::Record(1)), kind))
}

fn parse_error(url: &str, position: Option<Position>, kind: crate::ErrorKind) -> HarvestError {
    HarvestError::Parse {
        url: url.to_owned(),
        error: IngestError::new(url.as_ref(), position, kind),
    }
}
