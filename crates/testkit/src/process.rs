//! Helper server processes (the tests' Python scripts): started, awaited until they
//! say they are listening, killed when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

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

/// A memory figure of this process from `/proc/self/status`, in KiB: `field` is its
/// name without the colon (`VmHWM`, `RssAnon`, ...); `None` where /proc is missing.
pub fn process_memory_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        value.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}
