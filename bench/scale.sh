#!/usr/bin/env bash
# SCALE TEST (issue 7): store, indexes and search at N synthetic papers on one node.
#
# The records are synthetic: titles and abstracts recombined from the real 76,803
# Kaggle-format arXiv records (each from two of them, a and b), ids 8101.NNNNN on (the
# 2080s). Only speed and memory are measured here, never quality. Query vectors come
# from the real embedder, and embedding is inside the timings.
#
# The stored vectors (a change of what is measured, 2026-12-04): each synthetic paper's
# vector is made from the real reference embeddings of a and b (all-MiniLM-L6-v2,
# /work/shared/reference): their sum plus a little noise, normalised (see
# crates/papers/examples/scale/structured.rs). Until then they were random unit
# vectors, which have no structure, so an HNSW insert visits far more nodes than with
# real embeddings: at 76,803 papers real vectors built the graph 3-4x faster than
# random ones. The random-vector build is still run and printed as the worst case
# (SCALE_WORST_CASE=0 skips it: it is the longest step), but the rate a node storing
# real embeddings sees is the "vectors like real embeddings" one.
#
# Steps, each timed: generate N records; `papers ingest` (store build rate, peak RSS);
# store random vectors and `papers index` on them (worst case); store the structured
# vectors and `papers index` again from an empty index directory (lexical + dense
# index build, HNSW above 50,000 papers); then 200 queries from real title words
# through lexical, dense and hybrid search in one process (p50/p99 and that process's
# peak RSS), once on the HNSW path and once on the exact scan (each forced), with their
# ratio, and the HNSW path's recall@10 against the exact scan (dense and hybrid). The
# default picks HNSW from 50,000 papers on. Each build prints its CPU seconds
# beside its wall time: on a shared machine the wall time says little.
#
# Usage: bench/scale.sh [N] [WORK_DIR]     (N defaults to 1,000,000; try 20000 first)
#   WORK_DIR defaults to a temporary directory, removed at the end; give one to keep
#   the data directory. Needs the model (scripts/install-model.sh installs it).
#   SCALE_SEARCH_ONLY=1 with a WORK_DIR from an earlier run repeats only the searches.
#   SCALE_MEMORY_MB=4096 runs each index build and each search process inside a memory
#   cgroup of that size (v1 or v2, needs root), as on a machine with that much RAM and
#   no swap: the page cache of the files it reads and writes counts too, and is
#   reclaimed under the limit, so a process that needs more anonymous memory than the
#   limit is killed, and the bench fails.
#   Each build prints its peak anonymous memory (sampled every second) beside time's
#   peak RSS, which also counts the index files it maps.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papers-target}"
shared="${PAPERS_SHARED:-$(cd .. && pwd)/shared}"
kaggle="$shared/data/arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz"
reference="$shared/reference/arxiv-2020-minilm/vectors.f16"
worst_case="${SCALE_WORST_CASE:-1}"
model="$(scripts/install-model.sh)"
queries=200

if [[ -n "${2:-}" ]]; then
    work="$2"
    mkdir -p "$work"
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi
data="$work/data"
search_only="${SCALE_SEARCH_ONLY:-0}"
[[ "$search_only" == 1 ]] || rm -rf "$data" "$work/records.jsonl"

cargo build --release --locked -q -p papers --bin papers --example scale
papers="$CARGO_TARGET_DIR/release/papers"
scale="$CARGO_TARGET_DIR/release/examples/scale"

