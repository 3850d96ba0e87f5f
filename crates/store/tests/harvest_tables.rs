//! What background jobs keep in the store: the record of their runs, and the
//! harvester's position in each source, on both engines.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use papers_store::testing::{Engine, TestDatabase};
use papers_store::{HarvestList, JobFinish, JobOutcome, PageOutcome, RUNS_KEPT, on_both_engines};

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 3, hour, 0, 0)
        .single()
        .expect("valid time")
}

fn day(text: &str) -> NaiveDate {
    text.parse().expect("valid day")
}

fn runs_are_listed_per_job_with_last_success_and_failure(engine: Engine) {
    let Some(database) = TestDatabase::create(engine) else {
        return;
    };
    let store = database.open();
    assert!(store.job_runs().expect("empty").is_empty());

    let first = store.record_job_start("harvest:hf", at(1)).expect("start");
    store
        .record_job_finish(first, &JobFinish::ok(12, Some(at(2))), at(1))
        .expect("finish");
    let second = store.record_job_start("harvest:hf", at(2)).expect("start");
    store
        .record_job_finish(
            second,
            &JobFinish::failed(
                3,
                "huggingface.co answered HTTP 500".to_owned(),
                Some(at(3)),
            ),
            at(2),
        )
        .expect("finish");
    let running = store.record_job_start("embedder", at(4)).expect("start");

    let jobs = store.job_runs().expect("list");
    assert_eq!(
        jobs.iter().map(|j| j.job.as_str()).collect::<Vec<_>>(),
        ["embedder", "harvest:hf"]
    );
    let embedder = &jobs[0];
    assert_eq!(embedder.latest.id, running);
    assert_eq!(embedder.latest.outcome, None);
    assert_eq!(embedder.latest.finished_at, None);
    assert_eq!(embedder.last_success, None);

    let hf = &jobs[1];
    assert_eq!(hf.latest.id, second);
    assert_eq!(hf.latest.outcome, Some(JobOutcome::Failed));
    assert_eq!(hf.latest.records, 3);
    assert_eq!(hf.latest.next_run, Some(at(3)));
    assert_eq!(hf.last_success, Some(at(1)));
    let failure = hf.last_failure.as_ref().expect("a failure");
    assert_eq!(
        failure.error.as_deref(),
        Some("huggingface.co answered HTTP 500")
    );
    assert_eq!(
        store.last_job_success("harvest:hf").expect("read"),
        Some(at(1))
    );
    assert_eq!(store.last_job_success("embedder").expect("read"), None);

    // A run that found the job taken elsewhere leaves no trace.
    let busy = store
        .record_job_start("digest-sender", at(5))
        .expect("start");
    store.forget_job_run(busy).expect("forget");
    assert!(
        store
            .job_history("digest-sender", 10)
            .expect("read")
            .is_empty()
    );
}

fn only_the_newest_runs_are_kept(engine: Engine) {
    let Some(database) = TestDatabase::create(engine) else {
        return;
    };
    let store = database.open();
    let other = store.record_job_start("other", at(0)).expect("start");
    store
        .record_job_finish(other, &JobFinish::ok(1, None), at(0))
        .expect("finish");
    let start = at(0);
    let total = RUNS_KEPT + 5;
    for n in 0..total {
        let now = start + Duration::minutes(n);
        let run = store.record_job_start("busy", now).expect("start");
        store
            .record_job_finish(run, &JobFinish::ok(n as u64, None), now)
            .expect("finish");
    }
    let history = store.job_history("busy", usize::MAX >> 1).expect("history");
    assert_eq!(history.len() as i64, RUNS_KEPT);
    assert_eq!(history[0].records, (total - 1) as u64, "newest first");
    assert_eq!(
        history.last().map(|run| run.records),
        Some((total - RUNS_KEPT) as u64)
    );
    // Pruning one job never touches another's runs.
    assert_eq!(store.job_history("other", 10).expect("other").len(), 1);
}

fn the_harvest_position_moves_with_the_pages_it_stores(engine: Engine) {
    let Some(database) = TestDatabase::create(engine) else {
        return;
    };
    let mut store = database.open();
    let name = "arxiv:cs:cs:CL";
    assert_eq!(store.harvest_state(name).expect("read"), None);

    // A page stored with its successor's token: the list is in progress.
    let mut batch = store.begin_ingest(at(1)).expect("batch");
    batch
        .record_harvest_page(
            name,
            &PageOutcome::More {
                from: day("2024-01-01"),
                started: day("2024-01-03"),
                resumption_token: "6960524|1001",
            },
        )
        .expect("position");
    batch.commit().expect("commit");
    let state = store.harvest_state(name).expect("read").expect("a row");
    assert_eq!(state.next_from, None);
    assert_eq!(
        state.list,
        Some(HarvestList {
            from: day("2024-01-01"),
            started: day("2024-01-03"),
            resumption_token: "6960524|1001".to_owned(),
        })
    );

    // A batch rolled back (the node died before committing) leaves the position.
    let mut batch = store.begin_ingest(at(2)).expect("batch");
    batch
        .record_harvest_page(
            name,
            &PageOutcome::Complete {
                started: day("2024-01-03"),
            },
        )
        .expect("position");
    drop(batch);
    let state = store.harvest_state(name).expect("read").expect("a row");
    assert!(state.list.is_some());

    // The last page completes the list: the next harvest starts at its start day.
    let mut batch = store.begin_ingest(at(2)).expect("batch");
    batch
        .record_harvest_page(
            name,
            &PageOutcome::Complete {
                started: day("2024-01-03"),
            },
        )
        .expect("position");
    batch.commit().expect("commit");
    let state = store.harvest_state(name).expect("read").expect("a row");
    assert_eq!(state.next_from, Some(day("2024-01-03")));
    assert_eq!(state.list, None);
    assert_eq!(state.updated_at, Some(at(2)));

    // A refused token drops the list but keeps where the next harvest starts.
    let mut batch = store.begin_ingest(at(3)).expect("batch");
    batch
        .record_harvest_page(
            name,
            &PageOutcome::More {
                from: day("2024-01-03"),
                started: day("2024-01-04"),
                resumption_token: "expired",
            },
        )
        .expect("position");
    batch.commit().expect("commit");
    store.abandon_harvest_list(name, at(4)).expect("abandon");
    let state = store.harvest_state(name).expect("read").expect("a row");
    assert_eq!(state.next_from, Some(day("2024-01-03")));
    assert_eq!(state.list, None);
}

on_both_engines!(
    runs_are_listed_per_job_with_last_success_and_failure,
    only_the_newest_runs_are_kept,
    the_harvest_position_moves_with_the_pages_it_stores,
);
