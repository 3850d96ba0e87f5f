#!/usr/bin/env bash
# TIME TO FULL SEARCH (issue 17): what a new installation waits for before search by
# meaning covers every paper. From an empty data directory: `papers ingest` the shared
# data sets (the files scripts/run.sh ingests, less the few hundred Atom and .abs
# records it unpacks first), then `papers serve`, which embeds the stored papers in the
# background and keeps the indexes caught up, until it says that every paper has a
# vector and the indexes cover the store. Prints the machine load before each step, a
# line every INTERVAL seconds (papers with a vector, the rate over the last interval
# and since serving began), and the total.
#
#   bench/first-run.sh [INTERVAL_SECONDS]        (default 30)
# Environment: PAPERS_SHARED (default ../shared), PAPERS_BIN (a papers binary to use
# instead of building one), PAPERS_MODEL (default: scripts/install-model.sh),
# PAPERS_WORKERS (tokio workers of the server, default 1),
# FIRST_RUN_LIMIT=N: only the first N records of the 2020 file, for a short run that
# checks the direction (the figure to quote is the full run on a quiet machine),
# FIRST_RUN_WITH=index: `papers index` (embed everything, then index) instead of serve.
set -euo pipefail
cd "$(dirname "$0")/.."
interval="${1:-30}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papers-target}"
shared="${PAPERS_SHARED:-$(cd .. && pwd)/shared}"
data="$shared/data"
export PAPERS_MODEL="${PAPERS_MODEL:-$(scripts/install-model.sh)}"
with="${FIRST_RUN_WITH:-serve}"

if [[ -z "${PAPERS_BIN:-}" ]]; then
    cargo build --release --locked -q -p papers
    PAPERS_BIN="$CARGO_TARGET_DIR/release/papers"
fi
work="$(mktemp -d)"
server=
cleanup() {
    [[ -n "$server" ]] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
dir="$work/data"

load() { echo "machine load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"; }
now() { date +%s.%N; }
seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }
# Papers, and papers with a vector (any model: the directory is new), read beside the
# server (SQLite in WAL mode lets a reader in while it writes).
counts() {
    python3 - "$dir/papers.sqlite3" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=30)
papers, = db.execute("SELECT COUNT(*) FROM papers").fetchone()
embedded, = db.execute("SELECT COUNT(*) FROM embeddings").fetchone()
print(papers, embedded)
PY
}

arxiv="$data/arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz"
if [[ -n "${FIRST_RUN_LIMIT:-}" ]]; then
    gzip -dc "$arxiv" | head -n "$FIRST_RUN_LIMIT" > "$work/arxiv-2020.jsonl" || true
    arxiv="$work/arxiv-2020.jsonl"
fi
inputs=(
    "$arxiv"
    "$data/arxiv-kaggle-snapshot/sample-0704.0001-0704.0200.jsonl"
    "$data"/arxiv-oai-pmh/paperhive-nock-2018/oaipmh-listrecords*.xml
    "$data"/arxiv-oai-pmh/paperhive-nock-2018/oaipmh-getrecord*.xml
    "$data"/hf-daily-papers-api/daily_papers_2024-10-25.json
    "$data"/hf-daily-papers-api/2023-11-to-2024-04/*.json
)

echo "== TIME TO FULL SEARCH from an empty data directory ($with)"
load
started=$(now)
"$PAPERS_BIN" --data-dir "$dir" ingest "${inputs[@]}" > "$work/ingest.txt"
ingested=$(now)
read -r papers _ < <(counts)
echo "ingest: $papers papers in $(seconds "$started" "$ingested") s"
load

report() { # papers embedded previous_embedded previous_time
    local t rate overall
    t=$(now)
    read -r rate overall < <(python3 -c "
import sys
embedded, previous, t, t_previous, t0 = int(sys.argv[1]), int(sys.argv[2]), *map(float, sys.argv[3:])
print(f'{(embedded - previous) / max(t - t_previous, 1e-9):.1f} {embedded / max(t - t0, 1e-9):.1f}')
" "$2" "$3" "$t" "$4" "$ingested")
    printf '%8s s  %7d / %d papers with a vector  %7s papers/s now  %7s papers/s since ingest  (load %s)\n' \
        "$(seconds "$started" "$t")" "$2" "$1" "$rate" "$overall" "$(cut -d' ' -f1 /proc/loadavg)"
}

if [[ "$with" == index ]]; then
    "$PAPERS_BIN" --data-dir "$dir" index > "$work/index.txt" 2> "$work/index.log" &
    server=$!
    done_when() { ! kill -0 "$server" 2>/dev/null; }
else
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    PAPERS_LOG=info "$PAPERS_BIN" --data-dir "$dir" serve --addr "127.0.0.1:$port" \
        --workers "${PAPERS_WORKERS:-1}" 2> "$work/server.log" &
    server=$!
    done_when() { grep -q "every paper has a vector and the indexes cover the store" "$work/server.log"; }
fi

previous=0
previous_time=$ingested
next_report=$(python3 -c "import sys; print(float(sys.argv[1]) + $interval)" "$ingested")
until done_when; do
    if ! kill -0 "$server" 2>/dev/null; then
        [[ "$with" == index ]] && break
        echo "papers serve exited:" >&2
        tail -20 "$work/server.log" >&2
        exit 1
    fi
    sleep 0.2
    if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$(now)" "$next_report"; then
        read -r papers embedded < <(counts)
        report "$papers" "$embedded" "$previous" "$previous_time"
        previous=$embedded
        previous_time=$(now)
        next_report=$(python3 -c "import sys; print(float(sys.argv[1]) + $interval)" "$previous_time")
    fi
done
if [[ "$with" == index ]]; then
    wait "$server" || { cat "$work/index.log" >&2; exit 1; }
    server=
fi
finished=$(now)
read -r papers embedded < <(counts)
report "$papers" "$embedded" "$previous" "$previous_time"
[[ "$embedded" -ge "$papers" ]] || { echo "only $embedded of $papers papers have a vector" >&2; exit 1; }
echo "time to full search: $(seconds "$started" "$finished") s for $papers papers (ingest $(seconds "$started" "$ingested") s, then embedding and indexing $(seconds "$ingested" "$finished") s)"
load
