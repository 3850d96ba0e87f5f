#!/usr/bin/env bash
# Embedding benchmark: our encoder against PyTorch sentence-transformers (fp32), same texts,
# same machine, same run. Prints both rates, the ratio, the minimum cosine between the two,
# the ratio with the portable kernels forced, the median latency of a 10-word query and the
# resident memory the loaded model adds. Exits non-zero when a required target is missed
# (parity >= 0.999, ratio >= 1.0, query <= 10 ms, model memory <= 300 MB).
#
# Inputs: PAPERS_SHARED (default: shared/ beside the repository), PAPERS_MODEL (default:
# scripts/install-model.sh), BENCH_TEXTS (default 500), BENCH_ROUNDS (default 2). The two
# sides run alternately BENCH_ROUNDS times and each keeps its best rate: on a shared machine
# a neighbour's burst otherwise lands on one side only and skews the ratio. The Python side lives in a venv
# outside the repository (${XDG_CACHE_HOME:-$HOME/.cache}/papers-bench-venv); it sees the
# system site-packages, so an already-installed torch is reused instead of downloaded again.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${PAPERS_SHARED:-$repo/../shared}
count=${BENCH_TEXTS:-500}
model=${PAPERS_MODEL:-$("$repo/scripts/install-model.sh")}
venv=${XDG_CACHE_HOME:-$HOME/.cache}/papers-bench-venv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv --system-site-packages "$venv"
fi
if ! "$venv/bin/python" -c 'import sentence_transformers' 2>/dev/null; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check sentence-transformers >&2
fi
py="$venv/bin/python"
helper="$repo/bench/embed_torch.py"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papers-target}"
echo "building the encoder (release)..." >&2
(cd "$repo" && cargo build --quiet --release -p papers-embed --example encode)
encode="$CARGO_TARGET_DIR/release/examples/encode"

"$py" "$helper" texts "$shared/data/beir-scifact/corpus.jsonl.gz" "$count" "$work/texts.jsonl"

field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$2" | tail -1; }
best() { for log in "$work/$2".*.log; do field "$1" "$log"; done | sort -g | tail -1; }

rounds=${BENCH_ROUNDS:-2}
for round in $(seq "$rounds"); do
    echo "round $round/$rounds: PyTorch sentence-transformers..." >&2
    "$py" "$helper" torch "$model" "$work/texts.jsonl" "$work/torch.f32" > "$work/torch.$round.log"
    echo "round $round/$rounds: ours (fast path)..." >&2
    "$encode" --model "$model" --input "$work/texts.jsonl" --output "$work/ours.f32" 2> "$work/ours.$round.log"
done
echo "ours (portable path)..." >&2
PAPERS_EMBED_PORTABLE=1 "$encode" --model "$model" --input "$work/texts.jsonl" --output "$work/portable.f32" 2> "$work/portable.log"
query="sparse mixture of experts routing for efficient large language models"
"$encode" --model "$model" --query "$query" 2> "$work/query.log"

torch_rate=$(best texts_per_s torch)
ours_rate=$(best texts_per_s ours)
torch_all=$(for log in "$work"/torch.*.log; do field texts_per_s "$log"; done | tr '\n' ' ')
ours_all=$(for log in "$work"/ours.*.log; do field texts_per_s "$log"; done | tr '\n' ' ')
portable_rate=$(field texts_per_s "$work/portable.log")
kernel=$(field kernel "$work/ours.1.log")
cos_fast=$("$py" "$helper" compare "$work/ours.f32" "$work/torch.f32" 384)
cos_portable=$("$py" "$helper" compare "$work/portable.f32" "$work/torch.f32" 384)
query_ms=$(field query_median_ms "$work/query.log")
model_mib=$(field model_rss_mib "$work/ours.1.log")

ratio=$(awk -v a="$ours_rate" -v b="$torch_rate" 'BEGIN { printf "%.2f", a / b }')
portable_ratio=$(awk -v a="$portable_rate" -v b="$torch_rate" 'BEGIN { printf "%.2f", a / b }')
cat <<REPORT
texts:                     $count BEIR SciFact abstracts (title + "\\n" + text), $(nproc) cores
pytorch fp32:              $torch_rate texts/s  (best of: $torch_all)
ours ($kernel):       $ours_rate texts/s  (best of: $ours_all)
ratio ours / pytorch:      $ratio  (required >= 1.0, goal >= 3)
min cosine ours/pytorch:   $cos_fast  (required >= 0.999)
portable path:             $portable_rate texts/s, ratio $portable_ratio, min cosine $cos_portable
query latency (10 words):  $query_ms ms median  (target <= 10)
model resident memory:     $model_mib MiB  (target <= 300 MB)
REPORT

failed=0
check() { if awk "BEGIN { exit !($1) }"; then echo "ok:   $2"; else echo "FAIL: $2"; failed=1; fi; }
check "$cos_fast >= 0.999" "parity (fast path)"
check "$cos_portable >= 0.999" "parity (portable path)"
check "$ratio >= 1.0" "ratio >= 1.0"
check "$query_ms <= 10" "query latency <= 10 ms"
check "$model_mib * 1.048576 <= 300" "model memory <= 300 MB"
exit $failed
