//! Where a build's time goes: the wall time of each of its phases, in order, for the
//! bench (issue 19 asks where the time of a build goes, not only how much it takes).

use std::time::{Duration, Instant};

/// The phases of one build, each with its wall time.
#[derive(Debug, Clone)]
pub struct Phases {
    entries: Vec<(&'static str, Duration)>,
    since: Instant,
}

impl Phases {
    pub(crate) fn start() -> Phases {
        Phases {
            entries: Vec::new(),
            since: Instant::now(),
        }
    }

    /// Ends the phase `name`: the time since the previous mark (or the start).
    pub(crate) fn mark(&mut self, name: &'static str) {
        let now = Instant::now();
        self.entries.push((name, now - self.since));
        self.since = now;
    }

    /// Each phase and its time, in the order they ran.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Duration)> + '_ {
        self.entries.iter().copied()
    }

    /// The time of the phase `name` (zero if it did not run).
    pub fn get(&self, name: &str) -> Duration {
        self.entries
            .iter()
            .filter(|(phase, _)| *phase == name)
            .map(|(_, time)| *time)
            .sum()
    }

    /// The time of every phase together.
    pub fn total(&self) -> Duration {
        self.entries.iter().map(|(_, time)| *time).sum()
    }
}
