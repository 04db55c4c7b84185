#!/usr/bin/env bash
# Prints what a browser downloads to run each page of the release build (WASM, JS and CSS;
# raw, gzip -9 and brotli) and fails when a figure is over its budget in
# scripts/size-budget. Every page loads the main bundle; the refresh lab also loads its
# own WASM chunk (`cargo leptos build --split`, `#[lazy]` in app.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=target/site/pkg
[[ -f "$pkg/painless.wasm" ]] || { echo "no release build in $pkg: run cargo leptos build --release --precompress --split" >&2; exit 1; }
lab_chunks=$(compgen -G "$pkg/split_lab_view_*.wasm" || true)
[[ -n "$lab_chunks" ]] || { echo "no lab chunk in $pkg: build with --split" >&2; exit 1; }
# The page references the CSS, JS and WASM; the JS imports the split loader, which reads
# the manifest.
first_load=("$pkg/painless.wasm" "$pkg/painless.js" "$pkg/painless.css" "$pkg"/__wasm_split*.js "$pkg/__wasm_split_manifest.json")

gz() { gzip -9 -c "$1" | wc -c; }
br() { [[ -f "$1.br" ]] && stat -c %s "$1.br" || echo -; }
sum() { # gzip -9 bytes of the given files
    local total=0 file
    for file in "$@"; do total=$((total + $(gz "$file"))); done
    echo "$total"
}

printf '%-44s %10s %10s %10s\n' file raw gzip-9 brotli
for file in "${first_load[@]}" $lab_chunks; do
    printf '%-44s %10d %10d %10s\n' "${file#"$pkg"/}" "$(stat -c %s "$file")" "$(gz "$file")" "$(br "$file")"
done
first=$(sum "${first_load[@]}")
# shellcheck disable=SC2086
lab=$((first + $(sum $lab_chunks)))
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1024 }'; }
echo "first load, every page but the lab: $(kb "$first") gzip ($first bytes)"
echo "first load of /lab (adds its chunk): $(kb "$lab") gzip ($lab bytes); the whole app"

# shellcheck source=size-budget
source scripts/size-budget
status=0
check() { # name, bytes, budget
    if (($2 > $3)); then
        echo "size: $1 is $2 bytes gzip, over the budget of $3 (scripts/size-budget)" >&2
        status=1
    else
        echo "budget: $1 $2 of $3 bytes gzip ($(($3 - $2)) to spare)"
    fi
}
check "first load" "$first" "$first_load_gzip_bytes"
check "whole app" "$lab" "$whole_app_gzip_bytes"
exit "$status"
