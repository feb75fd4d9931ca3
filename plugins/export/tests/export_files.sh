#!/usr/bin/env bash
# export through the real host (`taojin exec export ... --jsonl`): round
# trips for jsonl, jsonl.gz, csv and sqlite read back by python3 and the
# sqlite3 CLI; sqlite upsert idempotence; atomic files when the disk fills
# up or the process is killed midway; errors naming cause and target.
source "$TJ_TOP/tests/lib.sh"

N=2000
[ "${TJ_SANITIZED:-0}" = 1 ] && N=300
cd "$TMP"

# Input: N records with Chinese text, quotes, newlines, commas, ints,
# doubles and nested JSON (the host's JSONL reader makes JSON fields of
# objects and arrays).
python3 - "$N" >in.jsonl <<'EOF'
import json, sys
n = int(sys.argv[1])
for i in range(n):
    print(json.dumps({
        "url": f"https://news.example.cn/a/{i}",
        "title": f"英伟达第{i}季度财报, \"超预期\"",
        "body": "第一段,有逗号\n第二段 \"引号\"\r\n第三段",
        "status": 200 + i % 3,
        "score": i / 7,
        "quality": {"pinyin_removed": i % 5, "tags": ["a", "b"], "ok": True},
    }, ensure_ascii=False))
EOF

ex() { out=$("$TAOJIN" exec export "$@" --jsonl <in.jsonl 2>&1); rc=$?; }

# ---- jsonl ---------------------------------------------------------------
ex format=jsonl path=out.jsonl
assert_eq 0 "$rc" "jsonl: exit 0"
cmp=$(python3 - <<'EOF'
import json
a = [json.loads(l) for l in open("in.jsonl", encoding="utf-8")]
b = [json.loads(l) for l in open("out.jsonl", encoding="utf-8")]
print("same" if a == b else f"differ: {len(a)} vs {len(b)} {a[:1]} {b[:1]}")
EOF
)
assert_eq same "$cmp" "jsonl: every record reads back equal"
assert_eq "" "$(ls -A | grep tmp-)" "jsonl: no temporary file left"

ex format=jsonl path=out.jsonl.gz
assert_eq 0 "$rc" "jsonl.gz: exit 0"
cmp=$(python3 - <<'EOF'
import gzip, json
a = [json.loads(l) for l in open("in.jsonl", encoding="utf-8")]
b = [json.loads(l) for l in gzip.open("out.jsonl.gz", "rt", encoding="utf-8")]
print("same" if a == b else "differ")
EOF
)
assert_eq same "$cmp" "jsonl.gz: gunzips and reads back equal"

out=$(head -n 2 in.jsonl | "$TAOJIN" exec export format=jsonl path=- \
      'fields=[status, url]' --jsonl 2>/dev/null)
assert_eq '{"status":200,"url":"https://news.example.cn/a/0"}
{"status":201,"url":"https://news.example.cn/a/1"}' "$out" \
    "jsonl to stdout with fields: selecting and ordering"

# ---- csv -----------------------------------------------------------------
ex format=csv path=out.csv exclude=[body]
assert_eq 0 "$rc" "csv: exit 0"
cmp=$(python3 - <<'EOF'
import csv, json
a = [json.loads(l) for l in open("in.jsonl", encoding="utf-8")]
rows = list(csv.reader(open("out.csv", newline="", encoding="utf-8")))
head, rows = rows[0], rows[1:]
ok = head == ["url", "title", "status", "score", "quality"] and len(rows) == len(a)
for r, x in zip(rows, a):
    ok = ok and r[0] == x["url"] and r[1] == x["title"]
    ok = ok and int(r[2]) == x["status"] and float(r[3]) == x["score"]
    ok = ok and json.loads(r[4]) == x["quality"]
print("same" if ok else f"differ {head} {rows[:1]}")
EOF
)
assert_eq same "$cmp" "csv: python's csv module reads header and values back"
assert_eq "url,title,status,score,quality" "$(head -n1 out.csv | tr -d '\r')" \
    "csv: header row from the first batch, exclude: honoured"

# ---- sqlite --------------------------------------------------------------
ex path=news.db table=articles
assert_eq 0 "$rc" "sqlite: exit 0"
assert_eq "$N" "$(sqlite3 news.db 'SELECT count(*) FROM articles')" \
    "sqlite: one row per record"
assert_eq "wal" "$(sqlite3 news.db 'PRAGMA journal_mode')" "sqlite: WAL mode"
assert_eq "英伟达第1季度财报, \"超预期\"|201|1|[\"a\",\"b\"]" \
    "$(sqlite3 news.db "SELECT title, status, json_extract(quality, '\$.pinyin_removed'), json_extract(quality, '\$.tags') FROM articles WHERE url LIKE '%/a/1'")" \
    "sqlite: text, integer and JSON columns query back"
ex path=news.db table=articles
assert_eq "$N" "$(sqlite3 news.db 'SELECT count(*) FROM articles')" \
    "sqlite: the same input twice still leaves one row per key"
