#!/usr/bin/env bash
# export throughput: jsonl MB/s, sqlite and postgres records/s (targets in
# issue 7: >= 200 MB/s, >= 50 k/s, >= 20 k/s), each beside a reference doing
# the same job in the same run.  Measured, never asserted.
#
# The stage is driven in-process by bench/export_bench.c (the harness), so
# the figures are the sink's own; one line also goes through the host
# (`taojin exec export --jsonl`, which adds JSON parsing of the input).
set -u
: "${TJ_TOP:=$(cd "$(dirname "$0")/../../.." && pwd)}"
: "${TJ_BUILD:=$TJ_TOP/build}"
: "${TAOJIN:=$TJ_BUILD/taojin}"
cd "$TJ_TOP"
W=$(mktemp -d /tmp/tjexbench.XXXXXX)
source "$TJ_TOP/plugins/export/tests/pg.bash"
trap 'pg_stop; rm -rf "$W"' EXIT

N_FILE=${N_FILE:-200000}
N_DB=${N_DB:-100000}

make -s BUILD="${TJ_BUILD#$TJ_TOP/}" "${TJ_BUILD#$TJ_TOP/}/plugins/export.so" \
    "${TJ_BUILD#$TJ_TOP/}/libtjcore.a" >/dev/null || exit 1
