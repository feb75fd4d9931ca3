#!/usr/bin/env bash
# decode through the host: `taojin exec decode` on stdin, and a pipeline
# fetch(paths) -> decode -> export over the reference corpora and a local
# .gz file.
source "$TJ_TOP/tests/lib.sh"

seed=$(ls "$TJ_SHARED"/seeds/000_*.txt)
text=$(head -c 3000 "$seed" | iconv -c -f UTF-8 -t GBK 2>/dev/null | iconv -f GBK -t UTF-8)
printf '%s' "$text" | iconv -f UTF-8 -t GBK > "$TMP/page.gbk"

out=$("$TAOJIN" exec decode < "$TMP/page.gbk" 2>"$TMP/err")
assert_eq "$text" "$out" "exec decode: GBK on stdin comes out as the UTF-8 text"
out=$("$TAOJIN" exec decode charset=big5 < "$TMP/page.gbk" 2>"$TMP/err")
assert_not_contains "$out" "人工" "exec decode charset=big5: forced charset wins (GBK read as Big5)"
printf '%s' "$text" | iconv -f UTF-8 -t UTF-16 > "$TMP/page.u16"
out=$("$TAOJIN" exec decode < "$TMP/page.u16" 2>"$TMP/err")
assert_eq "$text" "$out" "exec decode: UTF-16 with BOM"

out=$(printf '{"url":"x","content_type":"text/html; charset=utf-8","body":"\\u4e2d\\u6587"}\n' \
      | "$TAOJIN" exec decode --jsonl 2>"$TMP/err")
assert_contains "$out" '"charset":"UTF-8"' "exec --jsonl: charset field"
assert_contains "$out" '"charset_source":"header"' "exec --jsonl: charset_source field"
assert_contains "$out" '"decode_errors":0' "exec --jsonl: decode_errors field"

mkdir -p "$TMP/gz"
gzip -c "$TMP/page.gbk" > "$TMP/gz/page.html.gz"
C="$TJ_SHARED/corpora/chardet_zh"
cat > "$TMP/corpus.yaml" <<YAML
name: decode-corpora
stages:
  - use: fetch
    with:
      paths: ["$C/GB2312", "$C/Big5/*.xml", "$TMP/gz/**/*.gz"]
  - use: decode
  - use: export
    with: {format: jsonl, path: "-", exclude: [body]}
YAML
"$TAOJIN" run "$TMP/corpus.yaml" --no-progress > "$TMP/out.jsonl" 2>"$TMP/err"
assert_eq 0 "$?" "corpus pipeline runs cleanly"
summary=$(python3 - "$TMP/out.jsonl" <<'PY'
import collections, json, sys
seen = collections.Counter()
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    d = "gz" if r["url"].endswith(".gz") else r["url"].split("/")[-2]
    seen[(d, r["charset"], r["decode_errors"])] += 1
print(" ".join(f"{d}:{c}:{e}={n}" for (d, c, e), n in sorted(seen.items())))
PY
)
assert_eq "Big5:BIG5-HKSCS:0=24 GB2312:GB18030:0=20 gz:GB18030:0=1" "$summary" \
    "corpus files: every Big5 file BIG5-HKSCS, every GB2312 file GB18030, the .gz inflated"
finish
