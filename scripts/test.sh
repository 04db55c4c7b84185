#!/usr/bin/env bash
# The whole test suite: formatting and lints for both targets, the refresh library on its
# own (crates/painless-refresh), native unit and API tests (on SQLite and on a throwaway
# PostgreSQL server), the end-to-end tests in Chromium against a freshly built release
# server, the library's native example against it, the single-binary check, the API
# lint and fuzzing, the attackers' tools, the production shape of deploy/ (nginx, two
# instances, rolling restarts) and the size report. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each phase's duration is printed when the next one starts, and all of them at the end.
started=$SECONDS
phase=""
phase_started=$SECONDS
timings=""
end_phase() {
    if [[ -n "$phase" ]]; then
        local took=$((SECONDS - phase_started))
        printf '\033[2m-- %s: %d s\033[0m\n' "$phase" "$took"
        timings+=$(printf '%6d s  %s' "$took" "$phase")$'\n'
    fi
}
step() {
    end_phase
    phase=$*
    phase_started=$SECONDS
    printf '\n\033[1m== %s\033[0m\n' "$*"
}

step "tools"
# A cold run needs about 5 GB under target/ besides the tools; say how much there is,
# so that a full disk is recognised as such.
df -h . | tail -n 1 | awk '{ print "disk: " $4 " free on " $6 }'
scripts/setup.sh --e2e

step "format"
cargo fmt --all --check

step "lints: server (ssr) and browser (hydrate, wasm32)"
cargo clippy --features ssr --all-targets -- -D warnings
cargo clippy --features hydrate --target wasm32-unknown-unknown --lib -- -D warnings

step "the refresh library alone: dependencies, lints for both targets, tests, doc tests, docs, package"
# The core names no framework, no browser API and nothing of the app.
if cargo tree -p painless-refresh --no-default-features -e normal --prefix none |
    grep -E '^(leptos|leptos_[a-z]+|web-sys|js-sys|wasm-bindgen|axum|painless) v'; then
    echo "painless-refresh's core depends on the above" >&2
    exit 1
fi
# The core, its tests and the native example natively; the browser plug-ins and the Leptos
# bridge on the target they run on.
cargo clippy -p painless-refresh --all-targets -- -D warnings
cargo clippy -p painless-refresh --features browser,leptos --target wasm32-unknown-unknown --lib -- -D warnings
# Default features: the core's tests and the README's quick start run natively; all
# features: the browser and Leptos examples compile too.
cargo test -p painless-refresh
cargo test -p painless-refresh --all-features --doc
RUSTDOCFLAGS="-D warnings" cargo doc -p painless-refresh --all-features --no-deps --quiet
# Builds the packaged crate on its own, outside the workspace (nothing is published).
cargo package -p painless-refresh --quiet --allow-dirty

step "unit and API tests (SQLite; the store's own tests on PostgreSQL as well)"
scripts/with-postgres.sh cargo test --features ssr

step "API and binary tests on PostgreSQL"
TEST_BACKEND=postgres scripts/with-postgres.sh cargo test --features ssr --test server --test binary

step "end-to-end tests (release build, Chromium)"
e2e_data=$(mktemp -d)
trap 'rm -rf "$e2e_data"' EXIT
results=end2end/test-results/results.json
rm -f "$results"
# cargo-leptos builds, starts the server with this environment, and runs Playwright.
# 20 s tokens: short, yet long enough that a slow machine does not refresh proactively
# in the middle of a test that expects the reactive path.
# It exits 0 without running anything when the build fails, hence the results check.
LEPTOS_SITE_ADDR=127.0.0.1:3100 \
    PAINLESS_SERVER__DATA_DIR="$e2e_data" \
    PAINLESS_TOKENS__ACCESS_TTL_SECS=20 \
    cargo leptos end-to-end --release --precompress --split
if [[ ! -s "$results" ]]; then
    echo "end-to-end tests did not run (did the build fail?)" >&2
    exit 1
fi

step "the refresh library's native example against the release binary"
scripts/native-example.sh

step "single deployable binary"
scripts/check-single-binary.sh target/release/painless

step "API fuzzing (Spectral's OWASP rules and schemathesis, both auth_errors modes, against the release binary)"
scripts/fuzz-api.sh

step "attackers' tools: forged tokens (myjwt) and a scan (wapiti3), against the release binary"
scripts/attack.sh

step "the production shape: nginx with TLS, two instances on PostgreSQL, rolling restarts under load"
scripts/with-proxy.sh

step "size report"
scripts/size-report.sh

end_phase
printf '\n%s' "$timings"
printf '\nall checks passed in %d s\n' $((SECONDS - started))
