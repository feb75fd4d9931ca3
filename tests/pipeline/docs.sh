#!/usr/bin/env bash
# The docs cover what ships: docs/stages.md matches the compiled option
# tables, every stage has a README that names each of its options, and the
# README shows the two set-up commands.
source "$TJ_TOP/tests/lib.sh"
cd "$TJ_TOP"
python3 scripts/gen-stage-docs.py "$TAOJIN" > "$TMP/stages.md" 2>"$TMP/err"
if diff -q "$TMP/stages.md" docs/stages.md >/dev/null; then
    ok "docs/stages.md matches the stages' option tables"
else
    not_ok "docs/stages.md is out of date: run python3 scripts/gen-stage-docs.py > docs/stages.md"
    diff "$TMP/stages.md" docs/stages.md | head -20 | sed 's/^/# /'
fi
for json in $("$TAOJIN" stages --json 2>/dev/null | python3 -c '
import json, sys
for s in json.load(sys.stdin)["stages"]:
    print(s["name"] + ":" + ",".join(o["name"] for o in s["options"]))'); do
    name=${json%%:*}; opts=${json#*:}
    readme="plugins/$name/README.md"
    if [ ! -f "$readme" ]; then not_ok "$readme exists"; continue; fi
    missing=""
    for o in ${opts//,/ }; do grep -q "\`$o\`" "$readme" || missing="$missing $o"; done
    assert_eq "" "$missing" "$readme documents every option of $name"
done
assert_contains "$(cat README.md)" "make demo" "README shows make demo"
assert_contains "$(cat README.md)" "make test" "README shows make test"
for d in pipeline records writing-stages operations; do
    [ -s "docs/$d.md" ] && ok "docs/$d.md exists" || not_ok "docs/$d.md exists"
done
finish
