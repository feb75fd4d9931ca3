#!/usr/bin/env bash
# convert-traditional through `taojin exec`: a drop-in for `opencc -c CFG`
# (diffed against the real CLI, run here), and config: auto on the seeds.
source "$TJ_TOP/tests/lib.sh"
export TAOJIN_PLUGIN_PATH="$TJ_BUILD/plugins"
C="$TJ_SHARED/corpora/opencc"
ex() { "$TAOJIN" exec convert-traditional "$@"; }

if [ ! -x "$TAOJIN" ] || ! command -v opencc >/dev/null; then
    ok "skipped: no $TAOJIN or no opencc"; finish
fi

# 1. The v1.1.6 cases: ours == the CLI == the expected answers.
for f in "$C"/v1.1.6/*.in; do
    cfg=$(basename "$f" .in)
    ex config="$cfg" < "$f" > "$TMP/ours" 2>"$TMP/err"
    opencc -c "$cfg" < "$f" > "$TMP/cli"
    assert_eq "$(cmp "$TMP/cli" "$TMP/ours" 2>&1)" "" "exec config=$cfg == opencc -c $cfg"
    assert_eq "$(cmp "$C/v1.1.6/$cfg.ans" "$TMP/ours" 2>&1)" "" "exec config=$cfg == $cfg.ans"
done

# 2. zuozhuan.txt to Traditional and back, every step against the CLI.
ex config=s2t < "$C/zuozhuan.txt" > "$TMP/zt"
opencc -c s2t < "$C/zuozhuan.txt" > "$TMP/zt.cli"
assert_eq "$(cmp "$TMP/zt.cli" "$TMP/zt" 2>&1)" "" "zuozhuan s2t == opencc"
for cfg in t2s tw2s; do
    ex config=$cfg < "$TMP/zt" > "$TMP/back"
    opencc -c $cfg < "$TMP/zt" > "$TMP/back.cli"
    assert_eq "$(cmp "$TMP/back.cli" "$TMP/back" 2>&1)" "" "zuozhuan s2t then $cfg == opencc"
done

# 3. Empty input, and bytes that are not UTF-8 pass through.
assert_eq "$(ex config=t2s < /dev/null | wc -c)" "0" "empty input gives empty output"
printf '\xff\xe6\xbc\xa2\xc3' | ex config=t2s > "$TMP/bad"
assert_eq "$(od -An -tx1 "$TMP/bad" | tr -d ' \n')" "ffe6b189c3" "invalid UTF-8 copied byte for byte"

# 4. config: auto on the seeds, pinyin annotations such as (duì) removed.
# The Traditional seeds are Taiwan-style (著 as a particle): they must come
# out exactly as opencc tw2s gives them, except that their Simplified 那么,
# which tw2s turns into 那幺, stays 那么.
strip_pinyin() { perl -CSD -Mutf8 -pe 's/\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)//g' "$1"; }
jsonl() { perl -CSD -MJSON::PP -0777 -ne 'print JSON::PP->new->canonical->encode({body => $_}), "\n"'; }
field() { perl -CSD -MJSON::PP -ne "print JSON::PP->new->decode(\$_)->{$1}"; }
for s in 002 003 004; do
    f=$(ls "$TJ_SHARED"/seeds/${s}_*.txt)
    strip_pinyin "$f" > "$TMP/seed"
    assert_eq "$(grep -c '(d[uù]ì)' "$TMP/seed")" "0" "seed $s: pinyin stripped"
    jsonl < "$TMP/seed" | ex --jsonl > "$TMP/rec"
    assert_eq "$(field convert_config < "$TMP/rec")" "tw2s" "seed $s detected as tw2s"
    field body < "$TMP/rec" > "$TMP/auto"
    opencc -c tw2s < "$TMP/seed" | sed 's/幺/么/g' > "$TMP/want"
    assert_eq "$(cmp "$TMP/want" "$TMP/auto" 2>&1)" "" "seed $s: auto == tw2s, 那么 kept"
    if grep -q '那么' "$TMP/seed"; then # 002 and 004
        assert_contains "$(cat "$TMP/auto")" "那么" "seed $s keeps 那么"
        assert_not_contains "$(cat "$TMP/auto")" "那幺" "seed $s: no 那幺"
    fi
done
assert_contains "$(head -c 40 "$TMP/auto")" "英伟达" "seed 004 converted"
for s in 000 001; do
    f=$(ls "$TJ_SHARED"/seeds/${s}_*.txt)
    jsonl < "$f" | ex --jsonl > "$TMP/rec"
    assert_eq "$(field convert_config < "$TMP/rec")" "none" "Simplified seed $s: config none"
    field body < "$TMP/rec" > "$TMP/out"
    assert_eq "$(cmp "$f" "$TMP/out" 2>&1)" "" "Simplified seed $s untouched"
done

# 5. Mixed text, the issue's cases.
assert_eq "$(printf '隨著那么' | ex)" "随着那么" "auto: 隨著 -> 随着, 那么 kept"
assert_eq "$(printf '隨著那么' | ex config=tw2s)" "随着那幺" "tw2s as OpenCC: 那么 -> 那幺"
assert_eq "$(printf '隨著' | ex config=t2s)" "随著" "t2s as OpenCC: 隨著 -> 随著"

# 6. A user dictionary wins over the built-in entries.
printf '昇騰\t昇腾\n華為\t华为公司\n' > "$TMP/user.txt"
assert_eq "$(printf '華為昇騰' | ex config=t2s user_dict="$TMP/user.txt")" "华为公司昇腾" "user_dict entries win"
run_tj exec convert-traditional user_dict="$TMP/missing.txt"
assert_eq "$rc" "2" "missing user_dict: configuration error"
assert_contains "$out" "missing.txt" "missing user_dict named"
finish
