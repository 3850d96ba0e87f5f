//! A polite blocking HTTP client: request pacing, `Retry-After`, bounded retries.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::IngestError;
use crate::harvest::clock::{Clock, SystemClock};

/// Responses above this size are refused rather than buffered: an OAI page of 1,000
/// arXivRaw records is a few MB.
const BODY_LIMIT: u64 = 256 * 1024 * 1024;

/// How long to wait on a `503` that names no `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum HarvestError {
    #[error("request to {url} failed: {source}")]
    Http {
        url: String,
        #[source]
        source: ureq::Error,
    },
    #[error("{url} answered HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url} still unavailable after {attempts} attempts")]
    Unavailable { url: String, attempts: u32 },
    /// The arXiv API's error feed (e.g. `incorrect id format for abc`).
    #[error("arXiv API error: {0}")]
    Api(String),
    /// The response could not be parsed; the error's path is the URL.
    #[error("{error}")]
    Parse { url: String, error: IngestError },
}

impl HarvestError {
    /// The OAI-PMH error code the server answered with (`badResumptionToken`,
    /// `badArgument`), if this is one.
    pub fn oai_code(&self) -> Option<&str> {
        match self {
            HarvestError::Parse { error, .. } => match &error.kind {
                crate::ErrorKind::OaiError { code, .. } => Some(code),
                _ => None,
            },
            _ => None,
        }
    }
}

/// A received response with its body read.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Paces requests on its clock and retries `503`s. One client should serve one
/// remote host, since the pacing is per client.
pub struct Client {
    agent: ureq::Agent,
    clock: Arc<dyn Clock>,
    /// The least time between the starts of two requests.
    pub min_interval: Duration,
    /// How many `503`s in a row to wait out before giving up.
    pub max_retries: u32,
    last_request: Option<Instant>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("min_interval", &self.min_interval)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::new(Arc::new(SystemClock))
    }
}

impl Client {
    /// A client with arXiv's etiquette: 3 s between requests, up to 5 retries, and
    /// 300 s for a whole request (a large OAI page is slow).
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Client {
            agent: agent(Duration::from_secs(300)),
            clock,
            min_interval: Duration::from_secs(3),
            max_retries: 5,
            last_request: None,
        }
    }

    /// Gives up on a request (connecting, sending, reading the whole answer) after
    /// `timeout`: an interactive lookup cannot wait as long as a bulk harvest.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.agent = agent(timeout);
        self
    }

    /// How many `503`s in a row to wait out; 0 answers the first one as
    /// [`HarvestError::Unavailable`] at once.
    pub fn with_max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    pub fn with_min_interval(mut self, min_interval: Duration) -> Self {
        self.min_interval = min_interval;
        self
    }

    /// GETs `url`, waiting as the pacing and any `503 Retry-After` require. Other
    /// statuses are returned for the caller to judge.
    pub fn get(&mut self, url: &str) -> Result<Response, HarvestError> {
        let mut attempts = 0;
        loop {
            self.pace();
            attempts += 1;
            tracing::debug!(url, attempts, "GET");
            let mut response = self
                .agent
                .get(url)
                .call()
                .map_err(|source| HarvestError::Http {
                    url: url.to_owned(),
                    source,
                })?;
            let status = response.status().as_u16();
            if status == 503 || status == 429 {
                if attempts > self.max_retries {
                    return Err(HarvestError::Unavailable {
                        url: url.to_owned(),
                        attempts,
                    });
                }
                let wait = retry_after(response.headers()).unwrap_or(DEFAULT_RETRY_AFTER);
                tracing::info!(url, status, wait_s = wait.as_secs(), "server busy, waiting");
                self.clock.sleep(wait);
                continue;
            }
            let body = response
                .body_mut()
                .with_config()
                .limit(BODY_LIMIT)
                .read_to_vec()
                .map_err(|source| HarvestError::Http {
                    url: url.to_owned(),
                    source,
                })?;
            return Ok(Response { status, body });
        }
    }

    /// Sleeps until `min_interval` has passed since the previous request started.
    fn pace(&mut self) {
        if let Some(last) = self.last_request {
            let elapsed = self.clock.now().saturating_duration_since(last);
            if elapsed < self.min_interval {
                self.clock.sleep(self.min_interval - elapsed);
            }
        }
        self.last_request = Some(self.clock.now());
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        // Statuses are data here: 503 means wait, the arXiv API's 400 carries a feed.
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .user_agent(concat!(
            "papers/",
            env!("CARGO_PKG_VERSION"),
            " (papers-ingest)"
        ))
        .build();
    ureq::Agent::new_with_config(config)
}

/// `Retry-After` in seconds (the form arXiv sends); HTTP dates are not used by arXiv.
fn retry_after(headers: &ureq::http::HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?;
    value.trim().parse().ok().map(Duration::from_secs)
}

/// Fails on any status but 200, quoting the start of the body.
pub(crate) fn expect_ok(url: &str, response: &Response) -> Result<(), HarvestError> {
    if response.status == 200 {
        return Ok(());
    }
    let body: String = String::from_utf8_lossy(&response.body)
        .chars()
        .take(200)
        .collect();
    Err(HarvestError::Status {
        url: url.to_owned(),
        status: response.status,
        body: body.trim().to_owned(),
    })
}

/// Percent-encodes a query value (resumption tokens contain `|`, ids contain `/`).
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_query_values() {
        assert_eq!(encode("6960524|1001"), "6960524%7C1001");
        assert_eq!(encode("cs/9901001,2401.01234"), "cs%2F9901001%2C2401.01234");
    }
}
