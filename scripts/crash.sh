#!/usr/bin/env bash
# The crash campaign: N rounds (default 100) that each start `papers ingest` of the
# large Kaggle-format archive, `papers index`/`reindex`, `papers digest send` to the
# real SMTP server the tests use, `papers serve --harvest` paging through recorded
# OAI-PMH pages served on 127.0.0.1, or `papers serve` under logged-in votes, comments,
# collection saves and submissions, SIGKILL it at a random moment, restart the work
# and check the invariants (integrity_check, committed papers kept, indexes agreeing
# with the store, the harvest holding whole committed pages once and resuming at the
# next one, acknowledged votes, comments and collection entries stored exactly once,
# at most the one in-flight digest repeated, no job claim left stuck).
# scripts/crash.py does the rounds and says what each checks.
# The last line is `crash: N kills, V invariant violations`; the exit status is
# non-zero when any invariant was violated.
#
# Environment:
#   PAPERS_CRASH_ENGINE  sqlite (default) or postgres: the store of every round in a
#                        throwaway PostgreSQL (scripts/postgres.sh), databases crash_*
#   PAPERS_CRASH_SEED    the random seed (default: the time), printed to rerun a round
#   PAPERS_CRASH_DIR     the working directory (default: a temporary one, removed)
#   PAPERS_CRASH_RECORDS records of the archive the ingest rounds load (default 40000;
#                        fewer on PostgreSQL, where a part takes minutes on a busy host)
#   PAPERS_CRASH_HARVEST records of the recorded OAI-PMH list of the harvest rounds, in
#                        pages of 100 (default 2000)
#   PAPERS_BIN           the binary to test (default: $CARGO_TARGET_DIR/release/papers
#                        if built, else a debug build made here)
#   PAPERS_MODEL         the embedding model (default: scripts/install-model.sh's)
#   PAPERS_SHARED        the shared data (default ../shared)
#
# Too slow for CI (minutes per ten kills); not part of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

kills="${1:-100}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papers-target}"
export PAPERS_SHARED="${PAPERS_SHARED:-$(cd .. && pwd)/shared}"
engine="${PAPERS_CRASH_ENGINE:-sqlite}"

# The machine may be shared: the load beside the figures says how far to trust timings.
echo "crash: uptime $(uptime)"
if [[ ! -d $PAPERS_SHARED/data ]]; then
    echo "crash: no shared data at $PAPERS_SHARED/data (set PAPERS_SHARED)" >&2
    exit 2
fi
python3 -c "import aiosmtpd" 2>/dev/null || {
    echo "crash: python3 aiosmtpd is missing; scripts/setup-test-deps.sh installs it" >&2
    exit 2
}

if [[ -n ${PAPERS_BIN:-} ]]; then
    binary=$PAPERS_BIN
    echo "crash: binary $binary (PAPERS_BIN)"
elif [[ -x $CARGO_TARGET_DIR/release/papers ]]; then
    binary=$CARGO_TARGET_DIR/release/papers
    echo "crash: binary $binary (release build)"
else
    cargo build --locked -q -p papers
    binary=$CARGO_TARGET_DIR/debug/papers
    echo "crash: binary $binary (debug build)"
fi
export PAPERS_MODEL="${PAPERS_MODEL:-$(scripts/install-model.sh)}"

engine_args=(--engine "$engine")
if [[ $engine == postgres ]]; then
    engine_args+=(--database-url "$(scripts/postgres.sh)")
fi

work="${PAPERS_CRASH_DIR:-}"
if [[ -z $work ]]; then
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi
seed_args=()
[[ -n ${PAPERS_CRASH_SEED:-} ]] && seed_args=(--seed "$PAPERS_CRASH_SEED")

python3 -u scripts/crash.py --papers "$binary" --work "$work" --kills "$kills" \
    --ingest-records "${PAPERS_CRASH_RECORDS:-40000}" \
    --harvest-records "${PAPERS_CRASH_HARVEST:-2000}" \
    "${engine_args[@]}" "${seed_args[@]}"
