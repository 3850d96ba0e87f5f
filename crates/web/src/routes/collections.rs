//! Collections: `/collections` (the member's lists and a form to make one),
//! `/collections/{id}` (a list's page: the owner's always, anyone's when public),
//! the Save forms (`POST /collections/save`, from cards and paper pages), a public
//! list's RSS and Atom feeds, exports (BibTeX, CSV, JSON), and the JSON API
//! (`/api/collections…`). A private collection is "no such collection" to everyone
//! but its owner, so ids reveal nothing.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Json, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{SecondsFormat, Utc};
use papers_core::ArxivId;
use papers_store::{CollectedPaper, Collection, CollectionFields};
use serde::{Deserialize, Serialize};

use crate::cache::Cacheable;
use crate::csrf;
use crate::error::{HttpError, JsonErrors};
use crate::extract::{MemberForm, ReturnTo, login_redirect};
use crate::feeds::{self, FeedDoc, FeedEntry};
use crate::html::{html_response, private_json_of};
use crate::redirect::safe_next;
use crate::routes::feed::viewer;
use crate::routes::feeds::Format;
use crate::routes::paper::load;
use crate::routes::params::{self, json_body};
use crate::session::{MaybeUser, SessionUser};
use crate::state::AppState;
use crate::views::{self, MAX_DESCRIPTION, MAX_NOTE, MAX_TITLE, collection_path};

/// Collections a member may make: plenty for a reading group's lists.
const MAX_COLLECTIONS: usize = 200;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CollectionForm {
    csrf: Option<String>,
    title: Option<String>,
    description: Option<String>,
    public: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SaveForm {
    csrf: Option<String>,
    paper: String,
    /// A collection id, or `read-later`.
    collection: String,
    note: Option<String>,
    back: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PaperForm {
    csrf: Option<String>,
    paper: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CsrfForm {
    csrf: Option<String>,
}

impl ReturnTo for CollectionForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    /// `/collections` for a new one; the collection's page for an edit
    /// (`/collections/{id}/edit`).
    fn return_to(&self, path: &str) -> String {
        path.strip_suffix("/edit")
            .unwrap_or("/collections")
            .to_owned()
    }
}

impl ReturnTo for SaveForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    fn return_to(&self, _path: &str) -> String {
        safe_next(self.back.as_deref().unwrap_or("/collections")).to_owned()
    }
}

impl ReturnTo for PaperForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    /// The collection's page (the form posts to `/collections/{id}/remove`).
    fn return_to(&self, path: &str) -> String {
        path.strip_suffix("/remove")
            .unwrap_or("/collections")
            .to_owned()
    }
}

impl ReturnTo for CsrfForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }

    fn return_to(&self, _path: &str) -> String {
        "/collections".to_owned()
    }
}

fn no_such_collection() -> HttpError {
    HttpError::not_found("no such collection")
}

fn parse_collection_id(text: &str) -> Result<i64, HttpError> {
    text.parse().map_err(|_| no_such_collection())
}

/// `GET /collections`.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    let Some(member) = user.0.clone() else {
        return Ok(login_redirect("/collections"));
    };
    render_list(&state, user, &member, None, StatusCode::OK).await
}

