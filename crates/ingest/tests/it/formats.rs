//! Every parser over the real data sets, with exact counts, and each kind of bad input.

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use papers_ingest::{ErrorKind, Format, Position, detect_format, open};

use crate::support::{data_dir, read_all, records};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write fixture");
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("compress");
    encoder.finish().expect("compress")
}

#[test]
fn kaggle_sample_has_200_records() {
    let Some(data) = data_dir() else { return };
    let path = data.join("arxiv-kaggle-snapshot/sample-0704.0001-0704.0200.jsonl");
    assert_eq!(detect_format(&path).expect("detect"), Format::KaggleJsonl);
    let items = read_all(&path, None);
    assert_eq!(items.len(), 200);
    let positions: Vec<Position> = items
        .iter()
        .map(|i| i.as_ref().expect("valid").position)
        .collect();
    assert_eq!(positions[199], Position::Line(200));
    let records = records(items);
    let first = &records[0];
    assert_eq!(first.id.as_str(), "0704.0001");
    assert_eq!(
        first.metadata.title,
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    );
    assert_eq!(first.metadata.authors[0], "C. Balázs");
    assert_eq!(first.metadata.versions.len(), 2);
    assert_eq!(records.last().map(|r| r.id.as_str()), Some("0704.0200"));
}

#[test]
fn kaggle_2020_archive_has_76803_records() {
    let Some(data) = data_dir() else { return };
    let path = data.join("arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz");
    assert_eq!(detect_format(&path).expect("detect"), Format::KaggleJsonl);
    let mut records = open(&path, Format::KaggleJsonl).expect("opens");
    let total = records.total_bytes();
    let mut ids = BTreeSet::new();
    let mut count = 0;
    for item in records.by_ref() {
        let record = item.expect("valid record").record;
        assert!(!record.metadata.title.is_empty());
        ids.insert(record.id);
        count += 1;
    }
    assert_eq!(count, 76_803);
    // 811 papers appear twice, once with the intact id and once with an id mangled by
    // a float column (`704.3665` beside `0704.3665`); repaired, they are one paper.
    assert_eq!(ids.len(), 75_992);
    assert!(ids.iter().any(|id| id.as_str() == "cmp-lg/9404002"));
    assert_eq!(records.bytes_read(), total);
}

#[test]
fn gzip_and_truncated_gzip() {
    let Some(data) = data_dir() else { return };
    let sample = std::fs::read(data.join("arxiv-kaggle-snapshot/sample-0704.0001-0704.0200.jsonl"))
        .expect("sample");
    let dir = tempfile::tempdir().expect("tempdir");
    // The name says nothing: detection must look inside.
    let whole = write(dir.path(), "sample.data", &gzip(&sample));
    assert_eq!(detect_format(&whole).expect("detect"), Format::KaggleJsonl);
    assert_eq!(records(read_all(&whole, None)).len(), 200);

    let compressed = gzip(&sample);
    let cut = write(
        dir.path(),
        "cut.jsonl.gz",
        &compressed[..compressed.len() * 6 / 10],
    );
    let items = read_all(&cut, Some(Format::KaggleJsonl));
    let (last, valid) = items.split_last().expect("some items");
    assert!(valid.len() > 50, "records before the cut are kept");
    let error = last.as_ref().expect_err("ends with the truncation");
    assert!(matches!(error.kind, ErrorKind::TruncatedGzip), "{error}");
    assert!(matches!(error.position, Some(Position::Line(n)) if n as usize > valid.len()));
    assert!(
        error.to_string().contains("truncated gzip stream"),
        "{error}"
    );
}

#[test]
fn bad_json_lines_are_reported_and_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = [
        r#"{"id":"0704.0001","title":"One","categories":"hep-ph"}"#,
        r#"{"id":"0704.0002","title":"#,
        r#"{"id":"0704.0003","abstract":"no title"}"#,
        r#"{"id":"xyz","title":"Bad id"}"#,
        "",
        r#"{"id":"0704.0005","title":"Five","categories":"NOT A CATEGORY"}"#,
        r#"{"id":"0704.0006","title":"Six","categories":"cs.IR"}"#,
    ];
    let path = write(dir.path(), "data.jsonl", lines.join("\n").as_bytes());
    let items = read_all(&path, Some(Format::KaggleJsonl));
    let summary: Vec<String> = items
        .iter()
        .map(|item| match item {
            Ok(ok) => format!("ok {}", ok.position),
            Err(error) => error
                .to_string()
                .replace(&dir.path().display().to_string(), ""),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "ok line 1",
            "/data.jsonl: line 2: EOF while parsing a value",
            "/data.jsonl: line 3: missing field `title`",
            "/data.jsonl: line 4: invalid arXiv id \"xyz\": expected YYMM.NNNNN or archive/YYMMNNN",
            "/data.jsonl: line 6: invalid category list \"NOT A CATEGORY\"",
            "ok line 7",
        ]
    );
}

