#!/usr/bin/env bash
# Search latency and memory bench on the 76,803 arXiv papers of 2020 (see
# crates/index/examples/search_bench.rs). Prints lexical, dense and hybrid p50/p99
# over 1,000 title queries, bytes per paper and the 3-million-paper arithmetic.
#
# Usage: bench/search.sh [SHARED_DIR] [CACHE_DIR]
#   SHARED_DIR defaults to ../shared beside the repository.
#   CACHE_DIR holds query embeddings from bench/search_embed.py (optional).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${1:-${PAPERS_SHARED:-$here/../shared}}"
cache="${2:-/tmp/papers-search-cache}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papers-target}"
cargo build --release -q -p papers-index --example search_bench
exec "$CARGO_TARGET_DIR/release/examples/search_bench" "$shared" "$cache"
