#!/usr/bin/env bash
# extract on the seed fixtures and on the reference corpora (GNE pages,
# readability's Chinese pages), through `taojin exec`.  The HTML pages get
# their page hints from the clean stage (clean | extract), as in a pipeline.
source "$TJ_TOP/tests/lib.sh"
HERE="$TJ_TOP/plugins/extract/tests"

# check.py prints CHECK lines; each becomes one TAP assertion.
run_checks() {
    while IFS=$'\t' read -r tag desc want got; do
        if [ "$tag" = CHECK ]; then assert_eq "$want" "$got" "$desc"
        else printf '%s\n' "$tag${desc:+	$desc}"; fi
    done
}

# 1. Record-level fixtures for the five seeds (body + page as clean makes
#    them), exact title / author / published_at, tickers of seed 000.
python3 "$HERE/mkseeds.py" "$TJ_SHARED/seeds" > "$TMP/seeds.jsonl"
python3 -c 'import json,sys
for l in open(sys.argv[1]): print(json.dumps(json.loads(l)["record"], ensure_ascii=False))' \
    "$TMP/seeds.jsonl" > "$TMP/seed_records.jsonl"
"$TAOJIN" exec extract --jsonl < "$TMP/seed_records.jsonl" > "$TMP/seed_out.jsonl" 2> "$TMP/err"
assert_eq 0 $? "extract runs on the seed fixtures"
python3 "$HERE/check.py" seeds "$TMP/seeds.jsonl" "$TMP/seed_out.jsonl" > "$TMP/c1"
run_checks < "$TMP/c1"

# 2. HTML pages: clean's hints, then extract.
if [ ! -f "$TJ_BUILD/plugins/clean.so" ]; then
    ok "corpora skipped: $TJ_BUILD/plugins/clean.so not built # SKIP"
    finish
fi
python3 -c 'import json,glob,sys
for f in sorted(glob.glob(sys.argv[1] + "/pages/*.html")):
    print(json.dumps({"url": f, "fetched_at": "2019-09-10T12:00:00+08:00",
                      "body": open(f, encoding="utf-8").read()}, ensure_ascii=False))' \
    "$TJ_SHARED/corpora/gne" > "$TMP/gne.jsonl"
"$TAOJIN" exec clean --jsonl < "$TMP/gne.jsonl" > "$TMP/gne_clean.jsonl"
assert_eq 0 $? "clean runs on the GNE pages"
"$TAOJIN" exec extract --jsonl < "$TMP/gne_clean.jsonl" > "$TMP/gne_out.jsonl"
assert_eq 0 $? "extract runs on the GNE pages"
python3 "$HERE/check.py" gne "$TJ_SHARED/corpora/gne" "$TMP/gne_clean.jsonl" \
    "$TMP/gne_out.jsonl" > "$TMP/c2"
run_checks < "$TMP/c2"

python3 -c 'import json,glob,sys
for d in sorted(glob.glob(sys.argv[1] + "/*/")):
    print(json.dumps({"url": d, "fetched_at": "2017-03-12T12:00:00+08:00",
                      "body": open(d + "source.html", encoding="utf-8").read()}, ensure_ascii=False))' \
    "$TJ_SHARED/corpora/readability_zh" > "$TMP/rd.jsonl"
"$TAOJIN" exec clean --jsonl < "$TMP/rd.jsonl" | "$TAOJIN" exec extract --jsonl > "$TMP/rd_out.jsonl"
assert_eq 0 $? "clean | extract runs on readability's pages"
python3 "$HERE/check.py" readability "$TMP/rd_out.jsonl" > "$TMP/c3"
run_checks < "$TMP/c3"
finish
