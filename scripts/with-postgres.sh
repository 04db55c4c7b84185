#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL server: a new cluster in a temporary
# directory, listening on a free loopback port (and a unix socket in that directory only),
# stopped and deleted when the command ends, fails or is interrupted. The command finds
# the server in TEST_POSTGRES (postgres://painless@127.0.0.1:<port>, trust
# authentication: nothing but this machine's loopback can reach it).
#
#   scripts/with-postgres.sh cargo test --features ssr
#   PG_DURABLE=1 scripts/with-postgres.sh scripts/bench.sh   # fsync on, for figures
#
# PostgreSQL refuses to run as root; as root the cluster belongs to the `postgres` user
# that Debian's package creates. A watchdog stops the server even if this script is
# killed with SIGKILL, so no test run leaves one behind.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bin=$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1 || true)
if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
    echo "with-postgres: no PostgreSQL server binaries; run scripts/setup.sh --e2e" >&2
    exit 1
fi

as_owner=()
dir=$(mktemp -d "${TMPDIR:-/tmp}/painless-pg.XXXXXX")
if [[ $(id -u) -eq 0 ]]; then
    as_owner=(runuser -u postgres --)
    chown postgres: "$dir"
fi
chmod 700 "$dir"

port=$(free_port)

stop() {
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap stop EXIT INT TERM

# Fast and throwaway unless figures are wanted: no fsync, no full-page writes.
durability=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
[[ -n "${PG_DURABLE:-}" ]] && durability=()

"${as_owner[@]}" "$bin/initdb" --pgdata="$dir/data" --username=painless --auth=trust \
    --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
}
"${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=400 ${durability[*]}" \
    start >/dev/null || {
    cat "$dir/server.log" >&2
    exit 1
}

# The watchdog: its own session, so that killing this script's process group does not
# take it along; it outlives the script by at most a second.
setsid bash -c '
    while kill -0 "$1" 2>/dev/null; do sleep 1; done
    [[ -d "$3" ]] || exit 0
    '"${as_owner[*]}"' "$2/pg_ctl" -D "$3/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$3"
' watchdog $$ "$bin" "$dir" </dev/null >/dev/null 2>&1 &

export TEST_POSTGRES="postgres://painless@127.0.0.1:$port"
echo "with-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
"$@"
