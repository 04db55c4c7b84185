#!/usr/bin/env bash
# The refresh library's native example (crates/painless-refresh/examples/native.rs)
# against the release binary: it logs in, lets its 2 s access token expire, and fires
# 20 concurrent requests that all need a new one. Passes when its last line says that
# all 20 came back with one refresh. Then it keeps up ten requests a second for 6 s
# while the server is killed (SIGKILL) and started again a second later on the same port:
# passes when every request was answered, no session ended and some sends were repeated
# (the restart was felt).
#
# Uses target/release/painless (NATIVE_BINARY overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

binary=${NATIVE_BINARY:-target/release/painless}
[[ -x "$binary" ]] || { echo "native example: no $binary; build it with cargo leptos build --release" >&2; exit 1; }
cargo build --quiet -p painless-refresh --example native

work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
settings=(PAINLESS_TOKENS__ACCESS_TTL_SECS=2)
start_server "native example" "$binary" "$work" "${settings[@]}"

target/debug/examples/native "$server_base" ACME demo demo-password 20 | tee "$work/out.txt"
expected="requests: 20 ok, 0 failed, refreshes: 1"
last=$(tail -n 1 "$work/out.txt")
if [[ "$last" != "$expected" ]]; then
    echo "native example: expected \"$expected\", got \"$last\"" >&2
    exit 1
fi
echo "native example: the burst passed"

# The same, then steady traffic through a restart of the server.
target/debug/examples/native "$server_base" ACME demo demo-password 5 6 >"$work/traffic.txt" &
client=$!
for _ in $(seq 1 100); do
    grep -q "^traffic: started" "$work/traffic.txt" && break
    sleep 0.1
done
sleep 1
kill -KILL "$server_pid"
wait "$server_pid" 2>/dev/null || true
sleep 1
restart_server "native example" "$binary" "$work" "${settings[@]}"
wait "$client" || { cat "$work/traffic.txt" >&2; exit 1; }
cat "$work/traffic.txt"
last=$(tail -n 1 "$work/traffic.txt")
if ! [[ "$last" =~ ^traffic:\ ([0-9]+)\ of\ ([0-9]+)\ ok,\ sessions\ ended:\ 0,\ sends\ repeated:\ ([0-9]+)$ ]] ||
    [[ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" || "${BASH_REMATCH[3]}" == 0 ]]; then
    echo "native example: through a restart, expected every request answered, no session ended and some sends repeated; got \"$last\"" >&2
    exit 1
fi
echo "native example: passed"
