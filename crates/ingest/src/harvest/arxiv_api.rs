//! Looking papers up by id through the arXiv API (`/api/query?id_list=`).

use papers_core::{ArxivId, PaperRecord};

use crate::error::ErrorKind;
use crate::format::atom::parse_feed;
use crate::harvest::client::{Client, HarvestError, encode, expect_ok};

pub const DEFAULT_BASE: &str = "http://export.arxiv.org";

/// The API's own cap on results per request.
const MAX_IDS_PER_REQUEST: usize = 100;

/// Fetches the current metadata of `ids`. Unknown ids are simply absent from the
/// result; a malformed id makes the API answer with an error feed, returned as
/// [`HarvestError::Api`].
pub fn fetch_ids(
    client: &mut Client,
    base: &str,
    ids: &[ArxivId],
) -> Result<Vec<PaperRecord>, HarvestError> {
    let mut records = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(MAX_IDS_PER_REQUEST) {
        let list: Vec<&str> = chunk.iter().map(ArxivId::as_str).collect();
        records.extend(query(client, base, &list.join(","), chunk.len())?);
    }
    Ok(records)
}

/// One `id_list` query; `id_list` is passed as given, so callers can also look up
/// what the API will reject (and get its message).
pub fn query(
    client: &mut Client,
    base: &str,
    id_list: &str,
    max_results: usize,
) -> Result<Vec<PaperRecord>, HarvestError> {
    let url = format!(
        "{}/api/query?id_list={}&start=0&max_results={}",
        base.trim_end_matches('/'),
        encode(id_list),
        max_results.max(1)
    );
    let response = client.get(&url)?;
    // A bad id gets `400` with an Atom error feed; parse it for the API's message.
    let is_feed = response.body.windows(5).take(2048).any(|w| w == b"<feed");
    if !(response.status == 400 && is_feed) {
        expect_ok(&url, &response)?;
    }
    parse_feed(&response.body).map_err(|mut error| match error.kind {
        ErrorKind::ApiError(message) => HarvestError::Api(message),
        _ => {
            error.path = url.clone().into();
            HarvestError::Parse { url, error }
        }
    })
}
