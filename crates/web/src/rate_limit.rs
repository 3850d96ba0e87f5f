//! In-memory limits, enough for one process (a cluster would need a shared store):
//! a token bucket keyed by client address or member, and a back-off for failed
//! log-ins keyed by account.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) struct RateLimiter {
    /// Bucket size, which is also the refill per period.
    capacity: f64,
    /// Tokens added per second.
    rate: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Buckets kept before idle ones are dropped.
const MAX_KEYS: usize = 100_000;

impl RateLimiter {
    pub(crate) fn per_minute(count: u32) -> RateLimiter {
        RateLimiter::per_period(count, Duration::from_secs(60))
    }

    /// `count` at once, refilled evenly over `period`.
    pub(crate) fn per_period(count: u32, period: Duration) -> RateLimiter {
        let capacity = f64::from(count.max(1));
        RateLimiter {
            capacity,
            rate: capacity / period.as_secs_f64().max(1.0),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; false when the bucket is empty.
    pub(crate) fn allow(&self, key: &str) -> bool {
        self.check_at(key, Instant::now()).is_ok()
    }

    /// Takes one token for `key`, or says how long until the next one (for a
    /// `Retry-After`).
    pub(crate) fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    #[cfg(test)]
    fn allow_at(&self, key: &str, now: Instant) -> bool {
        self.check_at(key, now).is_ok()
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = match self.buckets.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let rate = self.rate;
        if buckets.len() >= MAX_KEYS {
            let capacity = self.capacity;
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * rate < capacity
            });
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.capacity,
            updated: now,
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(self.capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

/// Failed log-ins per account. The first `free` failures cost nothing; after that each
/// attempt must wait twice as long after the last failure as the one before (1 s, 2 s,
/// 4 s, … up to `max_delay`). A success clears the count, and so does a quiet spell of
/// `forget_after`. Guessing slows to a crawl, but the owner is never locked out: the
/// wait is told (`Retry-After`) and short for a person who mistyped a few times.
pub(crate) struct Backoff {
    free: u32,
    max_delay: Duration,
    forget_after: Duration,
    failures: Mutex<HashMap<String, Failures>>,
}

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Backoff {
    pub(crate) fn new(free: u32, max_delay: Duration) -> Backoff {
        Backoff {
            free,
            max_delay,
            forget_after: (max_delay * 3).max(Duration::from_secs(15 * 60)),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// How long `key` must still wait before its next attempt; zero when it may try.
    pub(crate) fn wait(&self, key: &str) -> Duration {
        self.wait_at(key, Instant::now())
    }

    pub(crate) fn failed(&self, key: &str) {
        self.failed_at(key, Instant::now());
    }

    pub(crate) fn succeeded(&self, key: &str) {
        self.lock().remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        match self.failures.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn delay(&self, count: u32) -> Duration {
        if count < self.free {
            return Duration::ZERO;
        }
        let doublings = (count - self.free).min(30);
        Duration::from_secs(1u64 << doublings).min(self.max_delay)
    }

    fn wait_at(&self, key: &str, now: Instant) -> Duration {
        let failures = self.lock();
        let Some(entry) = failures.get(key) else {
            return Duration::ZERO;
        };
        if now.duration_since(entry.last) >= self.forget_after {
            return Duration::ZERO;
        }
        (entry.last + self.delay(entry.count)).saturating_duration_since(now)
    }

    fn failed_at(&self, key: &str, now: Instant) {
        let mut failures = self.lock();
        if failures.len() >= MAX_KEYS {
            let forget = self.forget_after;
            failures.retain(|_, entry| now.duration_since(entry.last) < forget);
        }
        let entry = failures.entry(key.to_owned()).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.duration_since(entry.last) >= self.forget_after {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn empties_then_refills() {
        let limiter = RateLimiter::per_minute(3);
        let start = Instant::now();
        assert!((0..3).all(|_| limiter.allow_at("a", start)));
        assert!(!limiter.allow_at("a", start));
        assert!(limiter.allow_at("b", start), "keys are independent");
        assert!(limiter.allow_at("a", start + Duration::from_secs(21)));
    }

    #[test]
    fn says_how_long_until_the_next_token() {
        let limiter = RateLimiter::per_period(2, Duration::from_secs(3600));
        let start = Instant::now();
        assert!(limiter.check_at("m", start).is_ok());
        assert!(limiter.check_at("m", start).is_ok());
        let wait = limiter.check_at("m", start).expect_err("empty");
        assert!((1799..=1800).contains(&wait.as_secs()), "{wait:?}");
        assert!(
            limiter
                .check_at("m", start + Duration::from_secs(1800))
                .is_ok()
        );
    }

    #[test]
    fn failures_slow_an_account_down_without_locking_it() {
        let backoff = Backoff::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(backoff.wait_at("alice", start), Duration::ZERO);
            backoff.failed_at("alice", start);
        }
        // The fourth failure in a row must wait 1 s, then 2 s, 4 s, … capped at 60.
        assert_eq!(backoff.wait_at("alice", start), Duration::from_secs(1));
        assert_eq!(backoff.wait_at("bob", start), Duration::ZERO, "per account");
        let mut at = start;
        let mut waits = Vec::new();
        for _ in 0..8 {
            let wait = backoff.wait_at("alice", at);
            waits.push(wait.as_secs());
            at += wait;
            assert_eq!(backoff.wait_at("alice", at), Duration::ZERO, "never locked");
            backoff.failed_at("alice", at);
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        // A quiet spell forgets; a success clears.
        assert_eq!(
            backoff.wait_at("alice", at + Duration::from_secs(900)),
            Duration::ZERO
        );
        backoff.succeeded("alice");
        assert_eq!(backoff.wait_at("alice", at), Duration::ZERO);
    }
}
