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
# Tests that cannot run here (an input missing outside CI, a CPU feature absent) say so
# and append a line to this file (papers-testkit's `skip`); the harness counts them as
# passed, so the summary moves them to skipped.
export PAPERS_TEST_SKIPS="${CARGO_TARGET_DIR}/test-skips.txt"
: > "$PAPERS_TEST_SKIPS"
status=0
cargo test --workspace --locked 2>&1 | tee "${CARGO_TARGET_DIR}/test-output.txt" || status=$?
if [ -s "$PAPERS_TEST_SKIPS" ]; then
    echo "== skipped tests"
    sort -u "$PAPERS_TEST_SKIPS" | awk -F '\t' '{ printf "%s %s: %s\n", $1, $2, $3 }'
fi
# One closing line for the whole run, summed over every test binary: skipped counts the
# tests that skipped themselves (each once) and those the harness ignored.
awk -F '\t' '
    FILENAME == ARGV[1] { if (!(($1, $2) in skipped)) { skipped[$1, $2] = 1; s++ } next }
    /^test result:/ { split($0, f, " "); p += f[4]; fl += f[6]; i += f[8] }
    END { printf "%d passed, %d failed, %d skipped\n", p - s, fl, i + s }
' "$PAPERS_TEST_SKIPS" "${CARGO_TARGET_DIR}/test-output.txt"
exit "$status"
