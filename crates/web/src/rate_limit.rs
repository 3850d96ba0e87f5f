//! A small in-memory token-bucket limiter keyed by client address or member. Enough
//! for one process; a cluster would need a shared store.

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
}
