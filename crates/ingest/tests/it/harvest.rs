//! The harvesters against a local server replaying recorded responses.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use papers_core::ArxivId;
use papers_ingest::harvest::{Client, HarvestError, arxiv_api, hf, oai::OaiHarvester};
use serde_json::Value;

use crate::server::{Canned, FakeClock, serve};
use crate::support::data_dir;

/// The nock recording: a list of `{status, response, rawHeaders: [name, value, …]}`.
fn nock(path: &Path) -> Vec<Canned> {
    let recorded: Vec<Value> =
        serde_json::from_slice(&std::fs::read(path).expect("nock file")).expect("json");
    recorded
        .iter()
        .map(|entry| {
            let raw: Vec<String> = entry["rawHeaders"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            // Only the header that matters to the client; framing is the server's own.
            let headers = raw
                .chunks(2)
                .filter(|pair| pair[0].eq_ignore_ascii_case("Retry-After"))
                .map(|pair| (pair[0].clone(), pair[1].clone()))
                .collect();
            Canned {
                status: u16::try_from(entry["status"].as_u64().expect("status")).expect("u16"),
                headers,
                body: entry["response"]
                    .as_str()
                    .expect("body")
                    .as_bytes()
                    .to_vec(),
            }
        })
        .collect()
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

#[test]
fn oai_harvest_waits_paces_and_follows_tokens() {
    let Some(data) = data_dir() else { return };
    let dir = data.join("arxiv-oai-pmh/paperhive-nock-2018");
    let mut recorded =
        nock(&dir.join("oaipmh-listrecords---should-list-identifiers-from-arxiv.nock.json"));
    assert_eq!(recorded[0].status, 503);
    let get_record = nock(&dir.join("oaipmh-getrecord---should-get-a-record.nock.json"))
        .pop()
        .expect("GetRecord response");
    // Page 1 is the recorded ListRecords body with a token added; page 2 the GetRecord body.
    let page_one = String::from_utf8(recorded[1].body.clone()).expect("utf-8").replace(
        "</ListRecords>",
        "<resumptionToken cursor=\"0\" completeListSize=\"3\">2101923|1001</resumptionToken></ListRecords>",
    );
    recorded[1].body = page_one.into_bytes();
    recorded.push(get_record);
    let responses = std::sync::Mutex::new(recorded.into_iter());

    let clock = FakeClock::new();
    let server = serve(Arc::clone(&clock), move |_, _| {
        responses
            .lock()
            .expect("queue")
            .next()
            .unwrap_or_else(|| Canned {
                status: 500,
                headers: Vec::new(),
                body: b"no more".to_vec(),
            })
    });
    let mut harvester = OaiHarvester::new(format!("{}/oai2", server.base), day("2015-01-01"));
    harvester.until = Some(day("2015-01-03"));
    let pages: Vec<_> = harvester
        .pages(Client::new(clock.clone()))
        .collect::<Result<_, HarvestError>>()
        .expect("harvest");

    let ids: Vec<Vec<&str>> = pages
        .iter()
        .map(|p| p.records.iter().map(|r| r.id.as_str()).collect())
        .collect();
    assert_eq!(
        ids,
        [vec!["1412.8544", "hep-th/9504118"], vec!["1412.8544"]]
    );
    assert_eq!(pages[0].complete_list_size, Some(3));

    let seen = server.seen();
    let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
    let first = "/oai2?verb=ListRecords&metadataPrefix=arXiv&from=2015-01-01&until=2015-01-03";
    assert_eq!(
        paths,
        [
            first,
            first,
            "/oai2?verb=ListRecords&resumptionToken=2101923%7C1001"
        ],
        "retried after the 503, then followed the token alone"
    );
    assert!(
        clock.sleeps().iter().any(|s| *s >= Duration::from_secs(10)),
        "{:?}",
        clock.sleeps()
    );
    for pair in seen.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= Duration::from_secs(3),
            "{seen:?}"
        );
    }
}

#[test]
fn oai_harvest_gives_up_after_bounded_retries() {
    let clock = FakeClock::new();
    let server = serve(Arc::clone(&clock), |_, _| Canned {
        status: 503,
        headers: vec![("Retry-After".into(), "5".into())],
        body: Vec::new(),
    });
    let harvester = OaiHarvester::new(format!("{}/oai2", server.base), day("2024-01-01"));
    let mut client = Client::new(clock.clone());
    client.max_retries = 2;
    let results: Vec<_> = harvester.pages(client).collect();
    assert_eq!(results.len(), 1);
    assert!(
        matches!(
            results[0],
            Err(HarvestError::Unavailable { attempts: 3, .. })
        ),
        "{:?}",
        results[0]
    );
    assert_eq!(server.seen().len(), 3);
    assert_eq!(
        clock
            .sleeps()
            .iter()
            .filter(|s| **s == Duration::from_secs(5))
            .count(),
        2
    );
}