async fn render_list(
    state: &AppState,
    user: MaybeUser,
    member: &SessionUser,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, HttpError> {
    let user_id = member.session.user_id;
    let collections = state
        .inner
        .pool
        .run(move |store| {
            store.read_later(user_id, Utc::now())?;
            store.collections_of(user_id)
        })
        .await?;
    let viewer = viewer(state, user).await?;
    let mut response = html_response(views::collections_page(&collections, &viewer, error), false);
    *response.status_mut() = status;
    Ok(response)
}

/// `POST /collections`: a new collection, then its page.
pub(crate) async fn create(
    State(state): State<AppState>,
    posted: MemberForm<CollectionForm>,
) -> Result<Response, HttpError> {
    let (user, MemberForm { member, form }) = (posted.user(), posted);
    let fields = Fields::check(
        form.title.as_deref(),
        form.description.as_deref(),
        params::flag("public", form.public.as_deref())?,
    );
    match make(&state, &member, fields).await {
        Ok(collection) => Ok(Redirect::to(&collection_path(collection.id)).into_response()),
        Err(error) if error.status.is_client_error() => {
            render_list(&state, user, &member, Some(&error.message), error.status).await
        }
        Err(error) => Err(error),
    }
}

/// A collection's title, description and visibility, checked.
struct Fields {
    title: String,
    description: String,
    public: bool,
}

impl Fields {
    fn check(
        title: Option<&str>,
        description: Option<&str>,
        public: bool,
    ) -> Result<Fields, HttpError> {
        let title = title.unwrap_or("").trim();
        if title.is_empty()
            || title.chars().count() > MAX_TITLE
            || title.chars().any(char::is_control)
        {
            return Err(HttpError::bad_request(format!(
                "a collection needs a title of 1 to {MAX_TITLE} characters"
            )));
        }
        let description = description.unwrap_or("").trim();
        if description.chars().count() > MAX_DESCRIPTION {
            return Err(HttpError::bad_request(format!(
                "a description has at most {MAX_DESCRIPTION} characters"
            )));
        }
        Ok(Fields {
            title: title.to_owned(),
            description: description.to_owned(),
            public,
        })
    }
}

async fn make(
    state: &AppState,
    member: &SessionUser,
    fields: Result<Fields, HttpError>,
) -> Result<Collection, HttpError> {
    let fields = fields?;
    let user_id = member.session.user_id;
    state
        .inner
        .pool
        .run(move |store| {
            if store.collections_of(user_id)?.len() >= MAX_COLLECTIONS {
                return Ok(None);
            }
            let id = store.create_collection(
                user_id,
                &CollectionFields {
                    title: &fields.title,
                    description: &fields.description,
                    public: fields.public,
                },
                Utc::now(),
            )?;
            store.collection(id)
        })
        .await?
        .ok_or_else(|| {
            HttpError::new(
                StatusCode::CONFLICT,
                format!("you have {MAX_COLLECTIONS} collections already"),
            )
        })
}

/// A collection and its papers, if `user_id` may read it.
async fn readable(
    state: &AppState,
    id: &str,
    user_id: Option<i64>,
) -> Result<(Collection, Vec<CollectedPaper>), HttpError> {
    let id = parse_collection_id(id)?;
    state
        .inner
        .pool
        .run(move |store| {
            let Some(collection) = store.collection(id)? else {
                return Ok(None);
            };
            if !collection.readable_by(user_id) {
                return Ok(None);
            }
            Ok(Some((collection, store.collection_papers(id)?)))
        })
        .await?
        .ok_or_else(no_such_collection)
}

/// After a write to a collection: the cached public pages and feeds of collections
/// are stale.
fn changed(state: &AppState) {
    state.invalidate();
}

/// `GET /collections/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let user_id = user.0.as_ref().map(|member| member.session.user_id);
    let (collection, papers) = readable(&state, &id, user_id).await?;
    // An anonymous reader only ever gets a public collection (`readable`); the test
    // of `public` here says so again, so a private one can never enter the shared
    // cache. Every change to a collection bumps the generation (`changed`).
    let cacheable = user_id.is_none() && collection.public;
    let viewer = viewer(&state, user).await?;
    Ok(html_response(
        views::collection_page(&collection, &papers, &viewer),
        cacheable,
    ))
}

/// `POST /collections/{id}/edit`.
pub(crate) async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    MemberForm { member, form }: MemberForm<CollectionForm>,
) -> Result<Response, HttpError> {
    let collection_id = parse_collection_id(&id)?;
    let user_id = member.session.user_id;
    let current = state
        .inner
        .pool
        .run(move |store| store.collection(collection_id))
        .await?
        .filter(|c| c.user_id == user_id)
        .ok_or_else(no_such_collection)?;
    // The built-in list's form has no title field: it keeps its own.
    let title = form.title.as_deref().unwrap_or(&current.title);
    let fields = Fields::check(
        Some(title),
        form.description.as_deref(),
        params::flag("public", form.public.as_deref())?,
    )?;
    state
        .inner
        .pool
        .run(move |store| {
            store.update_collection(
                collection_id,
                user_id,
                &CollectionFields {
                    title: &fields.title,
                    description: &fields.description,
                    public: fields.public,
                },
                Utc::now(),
            )
        })
        .await?;
    changed(&state);
    Ok(Redirect::to(&collection_path(collection_id)).into_response())
}

/// `POST /collections/{id}/delete`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    MemberForm { member, .. }: MemberForm<CsrfForm>,
) -> Result<Response, HttpError> {
    let collection_id = parse_collection_id(&id)?;
    let user_id = member.session.user_id;
    let deleted = state
        .inner
        .pool
        .run(move |store| store.delete_collection(collection_id, user_id))
        .await?;
    if !deleted {
        return Err(no_such_collection());
    }
    changed(&state);
    Ok(Redirect::to("/collections").into_response())
}

