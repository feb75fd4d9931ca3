#!/usr/bin/env bash
# Throughput of dedupe's key on one core, in process, beside the first
# implementation (every character through utf8proc, portable SHA-256) in
# the same run: on the seed articles, then on the bodies of the news
# workload (the sample site through fetch > decode > clean >
# convert-traditional auto, as pipelines/news.yaml hands them to dedupe).
set -u
TOP=${TJ_TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
BUILD=${TJ_BUILD:-$TOP/build}
SHARED=${TJ_SHARED:-$TOP/../shared}
TAOJIN=${TAOJIN:-$BUILD/taojin}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
cd "$TOP"
objs=$(ls "$BUILD"/plugins/dedupe/*.o 2>/dev/null)
if [ -z "$objs" ]; then
    echo "dedupe bench: build first (make BUILD=$BUILD all)"; exit 0
fi
cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Iplugins/dedupe \
    $(make -s print-cflags-dedupe) -o "$TMP/bench" \
    plugins/dedupe/bench/bench_key.c $objs $(make -s print-libs-dedupe) ||
    { echo "dedupe bench: cannot link the driver"; exit 0; }
echo "dedupe key, seed articles:"
"$TMP/bench" "$SHARED/seeds" "${BENCH_SECONDS:-1}"

# the news workload's bodies (one copy of each sample page is enough: the
# key's cost does not depend on the URL)
if [ -x "$TAOJIN" ] && [ -f "$BUILD/plugins/clean.so" ] &&
   [ -f "$BUILD/plugins/convert-traditional.so" ]; then
    cat > "$TMP/p.yaml" <<YAML
name: bench-dedupe
stages:
  - use: fetch
    with: {paths: ["$TOP/samples/site/*"]}
  - use: decode
  - use: clean
  - use: convert-traditional
    with: {config: auto}
  - use: export
    with: {format: jsonl, path: "$TMP/in.jsonl"}
YAML
    if "$TAOJIN" run "$TMP/p.yaml" --quiet 2>/dev/null; then
        mkdir -p "$TMP/bodies"
        python3 - "$TMP/in.jsonl" "$TMP/bodies" <<'PY'
import json, sys
for i, line in enumerate(open(sys.argv[1], encoding="utf-8")):
    with open(f"{sys.argv[2]}/{i}.txt", "w", encoding="utf-8") as f:
        f.write(json.loads(line).get("body", ""))
PY
        echo "dedupe key, news workload bodies (after clean and convert):"
        "$TMP/bench" "$TMP/bodies" "${BENCH_SECONDS:-1}"
    fi
fi
