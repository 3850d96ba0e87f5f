#!/usr/bin/env bash
# Ingest throughput and peak memory, measured on the real 76,803-record arXiv set.
#
# Prints records/s for a fresh store and for a second run over the same file (all
# duplicates), their ratio, and the peak resident memory of each run next to a run over
# a 200-record file, which shows that memory does not grow with the input.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papers-target}"
shared="${PAPERS_SHARED:-$(cd .. && pwd)/shared}"
big="$shared/data/arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz"
small="$shared/data/arxiv-kaggle-snapshot/sample-0704.0001-0704.0200.jsonl"

cargo build --release --locked -q -p papers
papers="$CARGO_TARGET_DIR/release/papers"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Runs one ingest; prints "records_per_second peak_rss_kb records inserted unchanged
# process_records_per_second": the first rate is timed by the ingest itself (open to
# commit), the last one over the whole process (start-up, migrations and exit included).
measure() {
    local data_dir="$1" file="$2"
    /usr/bin/time -f "%M %e" -o "$work/rss" "$papers" --data-dir "$data_dir" ingest --json "$file" >"$work/out.json"
    python3 - "$work/out.json" "$work/rss" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))[0]
rss, elapsed = open(sys.argv[2]).read().split()[-2:]
print(f"{summary['records'] / summary['seconds']:.0f} {rss} {summary['records']} {summary['inserted']} {summary['unchanged']} {summary['records'] / float(elapsed):.0f}")
PY
}

read -r fresh fresh_rss records inserted _ fresh_process <<<"$(measure "$work/a" "$big")"
read -r again again_rss _ _ unchanged again_process <<<"$(measure "$work/a" "$big")"
read -r _ small_rss _ _ _ _ <<<"$(measure "$work/b" "$small")"

# 76,803 lines hold 75,992 distinct papers (811 ids appear twice).
[[ "$inserted" == 75992 && "$unchanged" == 76803 ]] || { echo "unexpected counts: inserted $inserted, unchanged $unchanged" >&2; exit 1; }
echo "records:               $records"
echo "machine load:          $(cut -d' ' -f1-3 /proc/loadavg)"
echo "fresh store:           $fresh records/s ($fresh_process/s over the whole process)   peak RSS $((fresh_rss / 1024)) MB"
echo "second run (dupes):    $again records/s ($again_process/s over the whole process)   peak RSS $((again_rss / 1024)) MB"
echo "ratio second/fresh:    $(python3 -c "print(f'{$again / $fresh:.2f}')")"
echo "200-record file:       peak RSS $((small_rss / 1024)) MB"
echo "targets:               >= 30000 records/s fresh, second run >= fresh, peak RSS < 200 MB"
