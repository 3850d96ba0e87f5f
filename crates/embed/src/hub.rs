//! Downloading a model from the Hugging Face hub into the standard cache (with `hf-hub`).
//!
//! This is the last step of model resolution, after an explicit directory and the cache.
//! Files land in `<hf_home>/hub/models--{org}--{name}/` exactly as `huggingface_hub` lays
//! them out (`blobs/`, `snapshots/<commit>/`, `refs/<revision>`), so the next run finds
//! them through [`crate::resolve_model_dir`] with no network at all.
//!
//! Before any transfer, one request with a short timeout asks the hub about the revision
//! (`GET {endpoint}/api/models/{repo}/revision/{revision}`). It serves two purposes: an
//! offline machine or an unreachable endpoint fails within [`Hub::timeout`] instead of
//! hanging (hf-hub's own client has no timeout to set), and the answer names the commit and
//! the files that exist, so optional files are fetched only when the repository has them
//! and every file comes from that one commit.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hf_hub::api::sync::{ApiBuilder, ApiError};
use hf_hub::{Cache, Repo, RepoType};
use serde::Deserialize;

use crate::REQUIRED_FILES;

/// The public hub, used when no endpoint is configured (`HF_ENDPOINT` in the binary).
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// Files read when present: the sentence-transformers modules and truncation length. The
/// configuration of each module listed in `modules.json` is added to these.
const OPTIONAL_FILES: [&str; 2] = ["modules.json", "sentence_bert_config.json"];

/// Where and how to download from.
#[derive(Clone)]
pub struct Hub {
    /// Base URL of the hub, without a trailing slash.
    pub endpoint: String,
    /// Limit on the probe request (connect and answer); a hub that does not answer in
    /// time counts as unreachable.
    pub timeout: Duration,
    /// Show hf-hub's progress bars (on a terminal only: they draw on stderr).
    pub progress: bool,
    /// An access token for gated or private repositories; without one, the token file
    /// the Hugging Face CLI writes (`<hf_home>/token`) is used if it exists.
    pub token: Option<String>,
}

/// Written by hand so that logging a `Hub` never prints the access token.
impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("endpoint", &self.endpoint)
            .field("timeout", &self.timeout)
            .field("progress", &self.progress)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Hub {
    /// The public hub with a ten-second probe and no progress bars.
    pub fn new(endpoint: impl Into<String>) -> Hub {
        Hub {
            endpoint: endpoint.into().trim_end_matches('/').to_owned(),
            timeout: Duration::from_secs(10),
            progress: false,
            token: None,
        }
    }
}

/// Why a download did not produce a model directory.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The probe failed at the transport level: no network, DNS, refused, timed out.
    #[error("the hub at {endpoint} is unreachable: {reason}")]
    Unreachable {
        /// The endpoint asked.
        endpoint: String,
        /// The transport error.
        reason: String,
    },
    /// The hub answered the probe with an error status (404: no such repository or revision).
    #[error("{endpoint} has no {repo} at revision {revision} (HTTP {status})")]
    NotFound {
        /// The endpoint asked.
        endpoint: String,
        /// The repository.
        repo: String,
        /// The revision.
        revision: String,
        /// The HTTP status.
        status: u16,
    },
    /// The probe's answer was not the JSON the hub sends.
    #[error("{endpoint} gave an unexpected answer about {repo}: {reason}")]
    BadAnswer {
        /// The endpoint asked.
        endpoint: String,
        /// The repository.
        repo: String,
        /// What was wrong.
        reason: String,
    },
    /// The repository lacks a file every model needs.
    #[error("{repo} on {endpoint} has no {missing} (not a model this crate can load)")]
    Incomplete {
        /// The endpoint asked.
        endpoint: String,
        /// The repository.
        repo: String,
        /// The missing files, comma-separated.
        missing: String,
    },
    /// Transferring one file failed.
    #[error("downloading {file} from {endpoint}: {source}")]
    Transfer {
        /// The endpoint asked.
        endpoint: String,
        /// The file in the repository.
        file: String,
        /// hf-hub's error.
        source: ApiError,
    },
    /// The revision moved to another commit while files were being fetched.
    #[error(
        "{repo} changed on the hub during the download ({file} came from another commit); run it again"
    )]
    RepositoryChanged {
        /// The repository.
        repo: String,
        /// The file that landed elsewhere.
        file: String,
    },
    /// A file or directory in the cache could not be written or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The revision API's answer, the parts used.
#[derive(Debug, Deserialize)]
struct RevisionInfo {
    sha: String,
    siblings: Vec<Sibling>,
}

#[derive(Debug, Deserialize)]
struct Sibling {
    rfilename: String,
}

#[derive(Debug, Deserialize)]
struct ModuleEntry {
    #[serde(default)]
    path: String,
}