# Runs a command under /usr/bin/time; prints its stdout, then
# "wall_seconds peak_rss_kb cpu_seconds peak_anon_kb".
timed() {
    /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >"$work/out" 2>"$work/err" &
    local timer=$! anon=0 child sample
    # The command's anonymous memory, sampled each second (time's %M counts mapped
    # file pages too).
    while kill -0 "$timer" 2>/dev/null; do
        child="$(pgrep -P "$timer" | head -1 || true)"
        sample="$(awk '/^RssAnon/ {print $2}' "/proc/$child/status" 2>/dev/null || true)"
        ((${sample:-0} > anon)) && anon=$sample
        sleep 1
    done
    wait "$timer" || {
        cat "$work/err" >&2
        exit 1
    }
    cat "$work/out"
    read -r wall rss user sys <"$work/time"
    echo "$wall $rss $(python3 -c "print(round($user + $sys, 1))") $anon"
}

# With SCALE_MEMORY_MB, "$budget" runs its arguments inside a memory cgroup of that
# size; otherwise it just runs them.
budget=()
memory_mb="${SCALE_MEMORY_MB:-}"
if [[ -n "$memory_mb" ]]; then
    if [[ -d /sys/fs/cgroup/memory ]]; then
        cgroup=/sys/fs/cgroup/memory/papers-scale-$$
        mkdir "$cgroup"
        echo $((memory_mb << 20)) >"$cgroup/memory.limit_in_bytes"
        echo $((memory_mb << 20)) >"$cgroup/memory.memsw.limit_in_bytes" 2>/dev/null || true
        peak_file=memory.max_usage_in_bytes
    elif [[ -w /sys/fs/cgroup/cgroup.procs ]]; then
        cgroup=/sys/fs/cgroup/papers-scale-$$
        mkdir "$cgroup"
        echo $((memory_mb << 20)) >"$cgroup/memory.max"
        echo 0 >"$cgroup/memory.swap.max" 2>/dev/null || true
        peak_file=memory.peak
    else
        echo "scale: SCALE_MEMORY_MB needs a writable cgroup memory controller" >&2
        exit 2
    fi
    keep_work="${2:-}"
    trap 'rmdir "$cgroup" 2>/dev/null || true; [[ -n "$keep_work" ]] || rm -rf "$work"' EXIT
    budget=(bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cgroup")
fi
rate() { python3 -c "print(f'{$1 / $2:,.0f}')"; }
# Other work on the machine slows every step: the load is printed before each.
load() { echo "    machine load before $1: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"; }

echo "== SCALE TEST: $n synthetic papers (recombined real metadata, vectors made from real embeddings; random ones as the worst case) on $(nproc) cores"
if [[ "$search_only" != 1 ]]; then
"$scale" generate "$n" "$kaggle" "$work/records.jsonl"

# Files of 100,000 records, as daily harvests would arrive: `papers ingest` writes each
# file in one transaction, and one transaction of a million papers would need a
# write-ahead log the size of the whole store.
rm -rf "$work/parts" && mkdir "$work/parts"
split -l 100000 -d --additional-suffix=.jsonl "$work/records.jsonl" "$work/parts/records-"
rm -f "$work/records.jsonl"
load "papers ingest"
read -r seconds rss _ < <(timed "$papers" --data-dir "$data" ingest "$work"/parts/*.jsonl | tail -1)
echo "store build (papers ingest):   ${seconds}s = $(rate "$n" "$seconds") records/s, peak RSS $((rss / 1024)) MB"
rm -rf "$work/parts"

# `papers index` from an empty index directory; $1 names the vectors.
index_build() {
    rm -rf "$data/index"
    load "papers index ($1)"
    local seconds rss cpu anon
    # The cgroup's peak, from this build on (cgroup v1 resets it on a write).
    [[ -z "$memory_mb" ]] || echo 0 >"$cgroup/$peak_file" 2>/dev/null || true
    read -r seconds rss cpu anon < <(PAPERS_LOG=info timed "${budget[@]}" "$papers" --data-dir "$data" --model "$model" index | tail -1)
    echo "index build (papers index), $1: ${seconds}s = $(rate "$n" "$seconds") papers/s (lexical + dense, store reads included), ${cpu} CPU s = $(rate "$n" "$cpu") papers per CPU second, peak RSS $((rss / 1024)) MB, peak anonymous $((anon / 1024)) MB"
    if [[ -n "$memory_mb" ]]; then
        echo "    inside a ${memory_mb} MB memory cgroup: its peak usage (page cache included) $(($(cat "$cgroup/$peak_file") >> 20)) MB"
    fi
    grep -o "dense index moved into an HNSW graph.*\|indexes loaded in bulk.*" "$work/err" | sed 's/^/    /' || true
}
if [[ "$worst_case" == 1 ]]; then
    timed "$scale" vectors "$data" "$model" random | sed -n 1p
    index_build "random vectors, the worst case"
fi
timed "$scale" vectors "$data" "$model" mixed "$reference" "$kaggle" | sed -n 1p
index_build "vectors like real embeddings"
fi
du -sh "$data/papers.sqlite3" "$data/index/lexical" "$data/index/vectors.papers" "$data"/index/vectors.hnsw 2>/dev/null | sed 's/^/    on disk: /' || true

# The HNSW path (forced, so it is measured below the threshold too; it is the default
# from 50,000 papers on), then the exact scan (forced) as the baseline.
for method in hnsw exact; do
    echo "== search, dense path: $method"
    load "the searches"
    timed "${budget[@]}" "$scale" search "$data" "$model" "$kaggle" "$queries" "$method" "$work/$method.hits" | tee "$work/$method.txt" | sed '$d'
    read -r _ rss _ < <(tail -1 "$work/time")
    echo "search process peak RSS (time -v): $((rss / 1024)) MB"
done

python3 - "$work/hnsw.txt" "$work/exact.txt" "$work/hnsw.hits" "$work/exact.hits" <<'PY'
import re, sys
def p50(path):
    out = {}
    for line in open(path):
        m = re.match(r"(.+?)\s+p50=\s*([\d.]+)ms p99=\s*([\d.]+)ms", line)
        if m:
            out[m.group(1).strip()] = (float(m.group(2)), float(m.group(3)))
    return out
graph, exact = p50(sys.argv[1]), p50(sys.argv[2])
print("== p50 ratio exact / hnsw")
for label in ("dense", "hybrid", "dense index only"):
    if label in graph and label in exact:
        print(f"{label:<20} {exact[label][0] / graph[label][0]:.1f}x  (exact {exact[label][0]:.2f} ms, hnsw {graph[label][0]:.2f} ms)")
# Recall@10 of the HNSW path against the exact scan: per query, the share of the exact
# top 10 that the HNSW path also returns, averaged (issue 17: hybrid >= 0.98).
# Dense scores are cosines rescored at full precision on both paths, so their ratio
# (the sum of the HNSW top 10's over the exact top 10's, as ann-benchmarks' "rel")
# says whether the papers the graph returns instead are near-ties or worse matches.
def hits(path):
    out = {}
    for line in open(path):
        mode, query, *pairs = line.split()
        out[(mode, query)] = [(key, float(score)) for key, score in (p.rsplit(":", 1) for p in pairs)]
    return out
graph_hits, exact_hits = hits(sys.argv[3]), hits(sys.argv[4])
print("== recall@10, hnsw against the exact scan")
for mode in ("dense", "hybrid"):
    shares, ratios = [], []
    for k, exact in exact_hits.items():
        if k[0] != mode or not exact:
            continue
        graph = graph_hits.get(k, [])
        shares.append(len({key for key, _ in graph} & {key for key, _ in exact}) / len(exact))
        ratios.append(sum(s for _, s in graph) / sum(s for _, s in exact))
    worst = min(shares) if shares else float("nan")
    line = f"{mode:<20} {sum(shares) / max(len(shares), 1):.4f}  ({len(shares)} queries, worst {worst:.2f})"
    if mode == "dense" and ratios:
        line += f"; score sum hnsw/exact mean {sum(ratios) / len(ratios):.4f}, worst {min(ratios):.4f}"
    print(line)
PY
