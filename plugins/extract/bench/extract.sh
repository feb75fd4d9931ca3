#!/usr/bin/env bash
# Throughput of the extract stage, MB/s of body text on one core: the stage
# in-process through the harness (its own cost), then the same texts
# through `taojin exec extract --jsonl` (adds the host's JSON reading and
# writing).  No reference extractor (GNE, JioNLP) is installed here, so the
# figure stands beside the issue's target of 50 MB/s.
set -u
TOP=${TJ_TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
BUILD=${TJ_BUILD:-$TOP/build}
SHARED=${TJ_SHARED:-$TOP/../shared}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
cd "$TOP"
objs=$(ls "$BUILD"/plugins/extract/*.o 2>/dev/null)
if [ -z "$objs" ] || [ ! -f "$BUILD/libtjcore.a" ]; then
    echo "extract bench: build first (make BUILD=$BUILD all)"; exit 0
fi
cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Icore -pthread -o "$TMP/bench" \
    plugins/extract/bench/bench_extract.c $objs "$BUILD/libtjcore.a" \
    $(make -s print-libs-extract) $(pkg-config --libs yaml-0.1 libcjson sqlite3 2>/dev/null || echo -lyaml -lcjson -lsqlite3) -ldl -lm || { echo "extract bench: cannot link the driver"; exit 0; }
"$TMP/bench" "$SHARED/seeds" "${BENCH_SECONDS:-3}"

python3 - "$SHARED/seeds" > "$TMP/in.jsonl" <<'PY'
import json, os, sys
d = sys.argv[1]
texts = [open(os.path.join(d, f), encoding="utf-8", errors="replace").read()
         for f in sorted(os.listdir(d))]
for i in range(200):
    for t in texts:
        print(json.dumps({"body": t, "fetched_at": "2025-03-06T08:00:00+08:00"},
                         ensure_ascii=False))
PY
bytes=$(python3 -c 'import json,sys; print(sum(len(json.loads(l)["body"].encode()) for l in open(sys.argv[1])))' "$TMP/in.jsonl")
start=$(date +%s.%N)
"${TAOJIN:-$BUILD/taojin}" exec extract --jsonl < "$TMP/in.jsonl" > /dev/null
end=$(date +%s.%N)
python3 -c "import sys; b,s,e=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]); print('taojin exec extract --jsonl: %.1f MB in %.2f s: %.1f MB/s (host JSON I/O included)' % (b/1e6, e-s, b/1e6/(e-s)))" "$bytes" "$start" "$end"

# The news workload: the sample site through the stages before extract in
# pipelines/news.yaml (fetch > decode > clean > convert-traditional auto >
# dedupe), then extract alone on what they hand it, in process.
if [ -f "$BUILD/plugins/clean.so" ] && [ -f "$BUILD/plugins/dedupe.so" ] &&
   [ -f "$BUILD/plugins/convert-traditional.so" ]; then
    . "$TOP/bench/lib.sh"
    make_corpus "$TMP/site" "${BENCH_NEWS_DOCS:-250}"
    { printf 'name: bench-extract-news\nstages:\n'; news_head "$TMP/site"
      printf '  - use: export\n    with: {format: jsonl, path: "%s"}\n' "$TMP/news.jsonl"
    } > "$TMP/news.yaml"
    if "${TAOJIN:-$BUILD/taojin}" run "$TMP/news.yaml" --quiet > /dev/null 2>&1; then
        "$TMP/bench" --jsonl "$TMP/news.jsonl" "${BENCH_SECONDS:-3}"
    else
        echo "extract bench: the news pipeline did not run; news workload skipped"
    fi
fi
