#!/usr/bin/env bash
# Builds and runs each libFuzzer target for FUZZ_SECONDS (default 60).
#   fuzz/fuzz_*.c                 host targets, linked with core/*.c
#   plugins/NAME/fuzz/fuzz_*.c    stage targets, linked with plugins/NAME/*.c
#                                 and core/*.c (the real host table)
# Stage targets get the stage's NAME_LIBS from `make print-libs-NAME`.
set -eu
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-60}
OUT=build-fuzz
mkdir -p "$OUT"
FL="-g -O1 -std=c11 -D_GNU_SOURCE -Iinclude -Icore -fsanitize=fuzzer-no-link,address,undefined -pthread -DTJ_VERSION=\"fuzz\" -DTJ_PREFIX=\"/usr/local\""
core_objs=()
for c in core/*.c; do
    [ "$c" = core/main.c ] && continue
    o="$OUT/core_$(basename "${c%.c}").o"
    clang $FL -DTJ_HOST -c "$c" -o "$o"
    core_objs+=("$o")
done
LIBS="$(pkg-config --libs yaml-0.1 libcjson sqlite3 libmicrohttpd) -ldl -lm"
targets=()
for t in fuzz/fuzz_*.c plugins/*/fuzz/fuzz_*.c; do
    [ -f "$t" ] || continue
    name=$(basename "${t%.c}"); objs=(); extra=""
    case "$t" in plugins/*)
        p=$(echo "$t" | cut -d/ -f2); name="${p}_$name"
        for c in plugins/$p/*.c; do
            o="$OUT/${p}_$(basename "${c%.c}").o"
            clang $FL $(make -s print-cflags-$p) -c "$c" -o "$o"; objs+=("$o")
        done
        extra=$(make -s print-libs-$p) ;;
    esac
    tflags=""; [ -n "${p:-}" ] && tflags=$(make -s print-cflags-$p)
    clang $FL $tflags -Iplugins/"${p:-x}" -fsanitize=fuzzer "$t" "${objs[@]}" "${core_objs[@]}" $LIBS $extra -o "$OUT/$name"
    targets+=("$OUT/$name"); unset p
done
for t in "${targets[@]}"; do
    echo "== $t ($SECS s)"
    mkdir -p "$t.corpus"
    "$t" -max_total_time="$SECS" -rss_limit_mb=4096 "$t.corpus" 2>&1 | tail -n 3
done
