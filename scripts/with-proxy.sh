#!/usr/bin/env bash
# The production shape of deploy/, run on loopback: a throwaway PostgreSQL, two release
# instances on it, and Debian's nginx in front with deploy/nginx/painless.conf (the file
# itself, with its two includes written here), TLS from a self-signed certificate made
# now. Then, through it:
#  - a login over HTTPS sets __Host-painless_refresh with Secure, pages carry HSTS, and a
#    plain-HTTP request straight to an instance from an untrusted address, with a forged
#    X-Forwarded-Proto, gets neither;
#  - the client address the instance logs is the client's (127.0.0.5), not nginx's;
#  - the refresh-flow and tabs specs run in Chromium through nginx over HTTPS, against
#    instances with server.auth_errors = "http" (the end-to-end run of scripts/test.sh
#    has the envelope mode), where Web Locks and BroadcastChannel behave as on a real
#    site (PROXY_SKIP_BROWSER=1 skips them);
#  - a rolling restart under load: 48 clients call the API and refresh 4-second tokens
#    while each instance in turn gets SIGTERM, exits, starts again and becomes ready.
#    Fails on any failed answer or lost session;
#  - an instance killed with SIGKILL under the same load: the other takes the traffic;
#    the answers that failed in the moment are reported (and sessions lost fail the run).
# Everything is stopped and removed afterwards, also when the script is interrupted.
#
#   scripts/with-proxy.sh        about a minute once built (run by scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${TEST_POSTGRES:-}" ]]; then
    exec scripts/with-postgres.sh "$0" "$@"
fi
source scripts/lib.sh

binary=${PROXY_BINARY:-target/release/painless}
[[ -x "$binary" ]] || { echo "proxy: no $binary; build it with cargo leptos build --release --precompress --split" >&2; exit 1; }
command -v nginx >/dev/null || { echo "proxy: no nginx; run scripts/setup.sh --e2e" >&2; exit 1; }

work=$(mktemp -d)
declare -A pid port
cleanup() {
    # No `wait`: the watchdog below is a child too, and waits for this script to end.
    [[ -f "$work/pids" ]] && xargs -r kill -9 -- <"$work/pids" 2>/dev/null || true
    if [[ -n "${PROXY_KEEP:-}" ]]; then echo "proxy: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT INT TERM
# The watchdog, for a kill that no trap sees (SIGKILL): its own session, so that killing
# this script's process group does not take it along; it stops every process this script
# started (their pids in $work/pids) at most a second after the script is gone.
setsid bash -c '
    while kill -0 "$1" 2>/dev/null; do sleep 1; done
    [[ -d "$2" ]] || exit 0
    xargs -r kill -9 -- <"$2/pids" 2>/dev/null
    rm -rf "$2"
' watchdog $$ "$work" </dev/null >/dev/null 2>&1 &
touch "$work/pids"
failed=0
fail() {
    echo "proxy: $*" >&2
    failed=1
}

psql -q "$TEST_POSTGRES/postgres" -c "CREATE DATABASE proxy"
database="$TEST_POSTGRES/proxy"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

# The instances, from the repository's root (the demo Leptos.toml: the demo user), on one
# database, in the http mode of server.auth_errors (scripts/test.sh's own end-to-end run
# has the envelope mode), trusting nginx's address only, the generated signing key stored
# wrapped; the
# access-token lifetime is $ttl (20 s for the browser tests, as scripts/test.sh gives
# its own; 4 s under load, so that refreshes happen during the restarts).
ttl=20
start_instance() {
    local name=$1
    env LEPTOS_SITE_ADDR="127.0.0.1:${port[$name]}" RUST_LOG=info \
        PAINLESS_SERVER__DATA_DIR="$work/$name" \
        PAINLESS_SERVER__DATABASE="$database" \
        PAINLESS_SERVER__TRUSTED_PROXIES='["127.0.0.1/32"]' \
        PAINLESS_SERVER__AUTH_ERRORS=http \
        PAINLESS_TOKENS__KEY_ENCRYPTION_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= \
        PAINLESS_TOKENS__ACCESS_TTL_SECS="$ttl" \
        PAINLESS_LOGIN__MAX_FAILURES_PER_ADDRESS=1000000 \
        "$binary" >>"$work/$name.log" 2>&1 &
    pid[$name]=$!
    echo "$!" >>"$work/pids"
}
ready() {
    local _
    for _ in $(seq 1 200); do
        [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${port[$1]}/api/ready")" == 200 ]] && return 0
        sleep 0.05
    done
    echo "proxy: instance $1 did not become ready" >&2
    cat "$work/$1.log" >&2
    return 1
}
for name in a b; do
    port[$name]=$(free_port)
    start_instance "$name"
    ready "$name"
done

# nginx with the shipped site configuration; its pid, logs and temporary files in $work.
tls_port=$(free_port)
mkdir -p "$work/painless" "$work/tmp"
printf 'server 127.0.0.1:%s max_fails=1 fail_timeout=1s;\n' "${port[a]}" "${port[b]}" \
    >"$work/painless/upstreams.conf"
