#!/usr/bin/env bash
# Measures the release server and the browser in one run and prints one table:
# requests/s and latency per kind of request (wrk, and examples/load.rs for logins and
# cookie-rotating refreshes), the ratios that matter, the server's peak memory, the time
# from navigation to hydrated in headless Chromium, our coordinator beside its peers
# across token expiries (scripts/bench-peers.sh), and the payload. Not part of
# scripts/test.sh: figures on a shared machine are reports, not pass/fail.
#
#   scripts/bench.sh            about three minutes once built
#   BENCH_SECONDS=10 scripts/bench.sh   longer runs per figure (default 5)
#   BENCH_BINARY=path scripts/bench.sh  the server rows of another build (two in a row compare)
#   scripts/bench.sh --postgres the server rows on PostgreSQL (a throwaway server with
#                               fsync on, from scripts/with-postgres.sh) instead of SQLite
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

database=""
backend=SQLite
if [[ "${1:-}" == "--postgres" ]]; then
    if [[ -z "${TEST_POSTGRES:-}" ]]; then
        PG_DURABLE=1 exec scripts/with-postgres.sh "$0" "$@"
    fi
    psql -q "$TEST_POSTGRES/postgres" -c "CREATE DATABASE bench"
    database="$TEST_POSTGRES/bench"
    backend="PostgreSQL 15 on loopback, fsync on"
fi

seconds=${BENCH_SECONDS:-5}
log() { printf '\033[1mbench:\033[0m %s\n' "$*" >&2; }

scripts/setup.sh --e2e >&2
if ! command -v wrk >/dev/null; then
    log "installing Debian's wrk"
    sudo_cmd=""
    [[ $(id -u) -eq 0 ]] || sudo_cmd=sudo
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq wrk >/dev/null
fi
if [[ ! -x target/release/painless || ! -f target/site/pkg/painless.wasm ]]; then
    log "building the release binary"
    cargo leptos build --release --precompress --split >&2
fi
log "building the load generator"
cargo build --release --features ssr --example load >&2
load=target/release/examples/load

work=$(mktemp -d)
port=$(free_port)
base="http://127.0.0.1:$port"
cp "${BENCH_BINARY:-target/release/painless}" "$work/painless"
(
    cd "$work"
    LEPTOS_SITE_ADDR="127.0.0.1:$port" RUST_LOG=warn \
        PAINLESS_DEMO__ENABLED=true \
        PAINLESS_DEMO__USERS='[{customer_code="ACME", username="demo", password="demo-password", display_name="Dana Demo"}]' \
        PAINLESS_TOKENS__ACCESS_TTL_SECS=3600 PAINLESS_TOKENS__IDLE_TTL_SECS=7200 \
        PAINLESS_SERVER__DATABASE="${database:-painless.db}" \
        exec ./painless >"$work/server.log" 2>&1
) &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
wait_for_health "$base" || { echo "bench: the server did not start" >&2; cat "$work/server.log" >&2; exit 1; }
rss_mib() { awk -v f="$1" '$1 == f { printf "%.0f", $2 / 1024 }' "/proc/$server/status"; }
# Forgets the peak so far (Linux >= 4.0), so a peak belongs to the load that follows.
reset_peak() { echo 5 >"/proc/$server/clear_refs"; }

token=$(curl -fs -X POST "$base/api/auth/login" -H 'content-type: application/json' \
    -d '{"customer_code":"ACME","username":"demo","password":"demo-password"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])')

