#!/usr/bin/env bash
# FOR YOU QUALITY on the 2020 arXiv set (crates/rank/examples/for_you_bench.rs): 50
# simulated members (5 in each of the 10 arXiv primary categories with the most
# recent papers, fixed seed) each upvote 5 random papers of their category; the
# figure is the share of that category in their top 20 For you papers, against its
# share in the top 20 of the plain trending feed of the same recent papers (the same
# for every member) and in the recent papers as a whole. A quality figure, not a
# timing: the load does not change it (the per-member time beside it, it does).
#
# Usage: bench/for-you.sh [MEMBERS_PER_CATEGORY] [CATEGORIES] [SEED]
# Needs $PAPERS_SHARED (default ../shared) with data/arxiv-kaggle-format and
# reference/arxiv-2020-minilm (see their SOURCES.md and README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papers-target}"
export PAPERS_SHARED="${PAPERS_SHARED:-$(cd .. && pwd)/shared}"
uptime
cargo build --release --locked -q -p papers-rank --example for_you_bench
command=("$CARGO_TARGET_DIR/release/examples/for_you_bench" "$PAPERS_SHARED" "${1:-5}" "${2:-10}" "${3:-2020}")
echo "+ ${command[*]}"
"${command[@]}"
