//! Hugging Face `/api/daily_papers` (an array of feed entries) and `/api/papers/{id}`
//! (one paper object) responses.
//!
//! These carry the community side of a paper: the feed day, upvotes, comments, who
//! submitted it. The metadata is a copy of arXiv's without categories. A response is
//! one small JSON document, read whole; a bad entry is reported with its index and
//! the others are still read.

use std::io::Read;
use std::path::Path;

use papers_core::{Community, Metadata, PaperRecord, Source};
use serde::Deserialize;

use super::{Item, Positioned, parse_bare_id, require_title};
use crate::error::{ErrorKind, IngestError, Position};
use crate::input::{Input, Progress};
use crate::text::{normalize_whitespace, optional, parse_iso8601};

/// An entry of the daily feed: the paper plus who put it on the feed and when.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DailyEntry {
    paper: HfPaper,
    /// When the paper entered the feed; its UTC date is the feed day.
    published_at: Option<String>,
    title: Option<String>,
    num_comments: Option<u32>,
    submitted_by: Option<Who>,
    organization: Option<Who>,
    thumbnail: Option<String>,
    #[serde(default)]
    media_urls: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HfPaper {
    id: String,
    #[serde(default)]
    authors: Vec<Author>,
    /// The arXiv v1 date.
    published_at: Option<String>,
    title: Option<String>,
    summary: Option<String>,
    upvotes: Option<u32>,
    num_comments: Option<u32>,
    github_repo: Option<String>,
    project_page: Option<String>,
    organization: Option<Who>,
    submitted_on_daily_by: Option<Who>,
    submitted_on_daily_at: Option<String>,
    /// Snake case in the API, unlike the rest.
    #[serde(rename = "ai_summary")]
    ai_summary: Option<String>,
    #[serde(rename = "ai_keywords", default)]
    ai_keywords: Vec<String>,
    github_stars: Option<u32>,
    thumbnail: Option<String>,
    #[serde(default)]
    media_urls: Vec<String>,
}

#[derive(Deserialize)]
struct Author {
    name: Option<String>,
}

/// A user or organisation, which the API gives either as an object or, in some
/// versions, as a bare name.
#[derive(Deserialize)]
#[serde(untagged)]
enum Who {
    Name(String),
    Object {
        name: Option<String>,
        user: Option<String>,
        fullname: Option<String>,
        avatar: Option<String>,
    },
}

impl Who {
    /// The display name and avatar URL (http or https only), when given.
    fn details(&self) -> (Option<String>, Option<String>) {
        match self {
            Who::Name(_) => (None, None),
            Who::Object {
                fullname, avatar, ..
            } => (optional(fullname.as_deref()), web_url(avatar.as_deref())),
        }
    }

    /// The account name (`ClownRat`), which is stable, before the display name.
    fn into_name(self) -> Option<String> {
        match self {
            Who::Name(name) => optional(Some(&name)),
            Who::Object {
                name,
                user,
                fullname,
                ..
            } => optional(name.or(user).or(fullname).as_deref()),
        }
    }
}

/// Parses a daily-papers response body; one result per entry, by index.
pub fn parse_daily_papers(body: &[u8]) -> Result<Vec<Result<PaperRecord, ErrorKind>>, ErrorKind> {
    let entries: Vec<serde_json::Value> = serde_json::from_slice(body)?;
    Ok(entries
        .into_iter()
        .map(|value| {
            let entry: DailyEntry = serde_json::from_value(value)?;
            daily_record(entry)
        })
        .collect())
}

/// Parses a `/api/papers/{id}` response body.
pub fn parse_paper(body: &[u8]) -> Result<PaperRecord, ErrorKind> {
    let mut paper: HfPaper = serde_json::from_slice(body)?;
    let feed_day = paper
        .submitted_on_daily_at
        .as_deref()
        .and_then(parse_iso8601);
    let submitted_by = paper.submitted_on_daily_by.take_name();
    paper_record(
        paper,
        Entry {
            feed_time: feed_day,
            submitted_by,
            ..Entry::default()
        },
    )
}

/// What a daily-feed entry says beside its paper object.
#[derive(Default)]
struct Entry {
    title: Option<String>,
    feed_time: Option<chrono::DateTime<chrono::Utc>>,
    submitted_by: Option<String>,
    organization: Option<Who>,
    num_comments: Option<u32>,
    thumbnail: Option<String>,
    media_urls: Vec<String>,
}

/// `text` if it is an absolute http or https URL: only those become links or images.
fn web_url(text: Option<&str>) -> Option<String> {
    let text = optional(text)?;
    let lower = text.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(text)
}

