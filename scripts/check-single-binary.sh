#!/usr/bin/env bash
# Copies the release binary alone into an empty directory, starts it there (no
# Leptos.toml, no target/site), fetches a page, the WASM, the JS and the CSS, then stops
# it with SIGTERM and checks that it shut down cleanly.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bin=$(realpath "${1:-target/release/painless}")
work=$(mktemp -d)
pid=""
cleanup() {
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
cp "$bin" "$work/painless"
cd "$work"

port=$(free_port)
base="http://127.0.0.1:$port"
LEPTOS_SITE_ADDR="127.0.0.1:$port" ./painless >server.log 2>&1 &
pid=$!

fail() {
    echo "single binary: $*" >&2
    cat server.log >&2
    exit 1
}
wait_for_health "$base" || fail "the binary did not start"
check() { # path, expected content type, minimum size
    local headers="$work/headers" body="$work/body"
    curl -fsS -D "$headers" -o "$body" "$base$1" || fail "GET $1 failed"
    grep -qi "^content-type: $2" "$headers" || fail "GET $1: content type is not $2"
    local size
    size=$(stat -c %s "$body")
    ((size >= $3)) || fail "GET $1: only $size bytes"
    printf '  %-22s %8d bytes  %s\n' "$1" "$size" "$2"
}

check /login "text/html" 1000
# Fetch exactly the files the page asks for, so a name mismatch cannot hide.
js=$(grep -o 'href="/pkg/[^"]*\.js"' "$work/body" | head -1 | cut -d'"' -f2)
wasm=$(grep -o 'href="/pkg/[^"]*\.wasm"' "$work/body" | head -1 | cut -d'"' -f2)
[[ -n "$js" && -n "$wasm" ]] || fail "the page does not preload the JS and WASM bundle"
check "$wasm" "application/wasm" 50000
[[ "$(head -c 4 "$work/body" | od -An -c | tr -d ' ')" == '\0asm' ]] || fail "the WASM is not a WebAssembly module"
check "$js" "text/javascript" 1000
check /pkg/painless.css "text/css" 1000
# The lazily loaded chunks (the refresh lab's code), by the split manifest's names.
check /pkg/__wasm_split_manifest.json "application/json" 10
for chunk in $(grep -o '"split_[^"]*"' "$work/body" | tr -d '"' | sort -u); do
    check "/pkg/$chunk.wasm" "application/wasm" 10000
done
check /favicon.svg "image/svg+xml" 100
encoding=$(curl -fsS -H 'Accept-Encoding: br' -D - -o /dev/null "$base/pkg/painless.wasm" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-encoding"{print $2}')
[[ "$encoding" == "br" ]] || fail "no precompressed brotli WASM (content-encoding: '$encoding')"

unexpected=$(ls -A "$work" | grep -v -e '^painless$' -e '^server.log$' -e '^data$' -e '^headers$' -e '^body$' || true)
[[ -z "$unexpected" ]] || fail "unexpected files beside the binary: $unexpected"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
((status == 0)) || fail "exit status $status after SIGTERM"
grep -q "stopped" server.log || fail "no clean-shutdown line in the log"
echo "single binary: served the whole site from $(du -h "$work/painless" | cut -f1) and stopped cleanly on SIGTERM"
