//! A real SMTP server for the site's mail (the digest crate's aiosmtpd script, started
//! with papers-testkit), a site wired to it, and requests from chosen client addresses.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use papers_digest::{
    Deliver, Digests, Links, Mailer, PublicUrl, RetryPolicy, Secret, Settings, SmtpConfig,
};
pub use papers_testkit::{Received, smtp_available};
use papers_testkit::{ServerProcess, received_mail, received_mail_to};
use papers_web::SearchBackend;
use tempfile::TempDir;
use tower::ServiceExt;

use crate::common::TestApp;
use crate::engines::{Engine, SiteStore};

pub const BASE: &str = "http://papers.test";
pub const SECRET: &[u8] = b"a test secret of enough bytes";

/// The SMTP server process, killed on drop; it saves each message it accepts.
pub struct SmtpServer {
    pub port: u16,
    dir: TempDir,
    _process: ServerProcess,
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = TempDir::new().expect("mail dir");
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../digest/tests/smtp_server.py");
        let process = ServerProcess::start(
            Command::new("python3")
                .arg(script)
                .args(["--port", &port.to_string(), "--dir"])
                .arg(dir.path()),
        )
        .expect("python3 starts");
        assert_eq!(process.ready, "READY", "SMTP server did not start");
        SmtpServer {
            port,
            dir,
            _process: process,
        }
    }

    pub fn mailer(&self) -> Mailer {
        let mut config = SmtpConfig::new(
            &format!("smtp://127.0.0.1:{}", self.port),
            None,
            "Daily Papers <papers@papers.test>",
            BASE,
        )
        .expect("valid config");
        config.retry = RetryPolicy {
            attempts: 2,
            backoff: Duration::from_millis(20),
        };
        config.timeout = Duration::from_secs(5);
        Mailer::new(&config).expect("mailer")
    }

    /// Everything accepted so far, in arrival order. The site answers only after the
    /// server accepted (and so saved) a message, so this is complete at any point
    /// between requests.
    pub fn messages(&self) -> Vec<Received> {
        received_mail(self.dir.path())
    }

    pub fn messages_to(&self, address: &str) -> Vec<Received> {
        received_mail_to(self.dir.path(), address)
    }
}

pub fn digests() -> Arc<Digests> {
    let links = Links::new(
        PublicUrl::parse(BASE).expect("url"),
        Secret::new(SECRET.to_vec()).expect("secret"),
    );
    Arc::new(Digests::new(links, Settings::new("test-model")).expect("digests"))
}

/// The site over `store` (already seeded), mailing through `server`.
pub fn site_over(
    store: SiteStore,
    server: &SmtpServer,
    search: Option<Arc<dyn SearchBackend>>,
) -> TestApp {
    let mailer: Arc<dyn Deliver + Send + Sync> = Arc::new(server.mailer());
    let config = store.config(BASE);
    store.open(config, |state| {
        let state = state.with_digests(digests(), Some(mailer));
        match search {
            Some(search) => state.with_search(search),
            None => state,
        }
    })
}

/// A seeded site on `engine` mailing through `server`; `None` when PostgreSQL is not
/// configured outside CI.
pub fn mail_site(engine: Engine, server: &SmtpServer) -> Option<TestApp> {
    Some(site_over(SiteStore::seeded(engine)?, server, None))
}

/// A raw answer: what a client receives, byte for byte.
#[derive(Debug, PartialEq, Eq)]
pub struct RawReply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl RawReply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `request` as if from `client` (the connection's peer address).
pub async fn send_from(app: &TestApp, client: [u8; 4], mut request: Request<Body>) -> RawReply {
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((client, 40000))));
    let response = app
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    RawReply {
        status,
        headers,
        body,
    }
}

/// `POST /api/subscriptions` with `body`, from `client`.
pub async fn api_subscribe(app: &TestApp, client: [u8; 4], body: &str) -> RawReply {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/subscriptions")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .expect("request");
    send_from(app, client, request).await
}

/// A form `POST` to `path` with `cookie`, from `client`.
pub async fn post_form_from(
    app: &TestApp,
    client: [u8; 4],
    path: &str,
    body: &str,
    cookie: Option<&str>,
) -> RawReply {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    send_from(
        app,
        client,
        builder.body(Body::from(body.to_owned())).expect("request"),
    )
    .await
}

/// The first link in `text` starting with `prefix` (absolute), as a path on the site.
pub fn link_path(text: &str, prefix: &str) -> String {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} link in {text}"));
    let url = text[start..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        .next()
        .unwrap_or_default();
    url.strip_prefix(BASE).unwrap_or(url).to_owned()
}