/// Downloads `repo` at `revision` into the cache under `hf_home` and returns the snapshot
/// directory (a complete model directory). Files already in that snapshot are not fetched
/// again, so an interrupted download resumes.
pub fn download_model(
    hub: &Hub,
    hf_home: &Path,
    repo: &str,
    revision: &str,
) -> Result<PathBuf, DownloadError> {
    let cache = Cache::new(hf_home.join("hub"));
    let token = hub.token.clone().or_else(|| cache.token());
    let info = probe(hub, token.as_deref(), repo, revision)?;
    let listed = |name: &str| info.siblings.iter().any(|s| s.rfilename == name);
    let missing: Vec<&str> = REQUIRED_FILES
        .into_iter()
        .filter(|file| !listed(file))
        .collect();
    if !missing.is_empty() {
        return Err(DownloadError::Incomplete {
            endpoint: hub.endpoint.clone(),
            repo: repo.to_owned(),
            missing: missing.join(", "),
        });
    }
    let snapshot = hf_home
        .join("hub")
        .join(Repo::model(repo.to_owned()).folder_name())
        .join("snapshots")
        .join(&info.sha);
    let api = ApiBuilder::from_cache(cache)
        .with_endpoint(hub.endpoint.clone())
        .with_token(token)
        .with_progress(hub.progress)
        .with_retries(2)
        .build()
        .map_err(|source| DownloadError::Transfer {
            endpoint: hub.endpoint.clone(),
            file: String::new(),
            source,
        })?;
    let remote = api.repo(Repo::with_revision(
        repo.to_owned(),
        RepoType::Model,
        revision.to_owned(),
    ));
    let fetch = |file: &str| -> Result<(), DownloadError> {
        let wanted = snapshot.join(file);
        if wanted.is_file() {
            return Ok(());
        }
        tracing::info!(repo, file, endpoint = %hub.endpoint, "downloading model file");
        let path = remote
            .download(file)
            .map_err(|source| DownloadError::Transfer {
                endpoint: hub.endpoint.clone(),
                file: file.to_owned(),
                source,
            })?;
        if path != wanted {
            return Err(DownloadError::RepositoryChanged {
                repo: repo.to_owned(),
                file: file.to_owned(),
            });
        }
        Ok(())
    };
    for file in REQUIRED_FILES {
        fetch(file)?;
    }
    for file in OPTIONAL_FILES {
        if listed(file) {
            fetch(file)?;
        }
    }
    for file in module_configs(&snapshot)? {
        if listed(&file) {
            fetch(&file)?;
        }
    }
    Ok(snapshot)
}

/// Asks the hub about `repo` at `revision`, within `hub.timeout`.
fn probe(
    hub: &Hub,
    token: Option<&str>,
    repo: &str,
    revision: &str,
) -> Result<RevisionInfo, DownloadError> {
    let url = format!(
        "{}/api/models/{repo}/revision/{}",
        hub.endpoint,
        revision.replace('/', "%2F")
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(hub.timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent.get(&url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let bad_answer = |reason: String| DownloadError::BadAnswer {
        endpoint: hub.endpoint.clone(),
        repo: repo.to_owned(),
        reason,
    };
    let mut response = request.call().map_err(|error| DownloadError::Unreachable {
        endpoint: hub.endpoint.clone(),
        reason: error.to_string(),
    })?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(DownloadError::NotFound {
            endpoint: hub.endpoint.clone(),
            repo: repo.to_owned(),
            revision: revision.to_owned(),
            status,
        });
    }
    let body =
        response
            .body_mut()
            .read_to_string()
            .map_err(|error| DownloadError::Unreachable {
                endpoint: hub.endpoint.clone(),
                reason: error.to_string(),
            })?;
    let info: RevisionInfo =
        serde_json::from_str(&body).map_err(|error| bad_answer(error.to_string()))?;
    // The commit names a directory in the cache: it must be one path component.
    if info.sha.is_empty() || !info.sha.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(bad_answer(format!("commit {:?} is not a hash", info.sha)));
    }
    Ok(info)
}

/// `{path}/config.json` of every module in the snapshot's `modules.json` (the pooling
/// settings, for example), when that file was downloaded.
fn module_configs(snapshot: &Path) -> Result<Vec<String>, DownloadError> {
    let path = snapshot.join("modules.json");
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(DownloadError::Io { path, source }),
    };
    // A modules.json that does not parse is reported by the loader, with its path.
    let modules: Vec<ModuleEntry> = serde_json::from_slice(&bytes).unwrap_or_default();
    // Only plain relative paths: a name like `../x` must not reach outside the snapshot.
    let plain = |path: &str| {
        Path::new(path)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
    };
    Ok(modules
        .into_iter()
        .filter(|module| !module.path.is_empty() && plain(&module.path))
        .map(|module| format!("{}/config.json", module.path.trim_end_matches('/')))
        .collect())
}
