#!/usr/bin/env bash
# Topic-map bench (issue 19): a full build over the 75,992 distinct papers of the 2020
# arXiv set with the reference vectors (time, peak memory, label quality), then its
# broad level against arXiv's primary categories (NMI, ARI) next to scikit-learn's
# k-means with the same k on the same vectors (bench/topics.py). With SCALE set, also
# a build at SCALE papers (perturbed copies of the real vectors; 1000000 for the
# issue's million-paper figure).
#
# ROUNDS (default 5) alternates the two sides, ours then k-means, with the machine's
# load printed before each round, and ends with the median of the per-round time
# ratios (a single round's ratio is noise on a shared machine): the whole build's,
# and its broad clustering's alone (k-means makes only that level).
#
# Usage: bench/topics.sh [SHARED_DIR]    (SCALE=1000000 bench/topics.sh for the 1 M run)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${1:-${PAPERS_SHARED:-$here/../shared}}"
out="${TMPDIR:-/tmp}/papers-topics-bench"
mkdir -p "$out"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papers-target}"
python3 -c "import sklearn, numpy" 2>/dev/null || python3 -m pip install -q scikit-learn numpy
cargo build --release -q -p papers-topics --example topics_bench
bin="$CARGO_TARGET_DIR/release/examples/topics_bench"
rounds="${ROUNDS:-5}"
echo "machine: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
ratios=()
broad_ratios=()
failed=""
for round in $(seq 1 "$rounds"); do
    echo "== round $round of $rounds; load: $(cut -d' ' -f1-3 /proc/loadavg)"
    rm -f "$out/assignments.tsv" "$out/seconds" "$out/broad_seconds"
    # A failed check (label quality, NMI) is reported at the end, after every round's
    # figures: the bench still measures what it measures.
    "$bin" "$shared" "$out" >"$out/ours.txt" 2>&1 || failed="${failed} round $round: $(tail -1 "$out/ours.txt");"
    if [[ $round == 1 ]]; then cat "$out/ours.txt"; else grep -E "^(build|  phase|peak RSS|label quality)" "$out/ours.txt" || true; fi
    python3 "$here/bench/topics.py" "$shared" "$out" | tee "$out/round.txt" || failed="${failed} round $round: NMI below k-means;"
    ratios+=("$(sed -n 's/^time ratio: \([0-9.]*\) .*/\1/p' "$out/round.txt")")
    broad_ratios+=("$(sed -n 's/.*broad ratio \([0-9.]*\) .*/\1/p' "$out/round.txt")")
done
median='import statistics, sys; what = sys.argv[1]; r = [float(x) for x in sys.argv[2:]]; print(f"median {what} over {len(r)} rounds: {statistics.median(r):.3f} of k-means (rounds: {sorted(r)})")'
python3 -c "$median" "time ratio (whole build)" "${ratios[@]}"
python3 -c "$median" "broad ratio (broad clustering alone)" "${broad_ratios[@]}"
if [[ -n "${SCALE:-}" ]]; then
    /usr/bin/time -v "$bin" "$shared" "$out/scale" --scale "$SCALE" 2>"$out/scale-time.txt"
    grep -E "Maximum resident|Elapsed" "$out/scale-time.txt"
fi
if [[ -n "$failed" ]]; then
    echo "FAILED:$failed" >&2
    exit 1
fi
