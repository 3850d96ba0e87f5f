//! JSON shapes of Hugging Face's `/api/daily_papers` and `/api/papers/{id}`, so clients
//! written for Hugging Face read ours unchanged. Field names follow Hugging Face
//! (camelCase); fields we have no data for are left out rather than faked.

use chrono::{NaiveTime, SecondsFormat};
use papers_store::StoredPaper;
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiAuthor {
    pub name: String,
    pub hidden: bool,
}

/// The `paper` object.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiPaper {
    pub id: String,
    pub authors: Vec<ApiAuthor>,
    /// arXiv v1 date, ISO 8601 with milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    pub title: String,
    pub summary: String,
    pub upvotes: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub github_repo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_page: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub github_stars: Option<u32>,
    /// Hugging Face's generated summary and keywords (snake case there too).
    #[serde(rename = "ai_summary", skip_serializing_if = "Option::is_none")]
    pub ai_summary: Option<String>,
    #[serde(rename = "ai_keywords", skip_serializing_if = "Vec::is_empty")]
    pub ai_keywords: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<ApiOrganization>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub media_urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_comments: Option<u32>,
    /// Ours: categories, primary first.
    pub categories: Vec<String>,
    /// Ours: its topic and subtopic in the topic map (on `/api/papers/{id}` only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<ApiTopicRef>,
}

/// A paper's topic, on `/api/papers/{id}`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ApiTopicRef {
    pub id: u32,
    pub name: String,
    pub parent: Option<u32>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiUser {
    pub name: String,
    pub fullname: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiOrganization {
    pub name: String,
    pub fullname: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

/// One item of `/api/daily_papers`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiDailyPaper {
    pub paper: ApiPaper,
    /// The feed day, as a timestamp at midnight UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    pub title: String,
    pub summary: String,
    pub num_comments: u32,
    pub submitted_by: Option<ApiUser>,
    pub organization: Option<ApiOrganization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub media_urls: Vec<String>,
}

/// One hit of `/api/papers/search`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiSearchHit {
    pub paper: ApiPaper,
    pub title: String,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    /// Ours: the matched passage, plain text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highlight: Option<String>,
}

fn iso(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn paper(stored: &StoredPaper) -> ApiPaper {
    let paper = &stored.paper;
    ApiPaper {
        id: paper.id.to_string(),
        authors: paper
            .metadata
            .authors
            .iter()
            .map(|name| ApiAuthor {
                name: name.clone(),
                hidden: false,
            })
            .collect(),
        published_at: paper.metadata.published.map(iso),
        title: paper.metadata.title.clone(),
        summary: paper.metadata.abstract_text.clone(),
        upvotes: stored.upvotes(),
        github_repo: stored.links.github.clone(),
        project_page: stored.links.project_page.clone(),
        github_stars: paper.community.github_stars,
        ai_summary: paper.community.ai_summary.clone(),
        ai_keywords: paper.community.ai_keywords.clone(),
        organization: organization(stored),
        media_urls: paper.community.media_urls.clone(),
        // Imported plus members', as upvotes are.
        num_comments: (paper.community.num_comments.is_some() || stored.member_comments > 0)
            .then(|| stored.comments()),
        categories: paper
            .metadata
            .categories
            .iter()
            .map(|c| c.to_string())
            .collect(),
        topics: Vec::new(),
    }
}

pub(crate) fn feed_day(stored: &StoredPaper) -> Option<String> {
    stored
        .paper
        .community
        .feed_day
        .map(|day| iso(day.and_time(NaiveTime::MIN).and_utc()))
}

pub(crate) fn daily_paper(stored: &StoredPaper) -> ApiDailyPaper {
    let community = &stored.paper.community;
    ApiDailyPaper {
        paper: paper(stored),
        published_at: feed_day(stored),
        title: crate::views::one_line(&stored.paper.metadata.title),
        summary: stored.paper.metadata.abstract_text.clone(),
        num_comments: stored.comments(),
        submitted_by: community.submitted_by.as_ref().map(|name| ApiUser {
            name: name.clone(),
            // A deleted member keeps the placeholder name; readers see who it is.
            fullname: if name == papers_store::DELETED_MEMBER {
                "A deleted member".to_owned()
            } else {
                name.clone()
            },
            kind: "user",
        }),
        organization: organization(stored),
        thumbnail: community.thumbnail.clone(),
        media_urls: community.media_urls.clone(),
    }
}

/// The organisation: its account name, display name (the name when unknown) and avatar.
fn organization(stored: &StoredPaper) -> Option<ApiOrganization> {
    let community = &stored.paper.community;
    community.organization.as_ref().map(|name| ApiOrganization {
        name: name.clone(),
        fullname: community
            .organization_fullname
            .clone()
            .unwrap_or_else(|| name.clone()),
        avatar: community.organization_avatar.clone(),
    })
}
