//! The site's extractors and form handlers, driven through the real axum router: query
//! strings of the feeds, search and API, and the log-in, sign-up, subscribe, submit,
//! vote and unsubscribe forms.
//!
//! Input: a first line `METHOD TARGET` (optionally followed by ` member` to send the
//! request as a logged-in member), then the body. `{csrf}` anywhere is replaced by the
//! CSRF token that request needs, so mutations get past the token check and reach the
//! form parsing behind it. No answer may be a 500 or a panic: a bad request is the
//! client's fault and gets a 4xx that says so (a 503 for a part the site was started
//! without is allowed). `POST /logout` is skipped, since it would end the member's
//! session for every later input.

#![no_main]

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, Uri, header};
use chrono::{NaiveDate, TimeZone, Utc};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use papers_core::{ArxivId, Category, Community, Metadata, PaperRecord, Source};
use papers_digest::{Digests, Links, PublicUrl, Secret, Settings};
use papers_store::Store;
use papers_web::{
    AppConfig, AppState, SearchBackend, SearchError, SearchHit, SearchOutcome, SearchRequest,
};
// Linked for its allocation limit.
use papers_fuzz as _;
use tower::ServiceExt;

/// The pre-session (log-in and sign-up) token, sent as its cookie with every request.
const PRE_SESSION: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

struct App {
    runtime: tokio::runtime::Runtime,
    router: Router,
    /// `papers_session=…` of the member signed up at start.
    member_cookie: String,
    member_csrf: String,
}

fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        // A fixed mmap threshold, as `papers serve` sets it (crates/papers/src/memory.rs):
        // with glibc's sliding one, each sign-up's 19 MiB Argon2 block came from the
        // heap after the first, fragmented it, and the process grew by about 19 MiB a
        // sign-up until libFuzzer's 2 GB limit ended the run.
        // SAFETY: `mallopt` changes the allocator's parameters under its own lock.
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20) };
        let dir = tempfile::tempdir().expect("temporary directory").keep();
        seed(&dir);
        let mut config = AppConfig::new(&dir, "http://papers.test");
        config.connections = 2;
        // Every request comes from one address: a limit would turn the run into 429s.
        config.auth_per_minute = u32::MAX;
        config.votes_per_minute = u32::MAX;
        let links = Links::new(
            PublicUrl::parse("http://papers.test").expect("public url"),
            Secret::new(b"the fuzzing secret, 32 bytes long".to_vec()).expect("secret"),
        );
        let digests = Digests::new(links, Settings::new("fuzz-model")).expect("digests");
        let search = TitleSearch::load(&dir);
        let state = AppState::open(config)
            .expect("open the site")
            .with_search(Arc::new(search))
            .with_digests(Arc::new(digests), None);
        let router = papers_web::router(state);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (member_cookie, member_csrf) = runtime.block_on(sign_up(&router));
        App {
            runtime,
            router,
            member_cookie,
            member_csrf,
        }
    })
}

fn seed(dir: &std::path::Path) {
    let mut store = Store::open(dir).expect("open store");
    let mut batch = store.begin_ingest(Utc::now()).expect("begin");
    let papers = [
        (
            "2401.00001",
            "Retrieval augmented generation",
            "cs.CL cs.IR",
            40,
        ),
        ("2401.00002", "Vision transformers für Katzen", "cs.CV", 12),
        ("hep-th/9901001", "Strings <b>old</b> & ids", "hep-th", 1),
    ];
    for (id, title, categories, upvotes) in papers {
        let id = ArxivId::parse(id).expect("id");
        let (year, month) = id.year_month();
        batch
            .upsert(PaperRecord {
                id,
                source: Source::Kaggle,
                metadata: Metadata {
                    title: title.to_owned(),
                    abstract_text: format!("About {title}. Code: https://github.com/o/r"),
                    authors: vec!["Ada Lovelace".into(), "Alan Turing".into()],
                    categories: Category::parse_list(categories).expect("categories"),
                    published: Utc.with_ymd_and_hms(year, month, 1, 12, 0, 0).single(),
                    ..Metadata::default()
                },
                community: Some(Community {
                    feed_day: NaiveDate::from_ymd_opt(2024, 1, 2),
                    submitted_by: Some("alice".into()),
                    organization: Some("acme".into()),
                    upvotes: Some(upvotes),
                    ..Community::default()
                }),
            })
            .expect("upsert");
    }
    batch.commit().expect("commit");
}