#[test]
fn empty_and_unknown_inputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = write(dir.path(), "empty.jsonl", b"");
    let error = detect_format(&empty).expect_err("empty");
    assert!(matches!(error.kind, ErrorKind::Empty));
    assert!(matches!(
        open(&empty, Format::KaggleJsonl)
            .map(|_| ())
            .expect_err("empty")
            .kind,
        ErrorKind::Empty
    ));
    let zip = write(dir.path(), "data.zip", b"PK\x03\x04 not a paper");
    let error = detect_format(&zip).expect_err("unknown");
    assert!(
        matches!(&error.kind, ErrorKind::UnknownFormat(head) if head.starts_with("PK")),
        "{error}"
    );
    let missing = dir.path().join("missing.jsonl");
    assert!(matches!(
        detect_format(&missing).expect_err("missing").kind,
        ErrorKind::Io(_)
    ));
}

#[test]
fn oai_pmh_fixtures() {
    let Some(data) = data_dir() else { return };
    let dir = data.join("arxiv-oai-pmh/paperhive-nock-2018");
    let list = dir.join("oaipmh-listrecords---should-list-identifiers-from-arxiv.1.xml");
    assert_eq!(detect_format(&list).expect("detect"), Format::OaiPmh);
    let listed = records(read_all(&list, None));
    let ids: Vec<&str> = listed.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["1412.8544", "hep-th/9504118"]);
    let first = &listed[0].metadata;
    assert_eq!(
        first.title,
        "A Kochen-Specker system has at least 22 vectors (extended abstract)"
    );
    assert_eq!(first.authors, ["Sander Uijlen", "Bas Westerbaan"]);
    assert_eq!(first.doi.as_deref(), Some("10.4204/EPTCS.172.11"));
    assert!(
        first
            .abstract_text
            .starts_with("At the heart of the Conway-Kochen")
    );
    assert!(!first.abstract_text.contains('\n'));
    assert!(
        listed[1]
            .metadata
            .abstract_text
            .contains("the \"strength\" of the bonds")
    );
    assert_eq!(
        listed[1].metadata.report_no.as_deref(),
        Some("GOET-TP 101/95")
    );

    let get = dir.join("oaipmh-getrecord---should-get-a-record.0.xml");
    let single = records(read_all(&get, None));
    assert_eq!(single.len(), 1);
    assert_eq!(single[0].id.as_str(), "1412.8544");
    // Responses without records are valid and empty.
    for name in [
        "oaipmh-listidentifiers---should-list-identifiers-from-arxiv.0.xml",
        "oaipmh-identify---should-identify-arxiv.0.xml",
        "oaipmh-listsets---should-list-arxiv-sets.0.xml",
    ] {
        assert_eq!(
            read_all(&dir.join(name), Some(Format::OaiPmh)).len(),
            0,
            "{name}"
        );
    }
}

/// An arXivRaw page as the schema describes it, with a deleted record and a token.
pub const ARXIV_RAW_PAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2024-01-02T00:00:00Z</responseDate>
<request verb="ListRecords" metadataPrefix="arXivRaw">http://export.arxiv.org/oai2</request>
<ListRecords>
<record><header><identifier>oai:arXiv.org:0704.0001</identifier><datestamp>2008-11-13</datestamp><setSpec>physics:hep-ph</setSpec></header>
<metadata><arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/">
<id>0704.0001</id><submitter>Pavel Nadolsky</submitter>
<version version="v1"><date>Mon, 2 Apr 2007 19:18:42 GMT</date><size>465kb</size><source_type>D</source_type></version>
<version version="v2"><date>Tue, 24 Jul 2007 20:10:27 GMT</date><size>465kb</size><source_type>D</source_type></version>
<title>Calculation of prompt diphoton production cross sections at Tevatron and
  LHC energies</title>
