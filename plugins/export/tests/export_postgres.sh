#!/usr/bin/env bash
# export to a real PostgreSQL server started here (initdb in a temporary
# directory, an unprivileged user, a free loopback port, stopped at exit):
# upsert idempotence, column types (jsonb, bigint, double, bytea), new
# columns, duplicate keys in one batch, append mode, a type clash, a
# server-side refusal isolated to its record, and a refused connection.
source "$TJ_TOP/tests/lib.sh"
source "$TJ_TOP/plugins/export/tests/pg.bash"
trap 'pg_stop; rm -rf "$TMP"' EXIT

if ! pg_start; then
    not_ok "PostgreSQL test server starts"
    finish
fi
ok "PostgreSQL test server starts on 127.0.0.1:$PG_PORT"

N=3000
[ "${TJ_SANITIZED:-0}" = 1 ] && N=400
cd "$TMP"
python3 - "$N" >in.jsonl <<'EOF'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({
        "url": f"https://news.example.cn/a/{i}",
        "title": f"英伟达第{i}季度财报, \"超预期\"",
        "status": 200 + i % 3,
        "score": i / 7 + 0.5,
        "quality": {"pinyin_removed": i % 5, "tags": ["a", "b"]},
    }, ensure_ascii=False))
EOF

pgx() { # input options...
    local in=$1; shift
    out=$("$TAOJIN" exec export format=postgres "dsn=$PG_DSN" "$@" --jsonl <"$in" 2>&1); rc=$?
}

pgx in.jsonl table=articles
assert_eq 0 "$rc" "postgres: exit 0"
assert_eq "$N" "$(pg_sql 'SELECT count(*) FROM articles')" "postgres: one row per record"
assert_eq "url|text
title|text
status|bigint
score|double precision
quality|jsonb" "$(pg_sql "SELECT column_name, data_type FROM information_schema.columns WHERE table_name='articles' ORDER BY ordinal_position")" \
    "postgres: columns created from the fields (jsonb for JSON)"
assert_eq "英伟达第7季度财报, \"超预期\"|201|1.5|2|[\"a\", \"b\"]" \
    "$(pg_sql "SELECT title, status, score, quality->>'pinyin_removed', quality->'tags' FROM articles WHERE url LIKE '%/a/7'")" \
    "postgres: values query back (text, bigint, double, jsonb)"

pgx in.jsonl table=articles
assert_eq 0 "$rc" "postgres: second run exit 0"
assert_eq "$N" "$(pg_sql 'SELECT count(*) FROM articles')" \
    "postgres: the same input twice leaves one row per key"

# Updates, a new column, and the same key twice in one batch (last wins).
cat >upd.jsonl <<'EOF'
{"url": "https://news.example.cn/a/1", "status": 404, "author": "刘一鸣"}
{"url": "https://news.example.cn/a/1", "status": 410, "author": "汤普济"}
{"url": "https://news.example.cn/new", "status": 200}
EOF
pgx upd.jsonl table=articles
assert_eq 0 "$rc" "postgres: update batch exit 0"
assert_eq "410|汤普济|英伟达第1季度财报, \"超预期\"" \
    "$(pg_sql "SELECT status, author, title FROM articles WHERE url LIKE '%/a/1'")" \
    "postgres: upsert updates, adds the column, keeps other columns; last duplicate wins"
assert_eq "$((N + 1))" "$(pg_sql 'SELECT count(*) FROM articles')" "postgres: one new row"

# Bytes that are not UTF-8 make a bytea column; in a text column they clash.
cat >bin.jsonl <<'EOF'
{"url": "b1", "raw": {"$base64": "/wAB"}}
EOF
pgx bin.jsonl table=bin
assert_eq 0 "$rc" "postgres: bytes exit 0"
assert_eq "raw|bytea|\\xff0001" \
    "$(pg_sql "SELECT column_name, data_type, (SELECT raw FROM bin) FROM information_schema.columns WHERE table_name='bin' AND column_name='raw'")" \
    "postgres: invalid UTF-8 goes to a bytea column, bytes intact"

# A type clash fails the record with a message naming field, column, table.
echo '{"url": "https://news.example.cn/a/2", "status": "oops"}' >clash.jsonl
pgx clash.jsonl table=articles
assert_eq 3 "$rc" "postgres: type clash exits 3"
assert_contains "$out" "type clash: field 'status' is bytes but column 'status' of table \"articles\" (PostgreSQL host 127.0.0.1 port $PG_PORT database news) is bigint" \
    "postgres: type clash message names field, column, table, server"
echo '{"url": "x", "title": {"$base64": "/w=="}}' >clash2.jsonl
pgx clash2.jsonl table=articles
assert_contains "$out" "field 'title' is bytes (not UTF-8 text) but column 'title'" \
    "postgres: non-UTF-8 bytes into a text column clash"

# A refusal only the server sees (varchar(5)): that record fails alone.
pg_sql 'CREATE TABLE strict (url text PRIMARY KEY, title varchar(5))' >/dev/null
printf '%s\n' '{"url":"s1","title":"short"}' '{"url":"s2","title":"much too long"}' \
    '{"url":"s3","title":"ok"}' >strict.jsonl