/// Signs a member up and logs them in through the forms (sign-up answers "check your
/// inbox" and opens no session), and reads their CSRF token off a member page.
async fn sign_up(router: &Router) -> (String, String) {
    post_form(
        router,
        "/signup",
        "username=fuzzer&email=fuzzer%40example.org&password=correct-horse-battery",
    )
    .await;
    let response = post_form(
        router,
        "/login",
        "username=fuzzer&password=correct-horse-battery",
    )
    .await;
    let session = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .find(|pair| pair.starts_with("papers_session="))
        .expect("a session cookie after logging in")
        .to_owned();
    let request = Request::get("/submit")
        .header(header::COOKIE, &session)
        .body(Body::empty())
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let page = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let page = String::from_utf8_lossy(&page);
    let field = "name=\"csrf\" value=\"";
    let at = page.find(field).expect("a csrf field on the member page") + field.len();
    let csrf = page[at..].split('"').next().unwrap_or_default().to_owned();
    (session, csrf)
}

/// Posts `fields` to the form at `path` with the pre-session cookie and token.
async fn post_form(router: &Router, path: &str, fields: &str) -> axum::response::Response {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("papers_csrf={PRE_SESSION}"))
        .body(Body::from(format!("csrf={PRE_SESSION}&{fields}")))
        .expect("request");
    router.clone().oneshot(request).await.expect("infallible")
}

/// Title substring search (ASCII case-insensitive, so highlight ranges stay on
/// character boundaries), enough to render results, snippets and feeds.
struct TitleSearch {
    papers: Vec<(i64, String)>,
}

impl TitleSearch {
    fn load(dir: &std::path::Path) -> TitleSearch {
        let store = Store::open(dir).expect("open store");
        let mut papers = Vec::new();
        store
            .for_each_paper(|p| papers.push((p.key, p.paper.metadata.title.clone())))
            .expect("papers");
        TitleSearch { papers }
    }
}

impl SearchBackend for TitleSearch {
    fn search(&self, request: &SearchRequest) -> Result<SearchOutcome, SearchError> {
        let query = papers_index::ParsedQuery::parse(&request.query);
        let needle = query.embedding_text().to_ascii_lowercase();
        let hits = self
            .papers
            .iter()
            .filter_map(|(key, title)| {
                let at = title.to_ascii_lowercase().find(&needle)?;
                Some(SearchHit {
                    key: *key,
                    score: 1.0,
                    snippet: Some(papers_web::Snippet {
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
        Ok(self
            .papers
            .iter()
            .filter(|(other, _)| *other != key)
            .take(k)
            .map(|(other, _)| SearchHit {
                key: *other,
                score: 0.5,
                snippet: None,
            })
            .collect())
    }
}

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(end) => (&data[..end], &data[end + 1..]),
        None => (data, &[][..]),
    };
    let Ok(head) = std::str::from_utf8(head) else {
        return;
    };
    let mut words = head.split(' ');
    let (Some(method), Some(target)) = (words.next(), words.next()) else {
        return;
    };
    let member = words.next() == Some("member");
    if target.starts_with("/logout") {
        return;
    }
    let app = app();
    let csrf = if member {
        app.member_csrf.as_str()
    } else {
        PRE_SESSION
    };
    // Only what an HTTP server would hand the router: a method token and a valid URI.
    let Ok(method) = Method::from_bytes(method.as_bytes()) else {
        return;
    };
    let Ok(uri) = target.replace("{csrf}", csrf).parse::<Uri>() else {
        return;
    };
    if uri.path_and_query().is_none() || uri.scheme().is_some() {
        return;
    }
    let body = replace_bytes(body, b"{csrf}", csrf.as_bytes());
    let content_type = match body.first() {
        Some(b'{' | b'[') => "application/json",
        _ => "application/x-www-form-urlencoded",
    };
    let mut cookie = format!("papers_csrf={PRE_SESSION}");
    if member {
        cookie = format!("{cookie}; {}", app.member_cookie);
    }
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::COOKIE, cookie);
    if member {
        request = request.header("x-csrf-token", csrf);
    }
    let Ok(request) = request.body(Body::from(body)) else {
        return;
    };
    let shown = format!("{} {}", request.method(), request.uri());
    app.runtime.block_on(async {
        let response = app
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        assert!(
            status != axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "{shown} answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
    });
});

fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = rest.windows(from.len()).position(|w| w == from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}
