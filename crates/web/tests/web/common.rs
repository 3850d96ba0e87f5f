//! Test fixtures: a store seeded with records built in code, a substring search backend,
//! and helpers that drive the router without a socket.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::{NaiveDate, TimeZone, Utc};
use http_body_util::BodyExt;
use papers_core::{ArxivId, Category, Community, Metadata, PaperRecord, Source};
use papers_store::Store;
use papers_web::{
    AppConfig, AppState, SearchBackend, SearchError, SearchHit, SearchOutcome, SearchRequest,
    SimilarRequest, Snippet,
};
use tempfile::TempDir;

use crate::engines::{Engine, PostgresSite, SiteStore};
use tower::ServiceExt;

pub const XSS_TITLE: &str =
    "<script>window.__xss = 1; document.title = 'pwned';</script> Attacks & <b>defences</b>";

pub struct TestApp {
    pub dir: TempDir,
    pub state: AppState,
    pub router: Router,
    /// A PostgreSQL site's database; last, so it drops after the state and router
    /// (see `engines`).
    pub postgres: Option<PostgresSite>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

fn record(
    id: &str,
    title: &str,
    day: Option<(i32, u32, u32)>,
    upvotes: u32,
    categories: &str,
) -> PaperRecord {
    let (year, month) = ArxivId::parse(id)
        .map(|i| i.year_month())
        .unwrap_or((2024, 1));
    PaperRecord {
        id: ArxivId::parse(id).expect("test id"),
        source: Source::Kaggle,
        metadata: Metadata {
            title: title.to_owned(),
            abstract_text: format!(
                "We study {title} with $\\alpha < \\beta$ & more.\nCode: https://github.com/example/{} .\n\nA second paragraph.",
                id.replace('/', "-")
            ),
            authors: vec!["Ada Lovelace".into(), "Alan Turing".into()],
            categories: Category::parse_list(categories).expect("test categories"),
            published: Utc.with_ymd_and_hms(year, month, 1, 12, 0, 0).single(),
            ..Metadata::default()
        },
        community: day.map(|(y, m, d)| Community {
            feed_day: NaiveDate::from_ymd_opt(y, m, d),
            submitted_by: Some("alice".into()),
            organization: Some("acme".into()),
            upvotes: Some(upvotes),
            num_comments: Some(2),
            ..Community::default()
        }),
    }
}

/// Papers on three feed days (2024-01-02, 2024-01-03, 2024-01-08), one with a
/// hostile title, one old-style id, and one never in the feed.
pub fn records() -> Vec<PaperRecord> {
    vec![
        record(
            "2401.00001",
            "Retrieval augmented generation at scale",
            Some((2024, 1, 2)),
            40,
            "cs.CL cs.IR",
        ),
        record(
            "2401.00002",
            "Vision transformers for cats",
            Some((2024, 1, 2)),
            12,
            "cs.CV",
        ),
        record("2401.00003", XSS_TITLE, Some((2024, 1, 3)), 7, "cs.CR"),
        record(
            "2401.00004",
            "Dense retrieval with hard negatives",
            Some((2024, 1, 3)),
            30,
            "cs.IR",
        ),
        record(
            "2401.00005",
            "Quantum kernels",
            Some((2024, 1, 8)),
            3,
            "quant-ph",
        ),
        record(
            "hep-th/9901001",
            "Strings on old-style identifiers",
            Some((2024, 1, 8)),
            1,
            "hep-th",
        ),
        record(
            "2312.09999",
            "A paper never in the feed",
            None,
            0,
            "math.AG",
        ),
    ]
}

pub fn seed(dir: &std::path::Path) {
    seed_store(&mut Store::open(dir).expect("open store"));
}

pub fn seed_store(store: &mut Store) {
    let mut batch = store.begin_ingest(Utc::now()).expect("begin");
    for record in records() {
        batch.upsert(record).expect("upsert");
    }
    batch.commit().expect("commit");
}

/// Substring search over titles, within a category as the real backend filters:
/// enough to exercise the page, API and feeds.
pub struct TitleSearch {
    papers: Vec<(i64, String, Vec<Category>, Option<NaiveDate>)>,
}

impl TitleSearch {
    pub fn of(store: &Store) -> TitleSearch {
        let mut papers = Vec::new();
        store
            .for_each_paper(|p| {
                let metadata = &p.paper.metadata;
                papers.push((
                    p.key,
                    metadata.title.clone(),
                    metadata.categories.clone(),
                    metadata.published.map(|t| t.date_naive()),
                ));
            })
            .expect("papers");
        TitleSearch { papers }
    }
}

impl SearchBackend for TitleSearch {
    fn search(&self, request: &SearchRequest) -> Result<SearchOutcome, SearchError> {
        if request.query.contains("((") {
            return Err(SearchError::Query("unbalanced parentheses".into()));
        }
        if request.query.contains("index-failure") {
            return Err(SearchError::Index("disk on fire".into()));
        }
        let needle = request.query.to_lowercase();
        let hits = self
            .papers
            .iter()
            .filter(|(_, _, categories, _)| {
                request.category.as_ref().is_none_or(|wanted| {
                    categories
                        .iter()
                        .any(|c| c == wanted || c.archive() == wanted.as_str())
                })
            })
            .filter_map(|(key, title, _, _)| {
                let at = title.to_lowercase().find(&needle)?;
                Some(SearchHit {
                    key: *key,
                    score: 1.0,
                    snippet: Some(Snippet {
                        text: title.clone(),
                        highlights: vec![(at, at + needle.len())],
                    }),
                })
            })
            .take(request.limit)
            .collect();
        Ok(SearchOutcome { hits, note: None })
    }

