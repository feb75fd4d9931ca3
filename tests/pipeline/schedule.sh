#!/usr/bin/env bash
# `taojin schedule` on a one-second schedule against the fixture server:
# the first run exports four pages, later runs send conditional requests
# and export nothing (304s, one row per page); a page that changes is
# updated; /metrics and /health give the exact figures; SIGHUP with a
# broken file keeps the old schedule (error with file:line:col), a good one
# is taken; `taojin history --json` lists the runs; SIGTERM exits 0.
source "$TJ_TOP/tests/lib.sh"
source "$TJ_TOP/tests/httpd/httpd.sh"
source "$TJ_TOP/tests/pipeline/fixtures/sched_lib.sh"
httpd_start || { not_ok "fixture server starts"; finish; }
sched_setup

P=sched-news
cp "$SCHED_FX/sched-news.yaml" "$TMP/news.yaml"
daemon_start "$TMP/news.yaml"
assert_eq 200 "$(http "$METRICS/health" | sed -n 1p)" "/health answers 200 before any run"

ok_runs() { metric "taojin_runs_total{pipeline=\"$P\",status=\"ok\"}"; }
runs_at_least() { metric_at_least "taojin_runs_total{pipeline=\"$P\",status=\"ok\"}" "$1"; }
exported() { metric "taojin_records_total{pipeline=\"$P\",stage=\"export\",outcome=\"in\"}"; }

# --- four ticks: one full run, then conditional ones ------------------------
wait_until 40 runs_at_least 4 || not_ok "four runs within 40 s"
# one scrape, so the figures are from the same moment
http "$METRICS/metrics" > "$TMP/m1.txt"
m() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/m1.txt"; }
runs=$(m "taojin_runs_total{pipeline=\"$P\",status=\"ok\"}")
assert_eq 4 "$(rows "$TMP/news.db" 'SELECT count(*) FROM articles')" "one row per page after $runs runs"
assert_eq 4 "$(m "taojin_records_total{pipeline=\"$P\",stage=\"export\",outcome=\"in\"}")" "only the first run exported anything (4 records in $runs runs)"
assert_eq $((4 * (runs - 1))) "$(m "taojin_unchanged_total{pipeline=\"$P\"}")" "every later run found the 4 pages unchanged"
assert_eq "$runs" "$(m "taojin_run_duration_seconds_count{pipeline=\"$P\"}")" "a duration for every run"
assert_eq 0 "$(m "taojin_runs_total{pipeline=\"$P\",status=\"failed\"}")" "no failed run"
assert_eq 0 "$(m "taojin_run_errors_total{pipeline=\"$P\"}")" "no run errors"
assert_contains "$(cat "$TMP/m1.txt")" "taojin_ticks_skipped_total{pipeline=\"$P\"} " "skipped ticks are reported per pipeline"
assert_eq 4 "$(m "taojin_records_total{pipeline=\"$P\",stage=\"fetch\",outcome=\"out\"}")" "fetch emitted 4 records in all"
last=$(m "taojin_last_success_timestamp_seconds{pipeline=\"$P\"}")
assert_eq 1 "$(awk -v t="$last" -v now="$(date +%s)" 'BEGIN { print (t > now - 60 && t <= now + 1) }')" "last success is a recent Unix time ($last)"
assert_contains "$(cat "$TMP/m1.txt")" "# TYPE taojin_runs_total counter" "Prometheus text format with TYPE lines"

for page in s1 s2 s3; do
    assert_eq 1 "$(codes /p/$page 200)" "/p/$page fetched in full once"
    n304=$(codes /p/$page 304)
    assert_eq 1 "$((n304 >= runs - 1))" "/p/$page: later runs got 304 ($n304 for $runs runs)"
done
assert_eq 1 "$(($(codes /plain/s4 200) >= runs))" "/plain/s4 (no validators) is fetched every run and found unchanged by its hash"
health=$(http "$METRICS/health")
assert_eq "200" "$(head -1 <<< "$health")" "/health 200 while runs succeed"
assert_contains "$health" "ok" "/health says ok"
assert_eq 4 "$(rows "$TMP/state.db" "SELECT count(*) FROM kv WHERE ns='fetch'")" "state: validators for the 4 pages"
assert_eq 4 "$(rows "$TMP/state.db" "SELECT count(*) FROM kv WHERE ns='articles'")" "state: the 4 article keys"
assert_contains "$(rows "$TMP/state.db" "SELECT value FROM kv WHERE key='$HTTPD/p/s1'")" '"etag":"\"s1-v1\""' "state: the ETag of /p/s1"

