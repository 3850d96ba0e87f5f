#!/usr/bin/env bash
# Builds every fuzz target under fuzz/ and runs each for SECONDS_PER_TARGET (default
# 60), then prints per target its executions, coverage and crashes, and a last line
# `fuzz: N targets, E executions, C crashes`. Exits non-zero when any target crashed,
# hung or over-allocated; the input that did it is kept under
# $CARGO_TARGET_DIR/fuzz/artifacts/<target>/ and named in the output.
#
# libFuzzer through cargo-fuzz, without a sanitizer (`-s none`: the code under test is
# safe Rust, and ASan would halve the executions per second), optimised, with debug
# assertions and overflow checks on. cargo-fuzz wants a nightly toolchain for its
# sanitizer flags; with `-s none` it only needs RUSTC_BOOTSTRAP=1 on stable.
#
# Environment:
#   PAPERS_FUZZ_TARGETS  the targets to run (default: all of fuzz/Cargo.toml's)
#   PAPERS_FUZZ_RUNS     stop a target after this many executions too (a campaign:
#                        `PAPERS_FUZZ_RUNS=10000000 scripts/fuzz.sh 1800`)
#   PAPERS_FUZZ_BUILD    0: run the targets as last built (while another run builds)
#   PAPERS_FUZZ_TIMEOUT  seconds one input may take before it counts as a hang (default
#                        10; libFuzzer counts wall time, so a campaign on a loaded
#                        machine at low priority needs more: a 0.14 s CPU signup input
#                        took over 10 s at nice 19 and load 17)
#   PAPERS_SHARED        the shared data that the seed corpora are made from
#                        (default ../shared)
#
# The corpora that libFuzzer grows live in $CARGO_TARGET_DIR/fuzz/corpus/<target> and
# carry over between runs; the seeds are made afresh from the shared data each run
# (fuzz/seeds.py) and never stored in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papers-target}"
export PAPERS_SHARED="${PAPERS_SHARED:-$(cd .. && pwd)/shared}"
fuzz_dir="$CARGO_TARGET_DIR/fuzz"
binaries="$fuzz_dir/x86_64-unknown-linux-gnu/release"

if ! command -v cargo-fuzz >/dev/null; then
    echo "fuzz: cargo-fuzz is missing; scripts/setup-test-deps.sh installs it" >&2
    exit 2
fi
if [[ ! -d "$PAPERS_SHARED/data" ]]; then
    echo "fuzz: no shared data at $PAPERS_SHARED/data (set PAPERS_SHARED)" >&2
    exit 2
fi

if [[ -n "${PAPERS_FUZZ_TARGETS:-}" ]]; then
    read -r -a targets <<<"$PAPERS_FUZZ_TARGETS"
else
    mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^papers-fuzz$')
fi

if [[ "${PAPERS_FUZZ_BUILD:-1}" != 0 ]]; then
    echo "== building the fuzz targets"
    # 16 codegen units: the build (all of the workspace, instrumented) takes minutes
    # instead of tens of minutes, for a few percent fewer executions per second.
    (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build -s none --debug-assertions \
        --codegen-units 16 --target-dir "$fuzz_dir")
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
python3 fuzz/seeds.py "$PAPERS_SHARED/data" "$scratch/seeds" >/dev/null
cat fuzz/dict/*.dict >"$scratch/all.dict"

# What each target reads: its dictionary and the longest input worth trying.
dictionary() {
    case "$1" in
        oai_* | atom) echo fuzz/dict/xml.dict ;;
        kaggle | hf_*) echo fuzz/dict/json.dict ;;
        web) echo fuzz/dict/web.dict ;;
        detect) echo "$scratch/all.dict" ;;
        *) echo fuzz/dict/text.dict ;;
    esac
}
max_len() {
    case "$1" in
        oai_* | atom | kaggle | hf_* | detect | abs) echo 65536 ;;
        *) echo 4096 ;;
    esac
}

total_runs=0
total_crashes=0
failed=()
for target in "${targets[@]}"; do
    corpus="$fuzz_dir/corpus/$target"
    artifacts="$fuzz_dir/artifacts/$target"
    seeds="$scratch/seeds/$target"
    log="$fuzz_dir/logs/$target.log"
    mkdir -p "$corpus" "$artifacts" "$seeds" "$(dirname "$log")"
    before="$(find "$artifacts" -type f | wc -l)"
    options=(
        -max_total_time="$seconds"
        -timeout="${PAPERS_FUZZ_TIMEOUT:-10}"
        -rss_limit_mb=2048
        -max_len="$(max_len "$target")"
        -dict="$(dictionary "$target")"
        -artifact_prefix="$artifacts/"
        -print_final_stats=1
    )
    if [[ -n "${PAPERS_FUZZ_RUNS:-}" ]]; then
        options+=(-runs="$PAPERS_FUZZ_RUNS")
    fi
    started=$SECONDS
    status=0
    # CPU seconds beside the wall time: on a shared machine a target's wall time says
    # little about how much fuzzing it got.
    TIMEFORMAT='%U %S'
    { time "$binaries/$target" "${options[@]}" "$corpus" "$seeds" >"$log" 2>&1 || status=$?; } 2>"$scratch/cpu"
    elapsed=$((SECONDS - started))
    cpu="$(awk '{printf "%d", $1 + $2}' "$scratch/cpu")"
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    runs="${runs:-0}"
    # The last status line: `#N  DONE  cov: C ft: F corp: K/…` (or the one before a crash).
    stats="$(grep -aE '^#[0-9]+' "$log" | grep -a 'cov:' | tail -1 || true)"
    cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$stats")"
    features="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$stats")"
    units="$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$stats")"
    crashes=$(($(find "$artifacts" -type f | wc -l) - before))
    if ((status != 0 && crashes == 0)); then
        crashes=1 # died without saving an input (the log says why)
    fi
    total_runs=$((total_runs + runs))
    total_crashes=$((total_crashes + crashes))
    rate=$((runs / (elapsed > 0 ? elapsed : 1)))
    printf '%-14s %12d executions in %5d s (%d/s, %d s of CPU), cov %s, features %s, corpus %s, crashes %d\n' \
        "$target" "$runs" "$elapsed" "$rate" "$cpu" "${cov:-?}" "${features:-?}" "${units:-?}" "$crashes"
    if ((crashes > 0)); then
        failed+=("$target")
        # grep -m, not head: under pipefail a grep cut off by head would end the script.
        grep -m 8 -aE '^(==[0-9]+== ERROR|thread .* panicked|panicked at|SUMMARY|artifact_prefix|Test unit written|==fuzz==)' "$log" | sed 's/^/    /' || true
        echo "    log: $log"
    fi
done

echo "fuzz: ${#targets[@]} targets, $total_runs executions, $total_crashes crashes"
if ((total_crashes > 0)); then
    echo "fuzz: crashed: ${failed[*]}" >&2
    exit 1
fi
