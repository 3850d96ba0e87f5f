#!/usr/bin/env bash
# SCALE TEST of the dense index alone (crates/papers/examples/scale/dense.rs): N random
# 384-d unit vectors in the vector log and its HNSW graph, then a fresh process opens
# them and reports its memory (RssAnon: what it must keep; RssFile: file pages the
# kernel may evict) and the latency of searches. This is how the 3-million-paper
# memory figure is measured without building a 3-million-paper store.
#
# Usage: bench/dense-scale.sh [N] [WORK_DIR]   (N defaults to 3,000,000; the
#   vector log and graph take ≈ 1.3 KB per paper of disk; WORK_DIR defaults to a
#   temporary directory, removed at the end)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-3000000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papers-target}"
if [[ -n "${2:-}" ]]; then
    work="$2"
    mkdir -p "$work"
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi
cargo build --release --locked -q -p papers --example scale
scale="$CARGO_TARGET_DIR/release/examples/scale"

echo "== SCALE TEST: dense index alone, $n random 384-d vectors, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
rm -rf "$work/index"
/usr/bin/time -f "build: %e s wall, peak RSS %M KB" "$scale" dense-build "$work/index" "$n" 2> >(grep -v '^[0-9]* vectors' >&2)
du -sh "$work"/index/vectors.* | sed 's/^/on disk: /'
# The log's rows are read with positioned reads through the page cache, which no
# process's RSS counts: the kernel keeps as much of the log as memory allows.
/usr/bin/time -f "open + searches: %e s wall, peak RSS %M KB" "$scale" dense-open "$work/index" 1000