<authors>C. Bal\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan</authors>
<categories>hep-ph</categories><comments>37 pages, 15 figures; published version</comments>
<report-no>ANL-HEP-PR-07-12</report-no><journal-ref>Phys.Rev.D76:013009,2007</journal-ref>
<doi>10.1103/PhysRevD.76.013009</doi>
<abstract>  A fully differential calculation in perturbative quantum chromodynamics is
presented for the production of massive photon pairs at hadron colliders.
</abstract></arXivRaw></metadata></record>
<record><header status="deleted"><identifier>oai:arXiv.org:0704.0003</identifier><datestamp>2008-11-13</datestamp></header></record>
<resumptionToken cursor="0" completeListSize="3">6960524|1001</resumptionToken>
</ListRecords>
</OAI-PMH>
"#;

#[test]
fn oai_arxiv_raw_page() {
    let page =
        papers_ingest::format::oai::parse_page(ARXIV_RAW_PAGE.as_bytes()).expect("valid page");
    assert_eq!(page.resumption_token.as_deref(), Some("6960524|1001"));
    assert_eq!(page.complete_list_size, Some(3));
    assert!(page.skipped.is_empty());
    assert_eq!(page.records.len(), 1, "the deleted record is skipped");
    let metadata = &page.records[0].metadata;
    assert_eq!(
        metadata.title,
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    );
    assert_eq!(metadata.authors[0], "C. Balázs", "TeX accents decoded");
    assert_eq!(metadata.authors.len(), 4);
    assert_eq!(metadata.submitter.as_deref(), Some("Pavel Nadolsky"));
    assert_eq!(metadata.versions.len(), 2);
    assert_eq!(metadata.versions[0].size.as_deref(), Some("465kb"));
    assert_eq!(
        metadata.updated.map(|d| d.to_rfc3339()).as_deref(),
        Some("2007-07-24T20:10:27+00:00")
    );
}

