#!/usr/bin/env bash
# The refresh library's native example (crates/painless-refresh/examples/native.rs)
# against the release binary: it logs in, lets its 2 s access token expire, and fires
# 20 concurrent requests that all need a new one. Passes when its last line says that
# all 20 came back with one refresh.
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
start_server "native example" "$binary" "$work" PAINLESS_TOKENS__ACCESS_TTL_SECS=2

target/debug/examples/native "$server_base" ACME demo demo-password 20 | tee "$work/out.txt"
expected="requests: 20 ok, 0 failed, refreshes: 1"
last=$(tail -n 1 "$work/out.txt")
if [[ "$last" != "$expected" ]]; then
    echo "native example: expected \"$expected\", got \"$last\"" >&2
    exit 1
fi
echo "native example: passed"