pgx strict.jsonl table=strict
assert_eq 3 "$rc" "postgres: server refusal exits 3"
assert_contains "$out" "value too long for type character varying(5) [SQLSTATE 22001]" \
    "postgres: the server's reason is reported"
assert_eq "s1|short
s3|ok" "$(pg_sql 'SELECT url, title FROM strict ORDER BY url')" \
    "postgres: the other records of the batch are committed"

# Rows of the types taojin creates go as binary COPY: an int in a double
# column, an integer key repeated in one batch (last wins), a long body
# (compressed with lz4 when the server has it).
python3 - >typed.jsonl <<'EOF'
import json
body = "数据中心业务收入356亿美元，高于分析师此前预期。\n" * 100
print(json.dumps({"id": 1, "score": 0.25, "body": body, "q": {"a": [1, 2]}}, ensure_ascii=False))
print(json.dumps({"id": 2, "score": 7, "body": "x", "q": {"b": None}}))
print(json.dumps({"id": 1, "score": -2.5, "body": body + "!", "q": [3]}, ensure_ascii=False))
EOF
pgx typed.jsonl table=typed key=id
assert_eq 0 "$rc" "postgres: typed rows exit 0"
assert_eq "1|-2.5|7001|[3]
2|7|1|{\"b\": null}" \
    "$(pg_sql "SELECT id, score, octet_length(body), q FROM typed ORDER BY id")" \
    "postgres: binary rows query back (int key repeated: last wins; int in a double column)"
if [ "$(pg_sql "SELECT count(*) FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")" = 1 ]; then
    assert_eq lz4 "$(pg_sql "SELECT pg_column_compression(body) FROM typed WHERE id = 1")" \
        "postgres: long values are compressed with lz4"
fi
# Columns of other types (made by the user) go as text: the server parses.
pg_sql 'CREATE TABLE dated (url text PRIMARY KEY, at timestamptz, n numeric(6,2), tags text[])' >/dev/null
printf '%s\n' '{"url":"d1","at":"2025-03-05T10:05:00+08:00","n":3.14159,"tags":"{a,b}"}' \
    '{"url":"d2","at":"2025-03-06 01:00:00Z","n":2,"tags":"{}"}' >dated.jsonl
pgx dated.jsonl table=dated
assert_eq 0 "$rc" "postgres: user-typed columns exit 0"
assert_eq "d1|2025-03-05 02:05:00+00|3.14|{a,b}
d2|2025-03-06 01:00:00+00|2.00|{}" \
    "$(pg_sql "SET TIME ZONE 'UTC'; SELECT url, at, n, tags FROM dated ORDER BY url")" \
    "postgres: values for user-typed columns are parsed by the server"

# A refusal by the INSERT itself (a CHECK constraint; the INSERT carries
# the batch's COMMIT): that record fails alone as well.
pg_sql 'CREATE TABLE checked (url text PRIMARY KEY, status bigint CHECK (status < 500))' >/dev/null
printf '%s\n' '{"url":"c1","status":200}' '{"url":"c2","status":503}' \
    '{"url":"c3","status":404}' >checked.jsonl
pgx checked.jsonl table=checked
assert_eq 3 "$rc" "postgres: constraint refusal exits 3"
assert_contains "$out" "violates check constraint \"checked_status_check\" [SQLSTATE 23514]" \
    "postgres: the constraint is named"
assert_eq "c1|200
c3|404" "$(pg_sql 'SELECT url, status FROM checked ORDER BY url')" \
    "postgres: the batch's other records are committed"

# mode: append keeps every record (no key needed).
pgx upd.jsonl table=log mode=append
pgx upd.jsonl table=log mode=append
assert_eq 6 "$(pg_sql 'SELECT count(*) FROM log')" "postgres: append mode keeps every record"

# A server that refuses the connection, and a database that does not exist.
dead=$(pg_free_port)
out=$("$TAOJIN" exec export format=postgres "dsn=host=127.0.0.1 port=$dead dbname=news user=tj password=hunter2" \
      --jsonl <upd.jsonl 2>&1); rc=$?
assert_eq 2 "$rc" "refused connection: init fails (exit 2)"
assert_contains "$out" "cannot connect to PostgreSQL host 127.0.0.1 port $dead database news" \
    "refused connection: message names the server"
assert_contains "$out" "Connection refused" "refused connection: gives the cause"
assert_not_contains "$out" "hunter2" "refused connection: password not printed"
out=$("$TAOJIN" exec export format=postgres "dsn=host=127.0.0.1 port=$PG_PORT dbname=nope user=tj" \
      --jsonl <upd.jsonl 2>&1); rc=$?
assert_contains "$out" 'database "nope" does not exist' "missing database: named"

# The server goes away mid-run: the batch fails, the run exits non-zero.
mkfifo feed
"$TAOJIN" exec export format=postgres "dsn=$PG_DSN" table=gone --jsonl <feed >gone.out 2>&1 &
pid=$!
exec 7>feed
head -n 5 in.jsonl >&7
sleep 0.5
pg_stop
tail -n 5 in.jsonl >&7
exec 7>&-
wait $pid; rc=$?
assert_eq 1 "$rc" "server gone: the run fails"
assert_contains "$(cat gone.out)" "PostgreSQL host 127.0.0.1 port $PG_PORT database news" \
    "server gone: message names the server"

finish
