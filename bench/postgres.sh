#!/usr/bin/env bash
# One node on PostgreSQL against the same node on SQLite, then two nodes on one
# PostgreSQL under load together. Same data (the shared Kaggle 2020 file and the
# Hugging Face days), same machine, same run; wrk on each endpoint in turn:
#
#   /api/daily_papers   the feed API: one response per store generation, so mostly
#                       served from the node's rendered-response cache
#   /api/papers/{id}    20,000 different papers in rotation: nearly every request
#                       reads the store (the uncached path)
#
# Prints req/s, p99 and errors per engine, the PostgreSQL/SQLite ratio, the
# PostgreSQL statements per uncached request (pg_stat_database transactions, one per
# autocommit statement), and the two-node run's errors. The cluster comes from
# scripts/postgres.sh (fsync off: a benchmark cluster, reads are what is measured).
#
#   bench/postgres.sh
# Environment: PAPERS_SHARED (default ../shared), DURATION (10s), INGEST_ROUNDS (3), PAPERS_BIN,
# PAPERS_WORKERS (tokio workers per node, default 1: wrk needs the other core).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${PAPERS_SHARED:-$ROOT/../shared}
DURATION=${DURATION:-10s}
WORKERS=${PAPERS_WORKERS:-1}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/papers-target}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

ADMIN=$("$ROOT/scripts/postgres.sh")
DB="papers_bench_$$"
psql -q "$ADMIN" -c "CREATE DATABASE $DB TEMPLATE template0 ENCODING 'UTF8'"
URL="${ADMIN%/*}/$DB"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "${PAPERS_BIN:-}" ]; then
  cargo build --release -q -p papers
  PAPERS_BIN="$CARGO_TARGET_DIR/release/papers"
fi
export PAPERS_SECRET="benchmark secret shared by the nodes"
export PAPERS_MODEL="$WORK/no-model"   # keyword search only: the store is what is compared
ARXIV="$SHARED/data/arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz"
HF_DAYS="$SHARED/data/hf-daily-papers-api/2023-11-to-2024-04"

# The ingest comparison runs INGEST_ROUNDS times (default 3), SQLite and PostgreSQL
# alternating which goes first, each into an empty store; the ratio quoted is the median
# of the rounds' ratios. The last round's PostgreSQL database serves the runs below.
INGEST_ROUNDS=${INGEST_ROUNDS:-3}
SECONDS_TAKEN=
timed_ingest() { # label args...
  local label=$1; shift
  echo "machine load before the $label ingest:$(uptime | sed 's/.*load average//')"
  local started=$(date +%s.%N)
  "$PAPERS_BIN" "$@" ingest "$ARXIV" "$HF_DAYS" >/dev/null 2>&1
  SECONDS_TAKEN=$(python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$started" "$(date +%s.%N)")
  printf '%-10s ingest of the same files: %s s\n' "$label" "$SECONDS_TAKEN"
}
echo "== loading the same data into SQLite and PostgreSQL, $INGEST_ROUNDS alternating rounds"
INGEST_RATIOS=""
for round in $(seq 1 "$INGEST_ROUNDS"); do
  rm -rf "$WORK/sqlite" "$WORK/pg-a"
  psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB TEMPLATE template0 ENCODING 'UTF8'"
  if [ $((round % 2)) -eq 1 ]; then
    timed_ingest sqlite --data-dir "$WORK/sqlite"; SQLITE_S=$SECONDS_TAKEN
    timed_ingest postgres --data-dir "$WORK/pg-a" --database-url "$URL"; PG_S=$SECONDS_TAKEN
  else
    timed_ingest postgres --data-dir "$WORK/pg-a" --database-url "$URL"; PG_S=$SECONDS_TAKEN
    timed_ingest sqlite --data-dir "$WORK/sqlite"; SQLITE_S=$SECONDS_TAKEN
  fi
  # Rates are records over seconds, so PostgreSQL's rate over SQLite's is the inverse
  # ratio of their times.
  INGEST_RATIOS+=" $(python3 -c "import sys; print('%.3f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$SQLITE_S" "$PG_S")"
done
# Issue 17 asks for PostgreSQL at 50% of SQLite's ingest rate or more.
python3 -c "import statistics, sys; r = [float(v) for v in sys.argv[1:]]; print('postgres / sqlite ingest rate: %.0f%% median of %d rounds (%s) (target >= 50%%)' % (100 * statistics.median(r), len(r), ' '.join('%.0f%%' % (100 * v) for v in r)))" $INGEST_RATIOS

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=
start_node() { # data-dir [--database-url URL]; sets PORT
  local dir=$1; shift
  PORT=$(free_port)
  "$PAPERS_BIN" --data-dir "$dir" "$@" serve --addr "127.0.0.1:$PORT" --workers "$WORKERS" >/dev/null 2>>"$WORK/server.log" &
  PIDS+=($!)
  for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$PORT/api/daily_papers" -o /dev/null && break; sleep 0.2; done
  curl -fs "http://127.0.0.1:$PORT/api/daily_papers" -o /dev/null || { cat "$WORK/server.log" >&2; exit 1; }
}
stop_nodes() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; PIDS=(); }

# 20,000 paper ids for the uncached endpoint.
python3 - "$ARXIV" > "$WORK/ids.lua" <<'PY'
import gzip, json, re, sys
ids = []
# Some ids in the snapshot were mangled into numbers, as JSON numbers or as strings
# like "704.1353" (ingest repairs them to 0704.1353); only well-formed ids are used.
well_formed = re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})$")
with gzip.open(sys.argv[1], "rt") as f:
    for line in f:
        paper_id = json.loads(line)["id"]
        if not (isinstance(paper_id, str) and well_formed.match(paper_id)):
            continue
        # New-style numbers have 4 digits up to 1412 and 5 from 1501; a lost trailing
        # zero ("1501.0107" for 1501.01070) is another mangling.
        prefix, _, number = paper_id.partition(".")
        if "/" not in paper_id and (len(number) == 5) != (prefix >= "1501"):
            continue
        ids.append(paper_id)
        if len(ids) == 20000:
            break
