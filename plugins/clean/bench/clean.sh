#!/usr/bin/env bash
# Speed of the clean stage: MB/s of HTML per core, beside libxml2's HTML
# parser alone on the same pages (the GNE, readability and newspaper pages
# of ../shared/corpora, all UTF-8).  Measures; never fails on a number.
set -eu
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$TOP"
: "${TJ_BUILD:=$TOP/build}"
: "${TJ_SHARED:=$TOP/../shared}"
case "$TJ_BUILD" in /*) ;; *) TJ_BUILD="$TOP/$TJ_BUILD" ;; esac
[ -f "$TJ_BUILD/libtjcore.a" ] || make -s BUILD="$TJ_BUILD" "$TJ_BUILD/libtjcore.a" >/dev/null
OUT="$TJ_BUILD/bench/clean"
mkdir -p "$OUT"
cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Icore -Iplugins/clean \
    $(make -s print-cflags-clean) -o "$OUT/bench_clean" \
    plugins/clean/bench/bench_clean.c plugins/clean/*.c "$TJ_BUILD/libtjcore.a" \
    $(make -s print-libs-clean) $(pkg-config --libs yaml-0.1 libcjson sqlite3) -ldl -lm -pthread
pages=("$TJ_SHARED"/corpora/gne/pages/*.html "$TJ_SHARED"/corpora/gne/pages_no_expected/*.html
       "$TJ_SHARED"/corpora/readability_zh/*/source.html "$TJ_SHARED"/corpora/newspaper_zh/chinese_article.html)
echo "== clean: ${#pages[@]} pages, one core"
"$OUT/bench_clean" "${BENCH_SECONDS:-3}" "${pages[@]}"
