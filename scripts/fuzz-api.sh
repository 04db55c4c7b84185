#!/usr/bin/env bash
# Attacks /api, driven by the server's own OpenAPI document, in both modes of
# server.auth_errors ("envelope": refusals answer 200 with the errcode, as the seed's
# backend; "http": the RFC 6750 statuses). For each mode:
#  - the document is validated as OpenAPI 3.1, then linted by Spectral with the OWASP API
#    Security ruleset (scripts/attack/spectral.yaml says which rules are off, and why);
#  - schemathesis sends every endpoint generated valid and invalid requests (as the demo
#    user, logged in afresh for each case by scripts/fuzz/hooks.py) and checks every
#    answer against the document: no 5xx, the envelope of the documented schema,
#    documented status codes and content types, invalid input refused and valid input
#    accepted, and in the http mode that a request without valid credentials is refused;
#  - the server's log must show no internal error.
#
#   scripts/fuzz-api.sh           bounded and seeded: deterministic, about a minute a mode
#   scripts/fuzz-api.sh --long    many more cases, a new seed each run (printed)
#
# Uses target/release/painless (FUZZ_BINARY overrides) and what scripts/setup.sh --e2e
# installs (target/fuzz-venv, scripts/attack/node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

venv=target/fuzz-venv
binary=${FUZZ_BINARY:-target/release/painless}
examples=100
seed=20261126
if [[ "${1:-}" == "--long" ]]; then
    examples=1000
    seed=$RANDOM$RANDOM
fi
[[ -x "$venv/bin/st" ]] || { echo "fuzz: no schemathesis; run scripts/setup.sh --e2e" >&2; exit 1; }
spectral=scripts/attack/node_modules/.bin/spectral
[[ -x "$spectral" ]] || { echo "fuzz: no Spectral; run scripts/setup.sh --e2e" >&2; exit 1; }
[[ -x "$binary" ]] || { echo "fuzz: no $binary; build it with cargo leptos build --release --precompress --split" >&2; exit 1; }

work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
root=$PWD
status=0

fuzz_mode() {
    local mode=$1 dir="$work/$1"
    mkdir -p "$dir"
    # The repository's Leptos.toml: demo mode and query tokens on, so that everything is
    # described. The fuzzer's failed logins all come from 127.0.0.1; the address throttle
    # is lifted so that the hook's own logins are never refused (the account throttle
    # stays).
    start_server fuzz "$binary" "$dir" PAINLESS_LOGIN__MAX_FAILURES_PER_ADDRESS=1000000000 \
        PAINLESS_SERVER__AUTH_ERRORS="$mode"
    local base=$server_base
    # Where the ruleset's per-mode override finds it (its paths are relative to it).
    local doc="target/fuzz-api/$mode/openapi.json"
    mkdir -p "$(dirname "$doc")"
    curl -fsS "$base/api/openapi.json" -o "$doc"
    "$venv/bin/openapi-spec-validator" "$doc"
    echo "fuzz ($mode): Spectral, OWASP API Security ruleset"
    "$spectral" lint --quiet --fail-severity warn --ruleset scripts/attack/spectral.yaml "$doc" ||
        status=1

    # ignored_auth (a request without valid credentials must be refused with 401/403)
    # holds in the http mode only: in the envelope mode a missing or bad token answers 200
    # with errcode 40001/40014, as the original backend did and its interceptor expects.
    # positive_data_acceptance (schema-valid input is never answered 400) holds in the
    # envelope mode only: in the http mode a well-formed login with wrong credentials, or
    # a refresh cookie whose session another case just ended, answers 400 on purpose (as
    # OAuth's invalid_grant: not "refresh and retry"). The handlers are the same in both
    # modes, so the envelope run checks their acceptance of valid input.
    local exclude=(--exclude-checks positive_data_acceptance)
    [[ "$mode" == "envelope" ]] && exclude=(--exclude-checks ignored_auth)
    echo "fuzz ($mode): $examples examples per operation, seed $seed"
    # Run from the mode's directory: schemathesis keeps a cache of earlier failures in
    # its working directory and would replay them, which a seeded run must not.
    (cd "$dir" && FUZZ_URL="$base" PYTHONPATH="$root/scripts/fuzz" SCHEMATHESIS_HOOKS=hooks \
        "$root/$venv/bin/st" run "$base/api/openapi.json" \
        --checks all \
        "${exclude[@]}" \
        --max-examples "$examples" \
        --seed "$seed" \
        --workers 2 \
        --generation-database none \
        --no-color) || status=1

    if grep -E "internal error|panicked" "$dir/server.log"; then
        echo "fuzz ($mode): the server logged an internal error (above)" >&2
        status=1
    fi
    kill -0 "$server_pid" 2>/dev/null || { echo "fuzz ($mode): the server died" >&2; cat "$dir/server.log" >&2; status=1; }
    stop_server
}

fuzz_mode envelope
fuzz_mode http
exit "$status"
