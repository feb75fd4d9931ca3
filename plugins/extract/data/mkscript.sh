#!/usr/bin/env bash
# Regenerates script_chars.txt from OpenCC's character tables (Debian
# package opencc).  A character is "traditional-only" when OpenCC's
# Traditional->Simplified table changes it and the Simplified->Traditional
# table does not know it as a source; "simplified-only" the other way round.
# Output: two lines, "T<TAB>chars" and "S<TAB>chars".
set -eu
dir=${OPENCC_DIR:-/usr/share/opencc}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
opencc_dict -i "$dir/TSCharacters.ocd2" -o "$tmp/ts.txt" -f ocd2 -t text
opencc_dict -i "$dir/STCharacters.ocd2" -o "$tmp/st.txt" -f ocd2 -t text
python3 - "$tmp/ts.txt" "$tmp/st.txt" <<'PY'
import sys
def load(p):
    d = {}
    for line in open(p, encoding="utf-8"):
        k, v = line.rstrip("\n").split("\t")
        d[k] = v.split(" ")
    return d
ts, st = load(sys.argv[1]), load(sys.argv[2])
trad = sorted(k for k, v in ts.items() if len(k) == 1 and k not in v and k not in st)
simp = sorted(k for k, v in st.items() if len(k) == 1 and k not in v and k not in ts)
print("T\t" + "".join(trad))
print("S\t" + "".join(simp))
PY
