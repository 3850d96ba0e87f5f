#!/usr/bin/env bash
# The test command: installs what the tests need (idempotently), then runs the same
# gate CI runs: formatting, lints, and every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

# Builds persist outside the clone so a fresh checkout does not recompile the world.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papers-target}"
export PAPERS_SHARED="${PAPERS_SHARED:-$(cd .. && pwd)/shared}"

scripts/setup-test-deps.sh
export PAPERS_MODEL="${PAPERS_MODEL:-$(scripts/install-model.sh)}"
# The store's suite runs on SQLite and on this throwaway PostgreSQL cluster.
export PAPERS_TEST_POSTGRES_URL="${PAPERS_TEST_POSTGRES_URL:-$(scripts/postgres.sh)}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
# Fuzzing: the fuzz crate is its own workspace (fuzz/), so it gets its own format and
# lint check; then every target runs briefly (PAPERS_FUZZ_SECONDS each, default 20, 0 to
# skip), so a parser that starts to crash on its corpus shows here. The long campaign's
# figures are in bench/fuzz-results.txt.
fuzz_seconds="${PAPERS_FUZZ_SECONDS:-20}"
if ((fuzz_seconds > 0)); then
    echo "== fuzz targets: fmt, clippy, ${fuzz_seconds} s each"
    (cd fuzz && cargo fmt -- --check && cargo clippy --all-targets --locked -- -D warnings)
    scripts/fuzz.sh "$fuzz_seconds"
fi

echo "== cargo test"
cargo test --workspace --locked 2>&1 | tee "${CARGO_TARGET_DIR}/test-output.txt"
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { p += $4; f += $6; s += $8 } END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' \
    "${CARGO_TARGET_DIR}/test-output.txt"
