#!/usr/bin/env bash
# Prints what a browser downloads to run each page of the release build (WASM, JS and CSS;
# raw, gzip -9 and brotli) and fails when a figure is over its budget in
# scripts/size-budget. Every page loads the main bundle; a signed-in page also loads the
# WASM chunks of its body (`cargo leptos build --split`, `wasm_split` beside `Deferred`), which
# the split manifest lists: the page's own chunk and the chunks it shares with other pages.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=target/site/pkg
manifest=$pkg/__wasm_split_manifest.json
[[ -f "$pkg/painless.wasm" ]] || { echo "no release build in $pkg: run cargo leptos build --release --precompress --split" >&2; exit 1; }
[[ -f "$manifest" ]] || { echo "no split manifest in $pkg: build with --split" >&2; exit 1; }

# The page each split function belongs to (its name, the manifest's key).
declare -A page_of=([panels]=/ [order_list]=/orders [session_list]=/sessions [lab_view]=/lab)

# The page references the CSS, JS and WASM; the JS imports the split loader, which reads
# the manifest.
main=("$pkg/painless.wasm" "$pkg/painless.js" "$pkg/painless.css" "$pkg"/__wasm_split*.js "$manifest")

gz() { gzip -9 -c "$1" | wc -c; }
br() { [[ -f "$1.br" ]] && stat -c %s "$1.br" || echo -; }
sum() { # gzip -9 bytes of the given files
    local total=0 file
    for file in "$@"; do total=$((total + $(gz "$file"))); done
    echo "$total"
}
kb() { awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1024 }'; }
brotli_kb() { # brotli KB of the given files, as served (built with --precompress), or "-"
    local total=0 file bytes
    for file in "$@"; do
        bytes=$(br "$file")
        [[ $bytes != - ]] || { echo -; return; }
        total=$((total + bytes))
    done
    kb "$total"
}

mapfile -t chunks < <(compgen -G "$pkg/*.wasm" | grep -v '/painless.wasm$')
printf '%-44s %10s %10s %10s\n' file raw gzip-9 brotli
for file in "${main[@]}" "${chunks[@]}"; do
    printf '%-44s %10d %10d %10s\n' "${file#"$pkg"/}" "$(stat -c %s "$file")" "$(gz "$file")" "$(br "$file")"
done

first=$(sum "${main[@]}")
echo "first load of /login and of the 404 page (the main bundle): $(kb "$first") gzip ($first bytes; brotli $(brotli_kb "${main[@]}"))"
largest=$first
largest_page=/login
# One line per split function: its name, then the files it needs.
while read -r split needs; do
    page=${page_of[$split]:-}
    [[ -n "$page" ]] || { echo "size-report.sh: the split chunk $split belongs to no page in page_of" >&2; exit 1; }
    files=()
    for chunk in $needs; do files+=("$pkg/$chunk.wasm"); done
    added=$(sum "${files[@]}")
    total=$((first + added))
    echo "first load of $page: $(kb "$total") gzip ($total bytes; its ${#files[@]} chunks add $(kb "$added"); brotli $(brotli_kb "${main[@]}" "${files[@]}"))"
    if ((total > largest)); then largest=$total largest_page=$page; fi
done < <(node -e 'for (const [split, chunks] of Object.entries(require(process.argv[1])))
    console.log(split, chunks.join(" "))' "$(realpath "$manifest")")
whole=$((first + $(sum "${chunks[@]}")))
echo "the largest first load: $largest_page, $(kb "$largest") gzip"
echo "the whole app, every chunk: $(kb "$whole") gzip ($whole bytes; brotli $(brotli_kb "${main[@]}" "${chunks[@]}"))"

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
check "main bundle" "$first" "$first_load_gzip_bytes"
check "largest first load ($largest_page)" "$largest" "$largest_page_gzip_bytes"
check "whole app" "$whole" "$whole_app_gzip_bytes"
exit "$status"
