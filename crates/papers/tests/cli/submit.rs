//! `papers serve` with its real arXiv client, against recorded arXiv API responses on
//! 127.0.0.1: members submit with access tokens made by `papers token create`; a new
//! paper is fetched, stored with its submitter and today's feed day, shown and found
//! by search; the recorded old paper is refused by the submission window, an unknown
//! id gets 404, arXiv down gets 503 and stores nothing, the hourly limit gets 429.
//! The same node answers `/healthz`, `/readyz`, `/metrics` and the admin status.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use chrono::{Datelike, Utc};

use crate::common::{free_port, ok, papers, shared};
use crate::recorded_arxiv::RecordedArxiv;
use crate::users::create_member;

/// A `papers serve` process, killed on drop.
struct Serve {
    base: String,
    child: Child,
}

impl Serve {
    fn start(dir: &Path, arxiv: &str) -> Serve {
        let port = free_port();
        let child = papers(dir)
            // Keyword search is enough to find a paper, and starts quickly.
            .env("PAPERS_MODEL", dir.join("no-model"))
            .env("PAPERS_ARXIV_API_URL", arxiv)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .args(["--submit-per-hour", "4"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("papers serve starts");
        let serve = Serve {
            base: format!("http://127.0.0.1:{port}"),
            child,
        };
        papers_testkit::wait_for(
            &format!("papers serve on port {port}"),
            Duration::from_secs(60),
            || call("GET", &serve.url("/healthz"), None, None).0 == 200,
        );
        serve
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Status, `Retry-After` and body of a request with an optional bearer token and JSON.
fn call(
    method: &str,
    url: &str,
    token: Option<&str>,
    json: Option<serde_json::Value>,
) -> (u16, Option<String>, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let auth = token.map(|token| format!("Bearer {token}"));
    let result = match (method, json) {
        ("POST", Some(json)) => {
            let mut request = agent.post(url);
            if let Some(auth) = &auth {
                request = request.header("Authorization", auth);
            }
            request
                .header("Content-Type", "application/json")
                .send(json.to_string())
        }
        _ => {
            let mut request = agent.get(url);
            if let Some(auth) = &auth {
                request = request.header("Authorization", auth);
            }
            request.call()
        }
    };
    match result {
        Ok(mut response) => (
            response.status().as_u16(),
            response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            response.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(_) => (0, None, String::new()),
    }
}

fn submit(serve: &Serve, token: &str, reference: &str) -> (u16, Option<String>, serde_json::Value) {
    let (status, retry, body) = call(
        "POST",
        &serve.url("/api/papers/submit"),
        Some(token),
        Some(serde_json::json!({ "id": reference })),
    );
    let json = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    (status, retry, json)
}

/// A new-style id of this month, as a paper submitted today would have.
fn id_of_this_month(number: u32) -> String {
    let today = Utc::now();
    format!("{:02}{:02}.{number:05}", today.year() % 100, today.month())
}

#[test]
fn members_submit_papers_fetched_from_a_recorded_arxiv() {
    let Some(shared) = shared() else { return };
    let dir = tempfile::tempdir().expect("dir");
    let arxiv = RecordedArxiv::start(&shared);
    let fresh = id_of_this_month(12345);
    let while_down = id_of_this_month(23456);
    let recently = Utc::now() - chrono::Duration::days(2);
    arxiv.add_paper(&fresh, "Zephyrine retrieval for daily feeds", recently);
    arxiv.add_paper(
        &while_down,
        "Papers that arrive while arXiv is down",
        recently,
    );

    assert!(create_member(dir.path(), "ann", true).status.success());
    assert!(create_member(dir.path(), "bob", false).status.success());
    let ann = ok(dir.path(), &["token", "create", "ann", "--label", "test"]);
    let ann = ann.trim();
    let bob = ok(dir.path(), &["token", "create", "bob"]);
    let bob = bob.trim();
    let serve = Serve::start(dir.path(), &arxiv.base);

    // A URL form of a paper the store has never seen: fetched, stored, shown, found.
    let (status, _, paper) = submit(&serve, ann, &format!("https://arxiv.org/abs/{fresh}v1"));
    assert_eq!(status, 201, "{paper}");
    assert_eq!(paper["id"], fresh.as_str());
    assert_eq!(paper["title"], "Zephyrine retrieval for daily feeds");
    let (status, _, page) = call("GET", &serve.url(&format!("/papers/{fresh}")), None, None);
    assert!(
        status == 200 && page.contains("href=\"/users/ann\""),
        "{page}"
    );
    let today = Utc::now().date_naive();
    let (_, _, feed) = call(
        "GET",
        &serve.url(&format!("/api/daily_papers?date={today}")),
        None,
        None,
    );
    assert!(feed.contains(&fresh), "in today's feed: {feed}");
    let found = (0..100).any(|_| {
        let (_, _, hits) = call(
            "GET",
            &serve.url("/api/papers/search?q=zephyrine"),
            None,
            None,
        );
        let found = hits.contains(&fresh);
        if !found {
            std::thread::sleep(Duration::from_millis(100));
        }
        found
    });
    assert!(found, "the submitted paper becomes searchable");

    // Known now: the existing entry, without asking arXiv again.
    let asked = arxiv.requests();
    let (status, _, again) = submit(&serve, ann, &fresh);
    assert_eq!((status, again["id"].as_str()), (200, Some(fresh.as_str())));
    assert_eq!(arxiv.requests(), asked);

    // The recorded 2021 paper is older than the 14-day window.
    let (status, _, old) = submit(&serve, ann, "2104.12255");
    assert_eq!(status, 422, "{old}");
    assert!(
        old["error"]
            .as_str()
            .is_some_and(|e| e.contains("2021-04-20") && e.contains("14 days"))
    );

    // An id arXiv does not have (the recorded empty answer).
    let (status, _, missing) = submit(&serve, ann, "2402.07777");
    assert_eq!(status, 404);
    assert_eq!(missing["error"], "arXiv has no paper 2402.07777.");

    // arXiv answers 503: the reader is told to retry, and nothing is stored.
    arxiv.set_down(true);
    let (status, retry, down) = submit(&serve, ann, &while_down);
    arxiv.set_down(false);
    assert_eq!(status, 503, "{down}");
    assert_eq!(retry.as_deref(), Some("60"));
    assert!(
        down["error"]
            .as_str()
            .is_some_and(|e| e.contains("nothing was stored"))
    );
    let (status, _, _) = call(
        "GET",
        &serve.url(&format!("/api/papers/{while_down}")),
        None,
        None,
    );
    assert_eq!(status, 404, "nothing stored while arXiv was down");

    // Four tries this hour: the fifth waits.
    let (status, retry, limited) = submit(&serve, ann, &while_down);
    assert_eq!(status, 429, "{limited}");
    assert!(retry.is_some_and(|seconds| seconds.parse::<u64>().is_ok_and(|s| s > 0)));
    // Another member's allowance is their own; arXiv is back.
    let (status, _, added) = submit(&serve, bob, &format!("https://arxiv.org/pdf/{while_down}"));
    assert_eq!(status, 201, "{added}");

    // What the operator sees of this node.
    assert_eq!(call("GET", &serve.url("/healthz"), None, None).0, 200);
    let ready = (0..50).any(|_| {
        let ready = call("GET", &serve.url("/readyz"), None, None).0 == 200;
        if !ready {
            std::thread::sleep(Duration::from_millis(100));
        }
        ready
    });
    assert!(ready, "the node is ready");
    let (status, _, forbidden) = call("GET", &serve.url("/api/admin/status"), Some(bob), None);
    assert_eq!(status, 403, "{forbidden}");
    let (status, _, report) = call("GET", &serve.url("/api/admin/status"), Some(ann), None);
    assert_eq!(status, 200, "{report}");
    let report: serde_json::Value = serde_json::from_str(&report).expect("JSON");
    assert_eq!(report["store"]["papers"], 2);
    let names: Vec<&str> = report["indexes"]
        .as_array()
        .expect("indexes")
        .iter()
        .filter_map(|index| index["name"].as_str())
        .collect();
    assert_eq!(names, ["lexical", "dense"]);
    let (status, _, metrics) = call("GET", &serve.url("/metrics"), None, None);
    assert_eq!(status, 200);
    assert!(
        metrics
            .lines()
            .any(|line| line.starts_with("papers_http_requests_total{")
                && line.contains("route=\"/api/papers/submit\"")
                && line.contains("status=\"201\"")),
        "{metrics}"
    );
    // The search side's caches are shown beside the site's (without a model there are
    // no query vectors to keep).
    assert!(
        metrics.contains("papers_cache_max_entries{cache=\"similar_lists\"} 50000"),
        "{metrics}"
    );
    assert!(!metrics.contains("cache=\"query_vectors\""), "{metrics}");
    // The follower indexes the submission within a second or two: wait for it.
    papers_testkit::wait_for(
        "the lexical index to catch up in /metrics",
        Duration::from_secs(30),
        || {
            let (_, _, metrics) = call("GET", &serve.url("/metrics"), None, None);
            metrics.contains("papers_index_lag_changes{index=\"lexical\"} 0")
        },
    );
}
