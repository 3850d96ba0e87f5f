//! Which stretch of the feed a digest covers, and when the scheduler sends.
//!
//! A digest is *due* on a day (`as_of`) and covers the last complete period before
//! it: a daily digest due on D covers feed day D−1; a weekly digest due on any day of
//! an ISO week covers the week before. So sending late (`--as-of` a missed day) gives
//! exactly the digest that was due then, and the period key makes a second run for
//! the same period a no-op. A feed day runs from midnight America/New_York, as
//! arXiv's announcement day does.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use papers_store::{FeedPeriod, Frequency};

/// The time zone in which feed days begin.
pub const FEED_TIME_ZONE: Tz = chrono_tz::America::New_York;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub frequency: Frequency,
    /// First day covered.
    pub start: NaiveDate,
    /// The day after the last day covered.
    pub end: NaiveDate,
    /// `daily:2024-01-02` or `weekly:2024-W01`: the key of exactly-once sending.
    pub key: String,
}

impl Period {
    /// The period of the digest due on `as_of`.
    pub fn due(frequency: Frequency, as_of: NaiveDate) -> Period {
        match frequency {
            Frequency::Daily => {
                let day = as_of - Duration::days(1);
                Period {
                    frequency,
                    start: day,
                    end: as_of,
                    key: format!("daily:{day}"),
                }
            }
            Frequency::Weekly => {
                let week = (as_of - Duration::days(7)).iso_week();
                let monday = as_of
                    - Duration::days(7)
                    - Duration::days(i64::from(
                        (as_of - Duration::days(7)).weekday().num_days_from_monday(),
                    ));
                Period {
                    frequency,
                    start: monday,
                    end: monday + Duration::days(7),
                    key: format!("weekly:{}-W{:02}", week.year(), week.week()),
                }
            }
        }
    }

    pub fn feed_period(&self) -> FeedPeriod {
        match self.frequency {
            Frequency::Daily => FeedPeriod::Day(self.start),
            Frequency::Weekly => FeedPeriod::containing_week(self.start),
        }
    }

    /// The moment trending scores are computed at: the end of the period, so a late
    /// send ranks as the on-time one would have.
    pub fn ranking_time(&self) -> DateTime<Utc> {
        self.end.and_time(NaiveTime::MIN).and_utc()
    }

    /// For subjects and headings: "Tuesday 2 January 2024" or "the week of 1 January 2024".
    pub fn label(&self) -> String {
        match self.frequency {
            Frequency::Daily => self.start.format("%A %-d %B %Y").to_string(),
            Frequency::Weekly => format!("the week of {}", self.start.format("%-d %B %Y")),
        }
    }
}

/// The feed day at `now`: the date in New York. What the scheduler passes as `as_of`.
pub fn feed_day(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&FEED_TIME_ZONE).date_naive()
}

/// The next moment after `now` when the clock in `tz` reads `send_at`. On the day a
/// DST change skips that time, the send moves an hour later; when a time occurs twice,
/// the first one is used.
pub fn next_send_time(now: DateTime<Utc>, send_at: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    for offset in 0..3 {
        let local = (today + Duration::days(offset)).and_time(send_at);
        let resolved = tz.from_local_datetime(&local).earliest().or_else(|| {
            tz.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        });
        if let Some(at) = resolved.map(|t| t.with_timezone(&Utc))
            && at > now
        {
            return at;
        }
    }
    // Unreachable for real zones (a day always has the time within two days); a day
    // later is a safe answer anyway.
    now + Duration::days(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("valid date")
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("valid time")
    }

    #[test]
    fn daily_covers_the_day_before() {
        let period = Period::due(Frequency::Daily, day("2024-01-03"));
        assert_eq!(
            (period.start, period.end),
            (day("2024-01-02"), day("2024-01-03"))
        );
        assert_eq!(period.key, "daily:2024-01-02");
        assert_eq!(period.feed_period(), FeedPeriod::Day(day("2024-01-02")));
        assert_eq!(period.label(), "Tuesday 2 January 2024");
    }

    #[test]
    fn weekly_covers_the_previous_iso_week_whatever_the_day() {
        for as_of in ["2024-01-08", "2024-01-10", "2024-01-14"] {
            let period = Period::due(Frequency::Weekly, day(as_of));
            assert_eq!(period.key, "weekly:2024-W01", "{as_of}");
            assert_eq!(
                (period.start, period.end),
                (day("2024-01-01"), day("2024-01-08"))
            );
        }
        // ISO week years differ from calendar years around New Year.
        assert_eq!(
            Period::due(Frequency::Weekly, day("2021-01-04")).key,
            "weekly:2020-W53"
        );
    }

    #[test]
    fn feed_day_is_new_york_date() {
        assert_eq!(feed_day(utc("2024-01-03T04:59:59Z")), day("2024-01-02"));
        assert_eq!(feed_day(utc("2024-01-03T05:00:00Z")), day("2024-01-03"));
    }

    #[test]
    fn next_send_time_today_tomorrow_and_across_dst() {
        let at = NaiveTime::from_hms_opt(7, 0, 0).expect("valid");
        let ny = chrono_tz::America::New_York;
        assert_eq!(
            next_send_time(utc("2024-01-03T11:00:00Z"), at, ny),
            utc("2024-01-03T12:00:00Z")
        );
        assert_eq!(
            next_send_time(utc("2024-01-03T12:00:00Z"), at, ny),
            utc("2024-01-04T12:00:00Z")
        );
        // 10 March 2024: clocks spring forward, 07:00 EDT is 11:00 UTC.
        assert_eq!(
            next_send_time(utc("2024-03-10T06:00:00Z"), at, ny),
            utc("2024-03-10T11:00:00Z")
        );
        // 02:30 does not exist that day in New York: sent at 03:30 EDT.
        let gap = NaiveTime::from_hms_opt(2, 30, 0).expect("valid");
        assert_eq!(
            next_send_time(utc("2024-03-10T05:00:00Z"), gap, ny),
            utc("2024-03-10T07:30:00Z")
        );
        // 3 November 2024: 01:30 happens twice; the first (EDT) is used.
        let twice = NaiveTime::from_hms_opt(1, 30, 0).expect("valid");
        assert_eq!(
            next_send_time(utc("2024-11-03T04:00:00Z"), twice, ny),
            utc("2024-11-03T05:30:00Z")
        );
        let paris = chrono_tz::Europe::Paris;
        assert_eq!(
            next_send_time(utc("2024-01-03T11:00:00Z"), at, paris),
            utc("2024-01-04T06:00:00Z")
        );
    }
}
