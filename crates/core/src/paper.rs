//! The paper record, what each source says about it, and how two accounts of one paper merge.
//!
//! A paper has two sides. The *metadata* (title, abstract, authors, versions…) comes from
//! arXiv in one of several formats, or, less authoritatively, from Hugging Face. The
//! *community* side (the day it entered the daily feed, who submitted it, upvotes)
//! comes from Hugging Face or from members of this site. Merging never lets one side
//! erase the other, and never lets a less authoritative or older account overwrite a
//! better one, so ingesting inputs in any order and any number of times converges.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{ArxivId, Category, Links, find_links};

/// Where a record came from. The order of the variants is the tie-break between two
/// accounts of the same version: later variants win.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// A member submitted the id through the site.
    Submitted,
    /// Hugging Face `/api/daily_papers` or `/api/papers/{id}`.
    HuggingFace,
    /// The Kaggle `arxiv-metadata-oai-snapshot` JSON lines.
    Kaggle,
    /// The arXiv Atom API.
    ArxivApi,
    /// arXiv's `.abs` metadata files.
    AbsFile,
    /// arXiv OAI-PMH (`arXiv` or `arXivRaw` metadata).
    OaiPmh,
}

impl Source {
    pub const ALL: [Source; 6] = [
        Source::Submitted,
        Source::HuggingFace,
        Source::Kaggle,
        Source::ArxivApi,
        Source::AbsFile,
        Source::OaiPmh,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Submitted => "submitted",
            Source::HuggingFace => "huggingface",
            Source::Kaggle => "kaggle",
            Source::ArxivApi => "arxiv-api",
            Source::AbsFile => "abs",
            Source::OaiPmh => "oai-pmh",
        }
    }

    pub fn parse(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// arXiv's own formats are the authority on metadata; Hugging Face copies it.
    pub fn is_arxiv(self) -> bool {
        !matches!(self, Source::Submitted | Source::HuggingFace)
    }
}

/// One arXiv version of a paper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// 1 for `v1`.
    pub number: u32,
    pub created: Option<DateTime<Utc>>,
    /// As arXiv reports it, e.g. `"199kb"`.
    pub size: Option<String>,
}

/// The bibliographic side of a paper.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Metadata {
    pub title: String,
    pub abstract_text: String,
    /// Display names in the order the paper lists them.
    pub authors: Vec<String>,
    /// Primary category first.
    pub categories: Vec<Category>,
    pub doi: Option<String>,
    pub journal_ref: Option<String>,
    pub comments: Option<String>,
    pub report_no: Option<String>,
    pub license: Option<String>,
    pub submitter: Option<String>,
    /// When v1 was submitted.
    pub published: Option<DateTime<Utc>>,
    /// When the paper last changed on arXiv.
    pub updated: Option<DateTime<Utc>>,
    /// Ascending by number; may be empty when a format does not list versions.
    pub versions: Vec<Version>,
}

/// The community side of a paper, as Hugging Face or this site records it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Community {
    /// The day the paper entered the daily feed.
    pub feed_day: Option<NaiveDate>,
    pub submitted_by: Option<String>,
    pub organization: Option<String>,
    /// Upvotes counted by the source (Hugging Face); votes cast on this site are kept
    /// apart, per member, by the store.
    pub upvotes: Option<u32>,
    pub num_comments: Option<u32>,
    pub github_repo: Option<String>,
    pub project_page: Option<String>,
    /// Hugging Face's generated one-paragraph summary (`ai_summary`).
    #[serde(default)]
    pub ai_summary: Option<String>,
    /// Hugging Face's generated keywords (`ai_keywords`).
    #[serde(default)]
    pub ai_keywords: Vec<String>,
    /// Stars of the paper's GitHub repository, as Hugging Face counted them.
    #[serde(default)]
    pub github_stars: Option<u32>,
    /// The organisation's display name (`organization` holds its account name).
    #[serde(default)]
    pub organization_fullname: Option<String>,
    /// The organisation's avatar image URL.
    #[serde(default)]
    pub organization_avatar: Option<String>,
    /// The paper's thumbnail image URL.
    #[serde(default)]
    pub thumbnail: Option<String>,
    /// Images and videos Hugging Face shows with the paper (`mediaUrls`).
    #[serde(default)]
    pub media_urls: Vec<String>,
}

/// One account of a paper, as a parser yields it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperRecord {
    pub id: ArxivId,
    pub source: Source,
    pub metadata: Metadata,
    pub community: Option<Community>,
}

/// A paper as stored: the merged result of every record seen for its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paper {
    pub id: ArxivId,
    pub metadata: Metadata,
    /// The source whose account the metadata currently follows.
    pub metadata_source: Source,
    pub community: Community,
}

impl Metadata {
    pub fn latest_version(&self) -> u32 {
        self.versions.iter().map(|v| v.number).max().unwrap_or(0)
    }

