//! Reading a BEIR data set: `corpus.jsonl[.gz]` (`_id`, `title`, `text`),
//! `queries.jsonl` (`_id`, `text`) and a qrels TSV (`query-id corpus-id score`,
//! with a header line).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::metrics::Judgements;
use crate::error::{IndexError, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct BeirDoc {
    pub id: String,
    pub title: String,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct BeirSet {
    pub corpus: Vec<BeirDoc>,
    /// Query id → text, for the queries that have judgements only.
    pub queries: Vec<(String, String)>,
    pub qrels: HashMap<String, Judgements>,
}

impl BeirSet {
    /// Loads `dir`, with judgements from `qrels` or else the first of
    /// `qrels/test.tsv`, `qrels/dev.tsv`, `qrels/train.tsv` that exists.
    pub fn load(dir: &Path, qrels: Option<&Path>) -> Result<BeirSet> {
        let qrels_path = match qrels {
            Some(path) => path.to_owned(),
            None => ["test", "dev", "train"]
                .iter()
                .map(|split| dir.join("qrels").join(format!("{split}.tsv")))
                .find(|p| p.exists())
                .ok_or_else(|| bad(dir, "no qrels/{test,dev,train}.tsv; pass --qrels"))?,
        };
        let qrels = read_qrels(&qrels_path)?;
        let queries_path = dir.join("queries.jsonl");
        let mut queries = Vec::new();
        for_each_json_line(&queries_path, |value| {
            let id = string_field(&value, "_id");
            if qrels.contains_key(&id) {
                queries.push((id, string_field(&value, "text")));
            }
        })?;
        let corpus_path = [dir.join("corpus.jsonl"), dir.join("corpus.jsonl.gz")]
            .into_iter()
            .find(|p| p.exists())
            .ok_or_else(|| bad(dir, "no corpus.jsonl[.gz]"))?;
        let mut corpus = Vec::new();
        for_each_json_line(&corpus_path, |value| {
            corpus.push(BeirDoc {
                id: string_field(&value, "_id"),
                title: string_field(&value, "title"),
                text: string_field(&value, "text"),
            });
        })?;
        Ok(BeirSet {
            corpus,
            queries,
            qrels,
        })
    }
}

fn bad(path: &Path, reason: &str) -> IndexError {
    IndexError::Beir {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Ids may be strings or numbers in the wild; both become strings.
fn string_field(value: &Value, name: &str) -> String {
    match value.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

pub(crate) fn open_maybe_gz(path: &Path) -> Result<Box<dyn BufRead>> {
    let file = File::open(path).map_err(IndexError::io(path))?;
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, reader)))
}

fn for_each_json_line(path: &Path, mut each: impl FnMut(Value)) -> Result<()> {
    for (number, line) in open_maybe_gz(path)?.lines().enumerate() {
        let line = line.map_err(IndexError::io(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&line)
            .map_err(|e| bad(path, &format!("line {}: {e}", number + 1)))?;
        each(value);
    }
    Ok(())
}

fn read_qrels(path: &PathBuf) -> Result<HashMap<String, Judgements>> {
    let mut qrels: HashMap<String, Judgements> = HashMap::new();
    for (number, line) in open_maybe_gz(path)?.lines().enumerate() {
        let line = line.map_err(IndexError::io(path))?;
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        if number == 0 && fields.first().is_some_and(|f| f.starts_with("query")) {
            continue;
        }
        let [query, doc, score] = fields[..] else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(bad(
                path,
                &format!("line {}: expected 3 columns", number + 1),
            ));
        };
        let score: i32 = score
            .parse()
            .map_err(|_| bad(path, &format!("line {}: score {score:?}", number + 1)))?;
        qrels
            .entry(query.to_owned())
            .or_default()
            .insert(doc.to_owned(), score);
    }
    Ok(qrels)
}
