#!/usr/bin/env bash
# End to end: pipelines/news.yaml on samples/site (the seeds as pages in
# UTF-8, gzip'd GB18030, Big5, unlabelled UTF-8 and GB18030 under a lying
# meta) gives exact titles, authors and dates, clean Simplified bodies, and
# is idempotent in SQLite.  Also pipelines/local-files.yaml on samples/text.
source "$TJ_TOP/tests/lib.sh"
cd "$TJ_TOP"
export NEWS_OUT="$TMP/out"
run_tj run pipelines/news.yaml --no-progress
assert_eq 0 "$rc" "news.yaml runs cleanly on the samples"
J="$NEWS_OUT/news.jsonl"
assert_eq 5 "$(wc -l < "$J")" "five articles in the JSON Lines file"

field() { # field FILE-SUFFIX NAME
    python3 - "$J" "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    if r["url"].endswith(sys.argv[2]):
        v = r.get(sys.argv[3])
        print(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else (v if v is not None else "null"))
PY
}
assert_eq "GB18030 meta"        "$(field 001.html.gz charset) $(field 001.html.gz charset_source)" "gzip'd GB18030 labelled gb2312 decodes as GB18030"
assert_eq "BIG5-HKSCS meta"     "$(field 002.html charset) $(field 002.html charset_source)" "Big5 page decodes as Big5-HKSCS"
assert_eq "UTF-8 detected"      "$(field 003.html charset) $(field 003.html charset_source)" "unlabelled UTF-8 is detected"
assert_eq "GB18030 detected"    "$(field 004.html charset) $(field 004.html charset_source)" "a lying utf-8 meta on GB18030 bytes is not believed"

assert_eq "英伟达 AI GPU 泡沫分裂从如今末尾? 走向崩塌 庞大叙事" "$(field 000.html title)" "000: title without ticker noise"
assert_eq "周文杰|智通财经|2025-02-28T09:12:00+08:00" "$(field 000.html author)|$(field 000.html source)|$(field 000.html published_at)" "000: author, source, date"
assert_eq "DeepSeek冲击下段永平为什么更看好英伟达?" "$(field 001.html.gz title)" "001: title"
assert_eq "2025-03-05T10:05:00+08:00" "$(field 001.html.gz published_at)" "001: date from the metadata lines clean moved out"
assert_eq "英伟达市值蒸发后的下一步|林昭仪|2025-02-04T16:20:00+08:00" "$(field 002.html title)|$(field 002.html author)|$(field 002.html published_at)" "002 (Big5): title, author (记者), date, in Simplified"
assert_eq "汤普济, 吕栋" "$(field 003.html author)" "003: (文/湯普濟 呂棟) gives both authors"
assert_eq "英伟达的财报，救不了AI信仰|刘一鸣|翟文婷|钛媒体|2025-02-06T10:32:00+08:00" "$(field 004.html title)|$(field 004.html author)|$(field 004.html editor)|$(field 004.html source)|$(field 004.html published_at)" "004: 撰文|, 編輯|, 來源 and 年月日 date"
assert_eq "none tw2s tw2s tw2s" "$(field 000.html convert_config) $(field 002.html convert_config) $(field 003.html convert_config) $(field 004.html convert_config)" "auto conversion: Simplified untouched, Taiwan-style pages tw2s"

B4=$(field 004.html body)
assert_contains "$B4" "英伟达暴跌8.5%" "004: body in Simplified, decimals kept"
assert_contains "$B4" "2月27日下午2:00-2:40分" "004: times kept"
assert_not_contains "$B4" "(dá)" "004: no pinyin annotations"
assert_not_contains "$B4" "br/>" "004: no lost-< tag remnants"
assert_not_contains "$B4" "热门跟贴" "004: closing notice removed"
B1=$(field 001.html.gz body)
assert_contains "$B1" "8.5%" "001: 8。5% repaired to 8.5%"
assert_not_contains "$B1" "⼊" "001: Kangxi look-alikes replaced"
assert_not_contains "$B1" "扫二维码" "001: QR-code footer removed"
B0=$(field 000.html body)
assert_not_contains "$B0" "未经许可" "000: reprint notice removed"
assert_not_contains "$B0" "ICP" "000: ICP footer never enters the body"
assert_not_contains "$B0" "相关阅读" "000: related links never enter the body"
assert_contains "$(field 000.html entities)" '"symbol": "NVDA.US"' "000: ticker NVDA.US found"
assert_contains "$(field 000.html entities)" '"symbol": "BABA.US"' "000: ticker BABA.US found"

DB="$NEWS_OUT/news.db"
assert_eq 5 "$(sqlite3 "$DB" 'SELECT count(*) FROM articles')" "SQLite holds one row per page"
run_tj run pipelines/news.yaml --no-progress
assert_eq 0 "$rc" "a second run succeeds"
assert_eq 5 "$(sqlite3 "$DB" 'SELECT count(*) FROM articles')" "running twice keeps one row per url (upsert)"
assert_eq 5 "$(wc -l < "$J")" "the second run found every page unchanged: nothing appended"
assert_contains "$out" "fetch " "the second run printed its summary"
assert_eq 2 "$("$TAOJIN" history cn-news --state "$NEWS_OUT/state.db" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "history lists both runs"
assert_eq "钛媒体" "$(sqlite3 "$DB" "SELECT source FROM articles WHERE url LIKE '%004.html'")" "SQLite columns are queryable"
assert_eq "" "$(sqlite3 "$DB" "SELECT name FROM pragma_table_info('articles') WHERE name='page'")" "exclude: [page] keeps the hints out"

export TEXT_OUT="$TMP/text"
run_tj run pipelines/local-files.yaml --no-progress
assert_eq 0 "$rc" "local-files.yaml runs on samples/text"
assert_eq 6 "$(wc -l < "$TEXT_OUT/local-files.jsonl")" "six text files in, six records out"
assert_contains "$(cat "$TEXT_OUT/local-files.jsonl")" "GB18030" "the GB18030 text file is detected"
finish
