//! Feed queries: the papers that entered the daily feed on a day, in an ISO week or a
//! month, sorted by upvotes, trending score or date, optionally within one category.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use papers_rank::trending::{self, Candidate};

use crate::db::{ToValue, Value, args};
use crate::read::{PAPER_COLUMNS, paper_from_row};
use crate::{Store, StoreError, StoredPaper};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedPeriod {
    Day(NaiveDate),
    /// An ISO 8601 week: Monday to Sunday.
    Week {
        year: i32,
        week: u32,
    },
    Month {
        year: i32,
        month: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedSort {
    Upvotes,
    /// [`papers_rank::trending::rank`] at the given moment.
    Trending {
        now: DateTime<Utc>,
    },
    /// Most recent arXiv submission first.
    Newest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedQuery {
    pub period: FeedPeriod,
    pub sort: FeedSort,
    pub category: Option<String>,
    pub submitter: Option<String>,
    pub organization: Option<String>,
    pub offset: usize,
    pub limit: usize,
}

/// One paper in a feed, with its trending score when the feed is sorted by it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedItem {
    pub paper: StoredPaper,
    pub trending: Option<f64>,
}

impl FeedPeriod {
    /// The first day of the period and the day after its last.
    pub fn bounds(self) -> Option<(NaiveDate, NaiveDate)> {
        match self {
            FeedPeriod::Day(day) => Some((day, day.succ_opt()?)),
            FeedPeriod::Week { year, week } => {
                let monday = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)?;
                Some((monday, monday + Duration::days(7)))
            }
            FeedPeriod::Month { year, month } => {
                let first = NaiveDate::from_ymd_opt(year, month, 1)?;
                let next = if month == 12 {
                    NaiveDate::from_ymd_opt(year + 1, 1, 1)?
                } else {
                    NaiveDate::from_ymd_opt(year, month + 1, 1)?
                };
                Some((first, next))
            }
        }
    }

    pub fn containing_week(day: NaiveDate) -> FeedPeriod {
        let week = day.iso_week();
        FeedPeriod::Week {
            year: week.year(),
            week: week.week(),
        }
    }
}

impl StoredPaper {
    /// The paper as trending ranks it: it entered the feed at the start of its feed day.
    pub fn trending_candidate(&self) -> Candidate {
        Candidate {
            upvotes: self.upvotes(),
            entered: self
                .paper
                .community
                .feed_day
                .map(|day| day.and_time(NaiveTime::MIN).and_utc()),
            published: self.paper.metadata.published,
            key: self.key,
        }
    }
}

/// Feed papers in trending order at `now`, each with its score: the store's feeds and
/// the site's trending page rank through this, with
/// [`papers_rank::trending::rank`]'s tie-break.
pub fn rank_trending(
    papers: impl IntoIterator<Item = StoredPaper>,
    now: DateTime<Utc>,
) -> Vec<FeedItem> {
    trending::rank(papers, now, StoredPaper::trending_candidate)
        .into_iter()
        .map(|ranked| FeedItem {
            paper: ranked.item,
            trending: Some(ranked.score),
        })
        .collect()
}

impl Store {
    /// One page of a feed and the number of papers in the whole feed.
    pub fn feed(&self, query: &FeedQuery) -> Result<(Vec<FeedItem>, usize), StoreError> {
        let Some((start, end)) = query.period.bounds() else {
            return Ok((Vec::new(), 0));
        };
        let mut conditions = vec!["feed_day >= ?".to_owned(), "feed_day < ?".to_owned()];
        let mut values = vec![start.to_string(), end.to_string()];
        if let Some(category) = &query.category {
            conditions.push(
                "key IN (SELECT paper_key FROM paper_categories WHERE category = ?)".to_owned(),
            );
            values.push(category.clone());
        }
        if let Some(submitter) = &query.submitter {
            conditions.push("submitted_by = ?".to_owned());
            values.push(submitter.clone());
        }
        if let Some(organization) = &query.organization {
            conditions.push("organization = ?".to_owned());
            values.push(organization.clone());
        }
        let order = match query.sort {
            FeedSort::Upvotes => {
                "COALESCE(source_upvotes, 0) + member_upvotes DESC, published DESC, key"
            }
            // Ranked below, in one order on both engines.
            FeedSort::Trending { .. } => "key",
            FeedSort::Newest => "published DESC, key",
        };
        let sql = format!(
            "SELECT {PAPER_COLUMNS} FROM papers WHERE {} ORDER BY {order}",
            conditions.join(" AND ")
        );
        let values: Vec<Value> = values.iter().map(ToValue::to_value).collect();
        let mut items = Vec::new();
        self.db.for_each(&sql, &values, |row| {
            items.push(FeedItem {
                paper: paper_from_row(row)?,
                trending: None,
            });
            Ok(())
        })?;
        if let FeedSort::Trending { now } = query.sort {
            items = rank_trending(items.into_iter().map(|item| item.paper), now);
        }
        let total = items.len();
        let page = items
            .into_iter()
            .skip(query.offset)
            .take(query.limit)
            .collect();
        Ok((page, total))
    }

    /// The most recent day that has papers in the feed.
    pub fn latest_feed_day(&self) -> Result<Option<NaiveDate>, StoreError> {
        let day: Option<String> = self
            .db
            .query_one(
                "SELECT MAX(feed_day) FROM papers WHERE feed_day IS NOT NULL",
                &[],
            )?
            .get(0)?;
        crate::codec::parse_day("feed", day)
    }

    /// The nearest feed days with papers before and after `day`, for previous/next links.
    pub fn neighbouring_feed_days(
        &self,
        day: NaiveDate,
    ) -> Result<(Option<NaiveDate>, Option<NaiveDate>), StoreError> {
        let text = day.to_string();
        let previous: Option<String> = self
            .db
            .query_one(
                "SELECT MAX(feed_day) FROM papers WHERE feed_day < ?1",
                args![text],
            )?
            .get(0)?;
        let next: Option<String> = self
            .db
            .query_one(
                "SELECT MIN(feed_day) FROM papers WHERE feed_day > ?1",
                args![text],
            )?
            .get(0)?;
        Ok((
            crate::codec::parse_day("feed", previous)?,
            crate::codec::parse_day("feed", next)?,
        ))
    }
}