trait TakeName {
    fn take_name(&mut self) -> Option<String>;
}

impl TakeName for Option<Who> {
    fn take_name(&mut self) -> Option<String> {
        self.take().and_then(Who::into_name)
    }
}

fn daily_record(entry: DailyEntry) -> Result<PaperRecord, ErrorKind> {
    paper_record(
        entry.paper,
        Entry {
            title: entry.title,
            feed_time: entry.published_at.as_deref().and_then(parse_iso8601),
            submitted_by: entry.submitted_by.and_then(Who::into_name),
            organization: entry.organization,
            num_comments: entry.num_comments,
            thumbnail: entry.thumbnail,
            media_urls: entry.media_urls,
        },
    )
}

fn paper_record(mut paper: HfPaper, entry: Entry) -> Result<PaperRecord, ErrorKind> {
    let id = parse_bare_id(&paper.id)?;
    let title = paper
        .title
        .as_deref()
        .or(entry.title.as_deref())
        .unwrap_or("");
    let metadata = Metadata {
        title: require_title(normalize_whitespace(title))?,
        abstract_text: normalize_whitespace(paper.summary.as_deref().unwrap_or("")),
        authors: paper
            .authors
            .iter()
            .filter_map(|author| optional(author.name.as_deref()))
            .collect(),
        published: paper.published_at.as_deref().and_then(parse_iso8601),
        ..Metadata::default()
    };
    // The entry's organisation, else the paper's.
    let organization = entry.organization.or_else(|| paper.organization.take());
    let (organization_fullname, organization_avatar) =
        organization.as_ref().map(Who::details).unwrap_or_default();
    let media_urls = if entry.media_urls.is_empty() {
        paper.media_urls
    } else {
        entry.media_urls
    };
    let community = Community {
        feed_day: entry.feed_time.map(|time| time.date_naive()),
        submitted_by: entry
            .submitted_by
            .or_else(|| paper.submitted_on_daily_by.take_name()),
        organization: organization.and_then(Who::into_name),
        upvotes: paper.upvotes,
        num_comments: entry.num_comments.or(paper.num_comments),
        github_repo: optional(paper.github_repo.as_deref()),
        project_page: optional(paper.project_page.as_deref()),
        ai_summary: optional(paper.ai_summary.as_deref()),
        ai_keywords: paper
            .ai_keywords
            .iter()
            .filter_map(|keyword| optional(Some(keyword.as_str())))
            .collect(),
        github_stars: paper.github_stars,
        organization_fullname,
        organization_avatar,
        thumbnail: web_url(entry.thumbnail.as_deref().or(paper.thumbnail.as_deref())),
        media_urls: media_urls
            .iter()
            .filter_map(|url| web_url(Some(url)))
            .collect(),
    };
    Ok(PaperRecord {
        id,
        source: Source::HuggingFace,
        metadata,
        community: Some(community),
    })
}

fn read_body(path: &Path, progress: &Progress) -> Result<Vec<u8>, IngestError> {
    let mut input = Input::open(path, progress)?;
    let mut body = Vec::new();
    input
        .reader
        .read_to_end(&mut body)
        .map_err(|error| input.read_error(error, None))?;
    Ok(body)
}

pub(crate) fn read_daily_papers(
    path: &Path,
    progress: &Progress,
) -> Result<Vec<Item>, IngestError> {
    let body = read_body(path, progress)?;
    let entries = parse_daily_papers(&body).map_err(|kind| IngestError::new(path, None, kind))?;
    Ok(entries
        .into_iter()
        .zip(1..)
        .map(|(result, index)| {
            let position = Position::Record(index);
            result
                .map(|record| Positioned { record, position })
                .map_err(|kind| IngestError::new(path, Some(position), kind))
        })
        .collect())
}

