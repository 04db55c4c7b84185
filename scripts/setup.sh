#!/usr/bin/env bash
# Installs everything building, serving and testing painless needs, pinned and
# idempotent: a second run on a prepared machine only checks versions.
#
#   scripts/setup.sh          build tools (wasm target, cargo-leptos, wasm-bindgen, wasm-opt)
#   scripts/setup.sh --e2e    also Chromium, PostgreSQL, the end-to-end npm packages, and
#                             the API's attackers: Spectral (scripts/attack), schemathesis,
#                             myjwt and wapiti3 (in target/fuzz-venv, target/attack-venv)
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

# The installs run side by side; each one's lines are prefixed with its name. On a new
# machine the two compiles take about 11 minutes together on two cores, 80 s less than one
# after the other (each leaves a core idle while it links), and the downloads (Debian's
# packages, npm, pip) finish while they compile.
background=()
# Interrupted or terminated, take the installs and the compilers under them along: a
# script's background commands ignore Ctrl-C, and nothing else would stop them.
trap 'trap - INT TERM; kill -TERM 0; exit 130' INT TERM
in_background() { "$@" & background+=("$!"); }
labelled() {
    local label=$1
    shift
    "$@" 2>&1 | sed -u "s/^/[$label] /"
}

# Built without LTO, at opt-level 1 and with parallel codegen: cargo-leptos in 10-11
# minutes instead of 14-16 on two cores, wasm-bindgen in 110 s instead of 137. Neither
# got measurably slower (cargo-leptos' heavy lifting is wasm-bindgen and wasm-opt, separate
# programs; wasm-bindgen takes 0.45 s on this app's bundle instead of 0.39).
quick_cargo_install() {
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        cargo install --force "$@"
}

if [[ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]]; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (one-off, about 10 minutes)"
    # no_downloads: a missing tool is a clear error instead of a GitHub download that
    # cannot work offline.
    in_background labelled cargo-leptos quick_cargo_install --locked cargo-leptos \
        --version "$CARGO_LEPTOS_VERSION" --features no_downloads
fi

if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    # Not --locked: one dependency in its lock file is gone from the registry.
    in_background labelled wasm-bindgen quick_cargo_install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
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

# Chromium, PostgreSQL's server binaries (the tests start their own throwaway server,
# scripts/with-postgres.sh; the package's own cluster, if it creates one, is left alone)
# python3-venv (Debian's python3 lacks venv without it), openssl (scripts/attack.sh and
# scripts/with-proxy.sh make keys with it) and nginx (scripts/with-proxy.sh), in one apt
# run. nginx's package may start a server of its own: it is stopped, the tests run theirs.
install_debian_packages() {
    local missing=()
    [[ -x /usr/bin/chromium ]] || missing+=(chromium)
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
    python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v nginx >/dev/null || missing+=(nginx-light)
    [[ ${#missing[@]} -gt 0 ]] || return 0
    local sudo_cmd=""
    [[ $(id -u) -eq 0 ]] || sudo_cmd=sudo
    log "installing Debian's ${missing[*]}"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
    if [[ " ${missing[*]} " == *" nginx-light "* ]]; then
        $sudo_cmd nginx -s quit 2>/dev/null || true
    fi
}

# Python tools, each set pinned in a virtual environment under target/: schemathesis and
# an OpenAPI validator (scripts/fuzz-api.sh), myjwt and wapiti3 (scripts/attack.sh).
install_venv() {
    local venv=$1 requirements=$2 want
    want=$(sha256sum "$requirements" | cut -d' ' -f1)
    if [[ "$(cat "$venv/.requirements-sha256" 2>/dev/null)" != "$want" ]]; then
        log "installing $requirements into $venv"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
        echo "$want" >"$venv/.requirements-sha256"
    fi
}

if [[ "${1:-}" == "--e2e" ]]; then
    install_test_tools() {
        install_debian_packages
        npm_ci_if_stale end2end
        npm_ci_if_stale scripts/attack
        install_venv target/fuzz-venv scripts/fuzz/requirements.txt
        install_venv target/attack-venv scripts/attack/requirements.txt
    }
    in_background labelled test-tools install_test_tools
fi
npm_ci_if_stale .

failed=0
for pid in "${background[@]}"; do
    wait "$pid" || failed=1
done
if [[ $failed -ne 0 ]]; then
    log "an install failed: its lines above are prefixed with its name"
    exit 1
fi
log "ready"
