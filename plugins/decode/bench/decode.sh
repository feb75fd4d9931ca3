#!/usr/bin/env bash
# decode throughput, MB/s of input: ours (bench_decode.c, the stage's own
# resolver and converters, in-process) beside iconv(1) alone on the same
# input.  Inputs are ../shared/seeds repeated to ~24 MB: UTF-8 as is,
# GB18030 from the Simplified seeds, Big5 from the Traditional ones.
# Measures, never fails on a number.
set -u
: "${TJ_TOP:=$(cd "$(dirname "$0")/../../.." && pwd)}"
: "${TJ_BUILD:=$TJ_TOP/build}"
: "${TJ_SHARED:=$TJ_TOP/../shared}"
TMP=$(mktemp -d /tmp/tjbench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cd "$TJ_TOP"

objs=$(ls "$TJ_BUILD"/plugins/decode/*.o 2>/dev/null)
if [ -z "$objs" ]; then
    echo "decode bench: build the stage first ($TJ_BUILD/plugins/decode.so)"
    exit 0
fi
cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Iplugins/decode \
    $(pkg-config --cflags uchardet) plugins/decode/bench/bench_decode.c \
    $objs $(pkg-config --libs uchardet zlib) -o "$TMP/bench_decode" || exit 1

repeat() { # FILE... -> ~24 MB on stdout
    local one="$TMP/one" i
    cat "$@" > "$one"
    local n=$(( 24000000 / $(stat -c %s "$one") + 1 ))
    for ((i = 0; i < n; i++)); do cat "$one"; done
}
repeat "$TJ_SHARED"/seeds/*.txt > "$TMP/utf8.txt"
repeat "$TJ_SHARED"/seeds/00[01]_*.txt | iconv -f UTF-8 -t GB18030 > "$TMP/gb.txt"
repeat "$TJ_SHARED"/seeds/00[234]_*.txt | iconv -c -f UTF-8 -t BIG5 > "$TMP/big5.txt" 2>/dev/null

# iconv(1): best of 3, MB/s of input.
iconv_rate() { # FROM FILE
    local best=999 t
    for _ in 1 2 3; do
        t=$( { TIMEFORMAT=%R; time iconv -f "$1" -t UTF-8 "$2" > /dev/null; } 2>&1 )
        best=$(echo "$t $best" | awk '{print ($1 < $2) ? $1 : $2}')
    done
    awk -v s="$(stat -c %s "$2")" -v t="$best" \
        'BEGIN { if (t <= 0) t = 0.005; printf "%.0f", s / t / 1e6 }'
}

printf '%-9s %-28s %10s %10s %s\n' input case "ours MB/s" "iconv MB/s" "(charset source)"
row() { # NAME FILE CONTENT-TYPE ICONV-FROM CASE
    local r
    r=$("$TMP/bench_decode" "$2" "$3" 5)
    printf '%-9s %-28s %10s %10s (%s)\n' "$1" "$5" "${r%% *}" "$(iconv_rate "$4" "$2")" "${r#* }"
}
row UTF-8   "$TMP/utf8.txt" ""                        UTF-8   "no label (validate only)"
row UTF-8   "$TMP/utf8.txt" "text/html; charset=utf-8" UTF-8  "header utf-8"
row GB18030 "$TMP/gb.txt"   ""                        GB18030 "no label (detect + decode)"
row GB18030 "$TMP/gb.txt"   "text/html; charset=gbk"  GB18030 "header gbk"
row Big5    "$TMP/big5.txt" ""                        BIG5    "no label (detect + decode)"
row Big5    "$TMP/big5.txt" "text/html; charset=big5" BIG5    "header big5"
echo "targets (measured, not asserted): UTF-8 >= 300 MB/s, GB18030 and Big5 >= 100 MB/s"
