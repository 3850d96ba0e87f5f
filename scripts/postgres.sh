#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for tests and benchmarks, idempotently, and prints its
# administrative URL. Debian's postgresql-15 server binaries are used directly
# (initdb + pg_ctl) so nothing touches the system cluster. As root the server runs
# as the `postgres` user, which initdb requires.
#
#   PAPERS_PG_DIR   cluster directory (default /tmp/papers-postgres)
#   PAPERS_PG_PORT  port on 127.0.0.1 (default 54329)
#   scripts/postgres.sh stop   stops it
set -euo pipefail

dir=${PAPERS_PG_DIR:-/tmp/papers-postgres}
port=${PAPERS_PG_PORT:-54329}

bindir=
for candidate in /usr/lib/postgresql/*/bin; do
    [[ -x $candidate/pg_ctl ]] && bindir=$candidate
done
if [[ -z $bindir ]]; then
    echo "postgres.sh: PostgreSQL server binaries not found; install postgresql-15" >&2
    exit 1
fi

as_owner() {
    if [[ $(id -u) == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [[ ${1:-} == stop ]]; then
    [[ -f $dir/data/PG_VERSION ]] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast stop >&2 || true
    exit 0
fi

if [[ ! -f $dir/data/PG_VERSION ]]; then
    mkdir -p "$dir"
    [[ $(id -u) == 0 ]] && chown postgres: "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
fi

if ! as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    # fsync off: a test cluster is disposable and this keeps the suite quick on slow disks.
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >&2 || { tail -20 "$dir/server.log" >&2; exit 1; }
fi

echo "postgres://postgres@127.0.0.1:$port/postgres"
