//! What members follow (an author, an organisation, a category, a saved search, a
//! topic) and the papers those bring: the `/following` page and author pages read from
//! here. Saved searches are run by the search index and topics are the topic map's,
//! not here: the store lists them.
//!
//! Author names match ignoring case, the same on both engines: SQL narrows the papers
//! with a pattern both engines read alike (`LOWER(authors) LIKE` a lowercase pattern, every non-ASCII
//! character a one-character wildcard, since SQLite folds only ASCII), and
//! [`same_author`] decides.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};

use crate::codec::{authors, parse_timestamp, timestamp};
use crate::db::args;
use crate::read::{PAPER_COLUMNS, paper_from_row};
use crate::{Store, StoreError, StoredPaper};

/// What is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FollowKind {
    Author,
    Organization,
    Category,
    Query,
    /// A topic of the topic map, by its stable id.
    Topic,
}

impl FollowKind {
    pub const ALL: [FollowKind; 5] = [
        FollowKind::Author,
        FollowKind::Organization,
        FollowKind::Category,
        FollowKind::Query,
        FollowKind::Topic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FollowKind::Author => "author",
            FollowKind::Organization => "organization",
            FollowKind::Category => "category",
            FollowKind::Query => "query",
            FollowKind::Topic => "topic",
        }
    }

    pub fn parse(text: &str) -> Option<FollowKind> {
        FollowKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

impl fmt::Display for FollowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follow {
    pub id: i64,
    pub kind: FollowKind,
    pub value: String,
    pub created: Option<DateTime<Utc>>,
}

/// Whether two author names are the same name: equal ignoring case (Unicode).
pub fn same_author(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// A `LIKE` pattern matching (at least) every JSON author list with an element that is
/// `name` ignoring case, on both engines: `\` escapes the pattern's own wildcards and
/// each non-ASCII character becomes `_`, since SQLite's `LOWER` and `LIKE` fold ASCII
/// only. The caller checks the candidates with [`same_author`].
fn author_pattern(name: &str) -> String {
    let quoted = authors(&[name.to_owned()]);
    let element = quoted.trim_start_matches('[').trim_end_matches(']');
    let mut escaped = String::with_capacity(element.len() + 2);
    for c in element.chars() {
        match c {
            '\\' | '%' | '_' => {
                escaped.push('\\');
                escaped.push(c);
            }
            c if !c.is_ascii() => escaped.push('_'),
            c => escaped.push(c.to_ascii_lowercase()),
        }
    }
    format!("%{escaped}%")
}

impl Store {
    /// Follows something; returns the follow and whether it is new.
    pub fn follow(
        &self,
        user_id: i64,
        kind: FollowKind,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<(Follow, bool), StoreError> {
        let added = self.db.execute(
            "INSERT INTO follows (user_id, kind, value, created) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT DO NOTHING",
            args![user_id, kind.as_str(), value, timestamp(Some(now))],
        )?;
        let row = self.db.query_one(
            "SELECT id, created FROM follows WHERE user_id = ?1 AND kind = ?2 AND value = ?3",
            args![user_id, kind.as_str(), value],
        )?;
        let id: i64 = row.get(0)?;
        Ok((
            Follow {
                id,
                kind,
                value: value.to_owned(),
                created: parse_timestamp(&format!("follow {id}"), row.get(1)?)?,
            },
            added == 1,
        ))
    }

    /// Stops following; false when the member has no such follow.
    pub fn unfollow(&self, user_id: i64, follow_id: i64) -> Result<bool, StoreError> {
        let removed = self.db.execute(
            "DELETE FROM follows WHERE id = ?1 AND user_id = ?2",
            args![follow_id, user_id],
        )?;
        Ok(removed == 1)
    }

    /// The member's follows, by kind then value.
    pub fn follows_of(&self, user_id: i64) -> Result<Vec<Follow>, StoreError> {
        let mut follows = Vec::new();
        for row in self.db.query(
            "SELECT id, kind, value, created FROM follows WHERE user_id = ?1 ORDER BY id",
            args![user_id],
        )? {
            let id: i64 = row.get(0)?;
            let kind: String = row.get(1)?;
            let Some(kind) = FollowKind::parse(&kind) else {
                continue;
            };
            follows.push(Follow {
                id,
                kind,
                value: row.get(2)?,
                created: parse_timestamp(&format!("follow {id}"), row.get(3)?)?,
            });
        }
        follows.sort_by(|a, b| (a.kind, &a.value).cmp(&(b.kind, &b.value)));
        Ok(follows)
    }

    /// Papers listing `name` among their authors (ignoring case, see the module doc),
    /// newest first.
    pub fn papers_by_author(
        &self,
        name: &str,
        limit: usize,
    ) -> Result<Vec<StoredPaper>, StoreError> {
        let mut papers = Vec::new();
        for row in self.db.query(
            &format!(
                "SELECT {PAPER_COLUMNS} FROM papers WHERE LOWER(authors) LIKE ?1 ESCAPE '\\' \
                 ORDER BY published DESC, key DESC"
            ),
            args![author_pattern(name)],
        )? {
            let paper = paper_from_row(row)?;
            if paper
                .paper
                .metadata
                .authors
                .iter()
                .any(|author| same_author(author, name))
            {
                papers.push(paper);
                if papers.len() == limit {
                    break;
                }
            }
        }
        Ok(papers)
    }

    /// The newest papers of what the member follows (authors, organisations and
    /// categories; saved searches are the index's, topics the topic map's), each once, newest first, with the
    /// follows that brought it.
    pub fn followed_papers(
        &self,
        user_id: i64,
        limit: usize,
    ) -> Result<Vec<(StoredPaper, Vec<Follow>)>, StoreError> {
        let mut found: HashMap<i64, (StoredPaper, Vec<Follow>)> = HashMap::new();
        for follow in self.follows_of(user_id)? {
            let papers = match follow.kind {
                FollowKind::Author => self.papers_by_author(&follow.value, limit)?,
                FollowKind::Organization => self
                    .db
                    .query(
                        &format!(
                            "SELECT {PAPER_COLUMNS} FROM papers WHERE organization = ?1 \
                             ORDER BY published DESC, key DESC LIMIT ?2"
                        ),
                        args![follow.value, limit],
                    )?
                    .into_iter()
                    .map(paper_from_row)
                    .collect::<Result<_, _>>()?,
                FollowKind::Category => self
                    .db
                    .query(
                        &format!(
                            "SELECT {PAPER_COLUMNS} FROM papers WHERE key IN \
                             (SELECT paper_key FROM paper_categories WHERE category = ?1) \
                             ORDER BY published DESC, key DESC LIMIT ?2"
                        ),
                        args![follow.value, limit],
                    )?
                    .into_iter()
                    .map(paper_from_row)
                    .collect::<Result<_, _>>()?,
                FollowKind::Query | FollowKind::Topic => Vec::new(),
            };
            for paper in papers {
                found
                    .entry(paper.key)
                    .or_insert_with(|| (paper, Vec::new()))
                    .1
                    .push(follow.clone());
            }
        }
        let mut papers: Vec<(StoredPaper, Vec<Follow>)> = found.into_values().collect();
        papers.sort_by(|(a, _), (b, _)| a.cmp_newest_first(b));
        papers.truncate(limit);
        Ok(papers)
    }
}

#[cfg(test)]
mod tests {
    use super::author_pattern;

    #[test]
    fn author_patterns_match_whole_names_and_escape_wildcards() {
        assert_eq!(author_pattern("Ada Lovelace"), "%\"ada lovelace\"%");
        assert_eq!(author_pattern("100%_sure"), "%\"100\\%\\_sure\"%");
        assert_eq!(author_pattern("Émile Zoë"), "%\"_mile zo_\"%");
        assert!(super::same_author("ÉMILE Zoë", "émile zoë"));
        assert!(!super::same_author("Emile Zoe", "Émile Zoë"));
    }
}
