#!/usr/bin/env bash
# Prints the size of the release site payload (what a browser downloads to run the app)
# and fails when it is over the budget in scripts/size-budget. Without code splitting,
# every page's first load is the same three files.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=target/site/pkg
[[ -f "$pkg/painless.wasm" ]] || { echo "no release build in $pkg: run cargo leptos build --release --precompress" >&2; exit 1; }
total_raw=0
total_gz=0
printf '%-16s %10s %10s %10s\n' file raw gzip-9 brotli
for file in painless.wasm painless.js painless.css; do
    raw=$(stat -c %s "$pkg/$file")
    gz=$(gzip -9 -c "$pkg/$file" | wc -c)
    br=$([[ -f "$pkg/$file.br" ]] && stat -c %s "$pkg/$file.br" || echo -)
    printf '%-16s %10d %10d %10s\n' "$file" "$raw" "$gz" "$br"
    total_raw=$((total_raw + raw))
    total_gz=$((total_gz + gz))
done
printf '%-16s %10d %10d\n' total "$total_raw" "$total_gz"
awk -v gz="$total_gz" -v raw="$total_raw" 'BEGIN { printf "payload: %.1f KB gzip (%.1f KB raw)\n", gz / 1024, raw / 1024 }'
# shellcheck source=size-budget
source scripts/size-budget
if ((total_gz > first_load_gzip_bytes)); then
    echo "size: the first load is $total_gz bytes gzip, over the budget of $first_load_gzip_bytes (scripts/size-budget)" >&2
    exit 1
fi
echo "budget: $total_gz of $first_load_gzip_bytes bytes gzip ($((first_load_gzip_bytes - total_gz)) to spare)"