LIBS="$(make -s --no-print-directory print-libs-export) -lyaml -lcjson -ldl -lm"
cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Icore -pthread -o "$W/bench" \
    plugins/export/bench/export_bench.c "$TJ_BUILD"/plugins/export/*.o \
    "$TJ_BUILD/libtjcore.a" $LIBS || exit 1

# CPU seconds the local PostgreSQL cluster has used: the postmaster and
# its live children, plus the children it has reaped (cutime/cstime), so a
# finished backend still counts.  The server shares the machine's cores
# with the client: its work is part of the cost.
pg_cpu() {
    python3 - "$PG_DIR/data/postmaster.pid" <<'EOF'
import os, sys
pm = open(sys.argv[1]).readline().strip()
hz = os.sysconf("SC_CLK_TCK")
def stat(pid):
    return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
f = stat(pm)
total = sum(int(x) for x in f[11:15])
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            g = stat(pid)
        except OSError:
            continue
        if g[1] == pm:
            total += int(g[11]) + int(g[12])
print(total / hz)
EOF
}
sub() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) - float(sys.argv[2])))" "$1" "$2"; }

mb() { python3 -c "import os,sys; print('%.1f' % (os.path.getsize(sys.argv[1]) / 1e6))" "$1"; }
rate() { python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }

# Reference records: the same shape, produced by Python.
cat >"$W/ref.py" <<'EOF'
import json, sys, time, sqlite3
para = "英伟达公布的财报显示，第四季度营收达到393亿美元，同比增长78%，数据中心业务收入356亿美元，高于分析师此前预期。\n"
body = para * 16
def rec(i):
    return {"url": f"https://news.example.cn/2025/03/05/a{i}.html",
            "title": "英伟达第四季度营收同比增长78% 超市场预期", "author": "刘一鸣",
            "published_at": "2025-03-05T10:05:00+08:00", "status": 200, "body": body,
            "quality": {"pinyin_removed": 12, "boilerplate_removed": 3, "mojibake_spans": 0, "score": 0.93}}
what, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t0 = time.monotonic()
if what == "jsonl":
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps(rec(i), ensure_ascii=False) + "\n")
elif what == "sqlite":
    db = sqlite3.connect(out)
    db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE r (url TEXT UNIQUE, title TEXT, author TEXT, published_at TEXT, status INTEGER, body TEXT, quality TEXT)")
    sql = ("INSERT INTO r VALUES (?,?,?,?,?,?,?) ON CONFLICT(url) DO UPDATE SET title=excluded.title, author=excluded.author, "
           "published_at=excluded.published_at, status=excluded.status, body=excluded.body, quality=excluded.quality")
    for s in range(0, n, 500):
        with db:
            db.executemany(sql, [(r["url"], r["title"], r["author"], r["published_at"], r["status"], r["body"], json.dumps(r["quality"]))
                                 for r in map(rec, range(s, min(n, s + 500)))])
    db.close()
elif what == "csvrows":  # rows for psql's COPY (timed by the caller)
    import csv
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        for i in range(n):
            r = rec(i)
            w.writerow([r["url"], r["title"], r["author"], r["published_at"], r["status"], r["body"], json.dumps(r["quality"])])
print("%.3f %.2f" % (time.monotonic() - t0, time.process_time()))
EOF

echo "export: in-process (harness), news-like records of ~2.6 KB (2.4 KB Chinese body)"
echo "  (files are synced and renamed at the end, databases commit every 500 records; the"
echo "   machine's disk and the local server are shared with the client, figures vary by run;"
echo "   cpu: user + system seconds of the process, for postgres also of the server, which"
echo "   vary less than the wall clock when the machine is busy)"

# ---- files -------------------------------------------------------------------
read -r n t r c < <("$W/bench" "$N_FILE" format=jsonl path="$W/out.jsonl")
size=$(mb "$W/out.jsonl")
read -r pt pc < <(python3 "$W/ref.py" jsonl "$N_FILE" "$W/ref.jsonl")
printf '  jsonl     %7d records %7.1f MB %6.2f s  %6s MB/s %8s rec/s   | python json.dumps: %s MB/s\n' \
    "$n" "$size" "$t" "$(rate "$size" "$t")" "$r" "$(rate "$(mb "$W/ref.jsonl")" "$pt")"
read -r n t r c < <("$W/bench" "$((N_FILE / 4))" format=jsonl path="$W/out.jsonl.gz" gzip_level=1)
printf '  jsonl.gz  %7d records (level 1) %6.2f s  %6s MB/s of JSON %8s rec/s   | gzip -1 of the same JSON: ' \
    "$n" "$t" "$(rate "$(python3 -c "print($size/4)")" "$t")" "$r"
head -c "$(python3 -c "print(int(${size}*1e6/4))")" "$W/out.jsonl" >"$W/q.jsonl"
gs=$(date +%s.%N); gzip -1 -c "$W/q.jsonl" >/dev/null; ge=$(date +%s.%N)
echo "$(rate "$(mb "$W/q.jsonl")" "$(python3 -c "print($ge-$gs)")") MB/s"
read -r n t r c < <("$W/bench" "$N_FILE" format=csv path="$W/out.csv")
printf '  csv       %7d records %7.1f MB %6.2f s  %6s MB/s %8s rec/s\n' \
    "$n" "$(mb "$W/out.csv")" "$t" "$(rate "$(mb "$W/out.csv")" "$t")" "$r"
rm -f "$W"/*.jsonl* "$W"/*.csv

# ---- sqlite ------------------------------------------------------------------
read -r n t r c < <("$W/bench" "$N_DB" path="$W/b.db")
read -r pt pc < <(python3 "$W/ref.py" sqlite "$N_DB" "$W/ref.db")
printf '  sqlite    %7d upserts, batch 500   %6.2f s %8s rec/s (cpu %s s) | python sqlite3 executemany: %s rec/s (cpu %s s)\n' \
    "$n" "$t" "$r" "$c" "$(rate "$N_DB" "$pt")" "$pc"
read -r n t r c < <("$W/bench" "$N_DB" path="$W/b.db")
printf '  sqlite    %7d upserts over existing rows %6.2f s %8s rec/s (cpu %s s)\n' "$n" "$t" "$r" "$c"
rm -f "$W"/*.db*
read -r n t r c < <(BENCH_PARAS=0 "$W/bench" "$N_DB" path="$W/s.db")
printf '  sqlite    %7d upserts, small records (no body) %6.2f s %8s rec/s (cpu %s s)\n' "$n" "$t" "$r" "$c"
rm -f "$W"/*.db*

# ---- postgres -----------------------------------------------------------------
if pg_start; then
    # pgrun OPTIONS...: runs the bench against the server; sets n t r c
    # (the client) and sc (the server's cpu seconds).
    pgrun() {
        local s0 s1
        s0=$(pg_cpu)
        read -r n t r c < <("$W/bench" "$N_DB" format=postgres "dsn=$PG_DSN" "$@")
        s1=$(pg_cpu)
        sc=$(sub "$s1" "$s0")
    }
    pgrun
    python3 "$W/ref.py" csvrows "$N_DB" "$W/rows.csv" >/dev/null
    pg_sql "CREATE TABLE ref (url text UNIQUE, title text, author text, published_at text, status bigint, body text, quality jsonb)" >/dev/null
    s0=$(pg_cpu)
    cs=$(date +%s.%N)
    psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U tj -d news -c "\\copy ref FROM '$W/rows.csv' WITH (FORMAT csv)"
    ce=$(date +%s.%N)
    s1=$(pg_cpu)
    printf '  postgres  %7d upserts, batch 500   %6.2f s %8s rec/s (cpu %s s + server %s s) | psql \\copy (bulk load, no upsert): %s rec/s (server cpu %s s)\n' \
        "$n" "$t" "$r" "$c" "$sc" "$(rate "$N_DB" "$(python3 -c "print($ce-$cs)")")" "$(sub "$s1" "$s0")"
    pgrun
    printf '  postgres  %7d upserts over existing rows %6.2f s %8s rec/s (cpu %s s + server %s s)\n' "$n" "$t" "$r" "$c" "$sc"
    pgrun table=app mode=append
    printf '  postgres  %7d appends (COPY)       %6.2f s %8s rec/s (cpu %s s + server %s s)\n' "$n" "$t" "$r" "$c" "$sc"
    BENCH_PARAS=0 pgrun table=small
    printf '  postgres  %7d upserts, small records (no body) %6.2f s %8s rec/s (cpu %s s + server %s s)\n' "$n" "$t" "$r" "$c" "$sc"
else
    echo "  postgres  skipped: no server could be started"
fi

# ---- through the host ------------------------------------------------------------
if [ -x "$TAOJIN" ]; then
    python3 "$W/ref.py" jsonl 50000 "$W/in.jsonl" >/dev/null
    s=$(date +%s.%N)
    "$TAOJIN" exec export format=jsonl path="$W/host.jsonl" --jsonl <"$W/in.jsonl" 2>/dev/null
    e=$(date +%s.%N)
    printf '  host: taojin exec export --jsonl (JSONL in -> jsonl out), 50000 records: %s MB/s\n' \
        "$(rate "$(mb "$W/in.jsonl")" "$(python3 -c "print($e-$s)")")"
fi