# Updated values and a new field become a new column.
python3 - <<'EOF' >in2.jsonl
import json
print(json.dumps({"url": "https://news.example.cn/a/1", "status": 404, "author": "刘一鸣"}, ensure_ascii=False))
EOF
"$TAOJIN" exec export path=news.db table=articles --jsonl <in2.jsonl 2>/dev/null
assert_eq "404|刘一鸣|英伟达第1季度财报, \"超预期\"" \
    "$(sqlite3 news.db "SELECT status, author, title FROM articles WHERE url LIKE '%/a/1'")" \
    "sqlite: upsert updates, adds the new column, keeps the others"
assert_eq "$N" "$(sqlite3 news.db 'SELECT count(*) FROM articles')" \
    "sqlite: still one row per key"

# A column type clash fails the record, names field, column, table, file.
echo '{"url": "https://news.example.cn/a/2", "status": "oops"}' >clash.jsonl
out=$("$TAOJIN" exec export path=news.db table=articles --jsonl <clash.jsonl 2>&1); rc=$?
assert_eq 3 "$rc" "sqlite: type clash exits 3 (a record failed)"
assert_contains "$out" "type clash: field 'status' is bytes but column 'status' of table 'articles' in news.db is INTEGER" \
    "sqlite: type clash message names field, column, table and file"
assert_eq 202 "$(sqlite3 news.db "SELECT status FROM articles WHERE url LIKE '%/a/2'")" \
    "sqlite: the clashing record changed nothing"

# ---- errors --------------------------------------------------------------
ex format=jsonl path=/dev/null/dir/out.jsonl
assert_eq 2 "$rc" "unwritable directory: init fails (exit 2)"
assert_contains "$out" "cannot create a file in directory /dev/null/dir (for /dev/null/dir/out.jsonl): Not a directory" \
    "unwritable directory: message names the directory and the cause"
touch afile
ex path=afile/x.db
assert_contains "$out" "cannot create sqlite database afile/x.db: directory afile: Not a directory" \
    "sqlite in a non-directory: named"
if command -v setpriv >/dev/null; then
    mkdir ro && chmod 555 ro
    out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
          "$TAOJIN" exec export format=csv path="$TMP/ro/x.csv" --jsonl <in.jsonl 2>&1); rc=$?
    assert_eq 2 "$rc" "read-only directory (as nobody): init fails (exit 2)"
    assert_contains "$out" "cannot create a file in directory $TMP/ro (for $TMP/ro/x.csv): Permission denied" \
        "read-only directory: message names it"
fi

# A full disk midway: the file size limit (SIGXFSZ ignored so write()
# reports EFBIG) stops the temporary at 64 KiB; the old file stays intact.
echo '{"old": true}' >full.jsonl
out=$(trap '' XFSZ; ulimit -f 64; "$TAOJIN" exec export format=jsonl path=full.jsonl --jsonl <in.jsonl 2>&1); rc=$?
assert_eq 1 "$rc" "full disk: the run fails"
assert_contains "$out" "cannot write full.jsonl (temporary ./.full.jsonl.tmp-" \
    "full disk: message names the file"
assert_contains "$out" "File too large" "full disk: message gives the cause"
assert_eq '{"old": true}' "$(cat full.jsonl)" "full disk: path keeps its old content"
assert_eq "" "$(ls -A | grep tmp-)" "full disk: temporary removed"

# The same for SQLite: the batch's transaction fails, nothing half-written.
python3 -c "
import json
for i in range(1200): print(json.dumps({'url': f'u{i}', 'body': 'x' * 2000}))" >big.jsonl
out=$(trap '' XFSZ; ulimit -f 512; "$TAOJIN" exec export path=full.db --jsonl <big.jsonl 2>&1); rc=$?
assert_eq 3 "$rc" "sqlite full disk: records fail (exit 3)"
assert_contains "$out" "cannot commit to table 'records' of full.db: disk I/O error" \
    "sqlite full disk: message names table, file and cause"
# Batches of 500: the first two (1 MB each) cannot commit and leave no row;
# the last (200 records, 400 KB) fits and is there whole.
assert_eq "200|u1000|u1199" "$(sqlite3 full.db "SELECT count(*), min(url), max(url) FROM records")" \
    "sqlite full disk: failed batches leave no row, the one that fit is whole"
assert_contains "$out" "taojin: exec: 1000 record(s) failed" \
    "sqlite full disk: each record of the failed batches is reported failed"
assert_contains "$out" "disk I/O error (repeated 100 times)" \
    "sqlite full disk: the repeated message is logged sparingly"

# A run killed midway leaves path untouched (only a hidden temporary).
mkfifo feed
"$TAOJIN" exec export format=jsonl path=killed.jsonl --jsonl <feed 2>/dev/null &
pid=$!
exec 7>feed
head -n 100 in.jsonl >&7
sleep 0.5
kill -9 $pid
wait $pid 2>/dev/null
exec 7>&-
assert_eq "absent" "$( [ -e killed.jsonl ] && echo present || echo absent)" \
    "killed run: no file at path"

finish