/// `POST /collections/{id}/remove`: a paper out of the member's collection.
pub(crate) async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    MemberForm { member, form }: MemberForm<PaperForm>,
) -> Result<Response, HttpError> {
    let collection_id = parse_collection_id(&id)?;
    let paper =
        ArxivId::parse(&form.paper).map_err(|_| HttpError::bad_request("not an arXiv id"))?;
    let stored = load(&state, paper).await?;
    let (user_id, key) = (member.session.user_id, stored.key);
    state
        .inner
        .pool
        .run(move |store| store.remove_from_collection(collection_id, user_id, key))
        .await?;
    changed(&state);
    Ok(Redirect::to(&collection_path(collection_id)).into_response())
}

/// `POST /collections/save`: a paper into one of the member's collections (or "Read
/// later"), with an optional note; then back where the member was.
pub(crate) async fn save(
    State(state): State<AppState>,
    MemberForm { member, form }: MemberForm<SaveForm>,
) -> Result<Response, HttpError> {
    let back = form.return_to("");
    let paper =
        ArxivId::parse(&form.paper).map_err(|_| HttpError::bad_request("not an arXiv id"))?;
    add(
        &state,
        &member,
        &form.collection,
        paper,
        form.note.as_deref().unwrap_or(""),
    )
    .await?;
    Ok(Redirect::to(&back).into_response())
}

/// Adds a paper to the member's collection `which` (an id or `read-later`).
async fn add(
    state: &AppState,
    member: &SessionUser,
    which: &str,
    paper: ArxivId,
    note: &str,
) -> Result<Collection, HttpError> {
    let note = note.trim();
    if note.chars().count() > MAX_NOTE {
        return Err(HttpError::bad_request(format!(
            "a note has at most {MAX_NOTE} characters"
        )));
    }
    let note = note.to_owned();
    let read_later = which == "read-later";
    let collection_id = if read_later {
        None
    } else {
        Some(parse_collection_id(which)?)
    };
    let stored = load(state, paper).await?;
    let (user_id, key) = (member.session.user_id, stored.key);
    let collection = state
        .inner
        .pool
        .run(move |store| {
            let now = Utc::now();
            let id = match collection_id {
                Some(id) => id,
                None => store.read_later(user_id, now)?,
            };
            if !store.add_to_collection(id, user_id, key, &note, now)? {
                return Ok(None);
            }
            store.collection(id)
        })
        .await?
        .ok_or_else(no_such_collection)?;
    changed(state);
    Ok(collection)
}

/// An export format, as `format=` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Export {
    Bibtex,
    Csv,
    Json,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ExportParams {
    format: Option<String>,
}

impl Export {
    fn parse(text: Option<&str>) -> Result<Export, HttpError> {
        match text.unwrap_or("") {
            "bibtex" | "bib" => Ok(Export::Bibtex),
            "csv" => Ok(Export::Csv),
            "" | "json" => Ok(Export::Json),
            _ => Err(HttpError::bad_request("format must be bibtex, csv or json")),
        }
    }
}

/// One paper as the exports list it.
#[derive(Debug, Serialize)]
struct ExportedPaper {
    id: String,
    title: String,
    authors: Vec<String>,
    published: Option<String>,
    categories: Vec<String>,
    url: String,
    note: String,
    added: Option<String>,
}

impl ExportedPaper {
    fn of(entry: &CollectedPaper, public_url: &str) -> ExportedPaper {
        let paper = &entry.paper.paper;
        let format = |at: chrono::DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Secs, true);
        ExportedPaper {
            id: paper.id.to_string(),
            title: views::one_line(&paper.metadata.title),
            authors: paper.metadata.authors.clone(),
            published: paper.metadata.published.map(format),
            categories: paper
                .metadata
                .categories
                .iter()
                .map(|c| c.to_string())
                .collect(),
            url: format!("{public_url}{}", views::paper_path(paper.id.as_str())),
            note: entry.note.clone(),
            added: entry.added.map(format),
        }
    }
}

/// A collection as the JSON export and `GET /api/collections/{id}` show it.
#[derive(Debug, Serialize)]
struct ApiCollection {
    id: i64,
    title: String,
    description: String,
    public: bool,
    #[serde(rename = "readLater")]
    read_later: bool,
    owner: String,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    papers: Option<Vec<ExportedPaper>>,
    #[serde(rename = "paperCount")]
    paper_count: u32,
}

