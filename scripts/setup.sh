#!/usr/bin/env bash
# Installs everything building, serving and testing painless needs, pinned and
# idempotent: a second run on a prepared machine only checks versions.
#
#   scripts/setup.sh          build tools (wasm target, cargo-leptos, wasm-bindgen, wasm-opt)
#   scripts/setup.sh --e2e    also Chromium, PostgreSQL, the end-to-end npm packages and
#                             schemathesis (in target/fuzz-venv)
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
# Must equal the wasm-bindgen crate in Cargo.lock (pinned with `=` in Cargo.toml).
WASM_BINDGEN_VERSION=$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p}' Cargo.lock)

log() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

if [[ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]]; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (one-off, several minutes)"
    # no_downloads: a missing tool is a clear error instead of a GitHub download that
    # cannot work offline. Without LTO, at opt-level 1 and with parallel codegen this takes
    # 9 minutes instead of 14-16 on two cores; building our site with it was measured just
    # as fast (its heavy lifting is wasm-bindgen and wasm-opt, separate programs).
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        cargo install --locked --force cargo-leptos --version "$CARGO_LEPTOS_VERSION" \
        --features no_downloads
fi

if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    # Not --locked: one dependency in its lock file is gone from the registry.
    cargo install --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# wasm-opt (binaryen) and nothing else come from the root package.json; cargo-leptos
# puts ./node_modules/.bin on PATH by itself.
npm_ci_if_stale() {
    local dir=$1 stamp="$1/node_modules/.lock-sha256" want
    want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
        log "npm ci in $dir"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
        echo "$want" >"$stamp"
    fi
}
npm_ci_if_stale .

apt_install() {
    local sudo_cmd=""
    [[ $(id -u) -eq 0 ]] || sudo_cmd=sudo
    log "installing Debian's $*"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$@" >/dev/null
}

if [[ "${1:-}" == "--e2e" ]]; then
    [[ -x /usr/bin/chromium ]] || apt_install chromium
    # The tests start their own throwaway server (scripts/with-postgres.sh); the package's
    # own cluster, if it creates one, is left alone.
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || apt_install postgresql
    npm_ci_if_stale end2end
    # schemathesis and an OpenAPI validator (scripts/fuzz-api.sh), pinned, in a virtual
    # environment under target/; Debian's python3 lacks venv without python3-venv.
    python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
    venv=target/fuzz-venv
    want=$(sha256sum scripts/fuzz/requirements.txt | cut -d' ' -f1)
    if [[ "$(cat "$venv/.requirements-sha256" 2>/dev/null)" != "$want" ]]; then
        log "installing schemathesis into $venv"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/fuzz/requirements.txt
        echo "$want" >"$venv/.requirements-sha256"
    fi
fi
log "ready"
