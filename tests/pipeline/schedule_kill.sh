#!/usr/bin/env bash
# What survives a SIGKILL, and the other scheduling commands:
#  - kill -9 between two pages, then a rerun: every page exported exactly
#    once (an append-only log proves it), the pages exported before the
#    kill answered 304 in the rerun, a third run exports nothing;
#  - `taojin run --if-due` runs only when a tick passed since the last run;
#  - `taojin history NAME --json` lists the runs;
#  - dedupe: the same article at two URLs is one row, within a run and
#    across runs; keep_duplicates marks the second; several workers agree.
source "$TJ_TOP/tests/lib.sh"
source "$TJ_TOP/tests/httpd/httpd.sh"
source "$TJ_TOP/tests/pipeline/fixtures/sched_lib.sh"
httpd_start || { not_ok "fixture server starts"; finish; }
sched_setup

# --- SIGKILL midway ------------------------------------------------------------
export DELAY_MS=400
K="$SCHED_FX/sched-kill.yaml"
# requested PATH: returns as soon as the server has begun answering PATH
# (polled every 20 ms, so the moment is known to within ~30 ms).
requested() {
    python3 - "$HTTPD" "$1" <<'PY'
import json, sys, time, urllib.request
deadline = time.time() + 30
while time.time() < deadline:
    stats = json.load(urllib.request.urlopen(sys.argv[1] + "/_stats"))
    if stats.get(sys.argv[2], 0) >= 1:
        sys.exit(0)
    time.sleep(0.02)
sys.exit(1)
PY
}
"$TAOJIN" run "$K" --no-progress > "$TMP/kill.log" 2>&1 &
pid=$!
# Pages go one at a time: once k6 is requested, k5 was answered; 150 ms
# later (a page takes milliseconds to export) k5 is committed and k6 is
# still waiting on the server (400 ms).
requested "/p/k6?delay=$DELAY_MS" || not_ok "page 6 requested within 30 s"
sleep 0.15
kill -KILL $pid
wait $pid 2>/dev/null
assert_eq 5 "$(rows "$TMP/kill-out.db" 'SELECT count(*) FROM articles')" "killed after 5 pages: 5 rows"
assert_eq 5 "$(rows "$TMP/kill-log.db" 'SELECT count(*) FROM exports')" "and 5 exports in the log"
assert_eq 5 "$(rows "$TMP/kill.db" "SELECT count(*) FROM kv WHERE ns='fetch'")" "validators stored for exactly those 5"
assert_eq "running|" "$(rows "$TMP/kill.db" 'SELECT status, ended_at FROM runs ORDER BY id DESC LIMIT 1')" "the killed run stays 'running' with no end in the history"

