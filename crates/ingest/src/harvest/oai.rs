//! Harvesting arXiv OAI-PMH `ListRecords`, page by page, following resumption tokens.

use chrono::NaiveDate;

use crate::format::oai::{OaiPage, parse_page};
use crate::harvest::client::{Client, HarvestError, encode, expect_ok};

/// arXiv's OAI-PMH endpoint; `http://export.arxiv.org/oai2` is the older address
/// (the one the recorded test fixtures used).
pub const DEFAULT_BASE: &str = "https://oaipmh.arxiv.org/oai";

/// What to harvest. `base_url` is the OAI endpoint, e.g. `https://oaipmh.arxiv.org/oai`
/// or `http://export.arxiv.org/oai2`.
#[derive(Debug, Clone)]
pub struct OaiHarvester {
    pub base_url: String,
    /// `arXiv` (the default) or `arXivRaw` (adds the version history).
    pub metadata_prefix: String,
    /// An OAI set such as `cs` or `physics:hep-th`.
    pub set: Option<String>,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

impl OaiHarvester {
    pub fn new(base_url: impl Into<String>, from: NaiveDate) -> Self {
        OaiHarvester {
            base_url: base_url.into(),
            metadata_prefix: "arXiv".to_owned(),
            set: None,
            from,
            until: None,
        }
    }

    /// The first request's URL; later ones carry only the resumption token, as OAI-PMH
    /// requires.
    pub fn first_url(&self) -> String {
        let mut url = format!(
            "{}?verb=ListRecords&metadataPrefix={}&from={}",
            self.base_url,
            encode(&self.metadata_prefix),
            self.from.format("%Y-%m-%d")
        );
        if let Some(until) = self.until {
            url.push_str(&format!("&until={}", until.format("%Y-%m-%d")));
        }
        if let Some(set) = &self.set {
            url.push_str(&format!("&set={}", encode(set)));
        }
        url
    }

    /// Continues a list from the page `resumption_token` fetches, as a harvest that
    /// stopped in the middle of a list does (OAI-PMH tokens stand for the rest of the
    /// list, whoever presents them).
    pub fn resume(base_url: &str, resumption_token: &str, client: Client) -> OaiPages {
        OaiPages {
            client,
            base_url: base_url.to_owned(),
            next_url: Some(token_url(base_url, resumption_token)),
        }
    }

    /// The pages of the harvest, fetched lazily so the caller can store each before the
    /// next is requested (or, wrapped in [`crate::harvest::Prefetch`], while the next
    /// is fetched). Iteration ends after the first error.
    pub fn pages(&self, client: Client) -> OaiPages {
        OaiPages {
            client,
            base_url: self.base_url.clone(),
            next_url: Some(self.first_url()),
        }
    }
}

#[derive(Debug)]
pub struct OaiPages {
    client: Client,
    base_url: String,
    next_url: Option<String>,
}

impl OaiPages {
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl Iterator for OaiPages {
    type Item = Result<OaiPage, HarvestError>;

    fn next(&mut self) -> Option<Self::Item> {
        let url = self.next_url.take()?;
        let mut result = self.client.get(&url).and_then(|response| {
            expect_ok(&url, &response)?;
            parse_page(&response.body).map_err(|mut error| {
                error.path = url.clone().into();
                HarvestError::Parse {
                    url: url.clone(),
                    error,
                }
            })
        });
        if let Ok(page) = &mut result {
            for skipped in &mut page.skipped {
                skipped.path = url.clone().into();
            }
            tracing::info!(
                url,
                records = page.records.len(),
                skipped = page.skipped.len(),
                complete_list_size = page.complete_list_size,
                "harvested OAI-PMH page"
            );
            self.next_url = page
                .resumption_token
                .as_ref()
                .map(|token| token_url(&self.base_url, token));
        }
        Some(result)
    }
}

/// The request for the page a resumption token stands for.
fn token_url(base_url: &str, token: &str) -> String {
    format!(
        "{base_url}?verb=ListRecords&resumptionToken={}",
        encode(token)
    )
}