    pub fn primary_category(&self) -> Option<&Category> {
        self.categories.first()
    }
}

impl Paper {
    pub fn from_record(record: PaperRecord) -> Paper {
        let mut metadata = record.metadata;
        metadata.versions.sort_by_key(|v| v.number);
        metadata.versions.dedup_by_key(|v| v.number);
        Paper {
            id: record.id,
            metadata,
            metadata_source: record.source,
            community: record.community.unwrap_or_default(),
        }
    }

    /// Folds another account of this paper in. Returns whether anything changed, so
    /// the store can skip writing a paper that a re-ingest left as it was.
    pub fn merge(&mut self, record: PaperRecord) -> bool {
        debug_assert_eq!(self.id, record.id);
        let before = self.clone();
        if let Some(community) = record.community {
            merge_community(&mut self.community, community);
        }
        let incoming = Paper::from_record(PaperRecord {
            community: None,
            ..record
        });
        if precedence(&incoming) > precedence(self) {
            let older = std::mem::replace(&mut self.metadata, incoming.metadata);
            self.metadata_source = incoming.metadata_source;
            fill_missing(&mut self.metadata, older);
        } else {
            fill_missing(&mut self.metadata, incoming.metadata);
        }
        *self != before
    }

    /// GitHub and project links: those the community side names, else those found in
    /// the abstract and comments.
    pub fn links(&self) -> Links {
        let found = find_links(
            [
                self.metadata.abstract_text.as_str(),
                self.metadata.comments.as_deref().unwrap_or(""),
            ]
            .into_iter(),
        );
        Links {
            github: self.community.github_repo.clone().or(found.github),
            project_page: self.community.project_page.clone().or(found.project_page),
        }
    }
}

/// Which account of the metadata wins: arXiv over Hugging Face, then the later
/// version, then the later update, then the fixed source order (so ties resolve the
/// same way whatever order inputs arrive in).
fn precedence(paper: &Paper) -> (bool, u32, Option<DateTime<Utc>>, Source) {
    let metadata = &paper.metadata;
    (
        paper.metadata_source.is_arxiv(),
        metadata.latest_version(),
        metadata.updated.or(metadata.published),
        paper.metadata_source,
    )
}

/// Fills what `target` lacks from `other`, and unions the version lists.
fn fill_missing(target: &mut Metadata, other: Metadata) {
    fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
        if slot.is_none() {
            *slot = value;
        }
    }
    if target.title.is_empty() {
        target.title = other.title;
    }
    if target.abstract_text.is_empty() {
        target.abstract_text = other.abstract_text;
    }
    if target.authors.is_empty() {
        target.authors = other.authors;
    }
    if target.categories.is_empty() {
        target.categories = other.categories;
    }
    fill(&mut target.doi, other.doi);
    fill(&mut target.journal_ref, other.journal_ref);
    fill(&mut target.comments, other.comments);
    fill(&mut target.report_no, other.report_no);
    fill(&mut target.license, other.license);
    fill(&mut target.submitter, other.submitter);
    // The v1 date is a fact about the paper, so the earliest report of it is kept.
    target.published = match (target.published, other.published) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    fill(&mut target.updated, other.updated);
    for version in other.versions {
        match target
            .versions
            .iter_mut()
            .find(|v| v.number == version.number)
        {
            Some(existing) => {
                fill(&mut existing.created, version.created);
                fill(&mut existing.size, version.size);
            }
            None => target.versions.push(version),
        }
    }
    target.versions.sort_by_key(|v| v.number);
}

/// Counts only grow and the feed day is the first one seen, so re-ingesting older
/// snapshots never rolls anything back.
fn merge_community(target: &mut Community, incoming: Community) {
    fn max<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
        match (a, b) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
    target.feed_day = match (target.feed_day, incoming.feed_day) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    target.upvotes = max(target.upvotes, incoming.upvotes);
    target.num_comments = max(target.num_comments, incoming.num_comments);
    target.github_stars = max(target.github_stars, incoming.github_stars);
    for (slot, value) in [
        (&mut target.submitted_by, incoming.submitted_by),
        (&mut target.organization, incoming.organization),
        (&mut target.github_repo, incoming.github_repo),
        (&mut target.project_page, incoming.project_page),
        (&mut target.ai_summary, incoming.ai_summary),
        (
            &mut target.organization_fullname,
            incoming.organization_fullname,
        ),
        (
            &mut target.organization_avatar,
            incoming.organization_avatar,
        ),
        (&mut target.thumbnail, incoming.thumbnail),
    ] {
        if slot.is_none() {
            *slot = value;
        }
    }
    for (list, value) in [
        (&mut target.ai_keywords, incoming.ai_keywords),
        (&mut target.media_urls, incoming.media_urls),
    ] {
        if list.is_empty() {
            *list = value;
        }
    }
}

#[cfg(test)]
mod tests;