    fn similar(&self, key: i64, k: usize) -> Result<Vec<SearchHit>, SearchError> {
        self.similar_to(&SimilarRequest {
            key,
            k,
            ..SimilarRequest::default()
        })
    }

    /// Every other paper in key order, within the category and from `after` on,
    /// without `minus`.
    fn similar_to(&self, request: &SimilarRequest) -> Result<Vec<SearchHit>, SearchError> {
        Ok(self
            .papers
            .iter()
            .filter(|(other, _, _, _)| *other != request.key && Some(*other) != request.minus)
            .filter(|(_, _, _, published)| {
                request
                    .after
                    .is_none_or(|after| published.is_some_and(|p| p >= after))
            })
            .filter(|(_, _, categories, _)| {
                request.category.as_ref().is_none_or(|wanted| {
                    categories
                        .iter()
                        .any(|c| c == wanted || c.archive() == wanted.as_str())
                })
            })
            .take(request.k)
            .map(|(other, _, _, _)| SearchHit {
                key: *other,
                score: 0.5,
                snippet: None,
            })
            .collect())
    }
}

pub fn app_with(search: bool, configure: impl FnOnce(&mut AppConfig)) -> TestApp {
    app_on(Engine::Sqlite, search, configure).expect("SQLite is always there")
}

/// A seeded site on `engine`, with the title search if `search`; `None` when
/// PostgreSQL is not configured outside CI.
pub fn app_on(
    engine: Engine,
    search: bool,
    configure: impl FnOnce(&mut AppConfig),
) -> Option<TestApp> {
    let store = SiteStore::seeded(engine)?;
    let mut config = store.config("http://papers.test");
    configure(&mut config);
    let titles = search.then(|| store.with_store(|store| TitleSearch::of(store)));
    Some(store.open(config, |state| match titles {
        Some(titles) => state.with_search(Arc::new(titles)),
        None => state,
    }))
}

pub fn app() -> TestApp {
    app_with(true, |_| {})
}

impl TestApp {
    pub async fn request(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.get_as(path, None).await
    }

    pub async fn get_as(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut builder = Request::builder().uri(path);
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        self.request(builder.body(Body::empty()).expect("request"))
            .await
    }

    pub async fn post_form(&self, path: &str, body: &str, cookie: Option<&str>) -> Reply {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        self.request(builder.body(Body::from(body.to_owned())).expect("request"))
            .await
    }

    /// Any request: `headers` as given, `body` sent as JSON when present.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = match body {
            Some(value) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(value.to_string())
            }
            None => Body::empty(),
        };
        self.request(builder.body(body).expect("request")).await
    }

    /// Signs up through the forms, then logs in; returns the session cookie
    /// (`name=value`).
    pub async fn sign_up(&self, username: &str) -> String {
        self.sign_up_with(username, &format!("{username}@example.org"), PASSWORD)
            .await;
        self.log_in(username, PASSWORD).await
    }

    /// Signs up through the form; returns the answer (the same whether or not the
    /// address had an account).
    pub async fn sign_up_with(&self, username: &str, email: &str, password: &str) -> Reply {
        let form = self.get("/signup").await;
        assert_eq!(form.status, StatusCode::OK);
        let pre = set_cookie(&form.headers, "papers_csrf").expect("pre-session cookie");
        let token = csrf_in(&form.body).expect("csrf field");
        let body = format!(
            "csrf={token}&username={username}&email={}&password={}",
            form_encode(email),
            form_encode(password)
        );
        self.post_form("/signup", &body, Some(&format!("papers_csrf={pre}")))
            .await
    }

    /// Logs in through the form; returns the session cookie (`name=value`).
    pub async fn log_in(&self, username: &str, password: &str) -> String {
        let reply = self.try_log_in(username, password).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let session = set_cookie(&reply.headers, "papers_session").expect("session cookie");
        format!("papers_session={session}")
    }

    /// Posts the log-in form; returns the answer.
    pub async fn try_log_in(&self, username: &str, password: &str) -> Reply {
        let form = self.get("/login").await;
        let pre = set_cookie(&form.headers, "papers_csrf").expect("pre-session cookie");
        let token = csrf_in(&form.body).expect("csrf field");
        let body = format!(
            "csrf={token}&username={username}&password={}",
            form_encode(password)
        );
        self.post_form("/login", &body, Some(&format!("papers_csrf={pre}")))
            .await
    }

    /// The CSRF token a logged-in page carries.
    pub async fn csrf_for(&self, cookie: &str) -> String {
        let page = self.get_as("/submit", Some(cookie)).await;
        csrf_in(&page.body).expect("csrf on member page")
    }
}

/// Marks the member's address verified, as following the mailed link does, for tests
/// whose site has no SMTP server to mail the link through.
pub fn verify_address(app: &TestApp, username: &str) {
    app.with_store(|store| verify_address_in(store, username));
}

fn verify_address_in(store: &mut Store, username: &str) {
    let user = store.user_by_name(username).expect("sql").expect("member");
    let now = Utc::now();
    store
        .issue_account_token(&papers_store::NewAccountToken {
            token_hash: "test verification",
            user_id: user.id,
            purpose: papers_store::TokenPurpose::VerifyEmail,
            email: &user.email,
            now,
            expires: now + chrono::Duration::hours(1),
        })
        .expect("issue");
    store
        .verify_email("test verification", now)
        .expect("sql")
        .expect("verified");
}

/// The password the helpers sign up with: long and unrelated words, so it passes the
/// strength check.
pub const PASSWORD: &str = "correct-horse-battery";

/// Percent-encodes a form value.
pub fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, value)| *key == name && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

pub fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_owned())
}