run_tj run "$K" --no-progress --stats-json "$TMP/rerun.json" --set fetch.concurrency=12 --set fetch.per_host=12
assert_eq 0 "$rc" "the rerun exits 0"
assert_eq 12 "$(rows "$TMP/kill-out.db" 'SELECT count(*) FROM articles')" "after the rerun: 12 rows, one per page"
assert_eq "12|12" "$(rows "$TMP/kill-log.db" 'SELECT count(*), count(DISTINCT url) FROM exports')" "every page exported exactly once over both runs"
# k1-k5: 200 then 304; k6 (in flight at the kill) and k7-k12: one full GET
# each in the rerun, never a 304.
bad=$(httpd_get /_codes | python3 -c 'import json, sys
codes = json.load(sys.stdin)
for i in range(1, 13):
    c = codes.get(f"/p/k{i}", {})
    got = (c.get("200", 0), c.get("304", 0))
    want = (1, 1) if i <= 5 else (2, 0) if i == 6 else (1, 0)
    if got != want:
        print(f"k{i}:{got[0]}/{got[1]}", end=" ")')
assert_eq "" "$bad" "rerun: 304 for k1-k5, full GET for k6 (in flight at the kill) and k7-k12"
unchanged=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print({s["name"]: s for s in d["stages"]}["fetch"]["counters"].get("unchanged", 0))' "$TMP/rerun.json")
assert_eq 5 "$unchanged" "the rerun counted the 5 exported pages as unchanged"

run_tj run "$K" --no-progress --set fetch.concurrency=12 --set fetch.per_host=12
assert_eq 0 "$rc" "a third run exits 0"
assert_eq 12 "$(rows "$TMP/kill-log.db" 'SELECT count(*) FROM exports')" "and exports nothing"
assert_eq "ok|ok" "$(rows "$TMP/kill.db" "SELECT group_concat(status, '|') FROM (SELECT status FROM runs ORDER BY id DESC LIMIT 2)")" "the two later runs are recorded ok"

# --- run --if-due and history NAME ------------------------------------------------
mkdir -p "$TMP/due" && cd "$TMP/due" || exit 1
D="$SCHED_FX/sched-due.yaml"
run_tj run "$D" --if-due --no-progress
assert_eq 0 "$rc" "--if-due with no recorded run: runs"
assert_eq 1 "$(rows state/sched-due.db 'SELECT count(*) FROM runs')" "one run recorded in state/sched-due.db"
run_tj run "$D" --if-due --no-progress
assert_eq 0 "$rc" "--if-due when not due: exit 0"
assert_contains "$out" "sched-due: not due (next tick " "and says when the next tick is"
assert_eq 1 "$(rows state/sched-due.db 'SELECT count(*) FROM runs')" "nothing ran"
assert_eq 1 "$(codes /p/due1 200)" "nothing was fetched"
rows state/sched-due.db 'UPDATE runs SET started_at = started_at - 7200, ended_at = ended_at - 7200' > /dev/null
run_tj run "$D" --if-due --no-progress
assert_eq 0 "$rc" "--if-due after an hourly tick passed: runs"
assert_eq 2 "$(rows state/sched-due.db 'SELECT count(*) FROM runs')" "a second run recorded"
run_tj history sched-due --json
assert_eq 0 "$rc" "taojin history NAME --json"
assert_eq "2 ok ok sched-due" "$(python3 -c 'import json, sys
r = json.loads(sys.argv[1]); print(len(r), r[0]["status"], r[1]["status"], r[0]["pipeline"])' "$out")" "two runs, both ok, newest first"
run_tj history no-such-pipeline
assert_eq 1 "$rc" "history of an unknown pipeline: exit 1"
assert_contains "$out" "no state database at state/no-such-pipeline.db" "and says where it looked"
cd "$TJ_TOP" || exit 1

# --- dedupe: the same article at two URLs -------------------------------------------
P="$SCHED_FX/sched-dedupe.yaml"
dd() { # dd OUT URLS [--set ...]: one run; $dups = dedupe's duplicates counter
    local o=$1 urls=$2
    shift 2
    mkdir -p "$o"
    OUT=$o run_tj run "$P" --no-progress --stats-json "$o/stats.json" --set "fetch.urls=$urls" "$@"
    dups=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print({s["name"]: s for s in d["stages"]}["dedupe"]["counters"].get("duplicates", 0))' "$o/stats.json")
}
H=$HTTPD
dd "$TMP/dd" "[$H/p/dup1, $H/mirror/dup1, $H/p/dup2]"
assert_eq 0 "$rc" "dedupe run exits 0"
assert_eq 1 "$dups" "the mirror is counted as a duplicate"
assert_eq "$H/p/dup1
$H/p/dup2" "$(rows "$TMP/dd/dedupe-out.db" 'SELECT url FROM articles ORDER BY url')" "one row per article: the mirror is dropped"
assert_eq 64 "$(rows "$TMP/dd/dedupe-out.db" "SELECT length(id) FROM articles WHERE url='$H/p/dup1'")" "rows carry the article key in id"
assert_eq 2 "$(rows "$TMP/dd/dedupe.db" "SELECT count(*) FROM kv WHERE ns='articles'")" "two article keys stored"

dd "$TMP/dd" "[$H/plain/dup1]"
assert_eq 1 "$dups" "a later run: the same article at a third URL is a duplicate (from the state)"
assert_eq 2 "$(rows "$TMP/dd/dedupe-out.db" 'SELECT count(*) FROM articles')" "still two rows"

dd "$TMP/keep" "[$H/p/dup3, $H/mirror/dup3]" --set dedupe.keep_duplicates=true
assert_eq 1 "$dups" "keep_duplicates: counted"
assert_eq "$H/p/dup3" "$(rows "$TMP/keep/dedupe-out.db" "SELECT duplicate_of FROM articles WHERE url='$H/mirror/dup3'")" "keep_duplicates: the second row says duplicate_of the first URL"
assert_eq "|1" "$(rows "$TMP/keep/dedupe-out.db" "SELECT duplicate_of, (SELECT count(DISTINCT id) FROM articles) FROM articles WHERE url='$H/p/dup3'")" "the first has no duplicate_of; both share one id"

sed 's/^  - use: dedupe$/  - use: dedupe\n    workers: 3/' "$P" > "$TMP/workers.yaml"
grep -q "workers: 3" "$TMP/workers.yaml" || not_ok "workers variant written"
P="$TMP/workers.yaml"
urls="[$H/p/dup4, $H/mirror/dup4, $H/plain/dup4, $H/p/dup5, $H/mirror/dup5, $H/plain/dup5]"
dd "$TMP/workers" "$urls" --set fetch.concurrency=6
assert_eq 4 "$dups" "three workers: 4 duplicates among 6 pages of 2 articles"
assert_eq "2|2" "$(rows "$TMP/workers/dedupe-out.db" 'SELECT count(DISTINCT id), count(*) FROM articles')" "two distinct articles, one row each"
finish