cat >"$work/painless/listen.conf" <<EOF
listen 127.0.0.1:$tls_port ssl;
server_name 127.0.0.1;
ssl_certificate $work/cert.pem;
ssl_certificate_key $work/key.pem;
EOF
cat >"$work/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/tmp/body;
    proxy_temp_path $work/tmp/proxy;
    fastcgi_temp_path $work/tmp/fastcgi;
    uwsgi_temp_path $work/tmp/uwsgi;
    scgi_temp_path $work/tmp/scgi;
    include $PWD/deploy/nginx/painless.conf;
}
EOF
# In a process group of its own: killing it stops the master and its workers together.
setsid nginx -p "$work" -c "$work/nginx.conf" 2>>"$work/nginx-error.log" </dev/null &
echo "-$!" >>"$work/pids"
base="https://127.0.0.1:$tls_port"
https=(curl -sS --cacert "$work/cert.pem")
for _ in $(seq 1 100); do
    "${https[@]}" -o /dev/null "$base/api/health" 2>/dev/null && break
    sleep 0.05
done

# HTTPS through nginx, from 127.0.0.5 (a client other than nginx itself).
headers=$("${https[@]}" --interface 127.0.0.5 -D - -o "$work/login.json" \
    -H 'content-type: application/json' \
    -d '{"customer_code":"ACME","username":"demo","password":"demo-password"}' "$base/api/auth/login")
grep -qi '^set-cookie: __Host-painless_refresh=.*; Secure' <<<"$headers" ||
    fail "a login over HTTPS did not set __Host-painless_refresh with Secure: $headers"
"${https[@]}" -D - -o /dev/null "$base/login" | grep -qi '^strict-transport-security: max-age=' ||
    fail "pages over HTTPS carry no HSTS"
grep -q 'login.*peer=127.0.0.5' "$work/a.log" "$work/b.log" ||
    fail "the instance did not see the client's address (127.0.0.5)"
# Straight to an instance over plain HTTP, from an address it does not trust.
headers=$(curl -sS --interface 127.0.0.3 -D - -o /dev/null -H 'x-forwarded-proto: https' \
    -H 'content-type: application/json' \
    -d '{"customer_code":"ACME","username":"demo","password":"demo-password"}' \
    "http://127.0.0.1:${port[a]}/api/auth/login")
if grep -qi '^set-cookie: __Host-\|; Secure\|^strict-transport-security' <<<"$headers"; then
    fail "a forged X-Forwarded-Proto from an untrusted address was believed: $headers"
fi
echo "proxy: HTTPS through nginx: __Host- cookie with Secure, HSTS, the client's address; a forged proto from elsewhere ignored"

[[ "$("${https[@]}" -o /dev/null -w '%{http_code}' "$base/api/me")" == 401 ]] ||
    fail "the instances do not answer in the http mode: the browser tests would not prove it"

# The app in Chromium through nginx over HTTPS, against the http mode: the refresh flow
# and the tabs.
if [[ -z "${PROXY_SKIP_BROWSER:-}" ]]; then
    # In a process group of its own, which the watchdog stops whole (Chromium included).
    PROXY_BASE="$base" NODE_EXTRA_CA_CERTS="$work/cert.pem" setsid bash -c \
        'cd end2end && exec npx playwright test --project chromium-proxy --reporter=line' </dev/null &
    browser_tests=$!
    echo "-$browser_tests" >>"$work/pids"
    wait "$browser_tests" || fail "the browser tests through the proxy failed"
fi

# Shorter tokens for the load: both instances restarted (one at a time) with them.
ttl=4
restart() {
    kill -TERM "${pid[$1]}"
    wait "${pid[$1]}" || fail "instance $1 did not exit cleanly on SIGTERM"
    start_instance "$1"
    ready "$1"
    sleep 2
}
restart a
restart b

# Load through nginx while the instances restart: $1 seconds of 48 clients.
load() {
    NODE_EXTRA_CA_CERTS="$work/cert.pem" node scripts/proxy/load.mjs "$base" 48 "$1" >"$work/load.json" &
    load_pid=$!
    echo "$load_pid" >>"$work/pids"
}
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/load.json" "$1"; }
report() {
    wait "$load_pid"
    echo "proxy: $1: $(field answers) answers, $(field refreshes) refreshes, $(field failed) failed, $(field lost) sessions lost, longest answer $(field longest_ms) ms"
    python3 -c "import json,sys; [print('proxy:   ' + f) for f in json.load(open(sys.argv[1]))['failures']]" "$work/load.json"
}

load 14
sleep 2
# The procedure of docs/operations.md: one instance at a time, the next only once the
# last is ready and nginx's fail_timeout (1 s) has passed, so that nginx takes it back
# before the other goes.
restart a
restart b
report "rolling restart (SIGTERM, each instance in turn)"
[[ "$(field failed)" == 0 && "$(field lost)" == 0 ]] || fail "the rolling restart failed answers or lost sessions"
[[ "$(field refreshes)" -gt 0 ]] || fail "no refresh happened during the restarts: the test proved nothing"

load 8
sleep 2
kill -KILL "${pid[a]}"
wait "${pid[a]}" 2>/dev/null || true
sleep 1
start_instance a
ready a
report "an instance killed (SIGKILL) and started again"
[[ "$(field lost)" == 0 ]] || fail "sessions were lost when an instance was killed"

grep -h "panicked\|internal error" "$work"/a.log "$work"/b.log && fail "an instance logged an internal error (above)"
exit "$failed"
