//! The trending score: upvotes, discounted by how long a paper has been in the feed.
//!
//! `score = upvotes / (hours_in_feed + 2) ^ 1.5`
//!
//! The same shape as Hacker News' ranking: a paper needs more votes to stay on top the
//! longer it has been out, the `+ 2` keeps a paper from scoring infinitely in its first
//! minutes, and the exponent sets how fast age wins over votes (1.5 halves a paper's
//! score over roughly its first 1.5 days at equal votes). The formula is shown to
//! readers on the trending page, so it must stay this simple.

use chrono::{DateTime, Utc};

/// How strongly age discounts votes.
pub const GRAVITY: f64 = 1.5;
/// Hours added to every age, so new papers do not divide by zero.
pub const AGE_OFFSET_HOURS: f64 = 2.0;

/// The formula as readers see it.
pub const FORMULA: &str = "score = upvotes / (hours since the paper entered the feed + 2)^1.5";

/// The trending score of a paper with `upvotes` that entered the feed at `entered`.
/// A paper dated in the future counts as just entered.
pub fn score(upvotes: u32, entered: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    let age_hours = ((now - entered).num_seconds() as f64 / 3600.0).max(0.0);
    f64::from(upvotes) / (age_hours + AGE_OFFSET_HOURS).powf(GRAVITY)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 10, 12, 0, 0)
            .single()
            .expect("valid time")
    }

    #[test]
    fn matches_the_published_formula() {
        let entered = now() - Duration::hours(14);
        let expected = 100.0 / 16f64.powf(1.5);
        assert!((score(100, entered, now()) - expected).abs() < 1e-12);
        assert_eq!(expected, 1.5625);
    }

    #[test]
    fn more_votes_rank_higher_at_equal_age() {
        let entered = now() - Duration::hours(30);
        assert!(score(10, entered, now()) > score(9, entered, now()));
    }

    #[test]
    fn age_overtakes_votes() {
        let fresh = score(20, now() - Duration::hours(3), now());
        let old = score(100, now() - Duration::days(4), now());
        assert!(fresh > old, "fresh {fresh} old {old}");
    }

    #[test]
    fn future_entries_count_as_new_and_zero_votes_score_zero() {
        let future = now() + Duration::hours(5);
        assert_eq!(score(8, future, now()), score(8, now(), now()));
        assert_eq!(score(0, now(), now()), 0.0);
    }
}