#[test]
fn hf_daily_papers_and_paper() {
    let Some(data) = data_dir() else { return };
    let body = std::fs::read(data.join("hf-daily-papers-api/daily_papers_2024-10-25.json"))
        .expect("fixture");
    let entries: Vec<Value> = serde_json::from_slice(&body).expect("json");
    let paper = serde_json::to_vec(&entries[0]["paper"]).expect("paper object");
    let clock = FakeClock::new();
    let server = serve(Arc::clone(&clock), move |_, path| match path {
        "/api/daily_papers?date=2024-10-25" => Canned::ok(body.clone()),
        "/api/papers/2410.17243" => Canned::ok(paper.clone()),
        _ => Canned {
            status: 404,
            headers: Vec::new(),
            body: b"{\"error\":\"Not Found\"}".to_vec(),
        },
    });
    let mut client = Client::new(clock.clone());
    let day_papers =
        hf::fetch_daily_papers(&mut client, &server.base, day("2024-10-25")).expect("daily");
    assert_eq!(day_papers.records.len(), 29);
    assert!(day_papers.skipped.is_empty());
    let id = ArxivId::parse("2410.17243").expect("id");
    let record = hf::fetch_paper(&mut client, &server.base, &id).expect("paper");
    assert_eq!(record.community.and_then(|c| c.upvotes), Some(64));
    let missing = ArxivId::parse("2410.00000").expect("id");
    let error = hf::fetch_paper(&mut client, &server.base, &missing).expect_err("404");
    assert!(
        matches!(error, HarvestError::Status { status: 404, .. }),
        "{error}"
    );
}

/// The arXiv API fixtures keyed by their `id_list`.
fn api_fixtures(data: &Path) -> HashMap<String, (u16, String)> {
    let dir = data.join("arxiv-api-atom/arxiv.py-fixtures");
    let mut fixtures = HashMap::new();
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let recorded: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        let url = recorded["url"].as_str().expect("url");
        let Some(id_list) = url
            .split("id_list=")
            .nth(1)
            .map(|rest| rest.split('&').next().unwrap_or(""))
        else {
            continue;
        };
        if id_list.is_empty() {
            continue;
        }
        let status = u16::try_from(recorded["status_code"].as_u64().expect("status")).expect("u16");
        fixtures.insert(
            decode(id_list),
            (status, recorded["body"].as_str().expect("body").to_owned()),
        );
    }
    fixtures
}

fn decode(value: &str) -> String {
    value.replace("%2C", ",").replace("%2F", "/")
}

#[test]
fn arxiv_api_lookups() {
    let Some(data) = data_dir() else { return };
    let fixtures = api_fixtures(&data);
    assert!(fixtures.contains_key("abc"), "{:?}", fixtures.keys());
    let clock = FakeClock::new();
    let server = serve(Arc::clone(&clock), move |_, path| {
        let id_list = path
            .split("id_list=")
            .nth(1)
            .map(|rest| decode(rest.split('&').next().unwrap_or("")))
            .unwrap_or_default();
        match fixtures.get(&id_list) {
            Some((status, body)) => Canned {
                status: *status,
                headers: Vec::new(),
                body: body.clone().into_bytes(),
            },
            None => Canned {
                status: 500,
                headers: Vec::new(),
                body: format!("no fixture for {id_list:?}").into_bytes(),
            },
        }
    });
    let mut client = Client::new(clock.clone());
    // arXiv never issued 0808.05394 (five digits before 1501), so it is no `ArxivId`;
    // the raw query shows the API skipping it and answering for the other id.
    assert!(ArxivId::parse("0808.05394").is_err());
    let records =
        arxiv_api::query(&mut client, &server.base, "0808.05394,1707.08567", 2).expect("lookup");
    assert_eq!(
        records.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["1707.08567"]
    );
    let old = ArxivId::parse("astro-ph/0601001").expect("id");
    let records = arxiv_api::fetch_ids(&mut client, &server.base, std::slice::from_ref(&old))
        .expect("old id");
    assert_eq!(records[0].id, old);
    let versioned =
        arxiv_api::query(&mut client, &server.base, "2104.12255v1", 1).expect("versioned");
    assert_eq!(versioned[0].id.as_str(), "2104.12255");
    assert!(
        arxiv_api::query(&mut client, &server.base, "0000.0000", 1)
            .expect("unknown")
            .is_empty()
    );
    let error = arxiv_api::query(&mut client, &server.base, "abc", 1).expect_err("bad id");
    assert!(
        matches!(&error, HarvestError::Api(m) if m == "incorrect id format for abc"),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "arXiv API error: incorrect id format for abc"
    );
    for pair in server.seen().windows(2) {
        assert!(pair[1].at - pair[0].at >= Duration::from_secs(3));
    }
}

#[test]
fn oai_error_response_names_code_and_url() {
    let clock = FakeClock::new();
    let server = serve(Arc::clone(&clock), |_, _| {
        Canned::ok(
            "<?xml version=\"1.0\"?><OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\">\
             <error code=\"badArgument\">Illegal set</error></OAI-PMH>",
        )
    });
    let mut harvester = OaiHarvester::new(format!("{}/oai2", server.base), day("2024-01-01"));
    harvester.set = Some("physics:hep-th".to_owned());
    harvester.metadata_prefix = "arXivRaw".to_owned();
    let results: Vec<_> = harvester.pages(Client::new(clock.clone())).collect();
    assert_eq!(results.len(), 1);
    let error = results[0].as_ref().expect_err("OAI error");
    let message = error.to_string();
    assert!(message.contains("set=physics%3Ahep-th"), "{message}");
    assert!(
        message.ends_with("OAI-PMH error badArgument: Illegal set"),
        "{message}"
    );
    assert_eq!(
        server.seen()[0].path,
        "/oai2?verb=ListRecords&metadataPrefix=arXivRaw&from=2024-01-01&set=physics%3Ahep-th"
    );
}
