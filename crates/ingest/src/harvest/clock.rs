//! The harvester's only source of time, so tests can fake waiting.

use std::time::{Duration, Instant};

/// What the harvester needs of time: reading it and waiting. Tests pass a clock whose
/// `sleep` advances a counter and returns at once.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
    fn sleep(&self, duration: Duration);
}

/// Wall-clock time and real sleeping.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}