#[test]
fn oai_errors() {
    let envelope = |inner: &str| {
        format!(
            "<?xml version=\"1.0\"?><OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\">\
             <responseDate>2024-01-01T00:00:00Z</responseDate>{inner}</OAI-PMH>"
        )
    };
    let none = envelope(r#"<error code="noRecordsMatch">No records</error>"#);
    let page = papers_ingest::format::oai::parse_page(none.as_bytes()).expect("empty success");
    assert!(page.records.is_empty() && page.resumption_token.is_none());
    let bad = envelope(r#"<error code="badArgument">Illegal argument "set"</error>"#);
    let error = papers_ingest::format::oai::parse_page(bad.as_bytes()).expect_err("error");
    assert_eq!(
        error.to_string(),
        "OAI-PMH response: OAI-PMH error badArgument: Illegal argument \"set\""
    );

    // A syntax error after a good record: the record is kept, then the error ends it.
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = ARXIV_RAW_PAGE.replace("</ListRecords>", "</ListRecordz>");
    let path = write(dir.path(), "broken.xml", broken.as_bytes());
    let items = read_all(&path, Some(Format::OaiPmh));
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    let error = items[1].as_ref().expect_err("syntax error");
    assert!(matches!(error.kind, ErrorKind::Xml(_)), "{error}");
}

#[test]
fn atom_fixtures_have_246_entries() {
    let Some(data) = data_dir() else { return };
    let mut total = 0;
    let mut errors = Vec::new();
    for folder in ["arxiv.py-fixtures", "arxiv.py-2016"] {
        let mut paths =
            papers_ingest::input_files(&[data.join("arxiv-api-atom").join(folder)]).expect("list");
        paths.retain(|p| p.extension().is_some_and(|e| e == "xml"));
        for path in paths {
            assert_eq!(
                detect_format(&path).expect("detect"),
                Format::ArxivAtom,
                "{}",
                path.display()
            );
            for item in read_all(&path, None) {
                total += 1;
                if let Err(error) = item {
                    errors.push(error);
                }
            }
        }
    }
    assert_eq!(total, 246);
    assert_eq!(errors.len(), 1);
    assert!(
        matches!(&errors[0].kind, ErrorKind::ApiError(m) if m == "incorrect id format for abc")
    );
    assert!(errors[0].path.to_string_lossy().contains("id_abc_"));
}

#[test]
fn atom_entry_fields() {
    let Some(data) = data_dir() else { return };
    let fixtures = data.join("arxiv-api-atom/arxiv.py-fixtures");
    let record = &records(read_all(
        &fixtures.join("id_2104.12255v1_s0_m100_6ae69987ffe1.xml"),
        None,
    ))[0];
    assert_eq!(record.id.as_str(), "2104.12255");
    assert_eq!(record.metadata.title, "0");
    assert_eq!(record.metadata.authors, ["Quan Thoi Minh Nguyen"]);
    assert_eq!(record.metadata.categories[0].as_str(), "cs.CR");
    assert_eq!(record.metadata.latest_version(), 1);
    let old = &records(read_all(
        &data.join("arxiv-api-atom/arxiv.py-2016/id_list=1111.2011v2.xml"),
        None,
    ))[0];
    assert_eq!(old.id.as_str(), "1111.2011");
    assert_eq!(
        old.metadata.title,
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    );
    assert_eq!(
        old.metadata.doi.as_deref(),
        Some("10.1103/PhysRevB.85.115117")
    );
    assert_eq!(
        old.metadata.comments.as_deref(),
        Some("8 pages, 3 figures. Published version")
    );
    assert_eq!(old.metadata.latest_version(), 2);
    let empty = read_all(
        &fixtures.join("id_0000.0000_s0_m100_8b51d9633a68.xml"),
        None,
    );
    assert!(empty.is_empty());
}

#[derive(serde::Deserialize)]
struct AbsSample {
    path: String,
    kind: String,
    id: Option<String>,
    encoding: String,
    #[serde(rename = "abs")]
    text: String,
}

/// Writes the 1,192 sample `.abs` files out as real files, in their own encoding.
fn write_abs_files(data: &Path, dir: &Path) -> Vec<AbsSample> {
    let file =
        std::fs::File::open(data.join("arxiv-abs-files/abs_files.jsonl.gz")).expect("abs samples");
    let mut samples = Vec::new();
    for line in std::io::BufReader::new(flate2::read::MultiGzDecoder::new(file)).lines() {
        let sample: AbsSample = serde_json::from_str(&line.expect("line")).expect("sample");
        let bytes: Vec<u8> = if sample.encoding == "latin-1" {
            sample
                .text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).expect("latin-1"))
                .collect()
        } else {
            sample.text.clone().into_bytes()
        };
        let path = dir.join(&sample.path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write");
        samples.push(sample);
    }
    samples
}

#[test]
fn abs_files_directory() {
    let Some(data) = data_dir() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let samples = write_abs_files(&data, dir.path());
    assert_eq!(samples.len(), 1192);
    assert_eq!(detect_format(dir.path()).expect("detect"), Format::Abs);

    let current = dir.path().join("ftp");
    let mut ids = BTreeSet::new();
    let mut errors = Vec::new();
    let mut latin1 = None;
    for item in read_all(&current, None) {
        match item {
            Ok(positioned) => {
                if positioned.record.id.as_str() == "1607.08199" {
                    latin1 = Some(positioned.record.clone());
                }
                ids.insert(positioned.record.id);
            }
            Err(error) => errors.push(error),
        }
    }
    // 1,132 current files: one is empty (math-ph/0509037) and two carry the same id
    // (cs/0006007.abs holds cs/0006008).
    assert_eq!(ids.len(), 1130);
    let expected: BTreeSet<String> = samples
        .iter()
        .filter(|s| s.kind == "current")
        .filter_map(|s| s.id.clone())
        .collect();
    assert_eq!(
        ids.iter().map(|i| i.to_string()).collect::<BTreeSet<_>>(),
        expected
    );
    assert_eq!(errors.len(), 1);
    assert!(matches!(errors[0].kind, ErrorKind::Empty));
    assert!(errors[0].path.ends_with("math-ph/papers/0509/0509037.abs"));
    assert!(
        errors[0].to_string().ends_with("empty file"),
        "{}",
        errors[0]
    );

    let latin1 = latin1.expect("1607.08199 read");
    assert_eq!(
        latin1.metadata.title,
        "Bridgeland Stability Conditions on Fano Threefolds"
    );
    assert!(
        latin1
            .metadata
            .journal_ref
            .as_deref()
            .is_some_and(|j| j.starts_with("Épijournal de Géométrie Algébrique")),
        "{:?}",
        latin1.metadata.journal_ref
    );
    assert_eq!(latin1.metadata.latest_version(), 5);
    assert_eq!(latin1.metadata.authors[1], "Emanuele Macrì");

    // Prior versions parse too, and carry fewer versions than the current file.
    let orig = records(read_all(&dir.path().join("orig"), Some(Format::Abs)));
    assert_eq!(orig.len(), 60);
    // A single file works as an input as well.
    let one = dir.path().join("ftp/arxiv/papers/0704/0704.0002.abs");
    assert_eq!(detect_format(&one).expect("detect"), Format::Abs);
    assert_eq!(
        records(read_all(&one, None))[0].metadata.authors,
        ["Ileana Streinu", "Louis Theran"]
    );
}

#[test]
fn hf_daily_papers_raw_response() {
    let Some(data) = data_dir() else { return };
    let path = data.join("hf-daily-papers-api/daily_papers_2024-10-25.json");
    assert_eq!(detect_format(&path).expect("detect"), Format::HfDailyPapers);
    let records = records(read_all(&path, None));
    assert_eq!(records.len(), 29);
    let first = &records[0];
    assert_eq!(first.id.as_str(), "2410.17243");
    assert_eq!(
        first.metadata.title,
        "Breaking the Memory Barrier: Near Infinite Batch Size Scaling for Contrastive Loss"
    );
    assert!(first.metadata.categories.is_empty());
    assert_eq!(
        first.metadata.published.map(|d| d.to_rfc3339()).as_deref(),
        Some("2024-10-22T17:59:30+00:00")
    );
    let community = first.community.as_ref().expect("community");
    assert_eq!(community.upvotes, Some(64));
    assert_eq!(community.num_comments, Some(3));
    assert_eq!(community.submitted_by.as_deref(), Some("ClownRat"));
    assert!(records.iter().all(|r| {
        r.community
            .as_ref()
            .and_then(|c| c.feed_day)
            .is_some_and(|d| d.to_string() == "2024-10-25")
    }));
}

#[test]
fn hf_66_days_have_739_papers() {
    let Some(data) = data_dir() else { return };
    let files = papers_ingest::input_files(&[data.join("hf-daily-papers-api/2023-11-to-2024-04")])
        .expect("list");
    assert_eq!(files.len(), 66);
    let mut ids = BTreeSet::new();
    for path in &files {
        let name = path.file_stem().and_then(|s| s.to_str()).expect("name");
        let day = name.trim_start_matches("daily_papers_");
        for record in records(read_all(path, None)) {
            let community = record.community.expect("community");
            // The feed day is the UTC date of the entry's publishedAt: it matches the
            // day the file was fetched for, for every entry of all 66 files.
            assert_eq!(
                community.feed_day.map(|d| d.to_string()).as_deref(),
                Some(day)
            );
            assert!(community.upvotes.is_some_and(|u| u >= 1));
            ids.insert(record.id);
        }
    }
    assert_eq!(ids.len(), 739);
}

#[test]
fn hf_paper_object() {
    let dir = tempfile::tempdir().expect("tempdir");
    let body = br#"{"id":"2401.00368","authors":[{"_id":"a","name":"Liang Wang","hidden":false}],"publishedAt":"2023-12-31T02:13:18.000Z","title":"Improving Text Embeddings with Large Language Models","summary":"In this paper","upvotes":80,"githubRepo":"https://github.com/microsoft/unilm","submittedOnDailyBy":{"user":"akhaliq","fullname":"AK"},"submittedOnDailyAt":"2024-01-02T01:02:03.000Z"}"#;
    let path = write(dir.path(), "paper.json", body);
    assert_eq!(detect_format(&path).expect("detect"), Format::HfPaper);
    let record = &records(read_all(&path, None))[0];
    let community = record.community.as_ref().expect("community");
    assert_eq!(community.upvotes, Some(80));
    assert_eq!(community.submitted_by.as_deref(), Some("akhaliq"));
    assert_eq!(
        community.feed_day.map(|d| d.to_string()).as_deref(),
        Some("2024-01-02")
    );
}
