//! The topic pages and API over a real topic map: the 739 papers of the 66 real
//! Hugging Face feed days (real upvotes and feed days), clustered from the reference
//! model's vectors of the same papers (`$PAPERS_SHARED/reference`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use papers_store::Store;
use papers_topics::{BuildOptions, Corpus, SharedTopics, TopicMap};
use serde_json::Value;

use crate::common::{TestApp, TitleSearch};
use crate::real_data::{DAYS, read_days};

const REFERENCE: &str = "reference/all-minilm-l6-v2";
const DIM: usize = 384;

/// The site over the real feed days, with a topic map of their papers (`None` when
/// the shared data is missing: skipped, or failed under CI).
fn site() -> Option<(TestApp, Arc<TopicMap>)> {
    let shared = papers_testkit::shared_dir(DAYS)?;
    papers_testkit::shared_dir(REFERENCE)?;
    let dir = tempfile::tempdir().expect("dir");
    let mut store = Store::open(dir.path()).expect("store");
    let mut batch = store.begin_ingest(Utc::now()).expect("begin");
    for (_, _, records) in read_days(&shared.join(DAYS)) {
        for record in records {
            batch.upsert(record).expect("upsert");
        }
    }
    batch.commit().expect("commit");

    // The reference vectors of the papers, in texts.jsonl's order.
    let reference = shared.join(REFERENCE);
    let mut bytes = Vec::new();
    std::fs::File::open(reference.join("vectors.f32"))
        .expect("vectors")
        .read_to_end(&mut bytes)
        .expect("read");
    let lines = BufReader::new(std::fs::File::open(reference.join("texts.jsonl")).expect("texts"));
    let mut rows = Vec::new();
    for (row, line) in lines.lines().enumerate() {
        let line: Value = serde_json::from_str(&line.expect("line")).expect("json");
        let id = line["id"].as_str().expect("id").to_owned();
        let Ok(arxiv) = papers_core::ArxivId::parse(&id) else {
            continue; // the queries and edge cases at the end
        };
        let Some(paper) = store.paper(&arxiv).expect("paper") else {
            continue; // the 14 papers the feed days lack
        };
        let vector: Vec<f32> = bytes[row * DIM * 4..(row + 1) * DIM * 4]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        rows.push((paper, vector));
    }
    rows.sort_by_key(|(paper, _)| paper.key);
    rows.dedup_by_key(|(paper, _)| paper.key);
    let mut corpus = Corpus::new(DIM);
    for (paper, vector) in &rows {
        let metadata = &paper.paper.metadata;
        corpus.push(
            paper.key,
            vector,
            format!("{}\n{}", metadata.title, metadata.abstract_text),
            metadata.published.map(|t| t.date_naive()),
        );
    }
    assert!(corpus.len() > 700, "{} papers with vectors", corpus.len());
    let built_at = Utc
        .with_ymd_and_hms(2024, 5, 1, 0, 0, 0)
        .single()
        .expect("time");
    let map = papers_topics::build(
        &corpus,
        "reference",
        built_at,
        None,
        &BuildOptions::default(),
    )
    .expect("build");
    let shared_map = Arc::new(SharedTopics::new(Some(map.clone())));
    let state =
        papers_web::AppState::open(papers_web::AppConfig::new(dir.path(), "http://papers.test"))
            .expect("state")
            .with_search(Arc::new(TitleSearch::of(
                &Store::open(dir.path()).expect("store"),
            )))
            .with_topics(shared_map);
    let app = TestApp {
        router: papers_web::router(state.clone()),
        state,
        dir,
        postgres: None,
    };
    Some((app, Arc::new(map)))
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).expect("json")
}

