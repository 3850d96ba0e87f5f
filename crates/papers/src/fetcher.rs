//! The site's [`papers_web::PaperFetcher`] over the arXiv API client of
//! `papers-ingest`: `/submit` of a paper the store lacks looks it up by id
//! (`/api/query?id_list=`). One client per process, so submissions from every reader
//! share arXiv's pacing (one request every 3 s); each lookup gives up quickly rather
//! than keep a reader waiting: no waiting out a `503`, 20 s at most per request.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use papers_core::{ArxivId, PaperRecord};
use papers_ingest::harvest::arxiv_api::fetch_ids;
use papers_ingest::harvest::{Client, HarvestError, SystemClock};
use papers_web::{FetchError, PaperFetcher};

/// How long one lookup may take before the reader is told arXiv is unreachable.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(20);

pub struct ArxivFetcher {
    base: String,
    client: Mutex<Client>,
}

impl ArxivFetcher {
    /// Looks papers up at `base` (`http://export.arxiv.org`, a mirror, a test server).
    pub fn new(base: &str) -> ArxivFetcher {
        let client = Client::new(Arc::new(SystemClock))
            .with_timeout(LOOKUP_TIMEOUT)
            .with_max_retries(0);
        ArxivFetcher {
            base: base.trim_end_matches('/').to_owned(),
            client: Mutex::new(client),
        }
    }
}

impl PaperFetcher for ArxivFetcher {
    fn fetch(&self, id: &ArxivId) -> Result<Option<PaperRecord>, FetchError> {
        // A panic while holding the client leaves it usable; take it back.
        let mut client = match self.client.lock() {
            Ok(client) => client,
            Err(poisoned) => poisoned.into_inner(),
        };
        match fetch_ids(&mut client, &self.base, std::slice::from_ref(id)) {
            // The API answers an unknown id with an empty feed.
            Ok(records) => Ok(records.into_iter().find(|record| record.id == *id)),
            Err(error) => Err(classify(error)),
        }
    }
}

/// No answer, or an answer that says "later" (5xx, 429), is unreachable: the reader
/// may retry. Anything else that is not a feed is an unreadable answer.
fn classify(error: HarvestError) -> FetchError {
    match &error {
        HarvestError::Http { .. } | HarvestError::Unavailable { .. } => {
            FetchError::Unreachable(Box::new(error))
        }
        HarvestError::Status { status, .. } if *status >= 500 || *status == 429 => {
            FetchError::Unreachable(Box::new(error))
        }
        _ => FetchError::Invalid(Box::new(error)),
    }
}