pub(crate) fn read_paper(path: &Path, progress: &Progress) -> Result<Vec<Item>, IngestError> {
    let body = read_body(path, progress)?;
    let position = Position::Record(1);
    Ok(vec![
        parse_paper(&body)
            .map(|record| Positioned { record, position })
            .map_err(|kind| IngestError::new(path, Some(position), kind)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_object_with_community_fields() {
        let body = br#"{"id":"2410.17243","authors":[{"name":"Zesen Cheng"},{"name":"Hang Zhang"}],
            "publishedAt":"2024-10-22T17:59:30.000Z","title":"Breaking the\n  Memory Barrier",
            "summary":"S","upvotes":64,"githubRepo":"https://github.com/DAMO-NLP-SG/Inf-CLIP",
            "projectPage":"https://example.org","organization":{"name":"DAMO-NLP-SG","fullname":"DAMO"},
            "submittedOnDailyBy":{"user":"ClownRat","fullname":"Zesen Cheng"},
            "submittedOnDailyAt":"2024-10-25T00:57:09.392Z"}"#;
        let record = parse_paper(body).expect("valid paper");
        assert_eq!(record.metadata.title, "Breaking the Memory Barrier");
        assert!(record.metadata.categories.is_empty());
        let community = record.community.expect("community side");
        assert_eq!(community.upvotes, Some(64));
        assert_eq!(community.submitted_by.as_deref(), Some("ClownRat"));
        assert_eq!(community.organization.as_deref(), Some("DAMO-NLP-SG"));
        assert_eq!(
            community.feed_day.map(|d| d.to_string()).as_deref(),
            Some("2024-10-25")
        );
        assert_eq!(
            community.github_repo.as_deref(),
            Some("https://github.com/DAMO-NLP-SG/Inf-CLIP")
        );
    }

    /// The fields of today's API that readers see: generated summary and keywords,
    /// stars, the organisation's display name and avatar, thumbnail and media; only
    /// http(s) URLs are kept.
    #[test]
    fn daily_entry_with_the_readers_fields() {
        let body = br#"[{"paper":{"id":"2501.00001","title":"T","summary":"S",
            "ai_summary":"  A model that\n reads papers. ","ai_keywords":["retrieval"," ", "RAG"],
            "githubRepo":"https://github.com/o/r","githubStars":1234,
            "organization":{"_id":"x","name":"acme","fullname":"ACME Research","avatar":"https://cdn.example/acme.png"},
            "mediaUrls":["https://cdn.example/fig.png","javascript:alert(1)"]},
            "publishedAt":"2025-01-02T10:00:00.000Z","title":"T","numComments":3,
            "thumbnail":"https://cdn.example/thumb.png"},
            {"paper":{"id":"2501.00002","title":"U","organization":{"name":"evil","avatar":"data:image/png;base64,AA"}},
            "thumbnail":"javascript:alert(1)"}]"#;
        let results = parse_daily_papers(body).expect("valid array");
        let community = results[0]
            .as_ref()
            .expect("entry")
            .community
            .clone()
            .expect("community");
        assert_eq!(
            community.ai_summary.as_deref(),
            Some("A model that reads papers.")
        );
        assert_eq!(community.ai_keywords, ["retrieval", "RAG"]);
        assert_eq!(community.github_stars, Some(1234));
        assert_eq!(community.organization.as_deref(), Some("acme"));
        assert_eq!(
            community.organization_fullname.as_deref(),
            Some("ACME Research")
        );
        assert_eq!(
            community.organization_avatar.as_deref(),
            Some("https://cdn.example/acme.png")
        );
        assert_eq!(
            community.thumbnail.as_deref(),
            Some("https://cdn.example/thumb.png")
        );
        assert_eq!(community.media_urls, ["https://cdn.example/fig.png"]);
        let other = results[1]
            .as_ref()
            .expect("entry")
            .community
            .clone()
            .expect("community");
        assert_eq!(other.thumbnail, None, "javascript: is not a URL to show");
        assert_eq!(other.organization_avatar, None);
        assert_eq!(other.organization.as_deref(), Some("evil"));
    }

    #[test]
    fn string_submitter_and_bad_entries() {
        let body = br#"[{"paper":{"id":"2401.00368","title":"T"},"publishedAt":"2024-01-02T00:00:00Z","submittedBy":"akhaliq","organization":"google"},
            {"paper":{"id":"nope","title":"T"}}, {"paper":{"id":"2401.00001"}}]"#;
        let results = parse_daily_papers(body).expect("valid array");
        let first = results[0].as_ref().expect("first entry");
        let community = first.community.as_ref().expect("community");
        assert_eq!(community.submitted_by.as_deref(), Some("akhaliq"));
        assert_eq!(community.organization.as_deref(), Some("google"));
        assert_eq!(
            results[1]
                .as_ref()
                .map(|_| ())
                .expect_err("error expected")
                .to_string(),
            "invalid arXiv id \"nope\": expected YYMM.NNNNN or archive/YYMMNNN"
        );
        assert_eq!(
            results[2]
                .as_ref()
                .map(|_| ())
                .expect_err("error expected")
                .to_string(),
            "missing title"
        );
    }
}