/// The arXiv ids of the papers a page links to, in order of first appearance.
fn linked_ids(html: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for part in html.split("href=\"/papers/").skip(1) {
        // New-style ids only: a paper's own sub-paths (`/comments.atom`, `.md`)
        // name the same paper.
        let id = part.split(['"', '?', '#', '/']).next().unwrap_or("");
        let id = id.strip_suffix(".md").unwrap_or(id);
        if id.chars().next().is_some_and(|c| c.is_ascii_digit()) && !ids.iter().any(|i| i == id) {
            ids.push(id.to_owned());
        }
    }
    ids
}

fn ids_by_key(app: &TestApp) -> HashMap<i64, String> {
    let store = Store::open(app.dir.path()).expect("store");
    let mut ids = HashMap::new();
    store
        .for_each_paper(|p| {
            ids.insert(p.key, p.paper.id.to_string());
        })
        .expect("papers");
    ids
}

#[tokio::test]
async fn the_topics_page_maps_every_broad_topic_with_a_link_and_a_tooltip() {
    let Some((app, map)) = site() else {
        return;
    };
    let reply = app.get("/topics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains("<svg"), "a server-rendered map");
    let broad: Vec<_> = map.broad().collect();
    assert_eq!(broad.len(), 3, "√739/8 rounds to 3");
    for topic in &broad {
        let link = format!("<a href=\"/topics/{}\">", topic.id);
        assert!(reply.body.contains(&link), "{link}");
        assert!(
            reply
                .body
                .contains(&format!("<title>{} · {} papers", topic.name, topic.size))
        );
    }
    // Rising topics are the map's own, in its order.
    let today = Utc::now().date_naive();
    for growth in map.rising(today, 8) {
        let name = &map.topic(growth.topic).expect("topic").name;
        assert!(reply.body.contains(name.as_str()));
    }
    // The nav links here from every page.
    assert!(app.get("/papers").await.body.contains("href=\"/topics\""));
}

#[tokio::test]
async fn a_topic_page_lists_its_papers_subtopics_neighbours_and_feeds() {
    let Some((app, map)) = site() else {
        return;
    };
    let ids = ids_by_key(&app);
    let topic = map.broad().next().expect("a topic");
    let reply = app.get(&format!("/topics/{}", topic.id)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains(&topic.name));
    for child in map.children(topic.id) {
        assert!(
            reply
                .body
                .contains(&format!("href=\"/topics/{}\"", child.id))
        );
    }
    for (neighbour, _) in map.neighbours(topic.id, 6) {
        assert!(
            reply
                .body
                .contains(&format!("href=\"/topics/{}\"", neighbour.id))
        );
    }
    assert!(reply.body.contains("<rect"), "papers per month chart");
    // Every paper listed is in the topic, and the most upvoted member is listed.
    let members: HashMap<String, i64> = map
        .members(topic.id)
        .iter()
        .map(|m| (ids[&m.key].clone(), m.key))
        .collect();
    let listed = linked_ids(&reply.body);
    assert!(!listed.is_empty());
    assert!(
        listed.iter().all(|id| members.contains_key(id)),
        "{listed:?}"
    );
    let store = Store::open(app.dir.path()).expect("store");
    let keys: Vec<i64> = members.values().copied().collect();
    let top = store
        .papers_by_keys(&keys)
        .expect("papers")
        .into_iter()
        .max_by_key(|p| p.upvotes())
        .expect("a member");
    assert!(listed.contains(&top.paper.id.to_string()));

    let feed = app.get(&format!("/topics/{}/feed.atom", topic.id)).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert!(
        feed.headers["content-type"]
            .to_str()
            .unwrap_or("")
            .contains("atom")
    );
    let entries = feed.body.matches("<entry>").count();
    assert_eq!(entries, topic.size.min(50));
    assert_eq!(
        app.get(&format!("/topics/{}/feed.rss", topic.id))
            .await
            .status,
        StatusCode::OK
    );

    assert_eq!(
        app.get("/topics/999999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/topics/ml").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_api_lists_topics_and_names_each_papers_topics() {
    let Some((app, map)) = site() else {
        return;
    };
    let ids = ids_by_key(&app);
    let list = app.get("/api/topics").await;
    assert_eq!(list.status, StatusCode::OK);
    let list = json(&list.body);
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), map.topics.len());
    for (item, topic) in list.iter().zip(&map.topics) {
        assert_eq!(item["id"], topic.id);
        assert_eq!(item["name"], topic.name.as_str());
        assert_eq!(item["size"], topic.size);
        assert_eq!(
            item["terms"].as_array().map(Vec::len),
            Some(topic.terms.len())
        );
        assert_eq!(item["representative"], ids[&topic.representative].as_str());
        assert_eq!(item["parent"], serde_json::json!(topic.parent));
        assert!(item["growth"]["growth"].is_number());
    }

    let topic = map.broad().next().expect("topic");
    let detail = json(&app.get(&format!("/api/topics/{}", topic.id)).await.body);
    assert_eq!(detail["id"], topic.id);
    assert_eq!(
        detail["subtopics"].as_array().map(Vec::len),
        Some(map.children(topic.id).count())
    );
    let upvotes: Vec<u64> = detail["topPapers"]
        .as_array()
        .expect("top papers")
        .iter()
        .map(|p| p["upvotes"].as_u64().expect("upvotes"))
        .collect();
    assert!(!upvotes.is_empty());
    assert!(upvotes.windows(2).all(|w| w[0] >= w[1]), "{upvotes:?}");
    let monthly: u64 = detail["monthly"]
        .as_array()
        .expect("monthly")
        .iter()
        .map(|m| m["papers"].as_u64().expect("n"))
        .sum();
    assert_eq!(
        monthly as usize,
        map.members(topic.id)
            .iter()
            .filter(|m| m.published.is_some())
            .count()
    );
    let missing = app.get("/api/topics/999999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(json(&missing.body)["error"].is_string());

    // A paper names its topic and subtopic, in the API and on its page.
    let member = map.members(topic.id)[0];
    let id = &ids[&member.key];
    let paper = json(&app.get(&format!("/api/papers/{id}")).await.body);
    let topics: Vec<u64> = paper["topics"]
        .as_array()
        .expect("topics")
        .iter()
        .map(|t| t["id"].as_u64().expect("id"))
        .collect();
    let sub = member.subtopic.expect("a subtopic");
    assert_eq!(topics, [u64::from(topic.id), u64::from(sub)]);
    let page = app.get(&format!("/papers/{id}")).await.body;
    assert!(page.contains(&format!("href=\"/topics/{}\"", topic.id)));
    assert!(page.contains(&format!("href=\"/topics/{sub}\"")));
}

#[tokio::test]
async fn feeds_and_search_narrow_to_a_topic() {
    let Some((app, map)) = site() else {
        return;
    };
    let ids = ids_by_key(&app);
    let topic = map.broad().next().expect("topic");
    let in_topic = |id: &String| map.members(topic.id).iter().any(|m| &ids[&m.key] == id);
    // Days (under a page each), so that the whole day is compared with its topic part.
    let (mut whole, mut narrowed) = (0, 0);
    for day in 8..=12 {
        let path = format!("/papers/date/2024-01-{day:02}");
        whole += linked_ids(&app.get(&path).await.body).len();
        let reply = app.get(&format!("{path}?topic={}", topic.id)).await;
        assert_eq!(reply.status, StatusCode::OK);
        let listed = linked_ids(&reply.body);
        assert!(listed.iter().all(in_topic), "{listed:?}");
        narrowed += listed.len();
        let rss = app
            .get(&format!("{path}/feed.rss?topic={}", topic.id))
            .await;
        assert_eq!(rss.status, StatusCode::OK);
        assert_eq!(rss.body.matches("<item>").count(), listed.len());
    }
    assert!(narrowed > 0 && narrowed < whole, "{narrowed} of {whole}");
    let trending = linked_ids(
        &app.get(&format!("/papers/trending?topic={}", topic.id))
            .await
            .body,
    );
    assert!(trending.iter().all(in_topic));
    // Search: the title-substring backend finds "a" nearly everywhere.
    let everything = linked_ids(&app.get("/search?q=a").await.body);
    let search = app.get(&format!("/search?q=a&topic={}", topic.id)).await;
    assert_eq!(search.status, StatusCode::OK);
    let found = linked_ids(&search.body);
    assert!(!found.is_empty());
    assert!(found.iter().all(in_topic), "{found:?}");
    assert!(found != everything);
    assert!(
        search
            .body
            .contains(&format!("name=\"topic\" value=\"{}\"", topic.id))
    );

    assert_eq!(
        app.get("/papers/trending?topic=999999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/papers/trending?topic=ml").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get("/search?q=a&topic=ml").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn without_a_map_the_pages_say_how_to_build_one() {
    let app = crate::common::app();
    let page = app.get("/topics").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("papers topics"));
    assert_eq!(
        app.get("/api/topics").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        app.get("/topics/1").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        app.get("/papers?topic=1").await.status,
        StatusCode::NOT_FOUND
    );
}

/// The ids `/api/papers/{id}/similar` answers with `query`, and their JSON.
async fn similar(app: &TestApp, id: &str, query: &str) -> (StatusCode, Vec<Value>) {
    let reply = app
        .get(&format!("/api/papers/{id}/similar?limit=50&{query}"))
        .await;
    let items = serde_json::from_str::<Value>(&reply.body)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    (reply.status, items)
}

#[tokio::test]
async fn similar_papers_answer_under_each_condition() {
    let Some((app, map)) = site() else {
        return;
    };
    let ids = ids_by_key(&app);
    let store = Store::open(app.dir.path()).expect("store");
    let topic = map.broad().next().expect("topic");
    let member = map.members(topic.id)[0];
    let paper = store
        .papers_by_keys(&[member.key])
        .expect("paper")
        .remove(0);
    let id = paper.paper.id.to_string();
    let by_id = |item: &Value| {
        let id = papers_core::ArxivId::parse(item["id"].as_str().expect("id")).expect("valid");
        store.paper(&id).expect("read").expect("stored")
    };
    let (status, plain) = similar(&app, &id, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(plain.len(), 50);

    let (status, newer) = similar(&app, &id, "after=2024-02-01").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!newer.is_empty());
    let day = chrono::NaiveDate::from_ymd_opt(2024, 2, 1).expect("day");
    assert!(newer.iter().all(|p| {
        by_id(p)
            .paper
            .metadata
            .published
            .is_some_and(|t| t.date_naive() >= day)
    }));

    let (_, in_topic) = similar(&app, &id, &format!("topic={}", topic.id)).await;
    assert!(!in_topic.is_empty());
    assert!(
        in_topic
            .iter()
            .all(|p| map.contains(topic.id, by_id(p).key))
    );

    let authors: Vec<String> = paper
        .paper
        .metadata
        .authors
        .iter()
        .map(|a| a.to_lowercase())
        .collect();
    let (_, others) = similar(&app, &id, "exclude_authors=1").await;
    assert!(!others.is_empty());
    assert!(others.iter().all(|p| {
        by_id(p)
            .paper
            .metadata
            .authors
            .iter()
            .all(|a| !authors.contains(&a.to_lowercase()))
    }));

    let (_, with_code) = similar(&app, &id, "has_code=1").await;
    assert!(!with_code.is_empty(), "some papers link their code");
    assert!(with_code.iter().all(|p| p["githubRepo"].is_string()));

    let minus = plain[0]["id"].as_str().expect("id").to_owned();
    let (status, unlike) = similar(&app, &id, &format!("minus={minus}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(unlike.iter().all(|p| p["id"] != minus.as_str()));
    assert!(!unlike.is_empty());

    assert_eq!(
        similar(&app, &id, "after=February").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        similar(&app, &id, "exclude_authors=maybe").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        similar(&app, &id, "minus=2401.99999").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        similar(&app, &id, "topic=999999").await.0,
        StatusCode::NOT_FOUND
    );

    // The page offers the conditions as links, and applies them.
    let page = app.get(&format!("/papers/{id}")).await.body;
    for label in [
        "Newer only",
        "Not by these authors",
        "With code",
        "Less like",
    ] {
        assert!(page.contains(label), "{label}");
    }
    assert!(page.contains(&format!("?topic={}#similar", topic.id)));
    let narrowed = app.get(&format!("/papers/{id}?topic={}", topic.id)).await;
    assert_eq!(narrowed.status, StatusCode::OK);
    assert!(narrowed.body.contains("All similar papers"));
    let listed: Vec<String> = linked_ids(&narrowed.body)
        .into_iter()
        .filter(|other| *other != id)
        .collect();
    assert!(!listed.is_empty());
    let keys: HashMap<&String, i64> = ids.iter().map(|(k, v)| (v, *k)).collect();
    assert!(
        listed
            .iter()
            .all(|other| map.contains(topic.id, keys[other]))
    );
}

#[tokio::test]
async fn similar_papers_within_a_category() {
    // The feed days' papers carry no categories; the seeded site's do.
    let app = crate::common::app();
    let (status, all) = similar(&app, "2401.00001", "").await;
    assert_eq!(status, StatusCode::OK);
    let (status, in_ir) = similar(&app, "2401.00001", "category=cs.IR").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = in_ir.iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(ids, ["2401.00004"]);
    assert!(all.len() > ids.len());
    assert_eq!(
        similar(&app, "2401.00001", "category=nonsense!").await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn members_follow_a_topic_and_see_its_new_papers() {
    let Some((app, map)) = site() else {
        return;
    };
    let topic = map.broad().next().expect("a broad topic");
    let cookie = app.sign_up("tess").await;
    let path = format!("/topics/{}", topic.id);
    let page = app.get_as(&path, Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Follow topic"), "the follow button");
    let csrf = crate::common::csrf_in(&page.body).expect("csrf");
    let followed = app
        .post_form(
            "/follow",
            &format!(
                "csrf={csrf}&kind=topic&value={}&back=%2Ftopics%2F{}",
                topic.id, topic.id
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(followed.status, StatusCode::SEE_OTHER, "{}", followed.body);
    let page = app.get_as(&path, Some(&cookie)).await;
    assert!(page.body.contains("Following ✓"), "the button says so");

    // The API checks the id against the map.
    for (value, expected) in [
        (topic.id.to_string(), StatusCode::OK),
        ("999999".to_owned(), StatusCode::BAD_REQUEST),
        ("graphs".to_owned(), StatusCode::BAD_REQUEST),
    ] {
        let reply = app
            .send(
                axum::http::Method::POST,
                "/api/follows",
                Some(serde_json::json!({"kind": "topic", "value": value})),
                &[("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())],
            )
            .await;
        assert_eq!(reply.status, expected, "{value}: {}", reply.body);
    }

    // /following lists the topic by name and its newest papers, each saying why.
    let following = app.get_as("/following", Some(&cookie)).await;
    assert_eq!(following.status, StatusCode::OK);
    assert!(
        following
            .body
            .contains(&format!("<a href=\"/topics/{}\">", topic.id)),
        "the topic linked"
    );
    assert!(
        following
            .body
            .contains(&format!("Because you follow topic {}", topic.name))
    );
    let ids = ids_by_key(&app);
    let mut members = map.members(topic.id);
    members.sort_by(|a, b| b.published.cmp(&a.published).then(b.key.cmp(&a.key)));
    let newest = &ids[&members[0].key];
    assert!(
        linked_ids(&following.body).contains(newest),
        "the topic's newest paper {newest} is listed"
    );
    for id in linked_ids(&following.body) {
        let key = ids
            .iter()
            .find(|(_, i)| **i == id)
            .map(|(k, _)| *k)
            .expect("key");
        assert!(map.contains(topic.id, key), "{id} is in the topic");
    }
}