# wrk: "Requests/sec" and the 50%/99% lines of --latency, in ms.
wrk_row() {
    local name=$1 connections=$2
    shift 2
    local out
    out=$(wrk --latency -t "$((connections < 2 ? 1 : 2))" -c "$connections" -d "${seconds}s" "$@")
    local rps p50 p99 total failed
    rps=$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' <<<"$out")
    # Every row here expects 200: a failed answer is fast and counts as throughput, so it
    # is named (unnamed, it hid pages answered 500).
    total=$(awk '/ requests in / { print $1 }' <<<"$out")
    failed=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$out")
    [[ -z "$failed" ]] || name="$name — $failed of $total not 200"
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$connections" "$rps" "$(to_ms "$p50")" "$(to_ms "$p99")"
}
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) printf "%.2f", v / 1000; else if (v ~ /ms$/) printf "%.2f", v + 0;
        else if (v ~ /s$/) printf "%.2f", v * 1000; else print v }'
}
load_row() {
    local name=$1 connections=$2 line
    shift 2
    line=$("$load" "$base" "$@")
    awk -v n="$name" -v c="$connections" '{
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        # Answers that were not errcode 0 (throttled, busy) are named: they are fast.
        if (v["other"] > 0) n = n sprintf(" — %d of %d refused", v["other"], v["requests"])
        printf "%s\t%s\t%s\t%s\t%s\n", n, c, v["rps"], v["p50_ms"], v["p99_ms"] }' <<<"$line"
}

log "server and API load (${seconds}s per row)"
rows=$(mktemp)
rss_idle=$(rss_mib VmRSS:)
reset_peak
{
    wrk_row "GET /api/health (unauthenticated JSON)" 64 "$base/api/health"
    wrk_row "GET /api/me (bearer)" 64 -H "Authorization: Bearer $token" "$base/api/me"
    wrk_row "GET /login (SSR page, anonymous: kept render)" 1 "$base/login"
    wrk_row "GET /login (SSR page, anonymous: kept render)" 64 "$base/login"
    # A query (as the redirect to the login page has) is rendered for every request.
    wrk_row "GET /login?redirect=%2Forders (SSR page, rendered)" 1 "$base/login?redirect=%2Forders"
    wrk_row "GET /login?redirect=%2Forders (SSR page, rendered)" 64 "$base/login?redirect=%2Forders"
} >"$rows"
rss_pages=$(rss_mib VmHWM:)
# The refresh sessions log in first (argon2id), so the login rows get their own peak.
reset_peak
load_row "POST /api/auth/refresh (own cookie per session)" 64 refresh 64 "$seconds" 256 >>"$rows"
load_row "POST /api/auth/login (argon2id)" 8 login 8 "$seconds" >>"$rows"
rss_login=$(rss_mib VmHWM:)

browser=""
if [[ -z "$database" && -z "${BENCH_BINARY:-}" ]]; then
    log "browser: navigation to hydrated, 10 loads each"
    browser=$(cd end2end && node scripts/hydration-timing.mjs "$base")
fi

printf '\n## painless bench — %s, %s, %s cores, %s\n\n' "$(date -u +%Y-%m-%d)" "$(uname -m)" "$(nproc)" \
    "$backend"
printf '| request | connections | requests/s | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: | ---: |\n'
awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$rows"
health=$(awk -F'\t' 'NR == 1 { print $3 }' "$rows")
me=$(awk -F'\t' 'NR == 2 { print $3 }' "$rows")
page64=$(awk -F'\t' 'NR == 4 { print $3 }' "$rows")
rendered64=$(awk -F'\t' 'NR == 6 { print $3 }' "$rows")
printf '\n| figure | value |\n| --- | ---: |\n'
awk -v a="$me" -v h="$health" 'BEGIN { printf "| authenticated ÷ unauthenticated JSON | %.2f× |\n", a / h }'
awk -v p="$page64" -v h="$health" 'BEGIN { printf "| SSR page (kept) ÷ unauthenticated JSON (64 connections) | %.3f× |\n", p / h }'
awk -v p="$rendered64" -v h="$health" 'BEGIN { printf "| SSR page (rendered) ÷ unauthenticated JSON (64 connections) | %.3f× |\n", p / h }'
printf '| server RSS idle, after one login | %s MiB |\n' "$rss_idle"
printf '| server peak RSS, page and API load | %s MiB |\n' "$rss_pages"
printf '| server peak RSS, refresh and login load (256 logins first) | %s MiB |\n' "$rss_login"
if [[ -z "$database" ]]; then
    log "peers: refresh across expiries, ours beside axios-auth-refresh and the seed's interceptor"
    printf '\n### Refresh across expiries, beside the peers\n\n'
    scripts/bench-peers.sh
fi
[[ -n "$browser" ]] || exit 0
printf '%s\n' "$browser"
printf '\n```\n'
scripts/size-report.sh
printf '```\n'