impl ApiCollection {
    fn of(collection: &Collection, papers: Option<&[CollectedPaper]>, public_url: &str) -> Self {
        ApiCollection {
            id: collection.id,
            title: collection.title.clone(),
            description: collection.description.clone(),
            public: collection.public,
            read_later: collection.read_later,
            owner: collection.owner.clone(),
            url: format!("{public_url}{}", collection_path(collection.id)),
            papers: papers.map(|papers| {
                papers
                    .iter()
                    .map(|entry| ExportedPaper::of(entry, public_url))
                    .collect()
            }),
            paper_count: collection.papers,
        }
    }
}

/// A note as a BibTeX field value: braces and backslashes would end or escape the
/// field, so they go; line breaks become spaces.
fn bibtex_note(note: &str) -> String {
    views::one_line(&note.replace(['{', '}', '\\'], ""))
}

/// The export file: its content type, file extension and text.
fn export_file(
    collection: &Collection,
    papers: &[CollectedPaper],
    format: Export,
    public_url: &str,
) -> Result<(&'static str, &'static str, String), HttpError> {
    match format {
        Export::Bibtex => {
            let mut text = String::new();
            for entry in papers {
                let mut bib = views::bibtex(&entry.paper);
                if !entry.note.trim().is_empty()
                    && let Some(open) = bib.strip_suffix("\n}")
                {
                    bib = format!("{open},\n  note = {{{}}}\n}}", bibtex_note(&entry.note));
                }
                text.push_str(&bib);
                text.push_str("\n\n");
            }
            Ok(("application/x-bibtex; charset=utf-8", "bib", text))
        }
        Export::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer
                .write_record([
                    "id",
                    "title",
                    "authors",
                    "published",
                    "categories",
                    "url",
                    "note",
                    "added",
                ])
                .map_err(HttpError::internal)?;
            for entry in papers {
                let row = ExportedPaper::of(entry, public_url);
                writer
                    .write_record([
                        row.id.as_str(),
                        &row.title,
                        &row.authors.join("; "),
                        row.published.as_deref().unwrap_or(""),
                        &row.categories.join(" "),
                        &row.url,
                        &row.note,
                        row.added.as_deref().unwrap_or(""),
                    ])
                    .map_err(HttpError::internal)?;
            }
            let bytes = writer.into_inner().map_err(HttpError::internal)?;
            let text = String::from_utf8(bytes).map_err(HttpError::internal)?;
            Ok(("text/csv; charset=utf-8", "csv", text))
        }
        Export::Json => {
            let document = ApiCollection::of(collection, Some(papers), public_url);
            let text = serde_json::to_string_pretty(&document).map_err(HttpError::internal)?;
            Ok(("application/json", "json", text))
        }
    }
}

