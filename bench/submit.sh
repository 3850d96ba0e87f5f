#!/usr/bin/env bash
# Submission latency of papers-web: how long from `POST /api/papers/submit` of a paper
# the site has never seen until `/api/papers/search` finds it, over ROUNDS rounds of
# PAPERS submitted papers (default 1 round of 100), on a `papers serve` with the
# embedding model. The paper comes from a recorded arXiv API on 127.0.0.1
# (bench/recorded_arxiv.py serves the shared data's Atom entries), so the figure is
# the site's own: fetch and parse, store, the index follower's catch-up, and, with a
# model, the background embedder. Submissions go one at a time with a Bearer token
# made by `papers token create`, each polled (every 50 ms) until its title search
# returns it. Prints p50/p99/max per round with the machine load before each, and
# writes the same to bench/submit-results.txt.
#
#   bench/submit.sh
# Environment: PAPERS_SHARED (default ../shared), PAPERS_MODEL (the embedding model;
# required unless BENCH_NO_MODEL=1), PAPERS_BIN (a papers binary instead of building
# one), ROUNDS (1), PAPERS (100), TIMEOUT (seconds per paper before it counts as
# lost, 120).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${PAPERS_SHARED:-$ROOT/../shared}
ROUNDS=${ROUNDS:-1}
PAPERS=${PAPERS:-100}
TIMEOUT=${TIMEOUT:-120}
RESULTS="$ROOT/bench/submit-results.txt"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/papers-target}

if [ -z "${PAPERS_MODEL:-}" ] && [ -z "${BENCH_NO_MODEL:-}" ]; then
  echo "PAPERS_MODEL is not set (scripts/install-model.sh prints it); BENCH_NO_MODEL=1 runs keyword-only" >&2
  exit 1
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
DATA="$WORK/data"

if [ -z "${PAPERS_BIN:-}" ]; then
  cargo build --release -q -p papers
  PAPERS_BIN="$CARGO_TARGET_DIR/release/papers"
fi

# The recorded arXiv API.
python3 "$ROOT/bench/recorded_arxiv.py" "$SHARED/data" > "$WORK/arxiv.out" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q READY "$WORK/arxiv.out" 2>/dev/null && break; sleep 0.1; done
ARXIV_PORT=$(awk '/READY/ { print $2 }' "$WORK/arxiv.out")
[ -n "$ARXIV_PORT" ] || { echo "the recorded arXiv API did not start" >&2; exit 1; }

# A site with six months of Hugging Face daily papers, an admin with a token.
echo "== loading the Hugging Face days into $DATA" >&2
"$PAPERS_BIN" --data-dir "$DATA" ingest "$SHARED/data/hf-daily-papers-api/2023-11-to-2024-04" >&2
"$PAPERS_BIN" --data-dir "$DATA" reindex >&2
echo 'bench-password-long-enough' | "$PAPERS_BIN" --data-dir "$DATA" user create bencher \
  --email bench@example.org --admin --password-stdin >&2
TOKEN=$("$PAPERS_BIN" --data-dir "$DATA" token create bencher --label bench)

# Recorded papers are years old: no submission window; no hourly limit.
PAPERS_ARXIV_API_URL="http://127.0.0.1:$ARXIV_PORT" PAPERS_SUBMIT_MAX_AGE_DAYS=0 \
  PAPERS_SUBMIT_PER_HOUR=100000 \
  "$PAPERS_BIN" --data-dir "$DATA" serve --addr "127.0.0.1:$PORT" 2>"$WORK/server.log" &
PIDS+=($!)
for _ in $(seq 1 600); do curl -fs "$BASE/readyz" -o /dev/null && break; sleep 0.2; done
curl -fs "$BASE/readyz" -o /dev/null || { cat "$WORK/server.log" >&2; exit 1; }

python3 - "$BASE" "$TOKEN" "$ROOT/bench/recorded_arxiv.py" "$SHARED/data" "$ROUNDS" "$PAPERS" "$TIMEOUT" <<'PY' | tee "$RESULTS"
import json, os, subprocess, sys, time, urllib.error, urllib.parse, urllib.request

base, token, recorder, data, rounds, count, timeout = sys.argv[1:8]
rounds, count, timeout = int(rounds), int(count), float(timeout)
auth = {"Authorization": "Bearer " + token}

def call(method, path, body=None):
    request = urllib.request.Request(base + path, method=method, headers=dict(auth))
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")

def wait_for_backlog():
    # The initial embedding of the Hugging Face papers would otherwise share the
    # cores with the first submissions.
    deadline = time.time() + 1800
    while time.time() < deadline:
        _, status = call("GET", "/api/admin/status")
        backlog = (status.get("embeddings") or {}).get("backlog", 0)
        behind = max([i["behind"] for i in status.get("indexes", [])] or [0])
        if backlog == 0 and behind == 0:
            return status
        time.sleep(1)
    sys.exit("the embedding backlog did not drain in 30 minutes")

ids = subprocess.run([sys.executable, recorder, data, "--list"], check=True,
                     capture_output=True, text=True).stdout.split()
fresh = [i for i in ids if call("GET", "/api/papers/" + i)[0] == 404]
needed = rounds * count
if len(fresh) < needed:
    sys.exit(f"only {len(fresh)} recorded papers are not in the store; "
             f"lower ROUNDS*PAPERS ({needed})")

status = wait_for_backlog()
print(f"== submit -> searchable, {rounds} round(s) of {count} papers, {os.cpu_count()} cores; "
      f"model: {(status.get('embeddings') or {}).get('model', 'none')}; "
      f"store: {status['store']['papers']} papers")
for round_number in range(rounds):
    load = open("/proc/loadavg").read().split()[:3]
    print(f"== round {round_number + 1}: load before {' '.join(load)}", flush=True)
    latencies, lost = [], []
    for paper_id in fresh[round_number * count:(round_number + 1) * count]:
        started = time.monotonic()
        code, paper = call("POST", "/api/papers/submit", {"id": paper_id})
        if code != 201:
            sys.exit(f"submitting {paper_id}: {code} {paper}")
        query = urllib.parse.quote(paper["title"][:200])
        while True:
            _, hits = call("GET", f"/api/papers/search?q={query}&limit=10")
            if any(hit.get("paper", hit).get("id") == paper_id for hit in hits or []):
                latencies.append(time.monotonic() - started)
                break
            if time.monotonic() - started > timeout:
                lost.append(paper_id)
                break
            time.sleep(0.05)
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
    print(f"round {round_number + 1}: {len(latencies)} found, {len(lost)} not found within "
          f"{timeout:.0f} s; p50 {pick(0.50):.0f} ms  p99 {pick(0.99):.0f} ms  "
          f"max {latencies[-1] * 1000:.0f} ms", flush=True)
PY
