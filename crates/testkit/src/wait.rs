//! Waiting for something a test can observe (a file, a row, an answer on a port) with
//! a deadline, instead of sleeping for a guessed time.

use std::time::{Duration, Instant};

/// How often a condition is checked again.
const POLL: Duration = Duration::from_millis(20);

/// Checks `condition` until it holds (returning how long that took) or `limit`
/// passes (`None`). The condition may itself panic, e.g. when a process it watches
/// ended early.
pub fn poll_until(limit: Duration, mut condition: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    loop {
        if condition() {
            return Some(started.elapsed());
        }
        if started.elapsed() > limit {
            return None;
        }
        std::thread::sleep(POLL);
    }
}

/// [`poll_until`] that fails the test, naming `what`, when `limit` passes.
pub fn wait_for(what: &str, limit: Duration, condition: impl FnMut() -> bool) -> Duration {
    poll_until(limit, condition).unwrap_or_else(|| panic!("{what}: not within {limit:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_once_the_condition_holds() {
        let mut calls = 0;
        let took = poll_until(Duration::from_secs(5), || {
            calls += 1;
            calls == 3
        });
        assert!(took.is_some());
        assert_eq!(calls, 3);
    }

    #[test]
    fn gives_up_at_the_limit() {
        assert_eq!(poll_until(Duration::ZERO, || false), None);
    }
}