async fn export_response(
    state: &AppState,
    user: MaybeUser,
    id: &str,
    format: Option<&str>,
) -> Result<Response, HttpError> {
    let format = Export::parse(format)?;
    let user_id = user.0.as_ref().map(|member| member.session.user_id);
    let (collection, papers) = readable(state, id, user_id).await?;
    let (content_type, extension, text) =
        export_file(&collection, &papers, format, &state.config().public_url)?;
    let mut response = text.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"collection-{}.{extension}\"",
        collection.id
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `GET /collections/{id}/export?format=bibtex|csv|json`.
pub(crate) async fn export(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
    Query(params): Query<ExportParams>,
) -> Result<Response, HttpError> {
    export_response(&state, user, &id, params.format.as_deref()).await
}

/// `GET /collections/{id}/feed.rss` and `…/feed.atom` of a public collection: its
/// papers, most recently added first.
pub(crate) async fn feed(
    state: &AppState,
    id: &str,
    format: Format,
) -> Result<Response, HttpError> {
    let (collection, papers) = readable(state, id, None).await?;
    let base = &state.config().public_url;
    let page = format!("{base}{}", collection_path(collection.id));
    let entries: Vec<FeedEntry> = papers
        .iter()
        .map(|entry| {
            let paper = &entry.paper.paper;
            FeedEntry {
                title: views::one_line(&paper.metadata.title),
                link: format!("{base}{}", views::paper_path(paper.id.as_str())),
                summary: if entry.note.is_empty() {
                    views::shorten(&paper.metadata.abstract_text, 600)
                } else {
                    entry.note.clone()
                },
                authors: paper.metadata.authors.clone(),
                categories: paper
                    .metadata
                    .categories
                    .iter()
                    .map(|c| c.to_string())
                    .collect(),
                updated: entry.added.unwrap_or_else(Utc::now),
            }
        })
        .collect();
    let file = match format {
        Format::Rss => "feed.rss",
        Format::Atom => "feed.atom",
    };
    let doc = FeedDoc {
        title: format!(
            "{} · a collection by {}",
            collection.title, collection.owner
        ),
        link: page.clone(),
        self_url: format!("{page}/{file}"),
        description: collection.description.clone(),
        updated: collection
            .updated
            .or(collection.created)
            .unwrap_or_else(Utc::now),
        entries,
    };
    let (body, content_type) = match format {
        Format::Rss => (
            feeds::rss(&doc).map_err(HttpError::internal)?,
            "application/rss+xml; charset=utf-8",
        ),
        Format::Atom => (
            feeds::atom(&doc).map_err(HttpError::internal)?,
            "application/atom+xml; charset=utf-8",
        ),
    };
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if collection.public {
        response.extensions_mut().insert(Cacheable::DEFAULT);
    }
    Ok(response)
}

/// `GET /api/collections`: the member's collections (without their papers).
pub(crate) async fn api_list(
    State(state): State<AppState>,
    user: MaybeUser,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        let user_id = member.session.user_id;
        let collections = state
            .inner
            .pool
            .run(move |store| {
                store.read_later(user_id, Utc::now())?;
                store.collections_of(user_id)
            })
            .await?;
        let public_url = &state.config().public_url;
        let listed: Vec<ApiCollection> = collections
            .iter()
            .map(|c| ApiCollection::of(c, None, public_url))
            .collect();
        private_json_of(StatusCode::OK, &listed)
    }
    .await
    .json_errors()
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewCollection {
    title: Option<String>,
    description: Option<String>,
    public: Option<bool>,
}

/// `POST /api/collections` `{"title", "description"?, "public"?}`: 201 with its `id`
/// and `url`.
pub(crate) async fn api_create(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    body: Result<Json<NewCollection>, JsonRejection>,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        csrf::check_session(&member, csrf::header_token(&headers))?;
        let request = json_body(body)?;
        let fields = Fields::check(
            request.title.as_deref(),
            request.description.as_deref(),
            request.public.unwrap_or(false),
        );
        let collection = make(&state, &member, fields).await?;
        private_json_of(
            StatusCode::CREATED,
            &ApiCollection::of(&collection, Some(&[]), &state.config().public_url),
        )
    }
    .await
    .json_errors()
}

/// `GET /api/collections/{id}`: the collection with its papers.
pub(crate) async fn api_get(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    async {
        let user_id = user.0.as_ref().map(|member| member.session.user_id);
        let (collection, papers) = readable(&state, &id, user_id).await?;
        private_json_of(
            StatusCode::OK,
            &ApiCollection::of(&collection, Some(&papers), &state.config().public_url),
        )
    }
    .await
    .json_errors()
}

#[derive(Debug, Deserialize)]
pub(crate) struct AddPaper {
    id: String,
    note: Option<String>,
}

/// `POST /api/collections/{id}/papers` `{"id", "note"?}` (`{id}` may be `read-later`):
/// 201 with the collection's entry for the paper.
pub(crate) async fn api_add(
    State(state): State<AppState>,
    user: MaybeUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<AddPaper>, JsonRejection>,
) -> Result<Response, HttpError> {
    async {
        let member = user.0.ok_or_else(HttpError::unauthorized)?;
        csrf::check_session(&member, csrf::header_token(&headers))?;
        let request = json_body(body)?;
        let paper = ArxivId::parse(request.id.trim())
            .map_err(|_| HttpError::bad_request("id must be an arXiv id"))?;
        let shown = paper.to_string();
        let collection = add(
            &state,
            &member,
            &id,
            paper,
            request.note.as_deref().unwrap_or(""),
        )
        .await?;
        private_json_of(
            StatusCode::CREATED,
            &serde_json::json!({
                "collection": collection.id,
                "id": shown,
                "note": request.note.unwrap_or_default().trim(),
            }),
        )
    }
    .await
    .json_errors()
}

/// `GET /api/collections/{id}/export?format=bibtex|csv|json`.
pub(crate) async fn api_export(
    State(state): State<AppState>,
    user: MaybeUser,
    Path(id): Path<String>,
    params: Result<Query<ExportParams>, QueryRejection>,
) -> Result<Response, HttpError> {
    async {
        let Query(params) =
            params.map_err(|rejection| HttpError::bad_request(rejection.body_text()))?;
        export_response(&state, user, &id, params.format.as_deref()).await
    }
    .await
    .json_errors()
}
