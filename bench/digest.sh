#!/usr/bin/env bash
# Digest composition and delivery, measured on the real data.
#
# Composes the digests of 100,000 confirmed subscribers (a third daily, the rest
# weekly; varied categories and saved searches; one in ten a member with upvotes, so
# a personal classifier is trained for each) over the store built from the Kaggle
# arXiv archive plus the Hugging Face feed days, not counting SMTP; then delivers
# the digests of 3,000 subscribers to a local aiosmtpd for real, one message at a
# time over one connection (the exactly-once bound). Prints both figures and the
# machine load; the example asserts on its own results.
#
# Needs python3 with aiosmtpd (pip install aiosmtpd==1.4.6). The store is built once
# in $DIGEST_BENCH_DIR (default: a temporary directory) and reused if it exists.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/papers-target}"
export PAPERS_SHARED="${PAPERS_SHARED:-$(cd .. && pwd)/shared}"
subscribers="${DIGEST_BENCH_SUBSCRIBERS:-100000}"
deliver="${DIGEST_BENCH_DELIVER:-3000}"

python3 -c "import aiosmtpd" 2>/dev/null || { echo "python3 -m aiosmtpd is missing: pip install aiosmtpd==1.4.6" >&2; exit 1; }
cargo build --release --locked -q -p papers-digest --example digest_bench
work="$(mktemp -d)"
data_dir="${DIGEST_BENCH_DIR:-$work/store}"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

# The server saves nothing, so the figure is the sender's, not the disk's.
python3 crates/digest/tests/smtp_server.py --port "$port" --dir "$work/mail" --no-save >"$work/server.out" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do grep -q READY "$work/server.out" 2>/dev/null && break; sleep 0.1; done
grep -q READY "$work/server.out" || { echo "SMTP server did not start" >&2; exit 1; }

# The machine is shared: the load beside the figures says how far to trust them.
echo "load before: $(uptime | sed 's/.*load average: //')"
"$CARGO_TARGET_DIR/release/examples/digest_bench" \
    --data-dir "$data_dir" --subscribers "$subscribers" --deliver "$deliver" --smtp-port "$port"
echo "load after: $(uptime | sed 's/.*load average: //')"
