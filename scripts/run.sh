#!/usr/bin/env bash
# Builds what is missing and serves painless on http://127.0.0.1:3000 (release build,
# site embedded in the binary). Configuration: ./Leptos.toml and PAINLESS_* variables.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec cargo leptos serve --release --precompress --split
