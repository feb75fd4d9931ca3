#!/usr/bin/env bash
# convert-traditional benchmark: zuozhuan.txt in Traditional, repeated to
# about 15 MB.  Prints MB/s of our engine per configuration, of the opencc
# CLI on the same input in the same run, the ratio, the dictionary load
# time, `taojin exec` end to end, and the pass rate on OpenCC HEAD's cases.
# Figures only: nothing here passes or fails on a number.
set -u
TOP=${TJ_TOP:-$(cd "$(dirname "$0")/../../.." && pwd)}
BUILD=${TJ_BUILD:-$TOP/build}
SHARED=${TJ_SHARED:-$TOP/../shared}
C="$SHARED/corpora/opencc"
TMP=$(mktemp -d /tmp/tcbench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

make -s -C "$TOP" BUILD="$BUILD" "$BUILD/convert-traditional/tcbench" >/dev/null || exit 1
B="$BUILD/convert-traditional/tcbench"

# Inputs: Traditional (zuozhuan through s2t) and Simplified, ~15 MB each.
"$B" convert s2t < "$C/zuozhuan.txt" > "$TMP/zt1"
for i in 1 2 3 4 5 6 7 8; do cat "$TMP/zt1"; done > "$TMP/trad.txt"
for i in 1 2 3 4 5 6 7 8; do cat "$C/zuozhuan.txt"; done > "$TMP/simp.txt"
size=$(wc -c < "$TMP/trad.txt")
echo "input: zuozhuan.txt as Traditional x8 = $size bytes"

"$B" load

# opencc CLI: CPU seconds (user+sys), file mode (its fastest).
cpu_of() { # cmd... -> prints user+sys seconds
    local TIMEFORMAT='%U %S'
    { time "$@" >/dev/null 2>&1; } 2>&1 | awk '{print $1 + $2}'
}
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? b / s / 1e6 : 0) }'; }

ours=$("$B" bench "$TMP/trad.txt" t2s | awk '{print $2}')
cli_s=$(cpu_of opencc -c t2s -i "$TMP/trad.txt" -o "$TMP/cli.out")
cli=$(mbps "$size" "$cli_s")
echo "t2s: ours $ours MB/s (one core, CPU time), opencc CLI $cli MB/s" \
     "=> $(awk -v a="$ours" -v b="$cli" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')"
"$B" convert t2s < "$TMP/trad.txt" | cmp -s - "$TMP/cli.out" &&
    echo "t2s output identical to the opencc CLI's" ||
    echo "t2s output DIFFERS from the opencc CLI's"

# Every configuration beside the CLI on the same input, in the same run
# (auto has no CLI counterpart: its ratio is against the CLI's t2s).
per_config() { # input label configs...
    local in=$1 label=$2 c ours cs cli
    shift 2
    echo "per configuration ($label input, MB/s, one core, CPU time):"
    for c in "$@"; do
        ours=$("$B" bench "$in" "$c" | awk '{print $2}')
        if [ "$c" = auto ]; then
            cs=$(cpu_of opencc -c "${AUTO_REF:-t2s}" -i "$in" -o "$TMP/cli.$c")
        else
            cs=$(cpu_of opencc -c "$c" -i "$in" -o "$TMP/cli.$c")
        fi
        cli=$(mbps "$size" "$cs")
        printf "  %-6s ours %7s  opencc CLI %5s  => %s\n" "$c" "$ours" "$cli" \
            "$(awk -v a="$ours" -v b="$cli" 'BEGIN { printf "%.0fx", (b > 0 ? a / b : 0) }')"
    done
}
per_config "$TMP/trad.txt" Traditional t2s tw2s tw2sp hk2s t2tw t2hk tw2t hk2t t2jp jp2t auto
AUTO_REF=s2t per_config "$TMP/simp.txt" Simplified s2t s2tw s2twp s2hk auto

if [ -x "${TAOJIN:-}" ]; then
    export TAOJIN_PLUGIN_PATH="$BUILD/plugins"
    s=$(cpu_of "$TAOJIN" exec convert-traditional config=t2s < /dev/null)
    echo "taojin exec on empty input (process start + dlopen + load): ${s}s CPU"
    start=$(date +%s.%N)
    "$TAOJIN" exec convert-traditional config=t2s < "$TMP/trad.txt" > "$TMP/exec.out"
    end=$(date +%s.%N)
    echo "taojin exec config=t2s: $(mbps "$size" "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')") MB/s wall, end to end"
    cmp -s "$TMP/exec.out" "$TMP/cli.out" && echo "taojin exec output identical to the opencc CLI's"
fi

# OpenCC HEAD's test cases expect newer dictionaries: reported, not required.
tot=0; pass=0; cpass=0
for f in "$C"/HEAD/*.in; do
    cfg=$(basename "$f" .in)
    "$B" convert "$cfg" < "$f" > "$TMP/h.ours"
    opencc -c "$cfg" < "$f" > "$TMP/h.cli"
    read -r n p q < <(perl -e 'open A,$ARGV[0]; open B,$ARGV[1]; open C,$ARGV[2];
        @a=<A>; @b=<B>; @c=<C>; $p=$q=0;
        for $i (0..$#b) { $p++ if $a[$i] eq $b[$i]; $q++ if $c[$i] eq $b[$i] }
        print scalar(@b), " $p $q\n"' "$TMP/h.ours" "$C/HEAD/$cfg.ans" "$TMP/h.cli")
    echo "OpenCC HEAD cases $cfg: ours $p/$n, opencc 1.1.6 CLI $q/$n"
    tot=$((tot + n)); pass=$((pass + p)); cpass=$((cpass + q))
done
echo "OpenCC HEAD cases total: ours $pass/$tot, opencc 1.1.6 CLI $cpass/$tot"