# --- a page changes: its row is updated, nothing else is exported ----------
before=$(rows "$TMP/news.db" "SELECT body FROM articles WHERE url='$HTTPD/p/s2'")
httpd_get "/_set/s2?v=2" > /dev/null
n=$(ok_runs)
wait_until 20 runs_at_least $((n + 2)) || not_ok "two more runs"
after=$(rows "$TMP/news.db" "SELECT body FROM articles WHERE url='$HTTPD/p/s2'")
assert_contains "$before" "第1版" "the row held version 1"
assert_contains "$after" "第2版" "the changed page's row now holds version 2"
assert_eq 4 "$(rows "$TMP/news.db" 'SELECT count(*) FROM articles')" "still one row per page"
assert_eq 5 "$(exported)" "exactly one more record exported"
assert_eq 2 "$(codes /p/s2 200)" "the changed page was fetched in full once more"
assert_contains "$(rows "$TMP/state.db" "SELECT value FROM kv WHERE key='$HTTPD/p/s2'")" '"etag":"\"s2-v2\""' "state: the new ETag"

# --- SIGHUP with a broken file: the old schedule goes on --------------------
line=$(grep -n '^schedule:' "$TMP/news.yaml" | cut -d: -f1)
sed -i 's/^schedule: .*/schedule: "@every soon"/' "$TMP/news.yaml"
kill -HUP "$DAEMON_PID"
wait_until 10 grep -q "SIGHUP" "$TMP/daemon.log"
assert_contains "$(cat "$TMP/daemon.log")" "$TMP/news.yaml:$line:11: schedule:" "the reload error names file:line:col"
assert_contains "$(cat "$TMP/daemon.log")" "keeping the running version" "and says the old version keeps running"
n=$(ok_runs)
wait_until 20 runs_at_least $((n + 2)); assert_eq 0 $? "runs go on after the failed reload"
assert_eq 200 "$(http "$METRICS/health" | sed -n 1p)" "/health still 200"

# --- SIGHUP with a good file: a fifth page is taken up ----------------------
cp "$SCHED_FX/sched-news.yaml" "$TMP/news.yaml"
sed -i 's|"${HTTPD}/plain/s4"\]|"${HTTPD}/plain/s4", "${HTTPD}/p/s5"]|' "$TMP/news.yaml"
kill -HUP "$DAEMON_PID"
five() { [ "$(rows "$TMP/news.db" 'SELECT count(*) FROM articles')" = 5 ]; }
wait_until 20 five; assert_eq 0 $? "after a good reload the new page is exported (5 rows)"
assert_contains "$(cat "$TMP/daemon.log")" "SIGHUP: reloaded $TMP/news.yaml" "the reload is logged"

# --- SIGTERM: exit 0; the history lists every run ---------------------------
daemon_stop TERM
assert_eq 0 "$daemon_rc" "SIGTERM: the daemon exits 0"
assert_contains "$(cat "$TMP/daemon.log")" "SIGTERM: starting nothing new" "SIGTERM is logged"
run_tj history "$TMP/news.yaml" --json --limit 1000
assert_eq 0 "$rc" "taojin history FILE --json exits 0"
summary=$(python3 -c 'import json, sys
runs = json.loads(sys.argv[1])
ok = [r for r in runs if r["status"] == "ok"]
exported = sum(s["in"] for r in runs for s in (r["stats"] or {}).get("stages", []) if s["name"] == "export")
ended = all(r["ended_at"] for r in runs)
print(len(runs) >= 9, len(ok) == len(runs), exported, ended, runs[0]["pipeline"])' "$out")
assert_eq "True True 6 True sched-news" "$summary" "history: every run ok and ended, 6 records exported in all"
run_tj history "$TMP/news.yaml"
assert_contains "$out" "ok" "taojin history FILE prints a table"
finish
