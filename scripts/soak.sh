#!/usr/bin/env bash
# The soak: `papers serve` held for MINUTES (default 10) at half the peak that a short
# calibration phase of the same load driver measures, with a mix of anonymous feed,
# paper and "new" pages, API reads, searches, and members' writes (upvotes, comments,
# collection saves, submissions of stored papers) through personal access tokens,
# while the server harvests recorded OAI-PMH pages from 127.0.0.1 (a new day every
# minute, through `--harvest` and PAPERS_ARXIV_OAI_URL) and `papers digest send` mails
# a day's digest to the real SMTP server the tests use (aiosmtpd) every two minutes.
# It samples the server's RSS, open files, caches and the p99 every 10 s, says where
# the warm-up ended (the caches at their bounds) and how the run compares with the
# issue's goals (0 errors, RSS growth after warm-up under 10 % from the first
# minute's lowest sample to the last minute's, p99 within 2x of a
# short bench of the same load run just before), and ends with
# `soak: R requests, E errors, p99 X ms, RSS start S MB end T MB` (S: at the end of
# the warm-up); scripts/soak.py does the work and says what counts as an error. The exit status is non-zero when
# a request failed, a harvest or digest failed, or the server logged a panic.
#
# Environment:
#   PAPERS_BIN       the binary (default: $CARGO_TARGET_DIR/release/papers, built if missing)
#   PAPERS_MODEL     the embedding model (default: scripts/install-model.sh's); harvested
#                    papers are embedded in the background, as on a real node
#   PAPERS_SHARED    the shared data (default ../shared)
#   SOAK_RECORDS     papers of the 2020 arXiv archive seeded besides the Hugging Face
#                    days and the Kaggle sample (default 5000)
#   SOAK_DIR         the working directory (default: a temporary one, removed)
#   SOAK_CONNECTIONS connections of the calibration phase (default 32)
#   SOAK_SEED_CACHE  a directory where the seeded store and indexes are kept and reused
#                    by later runs with the same SOAK_RECORDS (saves minutes of ingest
#                    and embedding when repeating short soaks of one build; delete it
#                    when the store or index format changes)
#   SOAK_FRESH       0 skips the fresh server: after the soak, a new `papers serve` on the
#                    data the soak left, under the same load for the warm-up and two
#                    minutes, whose RSS tells what the soaked process holds beyond its
#                    data (3-4 minutes more; on by default)
#   SOAK_HOLD        seconds to keep the server running after the report, to look
#                    into it (gdb, /proc, /metrics)
#
# Too slow for CI (ten minutes); not part of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes="${1:-10}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papers-target}"
export PAPERS_SHARED="${PAPERS_SHARED:-$(cd .. && pwd)/shared}"

# The machine may be shared: the load beside the figures says how far to trust them.
echo "soak: uptime $(uptime)"
if [[ ! -d $PAPERS_SHARED/data ]]; then
    echo "soak: no shared data at $PAPERS_SHARED/data (set PAPERS_SHARED)" >&2
    exit 2
fi
# The driver and the mail sink are Python packages from PyPI, installed when missing as
# the benches install theirs (a new machine has neither).
for module in aiosmtpd aiohttp; do
    python3 -c "import $module" 2>/dev/null || python3 -m pip install -q "$module" >&2 || {
        echo "soak: python3 $module is missing and pip could not install it" >&2
        exit 2
    }
done

if [[ -n ${PAPERS_BIN:-} ]]; then
    binary=$PAPERS_BIN
    echo "soak: binary $binary (PAPERS_BIN)"
else
    cargo build --release --locked -q -p papers
    binary=$CARGO_TARGET_DIR/release/papers
    echo "soak: binary $binary (release build)"
fi
export PAPERS_MODEL="${PAPERS_MODEL:-$(scripts/install-model.sh)}"

work="${SOAK_DIR:-}"
if [[ -z $work ]]; then
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi

fresh=()
[[ ${SOAK_FRESH:-1} == 0 ]] && fresh=(--no-fresh)
python3 -u scripts/soak.py --papers "$binary" --work "$work" --minutes "$minutes" \
    --records "${SOAK_RECORDS:-5000}" --connections "${SOAK_CONNECTIONS:-32}" \
    ${SOAK_SEED_CACHE:+--seed-cache "$SOAK_SEED_CACHE"} ${SOAK_HOLD:+--hold "$SOAK_HOLD"} "${fresh[@]}"
