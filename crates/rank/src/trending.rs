//! The trending score: upvotes, discounted by how long a paper has been in the feed.
//!
//! `score = upvotes / (hours_in_feed + 2) ^ 1.5`
//!
//! The same shape as Hacker News' ranking: a paper needs more votes to stay on top the
//! longer it has been out, the `+ 2` keeps a paper from scoring infinitely in its first
//! minutes, and the exponent sets how fast age wins over votes (1.5 halves a paper's
//! score over roughly its first 1.5 days at equal votes). The formula is shown to
//! readers on the trending page, so it must stay this simple.
//!
//! [`rank`] is the one trending order: the feed pages, the JSON API and the digests all
//! call it, so a paper holds the same place everywhere at the same `now`.

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

/// What ranking needs to know about one paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub upvotes: u32,
    /// When the paper entered the feed being ranked; `None` when it is not part of that
    /// feed, which scores it 0 (a digest lists new papers that never reached the
    /// period's feed below the trending ones).
    pub entered: Option<DateTime<Utc>>,
    /// Its first arXiv submission: the first tie-break.
    pub published: Option<DateTime<Utc>>,
    /// The store key: the last tie-break, which makes the order total.
    pub key: i64,
}

/// An item with its trending score.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked<T> {
    pub score: f64,
    pub item: T,
}

/// Orders `items` best first by [`score`] at `now`; `candidate` says what each item is.
///
/// Ties (papers without votes all score 0) go to the more recent submission, papers
/// without a submission date last, and then to the smaller store key. The order is
/// therefore total: the same papers give the same list whatever order they came in
/// and whichever database engine they came from.
pub fn rank<T>(
    items: impl IntoIterator<Item = T>,
    now: DateTime<Utc>,
    candidate: impl Fn(&T) -> Candidate,
) -> Vec<Ranked<T>> {
    let mut ranked: Vec<(Candidate, Ranked<T>)> = items
        .into_iter()
        .map(|item| {
            let paper = candidate(&item);
            let score = paper
                .entered
                .map_or(0.0, |entered| score(paper.upvotes, entered, now));
            (paper, Ranked { score, item })
        })
        .collect();
    ranked.sort_by(|(a, ranked_a), (b, ranked_b)| {
        ranked_b
            .score
            .total_cmp(&ranked_a.score)
            // `None < Some`, so comparing b to a puts undated papers last.
            .then_with(|| b.published.cmp(&a.published))
            .then_with(|| a.key.cmp(&b.key))
    });
    ranked.into_iter().map(|(_, ranked)| ranked).collect()
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

    fn candidate(key: i64, upvotes: u32, entered_hours_ago: Option<i64>) -> Candidate {
        Candidate {
            upvotes,
            entered: entered_hours_ago.map(|hours| now() - Duration::hours(hours)),
            published: Some(now() - Duration::days(key)),
            key,
        }
    }

    fn keys(ranked: &[Ranked<Candidate>]) -> Vec<i64> {
        ranked.iter().map(|r| r.item.key).collect()
    }

    #[test]
    fn rank_orders_by_score_and_reports_it() {
        let papers = [
            candidate(1, 10, Some(48)),
            candidate(2, 30, Some(20)),
            candidate(3, 5, Some(2)),
        ];
        let ranked = rank(papers, now(), |c| *c);
        assert_eq!(keys(&ranked), vec![3, 2, 1]);
        for r in &ranked {
            let entered = r.item.entered.expect("entered");
            assert_eq!(r.score, score(r.item.upvotes, entered, now()));
        }
    }

    #[test]
    fn ties_go_to_the_newer_submission_then_the_smaller_key() {
        let undated = Candidate {
            published: None,
            ..candidate(1, 0, Some(5))
        };
        let same_day_a = candidate(7, 0, Some(5));
        let same_day_b = Candidate {
            key: 4,
            ..same_day_a
        };
        let newest = candidate(2, 0, Some(5));
        // Every paper scores 0; the input order must not matter.
        for papers in [
            vec![undated, same_day_a, same_day_b, newest],
            vec![newest, same_day_b, undated, same_day_a],
        ] {
            let ranked = rank(papers, now(), |c| *c);
            assert!(ranked.iter().all(|r| r.score == 0.0));
            assert_eq!(keys(&ranked), vec![2, 4, 7, 1]);
        }
    }

    #[test]
    fn papers_outside_the_feed_score_zero_and_follow_the_feed() {
        let papers = [candidate(1, 500, None), candidate(2, 1, Some(100))];
        let ranked = rank(papers, now(), |c| *c);
        assert_eq!(keys(&ranked), vec![2, 1]);
        assert_eq!(ranked[1].score, 0.0);
    }

    #[test]
    fn rank_keeps_the_items_it_was_given() {
        let ranked = rank(vec!["b", "a"], now(), |name| Candidate {
            upvotes: u32::from(*name == "a"),
            entered: Some(now()),
            published: None,
            key: 0,
        });
        let names: Vec<&str> = ranked.iter().map(|r| r.item).collect();
        assert_eq!(names, vec!["a", "b"]);
        assert!(rank(Vec::<Candidate>::new(), now(), |c| *c).is_empty());
    }
}
