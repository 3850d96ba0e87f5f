//! Feed periods as they appear in URLs: `2024-01-02`, `2024-W01`, `2024-01`.

use chrono::{Datelike, Duration, NaiveDate};
use papers_store::FeedPeriod;

/// Which kind of period a route serves: `/papers/date/…`, `/papers/week/…` or
/// `/papers/month/…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PeriodKind {
    Day,
    Week,
    Month,
}

impl PeriodKind {
    /// The period this kind of route names by `text`.
    pub(crate) fn parse(self, text: &str) -> Option<PeriodSpec> {
        match self {
            PeriodKind::Day => PeriodSpec::parse_day(text),
            PeriodKind::Week => PeriodSpec::parse_week(text),
            PeriodKind::Month => PeriodSpec::parse_month(text),
        }
    }

    /// What a reader is told when `text` names no such period.
    pub(crate) fn not_found(self) -> &'static str {
        match self {
            PeriodKind::Day => "no such day; use YYYY-MM-DD",
            PeriodKind::Week => "no such week; use YYYY-Www",
            PeriodKind::Month => "no such month; use YYYY-MM",
        }
    }

    /// The path segment, as in [`PeriodSpec::kind`].
    pub(crate) fn segment(self) -> &'static str {
        match self {
            PeriodKind::Day => "date",
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
        }
    }

    pub(crate) const ALL: [PeriodKind; 3] = [PeriodKind::Day, PeriodKind::Week, PeriodKind::Month];
}

/// A parsed day, ISO week or month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodSpec(pub FeedPeriod);

impl PeriodSpec {
    pub fn parse_day(text: &str) -> Option<PeriodSpec> {
        if text.len() != 10 {
            return None;
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .map(|day| PeriodSpec(FeedPeriod::Day(day)))
    }

    /// `YYYY-Www` (ISO 8601 week, 01–53 as the year has them).
    pub fn parse_week(text: &str) -> Option<PeriodSpec> {
        let (year, week) = text.split_once("-W")?;
        if year.len() != 4 || week.len() != 2 {
            return None;
        }
        let year: i32 = year.parse().ok()?;
        let week: u32 = week.parse().ok()?;
        NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon)?;
        Some(PeriodSpec(FeedPeriod::Week { year, week }))
    }

    /// `YYYY-MM`.
    pub fn parse_month(text: &str) -> Option<PeriodSpec> {
        let (year, month) = text.split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        let year: i32 = year.parse().ok()?;
        let month: u32 = month.parse().ok()?;
        NaiveDate::from_ymd_opt(year, month, 1)?;
        Some(PeriodSpec(FeedPeriod::Month { year, month }))
    }

    /// The URL form.
    pub fn slug(self) -> String {
        match self.0 {
            FeedPeriod::Day(day) => day.format("%Y-%m-%d").to_string(),
            FeedPeriod::Week { year, week } => format!("{year:04}-W{week:02}"),
            FeedPeriod::Month { year, month } => format!("{year:04}-{month:02}"),
        }
    }

    /// `date`, `week` or `month`: the path segment and API parameter name.
    pub fn kind(self) -> &'static str {
        match self.0 {
            FeedPeriod::Day(_) => "date",
            FeedPeriod::Week { .. } => "week",
            FeedPeriod::Month { .. } => "month",
        }
    }

    /// The page path, `/papers/date/2024-01-02`.
    pub fn path(self) -> String {
        format!("/papers/{}/{}", self.kind(), self.slug())
    }

    /// A heading: `Tuesday, 2 January 2024`, `Week 1 of 2024`, `January 2024`.
    pub fn label(self) -> String {
        match self.0 {
            FeedPeriod::Day(day) => day.format("%A, %-d %B %Y").to_string(),
            FeedPeriod::Week { year, week } => match self.0.bounds() {
                Some((start, end)) => format!(
                    "Week {week} of {year} ({} – {})",
                    start.format("%-d %b"),
                    (end - Duration::days(1)).format("%-d %b")
                ),
                None => format!("Week {week} of {year}"),
            },
            FeedPeriod::Month { year, month } => NaiveDate::from_ymd_opt(year, month, 1)
                .map_or_else(
                    || format!("{year}-{month:02}"),
                    |d| d.format("%B %Y").to_string(),
                ),
        }
    }

    /// The period of the same kind that contains `day`.
    pub fn same_kind_containing(self, day: NaiveDate) -> PeriodSpec {
        PeriodSpec(match self.0 {
            FeedPeriod::Day(_) => FeedPeriod::Day(day),
            FeedPeriod::Week { .. } => FeedPeriod::containing_week(day),
            FeedPeriod::Month { .. } => FeedPeriod::Month {
                year: day.year(),
                month: day.month(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_each_kind() {
        for (text, parse) in [
            (
                "2024-01-02",
                PeriodSpec::parse_day as fn(&str) -> Option<PeriodSpec>,
            ),
            ("2024-W01", PeriodSpec::parse_week),
            ("2020-W53", PeriodSpec::parse_week),
            ("2024-02", PeriodSpec::parse_month),
        ] {
            assert_eq!(parse(text).map(PeriodSpec::slug).as_deref(), Some(text));
        }
        assert!(PeriodSpec::parse_week("2021-W53").is_none());
        assert!(PeriodSpec::parse_month("2024-13").is_none());
        assert!(PeriodSpec::parse_day("2024-1-2").is_none());
        assert!(PeriodSpec::parse_day("2024-02-30").is_none());
    }

    #[test]
    fn each_kind_parses_its_own_form_and_names_its_segment() {
        for (kind, text) in [
            (PeriodKind::Day, "2024-01-02"),
            (PeriodKind::Week, "2024-W01"),
            (PeriodKind::Month, "2024-02"),
        ] {
            let spec = kind.parse(text).expect("parses");
            assert_eq!(spec.kind(), kind.segment());
            assert_eq!(spec.slug(), text);
            for other in PeriodKind::ALL.into_iter().filter(|k| *k != kind) {
                assert!(other.parse(text).is_none(), "{other:?} {text}");
            }
        }
    }
}