# Old-style ids carry a slash, escaped as the API's clients do.
print("ids = {" + ",".join('"%s"' % i.replace("/", "%2F") for i in ids) + "}")
PY
cat >> "$WORK/ids.lua" <<'LUA'
local counter = 0
function setup(thread) thread:set("offset", math.random(1, 20000)) end
function init(args) counter = offset or 0 end
function request()
  counter = counter + 1
  return wrk.format("GET", "/api/papers/" .. ids[(counter % #ids) + 1])
end
LUA

to_ms() { python3 -c 'import sys,re; v=sys.argv[1]; m=re.match(r"([\d.]+)(us|ms|s)$",v); f={"us":0.001,"ms":1,"s":1000}[m.group(2)]; print("%.2f"%(float(m.group(1))*f))' "$1"; }
LAST_RPS=0; LAST_ERRORS=0; LAST_REQUESTS=0
run() { # label url [wrk args...]
  local label=$1 url=$2; shift 2
  local out; out=$(wrk -t1 -c16 -d"$DURATION" --latency "$@" "$url")
  local rps p99 errors non2xx
  rps=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' <<<"$out")
  LAST_REQUESTS=$(awk '/requests in/ { print $1 }' <<<"$out")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  errors=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' <<<"$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' <<<"$out")
  LAST_ERRORS=$(( ${errors:-0} + ${non2xx:-0} ))
  LAST_RPS=$rps
  printf '%-36s %8s req/s   p99 %8s ms   errors %s\n' "$label" "$rps" "$p99" "$LAST_ERRORS"
}
pg_xacts() { psql -qtA "$URL" -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"; }

echo "== wrk -t1 -c16 -d$DURATION per endpoint; $(nproc) cores; $WORKERS worker thread(s) per node; load:$(uptime | sed 's/.*load average//')"
declare -A RPS
for engine in sqlite postgres; do
  if [ "$engine" = sqlite ]; then start_node "$WORK/sqlite"; else start_node "$WORK/pg-a" --database-url "$URL"; fi
  base="http://127.0.0.1:$PORT"
  curl -fs -o /dev/null "$base/api/daily_papers"
  run "$engine /api/daily_papers" "$base/api/daily_papers"
  RPS[$engine-feed]=$LAST_RPS
  before=$( [ "$engine" = postgres ] && pg_xacts || echo 0)
  run "$engine /api/papers/{id} (uncached)" "$base" -s "$WORK/ids.lua"
  RPS[$engine-paper]=$LAST_RPS
  if [ "$engine" = postgres ]; then
    after=$(pg_xacts)
    python3 -c "print('postgres statements per uncached request: %.2f' % ((int('$after') - int('$before')) / max(1, int('$LAST_REQUESTS'))))"
  fi
  stop_nodes
done
python3 -c "print('postgres / sqlite: /api/daily_papers %.0f%%, /api/papers/{id} %.0f%%' % (100.0 * ${RPS[postgres-feed]} / max(1, ${RPS[sqlite-feed]}), 100.0 * ${RPS[postgres-paper]} / max(1, ${RPS[sqlite-paper]})))"

echo "== two nodes on one PostgreSQL, loaded at once (each its own wrk)"
start_node "$WORK/pg-a" --database-url "$URL"; port_a=$PORT
start_node "$WORK/pg-b" --database-url "$URL"; port_b=$PORT
run "node A /api/papers/{id}" "http://127.0.0.1:$port_a" -s "$WORK/ids.lua" > "$WORK/a.txt" & load_a=$!
run "node B /api/papers/{id}" "http://127.0.0.1:$port_b" -s "$WORK/ids.lua" > "$WORK/b.txt" & load_b=$!
wait "$load_a" "$load_b"
cat "$WORK/a.txt" "$WORK/b.txt"
stop_nodes
